"""A DCGAN (Radford, Metz and Chintala 2016) sized for small grey images on a CPU: the
"more complex structure" that the article's FAQ (sections 6.1-6.3) recommends, built from
the same module protocol as the article's networks.

For 28 x 28 digits and ``channels = C`` (h = H/4, w = W/4; 7 x 7 for digits)::

    G: z (100) -> Dense h w 2C -> BatchNorm2d -> ReLU                      (a 7 x 7 x 2C image)
         -> ConvTranspose2d(k 4, stride 2, padding 1) -> BatchNorm2d -> ReLU   14 x 14 x C
         -> ConvTranspose2d(k 4, stride 2, padding 1) -> Tanh                  28 x 28 x 1

    D: x (28 x 28 x 1) -> Conv2d(k 4, stride 2, padding 1) -> LeakyReLU(0.2)  14 x 14 x C
         -> Conv2d(k 4, stride 2, padding 1) -> BatchNorm2d -> LeakyReLU(0.2)   7 x 7 x 2C
         -> Dense(h w 2C -> 1)                                                 a logit

DCGAN's rules, kept: strided (transposed) convolutions instead of pooling, batch norm in
both networks except G's output and D's input layer, ReLU in G with tanh out, leaky
ReLU in D, weights drawn from N(0, 0.02^2).  Both networks take and return flattened
channels-last rows (see :mod:`minigan.nn.conv`), so they drop into :class:`minigan.GAN`
and every tool that takes the article's networks.  ``batchnorm=False`` leaves the batch
norm layers out (the study's "DCGAN without batch norm").  A layer followed by batch
norm has no bias (batch norm subtracts the mean, which cancels any bias; its ``beta`` is
the shift); without batch norm every layer has one.
"""

from __future__ import annotations

import numpy as np

from .nn import BatchNorm2d, Conv2d, ConvTranspose2d, Dense, LeakyReLU, ReLU, Sequential, Tanh
from .nn.init import as_rng

#: DCGAN's initialisation: N(0, 0.02^2) for every weight.
DCGAN_INIT = "normal"


def _quarter(owner: str, image_shape) -> tuple[int, int]:
    if len(image_shape) != 2 or any(not isinstance(v, (int, np.integer)) or v < 4 or v % 4 for v in image_shape):
        raise ValueError(f"{owner}: image_shape must be (height, width), multiples of 4 (two stride-2 layers), "
                         f"got {image_shape!r}")
    return int(image_shape[0]) // 4, int(image_shape[1]) // 4


def build_dcgan_generator(z_dim: int = 100, image_shape=(28, 28), channels: int = 32, *, batchnorm: bool = True,
                          init=DCGAN_INIT, dtype=np.float32, rng=None) -> Sequential:
    """DCGAN's G for single-channel images (see the module docstring): z (N, z_dim) ->
    x (N, H W) in [-1, 1]."""
    h, w = _quarter("build_dcgan_generator", image_shape)
    rng = as_rng(rng)
    C = int(channels)
    up1 = ConvTranspose2d((h, w, 2 * C), C, 4, stride=2, padding=1, init=init, bias=not batchnorm, dtype=dtype,
                          rng=rng)
    up2 = ConvTranspose2d(up1.out_shape, 1, 4, stride=2, padding=1, init=init, dtype=dtype, rng=rng)

    def norm(c):
        return [BatchNorm2d(c, dtype=dtype)] if batchnorm else []

    return Sequential(Dense(z_dim, h * w * 2 * C, init=init, bias=not batchnorm, dtype=dtype, rng=rng),
                      *norm(2 * C), ReLU(),
                      up1, *norm(C), ReLU(), up2, Tanh())


def build_dcgan_discriminator(image_shape=(28, 28), channels: int = 32, *, alpha: float = 0.2,
                              batchnorm: bool = True, init=DCGAN_INIT, dtype=np.float32, rng=None) -> list:
    """DCGAN's D for single-channel images (see the module docstring) as a list of layers,
    x (N, H W) -> logits (N, 1), for the caller to put augmentations in front of and
    dropout between before wrapping it in a :class:`~minigan.nn.Sequential`."""
    H, W = image_shape
    h, w = _quarter("build_dcgan_discriminator", image_shape)
    rng = as_rng(rng)
    C = int(channels)
    down1 = Conv2d((H, W, 1), C, 4, stride=2, padding=1, init=init, dtype=dtype, rng=rng)
    down2 = Conv2d(down1.out_shape, 2 * C, 4, stride=2, padding=1, init=init, bias=not batchnorm, dtype=dtype,
                   rng=rng)
    norm = [BatchNorm2d(2 * C, dtype=dtype)] if batchnorm else []
    return [down1, LeakyReLU(alpha), down2, *norm, LeakyReLU(alpha),
            Dense(h * w * 2 * C, 1, init=init, dtype=dtype, rng=rng)]
