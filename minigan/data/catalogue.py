"""The list of data sets and :func:`load`, the one entry point that returns a :class:`Dataset`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from ..errors import MiniganError
from . import bundled, full, toy
from .dataset import Dataset


@dataclass(frozen=True)
class DatasetSpec:
    """One catalogue entry.

    ``kind`` is ``"toy"`` (generated from a seed), ``"bundled"`` (shipped in the
    package) or ``"download"`` (read from the cache, see :mod:`minigan.data.download`).
    """

    name: str
    kind: str
    splits: tuple[str, ...]
    description: str
    loader: Callable[..., Dataset]


def _entries():
    for name in toy.NAMES:
        description = toy.MIXTURES[name][2] if name in toy.MIXTURES else toy.SHAPES[name]
        yield DatasetSpec(name, "toy", toy.SPLITS, description, toy.load_toy)
    for name, info in bundled.SETS.items():
        yield DatasetSpec(name, "bundled", info.splits, info.description, bundled.load_bundled)
    for name, description in full.DESCRIPTIONS.items():
        yield DatasetSpec(name, "download", full.SPLITS, description, full.load_full)


#: name -> :class:`DatasetSpec`, in catalogue order (toy sets, bundled images, downloads).
DATASETS = MappingProxyType({spec.name: spec for spec in _entries()})


def catalogue() -> dict[str, str]:
    """``{name: one-line description}`` for every data set, in catalogue order."""
    return {name: spec.description for name, spec in DATASETS.items()}


def load(
    name: str,
    split: str = "train",
    *,
    n: int | None = None,
    seed: int | None = 0,
    data_dir=None,
    download: bool = False,
) -> Dataset:
    """Load one split of a data set as float32 rows.

    Args:
        name: a key of :data:`DATASETS` (case and ``_``/``-`` are forgiven).
        split: ``"train"`` or ``"test"``; ``mnist5k`` also has ``"validation"`` (alias ``"val"``).
        n: toy sets: how many samples to draw (default 100,000).  Image sets: how many
            rows to return (default: the whole split).
        seed: toy sets: the seed of the sample (train and test use separate streams,
            see :mod:`minigan.data.toy`; None = fresh entropy).  Image sets: the order of
            the rows, ``default_rng(seed).permutation``; ``n`` keeps the first n of that
            order; None keeps the stored order.
        data_dir: cache root for ``mnist`` / ``fashion-mnist`` (default ``$MINIGAN_DATA``,
            else ``~/.cache/minigan``); ignored by the other sets.
        download: ``mnist`` / ``fashion-mnist`` only: download missing files first.

    Returns:
        a :class:`Dataset`; ``x`` is (N, D) float32, in [-1, 1] for image sets.

    Raises:
        MiniganError: unknown name or split, a bad ``n`` or ``seed``, or missing files.
    """
    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else None
    if key not in DATASETS:
        raise MiniganError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    spec = DATASETS[key]
    if spec.kind == "download":
        return spec.loader(key, split, n=n, seed=seed, data_dir=data_dir, download=download)
    return spec.loader(key, split, n=n, seed=seed)
