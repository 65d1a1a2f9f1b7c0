"""Helpers shared by the image loaders: pixel scaling and seeded row selection."""

from __future__ import annotations

import numpy as np


def to_unit_range(pixels: np.ndarray, maximum: int) -> np.ndarray:
    """Map integer pixels in [0, maximum] to float32 in [-1, 1]: ``x = p / (maximum/2) - 1``.

    ``maximum/2`` (127.5 or 8) is exact in float32, so 0 -> -1 and maximum -> 1 exactly.
    Returns a new C-contiguous float32 array of the same shape.
    """
    half = np.float32(maximum / 2)
    return np.ascontiguousarray(pixels.astype(np.float32) / half - np.float32(1))


def subset(total: int, n: int, seed: int | None) -> np.ndarray:
    """Row indices of the n rows a loader returns out of ``total``.

    ``seed=None``: the first n rows in stored order.  Otherwise the first n entries of
    ``np.random.default_rng(seed).permutation(total)``: a random order (and, for
    n < total, a random subset) that is the same for the same seed, and a prefix of the
    larger selection when n grows.
    """
    if seed is None:
        return np.arange(n)
    return np.random.default_rng(seed).permutation(total)[:n]
