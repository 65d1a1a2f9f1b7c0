"""Patches of an image batch as the rows of a matrix ("im2col") and the way back ("col2im").

A convolution is a matrix product once every patch the kernel visits is laid out as a
row.  For images stored channels-last, ``x`` of shape (N, H, W, C), a ``k x k`` kernel,
stride ``s`` and zero padding ``p`` (``Hp = H + 2p``, ``Wp = W + 2p``)::

    Ho = (Hp - k) // s + 1,   Wo = (Wp - k) // s + 1          (PyTorch's output size)
    cols[(n, i, j), (u, v, c)] = xp[n, s i + u, s j + v, c]    xp: x padded with zeros

so ``cols`` is (N Ho Wo, k k C), each patch's entries in the order they lie in memory
(row, column, channel).  :func:`im2col` builds it from a strided *view* of the padded
images (``sliding_window_view`` then every s-th window: no data moves) with one copy,
the reshape into rows.

:func:`col2im` is its adjoint: every row's k x k x C values are *added* back at the
pixels they came from, so a pixel covered by several patches (k > s) receives the sum of
their gradients; the padding is then cut off.  It is a loop over the k^2 kernel offsets
(u, v), each one strided addition of a whole (N, Ho, Wo, C) slab whose channels are contiguous,
never a loop over pixels.  ``col2im(dcols)`` is the gradient of ``sum(im2col(x) * dcols)`` with respect to
``x`` (tests/test_conv.py checks that ``<im2col(x), c> = <x, col2im(c)>``).
"""

from __future__ import annotations

import numpy as np


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``(size + 2 padding - kernel) // stride + 1``: positions a kernel visits along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col(x: np.ndarray, kernel: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Patches of ``x`` (N, H, W, C) as rows: (N Ho Wo, k k C), a new array in x's dtype."""
    n, H, W, C = x.shape
    p, k, s = padding, kernel, stride
    if p:
        padded = np.zeros((n, H + 2 * p, W + 2 * p, C), dtype=x.dtype)
        padded[:, p:p + H, p:p + W] = x
        x = padded
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]
    # windows: (N, Ho, Wo, C, k, k), a view; the reshape below is the one copy.
    Ho, Wo = windows.shape[1], windows.shape[2]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * Ho * Wo, k * k * C)


def col2im(dcols: np.ndarray, image_shape: tuple[int, int, int], kernel: int, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: rows (N Ho Wo, k k C) added back into images (N, H, W, C).

    ``image_shape`` is (H, W, C) of the unpadded images.
    """
    H, W, C = image_shape
    p, k, s = padding, kernel, stride
    Ho, Wo = conv_output_size(H, k, s, p), conv_output_size(W, k, s, p)
    n = dcols.shape[0] // (Ho * Wo)
    d = dcols.reshape(n, Ho, Wo, k, k, C)
    out = np.zeros((n, H + 2 * p, W + 2 * p, C), dtype=dcols.dtype)
    for u in range(k):
        for v in range(k):
            # Offset (u, v) of every patch lands on pixels (s i + u, s j + v).
            out[:, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] += d[:, :, :, u, v]
    return out[:, p:p + H, p:p + W] if p else out


def weight_matrix(W: np.ndarray) -> np.ndarray:
    """A convolution weight (A, k, k, B) as the (k k A, B) matrix that multiplies
    :func:`~minigan.nn.im2col.im2col`'s patch rows (k k A: row, column, channel)."""
    A, k, _, B = W.shape
    return W.transpose(1, 2, 0, 3).reshape(k * k * A, B)


def matrix_to_weight(M: np.ndarray, shape) -> np.ndarray:
    """The inverse of :func:`weight_matrix`: a (k k A, B) matrix as a weight of ``shape`` (A, k, k, B)."""
    A, k, _, B = shape
    return M.reshape(k, k, A, B).transpose(2, 0, 1, 3).copy()
