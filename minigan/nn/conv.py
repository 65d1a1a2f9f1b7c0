"""2-D convolution and max pooling on flattened images, so they chain with every other
module (all of minigan's modules take and return (N, features) arrays).

Images are stored channels-last: a row of length ``H * W * C`` is an (H, W, C) image
(a 28 x 28 grey digit is simply its 784 pixels).  minigan's networks for the article are
dense; these two layers exist for the *judge* (:mod:`minigan.metrics.judge`), a small
convolutional digit classifier whose features score generated digits.
"""

from __future__ import annotations

import math

import numpy as np

from .dense import as_generator
from .module import Module, check_input


def _shape3(owner: str, shape) -> tuple[int, int, int]:
    if len(shape) != 3 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in shape):
        raise ValueError(f"{owner}: in_shape must be (height, width, channels), got {shape!r}")
    return tuple(int(v) for v in shape)


class Conv2d(Module):
    """Valid (unpadded), stride-1 convolution with a ``k x k`` kernel (cross-correlation, as
    in every deep-learning library).

    Shapes: x (N, H W C) -> y (N, Ho Wo F) with Ho = H - k + 1, Wo = W - k + 1, F =
    ``out_channels``; ``W`` (C, k, k, F), ``b`` (F,).  Forward, per output position::

        y[n, i, j, f] = b[f] + sum_{c, u, v} x[n, i + u, j + v, c] W[c, u, v, f]

    computed as one matrix product: the patches ("im2col", a strided *view* of x,
    copied once into ``cols`` of shape (N Ho Wo, C k k)) times W reshaped to (C k k, F).
    Backward, with ``g = dy`` reshaped to (N Ho Wo, F)::

        dW = cols^T g,   db = sum_rows g,   dcols = g W^T

    and ``dx`` adds each patch's gradient back where the patch came from ("col2im": k^2
    shifted additions).  Cache: ``cols``.  ``W`` is Glorot-uniform (fan_in = C k k,
    fan_out = F k k, as TensorFlow counts), ``b`` zero.
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, in_shape, out_channels: int, kernel: int, *, dtype=np.float32, rng=None):
        self.in_shape = _shape3("Conv2d", in_shape)
        H, W, C = self.in_shape
        if not isinstance(kernel, (int, np.integer)) or not 1 <= kernel <= min(H, W):
            raise ValueError(f"Conv2d: kernel must be an integer in [1, {min(H, W)}], got {kernel!r}")
        if not isinstance(out_channels, (int, np.integer)) or out_channels < 1:
            raise ValueError(f"Conv2d: out_channels must be a positive integer, got {out_channels!r}")
        self.k, self.out_channels, self.dtype = int(kernel), int(out_channels), np.dtype(dtype)
        self.out_shape = (H - self.k + 1, W - self.k + 1, self.out_channels)
        fan_in, fan_out = C * self.k ** 2, self.out_channels * self.k ** 2
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        self.W = as_generator(rng).uniform(-limit, limit, (C, self.k, self.k, self.out_channels)).astype(self.dtype)
        self.b = np.zeros(self.out_channels, dtype=self.dtype)

    def __repr__(self) -> str:
        H, W, C = self.in_shape
        return f"Conv2d({H}x{W}x{C} -> {'x'.join(map(str, self.out_shape))}, kernel {self.k})"

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        H, W, C = self.in_shape
        check_input(self, x, H * W * C, self.dtype)
        n, (Ho, Wo, F) = x.shape[0], self.out_shape
        patches = np.lib.stride_tricks.sliding_window_view(x.reshape(n, H, W, C), (self.k, self.k), axis=(1, 2))
        cols = patches.reshape(n * Ho * Wo, C * self.k * self.k)  # (n, Ho, Wo, C, k, k): a copy
        y = cols @ self.W.reshape(-1, F)
        y += self.b
        return y.reshape(n, Ho * Wo * F), cols

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        cols = cache
        H, W, C = self.in_shape
        Ho, Wo, F = self.out_shape
        n, k = dy.shape[0], self.k
        g = dy.reshape(n * Ho * Wo, F)
        grads = {"W": (cols.T @ g).reshape(self.W.shape), "b": g.sum(axis=0)} if need_grads else {}
        if not need_dx:
            return None, grads
        dcols = (g @ self.W.reshape(-1, F).T).reshape(n, Ho, Wo, C, k, k)
        dx = np.zeros((n, H, W, C), dtype=dy.dtype)
        for u in range(k):
            for v in range(k):
                dx[:, u:u + Ho, v:v + Wo, :] += dcols[..., u, v]
        return dx.reshape(n, H * W * C), grads


class MaxPool2d(Module):
    """Non-overlapping ``2 x 2`` max pooling: each output is the largest of its four inputs.

    Shapes: x (N, H W C) -> y (N, H/2 W/2 C) (H and W even).  Backward: the gradient of
    each output goes to the input that was the maximum (the first of them on a tie), the
    other three get 0.  Cache: the position (0..3) of each maximum.
    """

    def __init__(self, in_shape):
        self.in_shape = _shape3("MaxPool2d", in_shape)
        H, W, C = self.in_shape
        if H % 2 or W % 2:
            raise ValueError(f"MaxPool2d: height and width must be even, got {H}x{W}")
        self.out_shape = (H // 2, W // 2, C)

    def __repr__(self) -> str:
        return f"MaxPool2d({'x'.join(map(str, self.in_shape))} -> {'x'.join(map(str, self.out_shape))})"

    def _windows(self, x):
        H, W, C = self.in_shape
        n = x.shape[0]
        # (n, H/2, 2, W/2, 2, C) -> (n, H/2, W/2, C, 4): the four inputs of each output last.
        return x.reshape(n, H // 2, 2, W // 2, 2, C).transpose(0, 1, 3, 5, 2, 4).reshape(n, H // 2, W // 2, C, 4)

    def forward(self, x):
        H, W, C = self.in_shape
        check_input(self, x, H * W * C)
        windows = self._windows(x)
        where = windows.argmax(axis=-1)
        y = np.take_along_axis(windows, where[..., None], axis=-1)
        return y.reshape(x.shape[0], -1), where

    def __call__(self, x):
        H, W, C = self.in_shape
        check_input(self, x, H * W * C)
        return self._windows(x).max(axis=-1).reshape(x.shape[0], -1)

    def backward(self, dy, cache):
        where = cache
        H, W, C = self.in_shape
        n = dy.shape[0]
        d = np.zeros((*where.shape, 4), dtype=dy.dtype)
        np.put_along_axis(d, where[..., None], dy.reshape(*where.shape, 1), axis=-1)
        # undo the transpose of _windows: (n, H/2, W/2, C, 2, 2) -> (n, H/2, 2, W/2, 2, C)
        d = d.reshape(n, H // 2, W // 2, C, 2, 2).transpose(0, 1, 4, 2, 5, 3)
        return d.reshape(n, H * W * C), {}
