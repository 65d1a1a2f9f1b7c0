"""Weight initialisers: ``f(shape, rng, dtype) -> ndarray`` for a (fan_in, fan_out) matrix.

``glorot_uniform`` is TF1's ``tf.layers.dense`` default, i.e. what the article's code
(section 4) uses: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
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
