"""Element-wise activations.  Each keeps the input's dtype (float32 stays float32).

Every ``backward`` multiplies the upstream gradient by the local derivative:
``dx = dy * f'(x)``, written in terms of whatever the cache holds.
"""

from __future__ import annotations

import numpy as np

from .module import Module, check_input


class LeakyReLU(Module):
    """``f(x) = x`` for x > 0, ``alpha * x`` otherwise; ``f'(x) = 1`` or ``alpha``.

    ``alpha = 0.2`` is the default of ``tf.nn.leaky_relu`` used in the article's code.
    For 0 <= alpha <= 1, ``f(x) = max(x, alpha * x)`` and ``f'(x) = max([x > 0], alpha)``
    (``[x > 0]`` is 1 or 0).  Both are computed with plain arithmetic rather than
    ``np.where``: a choice that depends on the sign of each entry is several times
    slower on the random signs of real activations.  Cache: ``x``.  (At x = 0 the
    derivative is taken as ``alpha``.)
    """

    def __init__(self, alpha: float = 0.2):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"LeakyReLU: alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"

    def forward(self, x):
        check_input(self, x)
        y = x * self.alpha
        np.maximum(y, x, out=y)
        return y, x

    def backward(self, dy, cache):
        x = cache
        slope = (x > 0).astype(dy.dtype)
        np.maximum(slope, self.alpha, out=slope)
        slope *= dy
        return slope, {}


class ReLU(Module):
    """``f(x) = max(x, 0)``; ``f'(x) = 1`` for x > 0 else 0.  Cache: ``x``."""

    def __repr__(self) -> str:
        return "ReLU()"

    def forward(self, x):
        check_input(self, x)
        return np.maximum(x, 0), x

    def backward(self, dy, cache):
        x = cache
        dx = (x > 0).astype(dy.dtype)  # 1 or 0, faster than np.where (see LeakyReLU)
        dx *= dy
        return dx, {}


class Tanh(Module):
    """``y = tanh(x)``; ``dy/dx = 1 - y^2``.  Cache: ``y``.

    The generator's output layer (article section 4.1): images live in [-1, 1].
    """

    def __repr__(self) -> str:
        return "Tanh()"

    def forward(self, x):
        check_input(self, x)
        y = np.tanh(x)
        return y, y

    def backward(self, dy, cache):
        y = cache
        dx = y * y
        np.subtract(1.0, dx, out=dx)
        dx *= dy
        return dx, {}


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function ``1 / (1 + exp(-x))``, same dtype as ``x``.

    With ``e = exp(-|x|)`` (never overflows)::

        sigmoid(x) = 1 / (1 + e)   for x >= 0
                   = e / (1 + e)   for x <  0

    so neither branch computes ``exp`` of a large positive number, and for very negative
    ``x`` the result keeps its full relative precision instead of rounding to 0 early.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


class Sigmoid(Module):
    """``y = sigmoid(x)`` (piecewise-stable); ``dy/dx = y (1 - y)``.  Cache: ``y``.

    The article's discriminator ends in a sigmoid (section 4.2), but training uses the
    logits with :func:`minigan.losses.bce_with_logits` instead, which is exact where
    ``log(sigmoid(x))`` would underflow.
    """

    def __repr__(self) -> str:
        return "Sigmoid()"

    def forward(self, x):
        check_input(self, x)
        y = sigmoid(x)
        return y, y

    def backward(self, dy, cache):
        y = cache
        return dy * y * (1 - y), {}
