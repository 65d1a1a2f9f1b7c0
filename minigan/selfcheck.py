"""Gradient checks of everything minigan ships, as one report (``minigan gradcheck``)."""

from __future__ import annotations

import numpy as np

from . import losses
from .dcgan import build_dcgan_discriminator, build_dcgan_generator
from .gan import build_discriminator, build_generator
from .gradcheck import GradCheckReport, away_from_kink, check_function, check_loss, check_module
from .nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Dropout,
    InstanceNoise,
    LeakyReLU,
    MaxPool2d,
    RandomTranslate,
    ReLU,
    Sequential,
    Sigmoid,
    SpectralNorm,
    Tanh,
)


class FixedDraws:
    """``module`` with every random layer inside it (anything with an ``rng``) restarted
    from ``seed`` before each forward pass, so that finite differences see one fixed
    dropout mask, shift and noise.  Follows the module protocol."""

    def __init__(self, module, seed: int = 0):
        self.module, self.seed = module, seed

    def _layers(self, m):
        yield m
        for child in getattr(m, "modules", ()):
            yield from self._layers(child)
        if hasattr(m, "module"):
            yield from self._layers(m.module)

    def params(self):
        return self.module.params()

    def forward(self, x):
        for layer in self._layers(self.module):
            if isinstance(getattr(layer, "rng", None), np.random.Generator):
                layer.rng = np.random.default_rng(self.seed)
        return self.module.forward(x)

    def backward(self, dy, cache):
        return self.module.backward(dy, cache)

    def __call__(self, x):
        return self.forward(x)[0]


def generator_through_discriminator(G, D, z: np.ndarray, kind: str):
    """Loss of G (kind) through D at noise z, and its gradient w.r.t. G's parameters.

    Returns ``(f, grads)`` where ``f()`` recomputes the loss from the live parameters with
    the same (training) passes the gradient uses.
    """
    def f():
        return losses.generator_loss(D.forward(G.forward(z)[0])[0], kind)[0]

    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    _, d_logits = losses.generator_loss(logits, kind)
    d_fake, _ = D.backward(d_logits, d_cache)
    _, grads = G.backward(d_fake, g_cache)
    return f, grads


def discriminator_real_and_fake(D, real: np.ndarray, fake: np.ndarray):
    """D's loss with a real and a fake pass in one step, and its gradient w.r.t. D's parameters.

    Both passes are training passes, each on its own batch (as in ``GAN.d_step``), so a
    batch-norm layer normalises each batch with that batch's statistics."""
    def f():
        return losses.discriminator_loss(D.forward(real)[0], D.forward(fake)[0])[0]

    real_logits, real_cache = D.forward(real)
    fake_logits, fake_cache = D.forward(fake)
    _, d_real, d_fake = losses.discriminator_loss(real_logits, fake_logits)
    _, g_real = D.backward(d_real, real_cache)
    _, g_fake = D.backward(d_fake, fake_cache)
    return f, {k: g_real[k] + g_fake[k] for k in g_real}


def _with_affine(bn, rng):
    """A batch-norm layer with random scale and shift (at gamma = 1, beta = 0 a wrong
    gradient of either could hide)."""
    bn.gamma[...] = rng.uniform(0.5, 2.0, bn.gamma.shape)
    bn.beta[...] = rng.standard_normal(bn.beta.shape)
    return bn


def _smooth(net: Sequential, rng) -> Sequential:
    """``net`` with each ReLU and LeakyReLU replaced by Tanh and random batch-norm affines."""
    for i, layer in enumerate(net.modules):
        if isinstance(layer, (ReLU, LeakyReLU)):
            net.modules[i] = Tanh()
        elif isinstance(layer, (BatchNorm1d, BatchNorm2d)):
            _with_affine(layer, rng)
    return net


