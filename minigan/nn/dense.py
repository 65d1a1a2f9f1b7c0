"""Fully connected layer: ``y = x @ W + b`` (``tf.layers.dense`` in the article's code)."""

from __future__ import annotations

import numpy as np

from .init import Initializer, as_rng, get_initializer
from .module import Module, check_input


class Dense(Module):
    """Affine map ``y = x @ W + b``.

    Shapes: ``x`` (N, in_features) -> ``y`` (N, out_features); ``W`` (in, out); ``b`` (out,).

    Backward, with upstream gradient ``dy = dL/dy`` of shape (N, out)::

        dL/dx = dy @ W.T          (N, in)
        dL/dW = x.T @ dy          (in, out)
        dL/db = sum over rows dy  (out,)

    ``need_dx=False`` skips ``dL/dx`` (returned as None) and ``need_grads=False`` skips
    ``dL/dW`` and ``dL/db`` (returned as ``{}``); each saves a matrix product.

    ``bias=False`` leaves ``b`` out (``y = x @ W``): before a batch-norm layer a bias is
    cancelled by the mean it subtracts, so it would only be a parameter that never learns.

    The cache is ``x`` itself (no copy).  ``W`` is initialised by ``init`` (default:
    Glorot-uniform, TF1's default) and ``b`` is zero.
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: str | Initializer = "glorot_uniform",
        bias: bool = True,
        dtype=np.float32,
        rng: np.random.Generator | int | None = None,
    ):
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense: {name} must be a positive integer, got {value!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Dense: dtype must be a floating type, got {self.dtype}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.init = get_initializer(init)
        self.W = self.init((self.in_features, self.out_features), as_rng(rng), self.dtype)
        self.b = np.zeros(self.out_features, dtype=self.dtype) if bias else None

    def __repr__(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features}{'' if self.b is not None else ', no bias'})"

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W} if self.b is None else {"W": self.W, "b": self.b}

    def forward(self, x):
        check_input(self, x, self.in_features, self.dtype)
        y = x @ self.W
        if self.b is not None:
            y += self.b
        return y, x

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        x = cache
        dx = None
        if need_dx and self.out_features == 1:
            # dy @ W.T with one output unit is an outer product, which BLAS handles
            # slowly (a k = 1 product); broadcasting computes exactly the same numbers.
            dx = dy * self.W[:, 0]
        elif need_dx:
            dx = dy @ self.W.T
        grads = {}
        if need_grads:
            grads["W"] = x.T @ dy
            if self.b is not None:
                grads["b"] = dy.sum(axis=0)
        return dx, grads
