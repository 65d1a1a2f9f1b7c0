"""The networks of a run: the article's G and D, with the remedies the config switches on."""

from __future__ import annotations

import numpy as np

from ..dcgan import build_dcgan_discriminator, build_dcgan_generator
from ..gan import build_discriminator, build_generator
from ..nn import Dense, Dropout, InstanceNoise, LeakyReLU, Pack, RandomTranslate, Sequential, SpectralNorm
from ..nn.activations import sigmoid
from ..nn.init import as_rng
from .config import TrainConfig


def build_networks(config: TrainConfig, data_dim: int, rng, *, image_shape=None, augment_rng=None):
    """G and D of the config, initialised from ``rng`` (G first, then D), in ``config.dtype``.

    With ``config.arch == "dcgan"`` G and D are :mod:`minigan.dcgan`'s; with ``"dcgan_g"``
    G is DCGAN's and D the article's.  D is the
    article's Dense/LeakyReLU stack (or DCGAN's convolutions) with, as the config asks: a
    :class:`~minigan.nn.RandomTranslate` and an :class:`~minigan.nn.InstanceNoise` in
    front (in that order), a :class:`~minigan.nn.Dropout` after each leaky ReLU and
    every Dense wrapped in :class:`~minigan.nn.SpectralNorm`.  The random layers draw from
    ``augment_rng`` (one generator for all, which the trainer checkpoints).  With
    ``config.pack = m > 1`` D is built for m x data_dim inputs and wrapped in
    :class:`~minigan.nn.Pack`, so it still takes (N, data_dim) batches; the input layers
    then treat each pack as m images.
    """
    rng = as_rng(rng)
    augment_rng = as_rng(augment_rng)
    dtype = np.dtype(config.dtype)
    batchnorm = config.batchnorm
    if config.arch in ("dcgan", "dcgan_g"):
        if image_shape is None:
            raise ValueError(f"build_networks: --arch {config.arch} needs the data's image_shape")
        if batchnorm is None:  # not resolved: the architecture's recipe
            from .config import DCGAN_RECIPES

            batchnorm = DCGAN_RECIPES[config.arch]["batchnorm"]
        G = build_dcgan_generator(config.z_dim, tuple(image_shape), config.channels, batchnorm=batchnorm,
                                  dtype=dtype, rng=rng)
    else:
        G = build_generator(config.z_dim, config.hidden, data_dim, alpha=config.alpha, output=config.output,
                            dtype=dtype, rng=rng)
    if config.arch == "dcgan":
        core = Sequential(*build_dcgan_discriminator(tuple(image_shape), config.channels, alpha=config.alpha,
                                                     batchnorm=batchnorm, dtype=dtype, rng=rng))
    else:
        core = build_discriminator(data_dim * config.pack, config.hidden, alpha=config.alpha, dtype=dtype, rng=rng)
    layers = []
    if config.translate:
        if image_shape is None:
            raise ValueError("build_networks: translate needs the data's image_shape")
        layers.append(RandomTranslate(tuple(image_shape), config.translate, rng=augment_rng))
    if config.instance_noise:
        layers.append(InstanceNoise(config.instance_noise, rng=augment_rng))
    for m in core.modules:
        if isinstance(m, Dense) and config.spectral_norm:
            m = SpectralNorm(m, rng=augment_rng)
        layers.append(m)
        if config.dropout and isinstance(m, LeakyReLU):
            layers.append(Dropout(config.dropout, rng=augment_rng))
    D = Sequential(*layers)
    return G, (Pack(D, config.pack) if config.pack > 1 else D)


def instance_noise_layers(D) -> list[InstanceNoise]:
    """The :class:`~minigan.nn.InstanceNoise` layers of a D built by :func:`build_networks`."""
    inner = D.module if isinstance(D, Pack) else D
    return [m for m in getattr(inner, "modules", ()) if isinstance(m, InstanceNoise)]


def discriminator_probability(D, x: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(D's logit) for each row of ``x``, shape (N,).  A packing D
    (:class:`~minigan.nn.Pack`) judges packs, so each point is shown to it as a pack of
    m copies of itself."""
    params = D.params()
    dtype = next(iter(params.values())).dtype if params else np.float32
    x = np.ascontiguousarray(x, dtype=dtype)
    if isinstance(D, Pack):
        x = np.repeat(x, D.m, axis=0)
    return sigmoid(D(x)).ravel()
