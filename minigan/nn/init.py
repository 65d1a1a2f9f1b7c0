"""Weight initialisers: ``f(shape, rng, dtype) -> ndarray`` for a (fan_in, fan_out) matrix.

``glorot_uniform`` is TF1's ``tf.layers.dense`` default, i.e. what the article's code
(section 4) uses: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).  Convolution weights
(C_in, k, k, C_out) get theirs from :func:`conv_weight`, which counts the fans of a kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Initializer = Callable[[tuple[int, int], np.random.Generator, np.dtype], np.ndarray]


def glorot_uniform(shape, rng, dtype=np.float32):
    """U(-a, a), a = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype, copy=False)


def glorot_normal(shape, rng, dtype=np.float32):
    """N(0, s^2), s = sqrt(2 / (fan_in + fan_out)).  Untruncated, unlike Keras's variant."""
    std = math.sqrt(2.0 / (shape[0] + shape[1]))
    return (rng.standard_normal(size=shape) * std).astype(dtype, copy=False)


def he_normal(shape, rng, dtype=np.float32):
    """N(0, s^2), s = sqrt(2 / fan_in)  (He et al. 2015, for ReLU-like layers)."""
    std = math.sqrt(2.0 / shape[0])
    return (rng.standard_normal(size=shape) * std).astype(dtype, copy=False)


def normal(std: float = 0.02) -> Initializer:
    """Return an initialiser drawing N(0, std^2) (DCGAN used std = 0.02)."""
    if not std > 0:
        raise ValueError(f"normal(std): std must be positive, got {std}")

    def init(shape, rng, dtype=np.float32):
        return (rng.standard_normal(size=shape) * std).astype(dtype, copy=False)

    init.__name__ = f"normal({std})"
    return init


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "normal": normal(0.02),
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Look ``init`` up by name, or return it unchanged if it is already callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        names = ", ".join(INITIALIZERS)
        raise ValueError(f"unknown initialiser {init!r}; expected one of: {names}") from None


def conv_weight(shape, fan_in: int, fan_out: int, init, rng, dtype) -> np.ndarray:
    """A convolution weight of ``shape``: ``"glorot_uniform"`` U(-a, a) with
    a = sqrt(6 / (fan_in + fan_out)) and fans counted as TensorFlow does (C_in k k and
    C_out k k), or any initialiser that does not depend on fans (``"normal"``: N(0, 0.02^2),
    DCGAN's, or a callable ``f(shape, rng, dtype)``)."""
    if init == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return as_rng(rng).uniform(-limit, limit, shape).astype(dtype)
    if init in ("glorot_normal", "he_normal"):
        raise ValueError(f"convolution layers: init {init!r} is for matrices; use 'glorot_uniform', 'normal' "
                         "or a callable f(shape, rng, dtype)")
    return get_initializer(init)(shape, as_rng(rng), dtype)


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A NumPy random number generator from a Generator (returned as it is), a seed, or
    None (fresh entropy).  (Not a GAN's generator: every ``rng`` argument goes through it.)"""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
