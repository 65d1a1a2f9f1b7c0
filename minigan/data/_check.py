"""Argument checks shared by the loaders: every failure is a one-line MiniganError."""

from __future__ import annotations

import numpy as np

from ..errors import MiniganError


def is_int(value) -> bool:
    """True for Python and NumPy integers, False for bools (``True`` is not a count)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_split(name: str, split, splits: tuple[str, ...]) -> str:
    """Return ``split`` if it is one of ``splits`` (``"val"`` is read as ``"validation"``)."""
    if split == "val" and "validation" in splits:
        split = "validation"
    if not isinstance(split, str) or split not in splits:
        raise MiniganError(f"{name} has no split {split!r}; choose one of: {', '.join(splits)}")
    return split


def check_n(name: str, n, default: int, maximum: int) -> int:
    """Return ``n`` (or ``default`` when ``n`` is None) after checking 1 <= n <= maximum."""
    if n is None:
        return default
    if not is_int(n) or not 1 <= n <= maximum:
        raise MiniganError(f"{name}: n must be an integer from 1 to {maximum:,}, got {n!r}")
    return int(n)


def check_seed(name: str, seed, *, allow_none: bool = True):
    """Return ``seed`` as a non-negative int (or None when allowed)."""
    if seed is None and allow_none:
        return None
    if not is_int(seed) or seed < 0:
        raise MiniganError(f"{name}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)
