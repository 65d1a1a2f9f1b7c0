"""Dropout (Srivastava et al. 2014), the inverted form: a remedy for a discriminator that
memorises its few thousand real digits (article section 6.1: regularisation).

Training pass (``forward``), with keep probability ``q = 1 - p``::

    m ~ Bernoulli(q) per entry,   y = x * m / q

so ``E[y] = x`` and the inference pass (``module(x)``) is the identity.  Backward:
``dx = dy * m / q`` (the same mask, taken from the cache).  The mask is drawn from the
``rng`` given at construction; a run shares one generator among all its random layers
and saves its state in the checkpoint, so a resumed run draws the same masks.
"""

from __future__ import annotations

import numpy as np

from .init import as_rng
from .module import Module, check_input


class Dropout(Module):
    """Zero each entry with probability ``p`` and scale the survivors by ``1 / (1 - p)``.

    Shapes: x (N, F) -> y (N, F).  Cache: the scaled mask ``m / q`` (N, F), in x's dtype.
    ``module(x)`` (inference: pictures, metrics) returns ``x`` unchanged.
    """

    backward_options = frozenset({"need_dx"})

    def __init__(self, p: float, rng: np.random.Generator | int | None = None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_rng(rng)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    def forward(self, x):
        check_input(self, x)
        keep = 1.0 - self.p
        # rng.random(dtype=float32) draws float32 directly: no float64 temporary.
        scaled_mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype)
        scaled_mask *= 1.0 / keep
        return x * scaled_mask, scaled_mask

    def __call__(self, x):
        check_input(self, x)
        return x

    def backward(self, dy, cache, *, need_dx: bool = True):
        return (dy * cache if need_dx else None), {}
