"""The article's generator, discriminator and training step (sections 3.3, 4.1-4.3).

The article's networks (section 4)::

    G: z (100) -> 128 -> 128 -> 128 -> 784, leaky ReLU (alpha 0.2) inside, tanh output
    D: x (784) -> 128 -> 128 -> 128 -> 1,   leaky ReLU inside, a logit out

(``output_shape`` is undefined in the article; 784 = 28 x 28 is an MNIST image.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from .nn import Dense, LeakyReLU, Sequential, Tanh
from .nn.activations import sigmoid
from .nn.init import as_rng
from .nn.module import backward
from .optim import Adam, Optimizer

NOISE_KINDS = ("gaussian", "uniform")
ORDERS = ("d_first", "g_first")
OUTPUTS = ("tanh", "linear")


def _mlp(sizes, alpha, init, dtype, rng, last=None):
    rng = as_rng(rng)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(a, b, init=init, dtype=dtype, rng=rng))
        if i < len(sizes) - 2:
            layers.append(LeakyReLU(alpha))
    if last is not None:
        layers.append(last)
    return Sequential(*layers)


def _check_sizes(owner, **sizes):
    for name, value in sizes.items():
        values = value if isinstance(value, (tuple, list)) else (value,)
        if not all(isinstance(v, (int, np.integer)) and v > 0 for v in values):
            raise ValueError(f"{owner}: {name} must be positive integers, got {value!r}")


def build_generator(z_dim: int = 100, hidden=(128, 128, 128), out_dim: int = 784, *, alpha: float = 0.2,
                    output: str = "tanh", init="glorot_uniform", dtype=np.float32, rng=None) -> Sequential:
    """The article's G (section 4.1): Dense + LeakyReLU per hidden size, then Dense + Tanh.

    Shapes: z (N, z_dim) -> x (N, out_dim) in [-1, 1].  Parameter names "0.W", "0.b",
    "2.W", ... (even indices are the Dense layers).  ``output="linear"`` drops the final
    tanh, for data that does not live in [-1, 1] (the 5 x 5 grid of Gaussians spans +-4).
    """
    _check_sizes("build_generator", z_dim=z_dim, hidden=tuple(hidden), out_dim=out_dim)
    if output not in OUTPUTS:
        raise ValueError(f"build_generator: unknown output {output!r}; expected one of {OUTPUTS}")
    return _mlp((z_dim, *hidden, out_dim), alpha, init, dtype, rng, last=Tanh() if output == "tanh" else None)


def build_discriminator(in_dim: int = 784, hidden=(128, 128, 128), *, alpha: float = 0.2,
                        init="glorot_uniform", dtype=np.float32, rng=None) -> Sequential:
    """The article's D (section 4.2) up to its logits: x (N, in_dim) -> logits (N, 1).

    The article also returns ``sigmoid(logits)``; here D(x) = sigmoid(logits) is applied
    only where a probability is reported, and the losses use the logits directly.
    """
    _check_sizes("build_discriminator", in_dim=in_dim, hidden=tuple(hidden))
    return _mlp((in_dim, *hidden, 1), alpha, init, dtype, rng)


@dataclass(frozen=True)
class StepStats:
    """What one training step measured.

    ``d_loss``, ``g_loss``: the two losses; ``d_real``: mean D(x) over the real batch;
    ``d_fake``: mean D(G(z)) over the fake batch of the (last) discriminator step.
    """

    d_loss: float
    g_loss: float
    d_real: float
    d_fake: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def make_noise(rng: np.random.Generator, n: int, z_dim: int, kind: str, dtype=np.float32) -> np.ndarray:
    """z of shape (n, z_dim): standard normal (``kind="gaussian"``) or uniform on [-1, 1]
    (``kind="uniform"``), drawn from ``rng`` directly in ``dtype``."""
    if kind == "gaussian":
        return rng.standard_normal((n, z_dim), dtype=dtype)
    z = rng.random((n, z_dim), dtype=dtype)
    z *= 2
    z -= 1
    return z


def _param_dtype(model) -> np.dtype:
    params = model.params()
    if not params:
        raise ValueError("GAN: the generator and discriminator need parameters")
    return next(iter(params.values())).dtype


class GAN:
    """A generator, a discriminator, their optimisers and the training step of section 3.3.

    ``loss`` is the generator loss kind (``"non_saturating"``, the article's code, or
    ``"minimax"``, the article's formula); D always minimises
    ``BCE(D(x), 1) + BCE(D(G(z)), 0)``.  ``d_steps`` discriminator updates (each with
    fresh noise and the same real batch) precede or follow each generator update,
    according to ``order``: ``"d_first"`` (the article's code and Goodfellow et al.'s
    Algorithm 1) or ``"g_first"`` (section 3.3's numbering read literally).  ``noise`` is
    the distribution of z: ``"gaussian"`` (standard normal) or ``"uniform"`` on [-1, 1].
    ``real_label`` below 1 is one-sided label smoothing of D's targets for real data.
    Optimisers default to Adam(lr=2e-4, betas=(0.5, 0.999)).

    D may see the batch in packs (``minigan.nn.Pack``): its logits then have one row
    per pack.

    Modes: the training step runs every network's training pass (``forward``: dropout
    and translation draw, batch norm uses the batch's statistics and updates its running
    averages); :meth:`sample` runs G's evaluation pass (``G(z)``).

    Every step allocates new arrays (caches and gradients are never reused, see
    :mod:`minigan.nn.module`); the runners that train many steps (``minigan train``,
    the benchmarks) make the allocator keep freed memory, :mod:`minigan.allocator`.
    """

    def __init__(self, generator, discriminator, *, z_dim: int, g_optimizer: Optimizer | None = None,
                 d_optimizer: Optimizer | None = None, loss: str = "non_saturating", d_steps: int = 1,
                 order: str = "d_first", noise: str = "gaussian", real_label: float = 1.0, rng=None):
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"GAN: unknown loss {loss!r}; expected one of {GENERATOR_LOSSES}")
        if order not in ORDERS:
            raise ValueError(f"GAN: unknown order {order!r}; expected one of {ORDERS}")
        if noise not in NOISE_KINDS:
            raise ValueError(f"GAN: unknown noise {noise!r}; expected one of {NOISE_KINDS}")
        if not isinstance(d_steps, (int, np.integer)) or d_steps < 1:
            raise ValueError(f"GAN: d_steps must be a positive integer, got {d_steps!r}")
        _check_sizes("GAN", z_dim=z_dim)
        if not 0.0 < real_label <= 1.0:
            raise ValueError(f"GAN: real_label must be in (0, 1], got {real_label!r}")
        self.real_label = float(real_label)
        self.G, self.D = generator, discriminator
        self.z_dim, self.loss, self.d_steps, self.order, self.noise = int(z_dim), loss, int(d_steps), order, noise
        self.dtype = _param_dtype(generator)
        if _param_dtype(discriminator) != self.dtype:
            raise ValueError("GAN: generator and discriminator must have the same dtype")
        self.rng = as_rng(rng)
        self.g_opt = g_optimizer if g_optimizer is not None else Adam(generator.params())
        self.d_opt = d_optimizer if d_optimizer is not None else Adam(discriminator.params())

    # Step 1 of section 3.3: "random noise".
    def sample_noise(self, n: int) -> np.ndarray:
        """z of shape (n, z_dim) in the GAN's dtype, from the configured distribution."""
        return make_noise(self.rng, n, self.z_dim, self.noise, self.dtype)

    def sample(self, n: int) -> np.ndarray:
        """n generated samples, shape (n, out_dim), from G's evaluation pass ``G(z)``
        (batch norm uses its running averages, so a sample does not depend on the others
        drawn with it)."""
        return self.G(self.sample_noise(n))

    def d_step(self, real: np.ndarray) -> tuple[float, float, float]:
        """One discriminator update on ``real`` and as many fresh fakes.

        Returns ``(d_loss, mean D(x), mean D(G(z)))``, the latter two before the update.
        """
        n = real.shape[0]
        # State that advances once per D update (spectral norm's power iteration); the
        # article's D has none, nor does a learner's module without the method.
        update_buffers = getattr(self.D, "update_buffers", None)
        if update_buffers is not None:
            update_buffers()
        # Steps 1-2: noise -> generated images.  G runs its training pass (a batch-norm
        # layer uses this batch's statistics, as in the G step); its cache is not needed.
        fake = self.G.forward(self.sample_noise(n))[0]
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"GAN: the real batch has {real.shape[1]} features per sample but the generator "
                f"makes {fake.shape[1]}"
            )
        # Step 6: D judges the real and the generated images in two separate passes.  With a
        # batch-dependent layer in D (batch norm) each batch must be normalised with its own
        # statistics, as DCGAN does; one pass over the stacked batch would mix them.
        real_logits, real_cache = self.D.forward(real)
        fake_logits, fake_cache = self.D.forward(fake)
        # Step 7: D's loss, BCE(D(x), 1) + BCE(D(G(z)), 0) (one logit per sample, or per
        # pack of samples), and its gradient: the sum of the two passes' gradients.
        loss, d_real, d_fake = discriminator_loss(real_logits, fake_logits, self.real_label)
        # D's input is data: its gradient would be thrown away, so it is not computed.
        _, grads = backward(self.D, d_real, real_cache, need_dx=False)
        _, fake_grads = backward(self.D, d_fake, fake_cache, need_dx=False)
        for name, g in fake_grads.items():
            grads[name] += g
        # Step 8: update D.
        self.d_opt.step(grads)
        return loss, float(sigmoid(real_logits).mean()), float(sigmoid(fake_logits).mean())

    def g_step(self, n: int) -> float:
        """One generator update on a fresh batch of n noise vectors; returns the G loss."""
        # Steps 1-3: noise -> G(z) -> D(G(z)), keeping both caches for the backward pass.
        z = self.sample_noise(n)
        fake, g_cache = self.G.forward(z)
        logits, d_cache = self.D.forward(fake)
        # Step 4: G's loss.
        loss, d_logits = generator_loss(logits, self.loss)
        # The gradient flows back through D to its input.  D's own parameter gradients
        # are not needed (the generator's update never changes D), so D skips them,
        # as G skips the gradient with respect to z.
        d_fake, _ = backward(self.D, d_logits, d_cache, need_grads=False)
        _, grads = backward(self.G, d_fake, g_cache, need_dx=False)
        # Step 5: update G.
        self.g_opt.step(grads)
        return loss

    def train_step(self, real: np.ndarray) -> StepStats:
        """One step of section 3.3 (step 9 is the caller's loop around this method)."""
        real = np.asarray(real)
        if real.ndim != 2 or real.dtype != self.dtype:
            raise ValueError(
                f"GAN.train_step: expected a 2-D {self.dtype} batch (N, features), got "
                f"shape {real.shape} dtype {real.dtype}"
            )
        n = real.shape[0]
        if self.order == "g_first":
            g_loss = self.g_step(n)
        for _ in range(self.d_steps):
            d_loss, d_real, d_fake = self.d_step(real)
        if self.order == "d_first":
            g_loss = self.g_step(n)
        return StepStats(d_loss, g_loss, d_real, d_fake)
