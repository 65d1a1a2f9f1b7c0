"""Full MNIST and Fashion-MNIST, read from the download cache (see :mod:`.download`).

Splits are the published ones: ``train`` (60,000 images) and ``test`` (10,000).
Images are 28x28 uint8 in IDX files; ``x = pixels / 127.5 - 1`` maps 0..255 to [-1, 1].
Every file's SHA-256 is checked before it is parsed, so a file put there by hand
cannot be the wrong one silently.
"""

from __future__ import annotations

import numpy as np

from ..errors import MiniganError
from . import download
from ._check import check_n, check_seed, check_split
from ._images import subset, to_unit_range
from .dataset import Dataset
from .idx import read_idx

SPLITS = ("train", "test")
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
DESCRIPTIONS = {
    "mnist": "full MNIST (LeCun, Cortes & Burges): 60,000 train / 10,000 test, 28x28; needs a download",
    "fashion-mnist": "Zalando's Fashion-MNIST: 60,000 train / 10,000 test, 28x28 clothing images; needs a download",
}
NAMES = tuple(DESCRIPTIONS)


def _checked_files(name: str, split: str, data_dir, do_download: bool):
    """Paths of the split's (images, labels) files after checking presence and SHA-256."""
    if do_download:
        download.fetch(name, data_dir)
    directory = download.dataset_dir(name, data_dir)
    known = download.FILES[name]
    wanted = [known[f] for f in SPLIT_FILES[split]]
    missing = [r.name for r in wanted if not (directory / r.name).is_file()]
    if missing:
        raise MiniganError(
            f"{name} is not downloaded: {', '.join(missing)} missing from {directory}; "
            f"run `minigan data download {name}` (or load(..., download=True)), or put the files there by hand"
        )
    for remote in wanted:
        got = download.sha256_of(directory / remote.name)
        if got != remote.sha256:
            raise MiniganError(
                f"{directory / remote.name} has SHA-256 {got}, expected {remote.sha256}; "
                f"delete it and run `minigan data download {name}`"
            )
    return [directory / r.name for r in wanted]


def load_full(
    name: str, split: str = "train", *, n: int | None = None, seed: int | None = 0, data_dir=None, download=False
) -> Dataset:
    """Load ``split`` of ``name`` from the cache (downloading first when ``download=True``)."""
    if name not in NAMES:
        raise ValueError(f"not a downloadable set: {name!r}")
    split = check_split(name, split, SPLITS)
    seed = check_seed(name, seed)
    images_path, labels_path = _checked_files(name, split, data_dir, download)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MiniganError(f"{images_path}: expected uint8 images (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
        raise MiniganError(f"{labels_path}: expected {len(images)} uint8 labels, got {labels.dtype} {labels.shape}")
    n = check_n(f"{name}/{split}", n, len(images), len(images))
    rows = subset(len(images), n, seed)
    return Dataset(
        name=name,
        split=split,
        x=to_unit_range(images[rows].reshape(n, -1), 255),
        y=labels[rows].astype(np.int64),
        image_shape=(28, 28),
        bounded=True,
        centres=None,
        std=None,
        description=DESCRIPTIONS[name],
    )
