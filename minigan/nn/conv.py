"""2-D convolution and max pooling on flattened images, so they chain with every other
module (all of minigan's modules take and return (N, features) arrays).

**The image convention.**  Images are stored channels-last and flattened: a row of
length ``H * W * C`` is an (H, W, C) image, pixel (i, j) channel c at ``(i W + j) C + c``
(a 28 x 28 grey digit is simply its 784 pixels).  Every image layer in minigan
(:class:`Conv2d`, :class:`~minigan.nn.ConvTranspose2d`, :class:`MaxPool2d`,
:class:`~minigan.nn.BatchNorm2d`, :class:`~minigan.nn.RandomTranslate`) reads and writes
this layout, and a :class:`~minigan.nn.Dense` layer after them simply sees the flattened
features.  (PyTorch stores (N, C, H, W); :mod:`minigan.interop.torch` permutes.)
Convolution weights are (C_in, k, k, C_out) for :class:`Conv2d`; see
:mod:`minigan.nn.im2col` for the patch matrix they multiply.
"""

from __future__ import annotations

import numpy as np

from .im2col import col2im, conv_output_size, im2col, matrix_to_weight, weight_matrix
from .init import conv_weight
from .module import Module, check_input


def _shape3(owner: str, shape) -> tuple[int, int, int]:
    if len(shape) != 3 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in shape):
        raise ValueError(f"{owner}: in_shape must be (height, width, channels), got {shape!r}")
    return tuple(int(v) for v in shape)


def _positive(owner: str, name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {kind}, got {value!r}")
    return int(value)


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in every deep-learning library) with a
    ``k x k`` kernel, ``stride`` s and zero ``padding`` p.

    Shapes: x (N, H W C) -> y (N, Ho Wo F) with ``Ho = (H + 2p - k) // s + 1`` (and Wo
    alike; PyTorch's formula), F = ``out_channels``; ``W`` (C, k, k, F), ``b`` (F,).
    Forward, per output position, with xp the zero-padded input::

        y[n, i, j, f] = b[f] + sum_{c, u, v} xp[n, s i + u, s j + v, c] W[c, u, v, f]

    computed as one matrix product: the patches (:func:`~minigan.nn.im2col.im2col`, one
    copy out of a strided view) ``cols`` (N Ho Wo, k k C) times ``M``, the weight as a
    (k k C, F) matrix (:func:`~minigan.nn.im2col.weight_matrix`).  Backward, with ``g = dy`` reshaped to
    (N Ho Wo, F)::

        dM = cols^T g,   db = sum_rows g,   dcols = g M^T,   dx = col2im(dcols)

    where :func:`~minigan.nn.im2col.col2im` adds each patch's gradient back where the
    patch came from (overlapping patches add up) and cuts the padding off.  Cache:
    ``cols``.  ``W`` is Glorot-uniform by default (see :func:`~minigan.nn.init.conv_weight`), ``b`` zero
    (``bias=False``: no ``b``, as :class:`~minigan.nn.Dense`).
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, in_shape, out_channels: int, kernel: int, *, stride: int = 1, padding: int = 0,
                 init="glorot_uniform", bias: bool = True, dtype=np.float32, rng=None):
        self.in_shape = _shape3("Conv2d", in_shape)
        H, W, C = self.in_shape
        self.out_channels = _positive("Conv2d", "out_channels", out_channels)
        self.stride = _positive("Conv2d", "stride", stride)
        self.padding = _positive("Conv2d", "padding", padding, 0)
        p = self.padding
        if not isinstance(kernel, (int, np.integer)) or not 1 <= kernel <= min(H, W) + 2 * p:
            raise ValueError(f"Conv2d: kernel must be an integer in [1, {min(H, W) + 2 * p}] for a {H}x{W} input "
                             f"with padding {p}, got {kernel!r}")
        self.k, self.dtype = int(kernel), np.dtype(dtype)
        k, s, F = self.k, self.stride, self.out_channels
        self.out_shape = (conv_output_size(H, k, s, p), conv_output_size(W, k, s, p), F)
        self.W = conv_weight((C, k, k, F), C * k * k, F * k * k, init, rng, self.dtype)
        self.b = np.zeros(F, dtype=self.dtype) if bias else None

    def __repr__(self) -> str:
        H, W, C = self.in_shape
        extra = f", stride {self.stride}" if self.stride != 1 else ""
        extra += f", padding {self.padding}" if self.padding else ""
        return f"Conv2d({H}x{W}x{C} -> {'x'.join(map(str, self.out_shape))}, kernel {self.k}{extra})"

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W} if self.b is None else {"W": self.W, "b": self.b}

    def forward(self, x):
        H, W, C = self.in_shape
        check_input(self, x, H * W * C, self.dtype)
        n = x.shape[0]
        cols = im2col(x.reshape(n, H, W, C), self.k, self.stride, self.padding)
        y = cols @ weight_matrix(self.W)
        if self.b is not None:
            y += self.b
        return y.reshape(n, -1), cols

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        cols = cache
        F = self.out_channels
        g = dy.reshape(-1, F)
        grads = {}
        if need_grads:
            grads["W"] = matrix_to_weight(cols.T @ g, self.W.shape)
            if self.b is not None:
                grads["b"] = g.sum(axis=0)
        if not need_dx:
            return None, grads
        dcols = g @ weight_matrix(self.W).T
        dx = col2im(dcols, self.in_shape, self.k, self.stride, self.padding)
        return dx.reshape(dy.shape[0], -1), grads


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
