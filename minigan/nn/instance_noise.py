"""Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): blur the two
distributions D has to tell apart, so that they overlap and D's gradient stays useful
(article section 6.2: noise and blur, section 6.1: an over-confident discriminator).

Training pass, with the current standard deviation ``sigma``::

    y = x + sigma * e,   e ~ N(0, I)

``dy/dx = I``, so ``dx = dy``: the noise is a constant shift for the backward pass.  The
trainer anneals ``sigma`` linearly from its initial value to 0 over the run (set it with
:attr:`InstanceNoise.sigma`); the inference pass ``module(x)`` adds nothing.
"""

from __future__ import annotations

import numpy as np

from .init import as_rng
from .module import Module, check_input


class InstanceNoise(Module):
    """Add N(0, sigma^2) noise to every entry in training; identity in inference.

    Shapes: x (N, F) -> y (N, F).  Cache: None (the backward pass is the identity).
    """

    backward_options = frozenset({"need_dx"})

    def __init__(self, sigma: float, rng: np.random.Generator | int | None = None):
        self.sigma = sigma
        self.rng = as_rng(rng)

    @property
    def sigma(self) -> float:
        return self._sigma

    @sigma.setter
    def sigma(self, value: float) -> None:
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"InstanceNoise: sigma must be a finite number >= 0, got {value!r}")
        self._sigma = float(value)

    def __repr__(self) -> str:
        return f"InstanceNoise(sigma={self.sigma:g})"

    def forward(self, x):
        check_input(self, x)
        if self.sigma == 0.0:
            return x.copy(), None
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        noise = self.rng.standard_normal(x.shape, dtype=dtype).astype(x.dtype, copy=False)
        noise *= self.sigma
        noise += x
        return noise, None

    def __call__(self, x):
        check_input(self, x)
        return x

    def backward(self, dy, cache, *, need_dx: bool = True):
        return (dy.copy() if need_dx else None), {}
