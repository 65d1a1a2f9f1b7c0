"""Random translation of images, a differentiable augmentation for the discriminator
(DiffAugment, Zhao et al. 2020): D sees every real *and* every generated image shifted
by a few pixels, so it cannot memorise the 4,000 real digits pixel by pixel, and G is
trained through the same shift (article section 6.1: mode collapse; 6.3: D too strong).

For image ``i`` with shift ``(a_i, b_i)`` (rows, columns; uniform integers in
``[-s, s]``) and fill value ``c`` for pixels shifted in from outside::

    y[i, r, k] = x[i, r - a_i, k - b_i]   if that pixel exists, else c

Each output pixel is one input pixel (or the constant), so the Jacobian is a 0/1
selection and the backward pass is the *inverse* shift with zeros shifted in::

    dx[i, r, k] = dy[i, r + a_i, k + b_i]  if that pixel exists, else 0

(gradient that fell off the edge is lost: those input pixels never reached D).
"""

from __future__ import annotations

import numpy as np

from .init import as_rng
from .module import Module, check_input


def shift_images(x: np.ndarray, image_shape: tuple[int, int], shifts: np.ndarray, fill: float) -> np.ndarray:
    """Shift image ``i`` of ``x`` (n, H W) by ``shifts[i] = (a_i, b_i)`` (rows, columns); a
    new (n, H W) array.

    Positive shifts move content down / right; vacated pixels get ``fill``.  The images
    are padded by ``s = max |shift|`` on every side; the H x W windows of the padded
    image form a (n, 2s+1, 2s+1, H, W) *view* (no copy), and image i's output is its
    window at offset ``(s - a_i, s - b_i)``: one gather of n H W values.
    """
    n = x.shape[0]
    H, W = image_shape
    s = int(np.abs(shifts).max()) if len(shifts) else 0
    if s == 0:
        return x.copy()
    padded = np.full((n, H + 2 * s, W + 2 * s), fill, dtype=x.dtype)
    padded[:, s:s + H, s:s + W] = x.reshape(n, H, W)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (H, W), axis=(1, 2))
    return windows[np.arange(n), s - shifts[:, 0], s - shifts[:, 1]].reshape(n, H * W)


class RandomTranslate(Module):
    """Shift every image by a random integer offset in ``[-max_shift, max_shift]`` per axis.

    Shapes: x (N, k H W) -> y (N, k H W), where each row holds ``k >= 1`` images of
    ``image_shape = (H, W)`` (k > 1 when D judges packs, :class:`minigan.nn.Pack`); each
    image gets its own shift.  ``fill`` is the value shifted in (default -1: the
    background of images scaled to [-1, 1]).  Cache: the shifts (N k, 2).
    ``module(x)`` (inference) returns ``x`` unchanged.
    """

    backward_options = frozenset({"need_dx"})

    def __init__(self, image_shape: tuple[int, int], max_shift: int, *, fill: float = -1.0,
                 rng: np.random.Generator | int | None = None):
        if len(image_shape) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in image_shape):
            raise ValueError(f"RandomTranslate: image_shape must be (height, width), got {image_shape!r}")
        if not isinstance(max_shift, (int, np.integer)) or not 0 <= max_shift < min(image_shape):
            raise ValueError(f"RandomTranslate: max_shift must be an integer in [0, {min(image_shape)}), "
                             f"got {max_shift!r}")
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.max_shift = int(max_shift)
        self.fill = float(fill)
        self.rng = as_rng(rng)

    def __repr__(self) -> str:
        return f"RandomTranslate({self.image_shape[0]}x{self.image_shape[1]}, max_shift={self.max_shift})"

    def _images(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x)
        H, W = self.image_shape
        if x.shape[1] % (H * W):
            raise ValueError(f"{self!r}: rows of {x.shape[1]} values are not whole {H}x{W} images")
        return x.reshape(-1, H * W)

    def forward(self, x):
        images = self._images(x)
        s = self.max_shift
        shifts = self.rng.integers(-s, s + 1, size=(images.shape[0], 2))
        return shift_images(images, self.image_shape, shifts, self.fill).reshape(x.shape), shifts

    def __call__(self, x):
        self._images(x)
        return x

    def backward(self, dy, cache, *, need_dx: bool = True):
        if not need_dx:  # D's own update: its input is data, nobody needs this gradient
            return None, {}
        shifts = cache
        H, W = self.image_shape
        return shift_images(dy.reshape(-1, H * W), self.image_shape, -shifts, 0.0).reshape(dy.shape), {}