def run_all(seed: int = 0, tol: float = 1e-7) -> GradCheckReport:
    rng = np.random.default_rng(seed)
    f64 = np.float64
    report = GradCheckReport("minigan gradcheck: every backward pass vs central differences", tol)

    x = away_from_kink(rng.standard_normal((6, 5)))
    modules = {
        "Dense": (Dense(5, 4, dtype=f64, rng=rng), x),
        "LeakyReLU": (LeakyReLU(0.2), x),
        "ReLU": (ReLU(), x),
        "Tanh": (Tanh(), x),
        "Sigmoid": (Sigmoid(), x),
        "Sequential": (Sequential(Dense(5, 7, dtype=f64, rng=rng), LeakyReLU(), Dense(7, 3, dtype=f64, rng=rng),
                                  Tanh()), x),
        "Dropout": (FixedDraws(Dropout(0.3)), x),
        "InstanceNoise": (FixedDraws(InstanceNoise(0.5)), x),
        "RandomTranslate": (FixedDraws(RandomTranslate((4, 4), 2)), rng.standard_normal((3, 16))),
        "SpectralNorm": (SpectralNorm(Dense(5, 4, dtype=f64, rng=rng), rng=rng), x),
        "Conv2d": (Conv2d((5, 4, 2), 3, 3, dtype=f64, rng=rng), rng.standard_normal((2, 40))),
        "Conv2d, stride 2, padding 1": (Conv2d((6, 5, 2), 3, 4, stride=2, padding=1, dtype=f64, rng=rng),
                                        rng.standard_normal((2, 60))),
        "ConvTranspose2d, stride 2, padding 1": (
            ConvTranspose2d((3, 3, 3), 2, 4, stride=2, padding=1, dtype=f64, rng=rng), rng.standard_normal((2, 27))),
        "ConvTranspose2d, output_padding 1": (
            ConvTranspose2d((3, 2, 2), 3, 3, stride=2, padding=1, output_padding=1, dtype=f64, rng=rng),
            rng.standard_normal((2, 12))),
        "BatchNorm1d": (_with_affine(BatchNorm1d(5, dtype=f64), rng), x),
        "BatchNorm2d": (_with_affine(BatchNorm2d(2, dtype=f64), rng), rng.standard_normal((3, 18))),
        "MaxPool2d": (MaxPool2d((4, 4, 2)), rng.standard_normal((2, 32))),
    }
    for name, (module, inp) in modules.items():
        report.extend(check_module(module, inp, rng=rng), prefix=f"{name}: ")

    logits = rng.standard_normal((8, 1)) * 3
    targets = rng.random((8, 1))
    report.extend(check_loss(losses.bce_with_logits, logits, targets), prefix="")
    report.extend(check_loss(losses.discriminator_loss, logits, rng.standard_normal((5, 1))), prefix="")
    for kind in losses.GENERATOR_LOSSES:
        report.extend(check_loss(losses.generator_loss, logits, kind=kind), prefix=f"[{kind}] ")

    G = build_generator(4, (6, 5), 3, dtype=f64, rng=rng)
    D = build_discriminator(3, (5, 4), dtype=f64, rng=rng)
    z = rng.standard_normal((7, 4))
    for kind in losses.GENERATOR_LOSSES:
        f, grads = generator_through_discriminator(G, D, z, kind)
        report.extend(check_function(f, G.params(), grads, title=""), prefix=f"G through D [{kind}]: G.")
    # The default recipe's D: translation and dropout (fixed draws), spectral norm optional.
    G_img = build_generator(4, (6,), 9, dtype=f64, rng=rng)
    D_aug = FixedDraws(Sequential(RandomTranslate((3, 3), 1), SpectralNorm(Dense(9, 5, dtype=f64, rng=rng), rng=rng),
                                  LeakyReLU(0.2), Dropout(0.3), Dense(5, 1, dtype=f64, rng=rng)))
    f, grads = generator_through_discriminator(G_img, D_aug, z, "non_saturating")
    report.extend(check_function(f, G_img.params(), grads, title=""),
                  prefix="G through D with the remedies: G.")
    real, fake = rng.uniform(-1, 1, (6, 3)), G(z)
    f, grads = discriminator_real_and_fake(D, real, fake)
    report.extend(check_function(f, D.params(), grads, title=""), prefix="D on real + fake: D.")
    # The DCGAN (minigan.dcgan) at a small size: transposed convolutions and batch norm in
    # G, strided convolutions and batch norm in D, G's gradient taken through D.  Its
    # (leaky) ReLUs become tanh here: with hundreds of pre-activations some lie within a
    # finite-difference step of a kink, where no difference quotient is right.  Those
    # layers are checked on their own above.
    G_dc = _smooth(build_dcgan_generator(4, (8, 8), 2, init="glorot_uniform", dtype=f64, rng=rng), rng)
    D_dc = _smooth(Sequential(*build_dcgan_discriminator((8, 8), 2, init="glorot_uniform", dtype=f64, rng=rng)), rng)
    z_dc = rng.standard_normal((5, 4))
    f, grads = generator_through_discriminator(G_dc, D_dc, z_dc, "non_saturating")
    report.extend(check_function(f, G_dc.params(), grads, title=""), prefix="DCGAN G through D: G.")
    f, grads = discriminator_real_and_fake(D_dc, rng.uniform(-1, 1, (5, 64)), G_dc(z_dc))
    report.extend(check_function(f, D_dc.params(), grads, title=""),
                  prefix="DCGAN D on real + fake (batch norm: two passes): D.")
    return report
