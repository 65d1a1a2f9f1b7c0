"""Batch normalisation (Ioffe & Szegedy 2015), the layer DCGAN puts in both of its
networks: each feature is standardised with the statistics of the current batch, then
scaled and shifted by learned ``gamma`` and ``beta``.

Training pass (``forward``), for each feature over the m rows of the batch::

    mu    = (1/m) sum_i x_i
    var   = (1/m) sum_i (x_i - mu)^2                  (biased: divide by m)
    xhat_i = (x_i - mu) / sqrt(var + eps)
    y_i    = gamma xhat_i + beta

Every output depends on every input of the batch (through mu and var): that is why a
discriminator with batch norm must see the real and the fake batch in separate passes
(:class:`minigan.gan.GAN`).  The training pass also keeps running averages for the
evaluation pass (PyTorch's convention: ``momentum`` weighs the new batch, and the
variance averaged is the unbiased one, ``var * m / (m - 1)``)::

    running_mean <- (1 - momentum) running_mean + momentum mu
    running_var  <- (1 - momentum) running_var  + momentum var m / (m - 1)

The evaluation pass (``module(x)``) is a fixed affine map per feature:
``y = gamma (x - running_mean) / sqrt(running_var + eps) + beta``.

**Backward** (the whole derivation, for one feature; sums run over the batch).  The
parameters first, since y = gamma xhat + beta::

    dbeta = sum_i dy_i,        dgamma = sum_i dy_i xhat_i,        dxhat_i = gamma dy_i

x_i reaches the loss three ways: directly through xhat_i, through var and through mu.
With ``istd = 1 / sqrt(var + eps)``::

    dvar = sum_i dxhat_i (x_i - mu) (-1/2) (var + eps)^(-3/2)   = -(istd^2 / 2) sum_i dxhat_i xhat_i
    dmu  = -istd sum_i dxhat_i + dvar (-2/m) sum_i (x_i - mu)    = -istd sum_i dxhat_i
           (the second term vanishes: deviations from the mean sum to zero)
    dx_i = istd dxhat_i  +  dvar 2 (x_i - mu) / m  +  dmu / m

and, putting the three terms over one factor::

    dx_i = (istd / m) (m dxhat_i - sum_j dxhat_j - xhat_i sum_j dxhat_j xhat_j)

That is: the upstream gradient, scaled, minus its mean (the mean term) and minus its
projection on xhat (the variance term).  Since dxhat = gamma dy, the two sums are the
parameter gradients already computed, which is how the code evaluates it::

    dx_i = (gamma istd / m) (m dy_i - dbeta - xhat_i dgamma)

Treating mu and var as constants keeps only the first term, ``gamma istd dy_i``: the
most common mistake (``minigan.exercises`` names it).
"""

from __future__ import annotations

import numpy as np

from .module import Module, check_input


class BatchNorm1d(Module):
    """Batch normalisation per feature: x (N, F) -> y (N, F).

    ``params()``: ``gamma`` (F,) ones and ``beta`` (F,) zeros.  ``buffers()``:
    ``running_mean`` (F,) zeros and ``running_var`` (F,) ones, updated by every
    ``forward`` (training mode) and saved with the weights.  Cache: ``(xhat, istd)``.
    """

    backward_options = frozenset({"need_grads"})

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        name = type(self).__name__
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1], got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.dtype = np.dtype(dtype)
        self.gamma = np.ones(self.num_features, dtype=self.dtype)
        self.beta = np.zeros(self.num_features, dtype=self.dtype)
        self.running_mean = np.zeros(self.num_features, dtype=self.dtype)
        self.running_var = np.ones(self.num_features, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def params(self) -> dict[str, np.ndarray]:
        return {"gamma": self.gamma, "beta": self.beta}

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    # Batch norm of the (M, F) matrix ``x``; BatchNorm2d reshapes its images to it.
    def _rows(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, self.num_features, self.dtype)
        return x

    def forward(self, x):
        rows = self._rows(x)
        m = rows.shape[0]
        if m < 2:
            raise ValueError(f"{self!r}: training mode needs at least 2 values per feature to estimate a variance, "
                             f"got a batch of shape {x.shape}")
        mu = rows.mean(axis=0)
        xhat = rows - mu
        var = np.einsum("ij,ij->j", xhat, xhat) / m  # mean of the squared deviations, no temporary
        istd = 1.0 / np.sqrt(var + self.eps)
        xhat *= istd
        y = xhat * self.gamma
        y += self.beta
        # Running averages for evaluation mode (in place: the arrays are the buffers).
        self.running_mean *= 1.0 - self.momentum
        self.running_mean += self.momentum * mu
        self.running_var *= 1.0 - self.momentum
        self.running_var += (self.momentum * m / (m - 1)) * var
        return y.reshape(x.shape), (xhat, istd)

    def __call__(self, x):
        rows = self._rows(x)
        scale = self.gamma / np.sqrt(self.running_var + self.eps)
        y = (rows - self.running_mean) * scale
        y += self.beta
        return y.reshape(x.shape)

    def backward(self, dy, cache, *, need_grads: bool = True):
        xhat, istd = cache
        g = dy.reshape(xhat.shape)
        m = g.shape[0]
        dbeta = g.sum(axis=0)
        dgamma = np.einsum("ij,ij->j", g, xhat)
        # dx = (gamma istd / m) (m dy - dbeta - xhat dgamma): see the module docstring.
        dx = xhat * (dgamma / m)
        dx += dbeta / m
        np.subtract(g, dx, out=dx)
        dx *= self.gamma * istd
        grads = {"gamma": dgamma, "beta": dbeta} if need_grads else {}
        return dx.reshape(dy.shape), grads


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation per channel of images: x (N, H W C) -> y (N, H W C).

    In minigan's channels-last layout (see :mod:`minigan.nn.conv`) the N H W values of
    channel c are column c of x reshaped to (N H W, C), so this is :class:`BatchNorm1d`
    on that matrix: statistics over the batch *and* every position, one ``gamma``,
    ``beta``, running mean and variance per channel (``num_features`` = C).
    """

    def _rows(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, None, self.dtype)
        if x.shape[1] % self.num_features:
            raise ValueError(f"{self!r}: rows of {x.shape[1]} values are not whole images with "
                             f"{self.num_features} channels (channels-last, N x H W C)")
        return x.reshape(-1, self.num_features)
