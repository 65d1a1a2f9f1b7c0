"""Spectral normalisation (Miyato et al. 2018): keep each of D's layers 1-Lipschitz by
dividing its weight matrix by its largest singular value, so D cannot become arbitrarily
sharp and G's gradient stays informative (article section 6.1, mode collapse; 6.3, D
too strong).

For a Dense weight ``W`` (in, out) and unit vectors ``u`` (out,) and ``v`` (in,) that
approximate W's top singular vectors, ``sigma = v^T W u`` (the top singular value when
u, v are exact) and the layer computes::

    y = x @ (W / sigma) + b

``u`` and ``v`` are *buffers*: state that is saved and restored with the weights but not
trained.  Once per discriminator update the trainer calls :meth:`update_buffers`, one
step of power iteration (Miyato et al.'s Algorithm 1, in PyTorch's order)::

    u <- W^T v / |W^T v|,    v <- W u / |W u|

Backward, with ``Wn = W / sigma``, ``G = dL/dWn = x^T dy`` and u, v held fixed (as in the
paper and in PyTorch: the power iteration is not differentiated)::

    dsigma/dW = v u^T
    dL/dW = G / sigma - (<G, W> / sigma^2) v u^T = (G - <G, Wn> v u^T) / sigma
    dL/dx = dy @ Wn^T,  dL/db = sum_rows dy
"""

from __future__ import annotations

import numpy as np

from .dense import Dense
from .init import as_rng
from .module import Module, check_input


def _unit(a: np.ndarray) -> np.ndarray:
    norm = float(np.sqrt(np.dot(a, a)))
    return a / max(norm, 1e-12)


class SpectralNorm(Module):
    """A :class:`Dense` layer whose weight is divided by its spectral norm estimate.

    Shapes as Dense: x (N, in) -> y (N, out).  ``params()`` are the wrapped layer's
    (``W``, ``b``: checkpoints and optimisers see the same names as without the wrapper);
    ``buffers()`` are ``u`` (out,) and ``v`` (in,), initialised from ``rng`` and refined
    by ``power_iterations`` steps at construction.  Cache: ``(x, Wn, sigma, u, v)``.
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, dense: Dense, *, rng: np.random.Generator | int | None = None, power_iterations: int = 1):
        if not isinstance(dense, Dense):
            raise ValueError(f"SpectralNorm: expected a Dense layer, got {dense!r}")
        self.dense = dense
        rng = as_rng(rng)
        self.v = _unit(rng.standard_normal(dense.in_features)).astype(dense.dtype)
        self.u = _unit(dense.W.T @ self.v).astype(dense.dtype)
        for _ in range(power_iterations):
            self.update_buffers()

    def __repr__(self) -> str:
        return f"SpectralNorm({self.dense!r})"

    def params(self) -> dict[str, np.ndarray]:
        return self.dense.params()

    def buffers(self) -> dict[str, np.ndarray]:
        return {"u": self.u, "v": self.v}

    def update_buffers(self) -> None:
        """One power-iteration step, in place (the arrays stay the same objects)."""
        W = self.dense.W
        self.u[...] = _unit(W.T @ self.v)
        self.v[...] = _unit(W @ self.u)

    def sigma(self) -> float:
        """The current estimate ``v^T W u`` of W's largest singular value."""
        return float(self.v @ self.dense.W @ self.u)

    def forward(self, x):
        d = self.dense
        check_input(self, x, d.in_features, d.dtype)
        sigma = self.v @ d.W @ self.u  # a 0-d array in W's dtype
        Wn = d.W / sigma
        y = x @ Wn
        y += d.b
        return y, (x, Wn, sigma, self.u.copy(), self.v.copy())

    def __call__(self, x):
        return self.forward(x)[0]

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        x, Wn, sigma, u, v = cache
        dx = dy @ Wn.T if need_dx else None
        if not need_grads:
            return dx, {}
        G = x.T @ dy
        inner = np.vdot(G, Wn)
        G -= inner * np.outer(v, u)
        G /= sigma
        return dx, {"W": G, "b": dy.sum(axis=0)}
