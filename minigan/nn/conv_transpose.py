"""The transposed ("fractionally strided") convolution of DCGAN's generator (Radford et al.
2016): it grows a small image into a larger one, 7 x 7 -> 14 x 14 with stride 2.

It is a convolution run backwards.  Take the convolution ``conv`` that maps an image of
the *output's* shape (Ho, Wo, C_out) to one of the *input's* shape (H, W, C_in) with
kernel k, stride s and padding p.  Its input gradient is a linear map from (H, W, C_in)
images to (Ho, Wo, C_out) images: ``dx = col2im(dy W^T)``.  The transposed convolution
*is* that map, used as a layer (plus a bias)::

    y = col2im(x M^T) + b          x: (N H W, C_in) rows,  M: (k k C_out, C_in)

(M is ``conv``'s weight as a matrix, :func:`~minigan.nn.im2col.weight_matrix`), so each
input pixel stamps its k x k x C_out patch ``x[n, i, j] M^T`` into the output at
rows s i - p .. s i - p + k - 1 (overlaps add), which is why the output is s times larger:

    Ho = (H - 1) s - 2 p + k + output_padding                  (PyTorch's formula)

``output_padding`` (0 <= it < s) adds rows and columns at the bottom and right that no
stamp reaches before the bias: several output sizes give the same ``conv`` output size,
and it picks one.  Being the adjoint of ``conv``, for the same weight and no bias::

    <conv(a), b> = <a, conv_transpose(b)>     for all images a (Ho, Wo, C_out), b (H, W, C_in)

(tests/test_conv.py checks exactly this).  The backward pass is therefore ``conv``'s
forward: with ``cols = im2col(dy)`` (N H W, C_out k k)::

    dx = cols M,    dM = cols^T x,    db = sum of dy over batch and positions
"""

from __future__ import annotations

import numpy as np

from .conv import _positive, _shape3
from .im2col import col2im, conv_output_size, im2col, matrix_to_weight, weight_matrix
from .init import conv_weight
from .module import Module, check_input


class ConvTranspose2d(Module):
    """Transposed convolution: x (N, H W C_in) -> y (N, Ho Wo C_out), channels-last.

    ``W`` has shape (C_out, k, k, C_in): exactly the weight of the :class:`Conv2d` from
    (Ho, Wo, C_out) to (H, W, C_in) whose adjoint this layer is.  ``b`` (C_out,).  Cache:
    the input rows (no copy).  ``W`` is Glorot-uniform by default (fans C_in k k and
    C_out k k), ``b`` zero (``bias=False``: no ``b``).
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, in_shape, out_channels: int, kernel: int, *, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, init="glorot_uniform", bias: bool = True, dtype=np.float32, rng=None):
        owner = "ConvTranspose2d"
        self.in_shape = _shape3(owner, in_shape)
        H, W, C = self.in_shape
        self.out_channels = _positive(owner, "out_channels", out_channels)
        self.k = _positive(owner, "kernel", kernel)
        self.stride = _positive(owner, "stride", stride)
        self.padding = _positive(owner, "padding", padding, 0)
        self.output_padding = _positive(owner, "output_padding", output_padding, 0)
        k, s, p, op, F = self.k, self.stride, self.padding, self.output_padding, self.out_channels
        if op >= s:
            raise ValueError(f"{owner}: output_padding must be smaller than the stride ({s}), got {op}")
        Ho, Wo = (H - 1) * s - 2 * p + k + op, (W - 1) * s - 2 * p + k + op
        if p >= k:
            raise ValueError(f"{owner}: padding must be smaller than the kernel ({k}), got {p}")
        if min(Ho, Wo) < 1:
            raise ValueError(f"{owner}: padding {p} leaves no output for a {H}x{W} input with kernel {k}, "
                             f"stride {s} (output {Ho}x{Wo})")
        self.out_shape = (Ho, Wo, F)
        # The convolution this layer is the adjoint of maps out_shape back to in_shape.
        assert (conv_output_size(Ho, k, s, p), conv_output_size(Wo, k, s, p)) == (H, W)
        self.dtype = np.dtype(dtype)
        self.W = conv_weight((F, k, k, C), C * k * k, F * k * k, init, rng, self.dtype)
        self.b = np.zeros(F, dtype=self.dtype) if bias else None

    def __repr__(self) -> str:
        H, W, C = self.in_shape
        extra = "".join(f", {name} {v}" for name, v in
                        (("stride", self.stride), ("padding", self.padding), ("output_padding", self.output_padding))
                        if v != (1 if name == "stride" else 0))
        return f"ConvTranspose2d({H}x{W}x{C} -> {'x'.join(map(str, self.out_shape))}, kernel {self.k}{extra})"

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W} if self.b is None else {"W": self.W, "b": self.b}

    def forward(self, x):
        H, W, C = self.in_shape
        check_input(self, x, H * W * C, self.dtype)
        n = x.shape[0]
        rows = x.reshape(n * H * W, C)
        stamps = rows @ weight_matrix(self.W).T  # (N H W, k k C_out): one k x k x C_out patch per input pixel
        y = col2im(stamps, self.out_shape, self.k, self.stride, self.padding)
        if self.b is not None:
            y += self.b
        return y.reshape(n, -1), rows

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        rows = cache
        n = dy.shape[0]
        cols = im2col(dy.reshape(n, *self.out_shape), self.k, self.stride, self.padding)  # (N H W, k k C_out)
        grads = {}
        if need_grads:
            grads["W"] = matrix_to_weight(cols.T @ rows, self.W.shape)
            if self.b is not None:
                grads["b"] = dy.reshape(-1, self.out_channels).sum(axis=0)
        dx = (cols @ weight_matrix(self.W)).reshape(n, -1) if need_dx else None
        return dx, grads
