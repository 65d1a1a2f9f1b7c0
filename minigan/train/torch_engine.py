"""``minigan train --engine torch``: the training step of :class:`minigan.gan.GAN` on PyTorch.

:class:`TorchGAN` wraps the NumPy :class:`~minigan.gan.GAN` a :class:`~minigan.train.Trainer`
builds and computes the same step with PyTorch modules made by
:func:`minigan.interop.torch.to_torch` and autograd instead of the hand-written backward
passes:

* D update(s), then the G update (or G first, ``order="g_first"``); D's loss
  ``BCE(D(x), real_label) + BCE(D(G(z)), 0)`` with the real and the fake batch in two
  separate passes of D (real first, as minigan does: batch norm normalises each with its
  own statistics, and the random layers draw in the same order), G's non-saturating
  ``BCE(D(G(z)), 1)`` or minimax ``-BCE(D(G(z)), 0)``;
* every network in training mode for the step, as minigan's ``forward``: the fakes of the
  D update come from G's training pass (under ``no_grad``), so batch norm uses the batch's
  statistics and every pass of G and D advances the running averages exactly as the
  NumPy engine's passes do;
* Adam (bias-corrected, t incremented before use) and SGD (momentum, Nesterov) written
  out exactly as :mod:`minigan.optim` writes them, with its L2/L1 penalties, reading the
  learning rates from the NumPy optimisers (so the schedules apply unchanged);
* one spectral-norm power iteration per D update, the remedies' random draws (dropout
  masks, instance noise, translations) and every noise vector z from minigan's own NumPy
  generators, converted with ``torch.from_numpy``: both engines see identical batches,
  z, masks and shifts;
* the moving average of G (``ema``), weights and buffers (batch norm's running
  averages), updated in PyTorch after every step.

The NumPy networks (weights and buffers), optimisers and moving average stay the run's
record: :meth:`pull` copies the PyTorch state into them (the trainer calls it before
checkpoints, pictures and samples), :meth:`push` copies them into PyTorch (after a
resume).  So the checkpoint is minigan's ``.npz``, resumable by either engine, and
``minigan sample``/``eval`` read it unchanged.  In float64 on the CPU the two engines
agree to rounding (about 1e-13 relative after 200 steps on the ring, 1e-14 after 30
steps of a small ``--arch dcgan``, running averages included).
"""

from __future__ import annotations

import math

import numpy as np

from ..gan import StepStats, make_noise
from ..interop import require_torch
from .networks import instance_noise_layers


class _Optimizer:
    """minigan's Adam or SGD update (:mod:`minigan.optim`) on PyTorch tensors; the
    hyperparameters (lr included) are read from the NumPy optimiser at every step."""

    def __init__(self, torch, np_opt, params):
        self.torch, self.np_opt = torch, np_opt
        self.params = params  # [(minigan name, tensor, layout)]
        self.t = np_opt.t
        self.state = {b: {name: torch.zeros_like(p) for name, p, _ in params} for b in np_opt.buffers}
        self.push()

    def _regularised(self, p, g):
        o = self.np_opt
        if not o.weight_decay and not o.l1:
            return g
        g = g.clone()
        if o.weight_decay:
            g += o.weight_decay * p
        if o.l1:
            g += o.l1 * self.torch.sign(p)
        return g

    def step(self, grads) -> None:
        o = self.np_opt
        self.t += 1
        adam = "m" in self.state
        if adam:
            b1, b2 = o.beta1, o.beta2
            c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
            sqrt_c2 = math.sqrt(c2)
        with self.torch.no_grad():
            for (name, p, _), g in zip(self.params, grads):
                g = self._regularised(p, g)
                if adam:
                    m, v = self.state["m"][name], self.state["v"][name]
                    m *= b1
                    m += g * (1.0 - b1)
                    v *= b2
                    tmp = g * g
                    tmp *= 1.0 - b2
                    v += tmp
                    tmp = v.sqrt()
                    tmp += o.eps * sqrt_c2
                    tmp = m / tmp
                    tmp *= o.lr * sqrt_c2 / c1
                    p -= tmp
                    continue
                direction = g
                if o.momentum:
                    vel = self.state["velocity"][name]
                    vel *= o.momentum
                    vel += g
                    direction = vel
                    if o.nesterov:
                        direction = vel * o.momentum
                        direction += g
                p -= direction * o.lr

    def pull(self) -> None:
        o = self.np_opt
        o.t = self.t
        for b, tensors in self.state.items():
            for name, _, layout in self.params:
                _copy_to_numpy(o.state[b][name], tensors[name], layout)

    def push(self) -> None:
        o = self.np_opt
        self.t = o.t
        for b, tensors in self.state.items():
            for name, _, layout in self.params:
                _copy_to_torch(tensors[name], o.state[b][name], layout, self.torch)


def _copy_to_numpy(array: np.ndarray, tensor, layout) -> None:
    from ..interop.torch import from_torch_layout

    np.copyto(array, from_torch_layout(tensor.detach().cpu().numpy(), layout))


def _copy_to_torch(tensor, array: np.ndarray, layout, torch) -> None:
    from ..interop.torch import to_torch_layout

    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(to_torch_layout(array, layout))))


def _pairs(module, tmodule):
    """[(kind, minigan name, live array, tensor, layout)] of a minigan module and its
    PyTorch twin, parameters ("param") and buffers ("buffer": spectral norm's vectors,
    batch norm's running averages) alike (see :func:`minigan.interop.torch.entries`;
    batch norm's ``num_batches_tracked`` is PyTorch's own and left out)."""
    from ..interop.torch import entries

    tensors = tmodule.state_dict(keep_vars=True)
    return [(kind, name, array, tensors[tname], tr) for kind, name, tname, array, tr in entries(module)]


class TorchEMA:
    """``target <- decay * target + (1 - decay) * source`` on PyTorch tensors, parameter
    by parameter and buffer by buffer, as :class:`minigan.ema.EMA`; :meth:`pull` copies the
    average to the NumPy target."""

    def __init__(self, torch, ema, source, device):
        from ..interop.torch import to_torch

        self.torch, self.decay, self.target = torch, ema.decay, ema.target
        self.ttarget = to_torch(ema.target, device=device)
        src = {(kind, name): t for kind, name, _, t, _ in _pairs(ema.source, source)}
        self.pairs = _pairs(ema.target, self.ttarget)
        self.src = [src[kind, name] for kind, name, _, _, _ in self.pairs]

    def update(self) -> None:
        with self.torch.no_grad():
            for p, (_, _, _, avg, _) in zip(self.src, self.pairs):
                delta = avg - p
                delta *= 1.0 - self.decay
                avg -= delta

    def pull(self) -> None:
        for _, _, array, tensor, tr in self.pairs:
            _copy_to_numpy(array, tensor, tr)

    def push(self) -> None:
        for _, _, array, tensor, tr in self.pairs:
            _copy_to_torch(tensor, array, tr, self.torch)


class TorchGAN:
    """The step of :class:`minigan.gan.GAN` on PyTorch (see the module docstring).

    Takes the NumPy ``gan`` (its networks, optimisers, settings and noise generator) and
    the trainer's ``ema`` (or None); offers the methods and attributes the trainer uses:
    :meth:`train_step`, :meth:`d_step`, :meth:`g_step`, :meth:`sample_noise`, ``rng``,
    ``G``, ``D``, ``g_opt``, ``d_opt`` (the NumPy objects, current after :meth:`pull`).
    Raises :class:`~minigan.errors.MiniganError` if PyTorch (or, for ``device="cuda"``, a
    CUDA device) is missing.
    """

    def __init__(self, gan, *, ema=None, device: str = "cpu"):
        torch = require_torch(device)
        from ..interop.torch import to_torch

        self.torch = torch
        self.F = torch.nn.functional
        self.device = torch.device(device)
        self.G, self.D, self.g_opt, self.d_opt = gan.G, gan.D, gan.g_opt, gan.d_opt
        self.rng = gan.rng
        self.z_dim, self.loss, self.d_steps, self.order = gan.z_dim, gan.loss, gan.d_steps, gan.order
        self.noise, self.real_label, self.dtype = gan.noise, gan.real_label, gan.dtype
        self.tG = to_torch(gan.G, numpy_rng=True, device=self.device)
        self.tD = to_torch(gan.D, numpy_rng=True, device=self.device)
        # Both networks run their training pass in every step, as minigan's GAN does (batch
        # norm: the batch's statistics, running averages updated; random layers draw from
        # the NumPy generators).  D's spectral norms do not: their power iteration is ours,
        # once per D update, as minigan's SpectralNorm.update_buffers.
        self.tG.train()
        self.tD.train()
        for m in self.tD.modules():
            if hasattr(m, "parametrizations"):
                m.parametrizations.eval()
        self.g_pairs = _pairs(gan.G, self.tG)
        self.d_pairs = _pairs(gan.D, self.tD)
        g_params = [(n, t, tr) for kind, n, _, t, tr in self.g_pairs if kind == "param"]
        d_params = [(n, t, tr) for kind, n, _, t, tr in self.d_pairs if kind == "param"]
        # Same order as the NumPy optimisers' parameter dicts.
        self.g_params = sorted(g_params, key=lambda p: list(gan.g_opt.params).index(p[0]))
        self.d_params = sorted(d_params, key=lambda p: list(gan.d_opt.params).index(p[0]))
        self.g_topt = _Optimizer(torch, gan.g_opt, self.g_params)
        self.d_topt = _Optimizer(torch, gan.d_opt, self.d_params)
        from ..interop.torch import InstanceNoise, power_iteration

        self._power_iteration = power_iteration
        self.noise_layers = list(zip(instance_noise_layers(gan.D),
                                     [m for m in self.tD.modules() if isinstance(m, InstanceNoise)]))
        self.ema = TorchEMA(torch, ema, self.tG, self.device) if ema is not None else None
        self.dirty = False

    # -- keeping the NumPy record current -----------------------------------------------------------

    def pull(self) -> None:
        """Copy the PyTorch state (weights, buffers: spectral-norm vectors and batch-norm
        running averages, optimiser states, moving average) into the NumPy objects."""
        if not self.dirty:
            return
        for _, _, array, tensor, tr in self.g_pairs + self.d_pairs:
            _copy_to_numpy(array, tensor, tr)
        self.g_topt.pull()
        self.d_topt.pull()
        if self.ema is not None:
            self.ema.pull()
        self.dirty = False

    def push(self) -> None:
        """Copy the NumPy objects' state into PyTorch (after they were loaded from a checkpoint)."""
        for _, _, array, tensor, tr in self.g_pairs + self.d_pairs:
            _copy_to_torch(tensor, array, tr, self.torch)
        self.g_topt.push()
        self.d_topt.push()
        if self.ema is not None:
            self.ema.push()
        self.dirty = False

    # -- the step --------------------------------------------------------------------------------------

    def _tensor(self, a: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def sample_noise(self, n: int) -> np.ndarray:
        """z of shape (n, z_dim), drawn from the run's NumPy noise generator."""
        return make_noise(self.rng, n, self.z_dim, self.noise, self.dtype)

    def _bce(self, logits, target: float):
        return self.F.binary_cross_entropy_with_logits(logits, self.torch.full_like(logits, target))

    def _before_forward(self) -> None:
        self.dirty = True
        for np_layer, t_layer in self.noise_layers:  # the trainer anneals the NumPy layer's sigma
            t_layer.sigma = np_layer.sigma

    def d_step(self, real: np.ndarray) -> tuple[float, float, float]:
        """One discriminator update (see :meth:`minigan.gan.GAN.d_step`)."""
        torch = self.torch
        self._before_forward()
        n = real.shape[0]
        self._power_iteration(self.tD)
        z = self._tensor(self.sample_noise(n))
        with torch.no_grad():  # G's training pass (batch norm: batch statistics, running averages advance)
            fake = self.tG(z)
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(f"GAN: the real batch has {real.shape[1]} features per sample but the generator "
                             f"makes {fake.shape[1]}")
        # Two passes of D, real first: each batch normalised with its own statistics.
        real_logits = self.tD(self._tensor(real))
        fake_logits = self.tD(fake)
        loss = self._bce(real_logits, self.real_label) + self._bce(fake_logits, 0.0)
        grads = torch.autograd.grad(loss, [p for _, p, _ in self.d_params])
        self.d_topt.step(grads)
        d_real = float(torch.sigmoid(real_logits.detach()).mean())
        d_fake = float(torch.sigmoid(fake_logits.detach()).mean())
        return float(loss.detach()), d_real, d_fake

    def g_step(self, n: int) -> float:
        """One generator update on n fresh noise vectors (see :meth:`minigan.gan.GAN.g_step`)."""
        self._before_forward()
        logits = self.tD(self.tG(self._tensor(self.sample_noise(n))))
        if self.loss == "non_saturating":
            loss = self._bce(logits, 1.0)
        else:
            loss = -self._bce(logits, 0.0)
        grads = self.torch.autograd.grad(loss, [p for _, p, _ in self.g_params])
        self.g_topt.step(grads)
        return float(loss.detach())

    def train_step(self, real: np.ndarray) -> StepStats:
        """One step (see :meth:`minigan.gan.GAN.train_step`)."""
        real = np.asarray(real)
        if real.ndim != 2 or real.dtype != self.dtype:
            raise ValueError(f"GAN.train_step: expected a 2-D {self.dtype} batch (N, features), got "
                             f"shape {real.shape} dtype {real.dtype}")
        n = real.shape[0]
        if self.order == "g_first":
            g_loss = self.g_step(n)
        for _ in range(self.d_steps):
            d_loss, d_real, d_fake = self.d_step(real)
        if self.order == "d_first":
            g_loss = self.g_step(n)
        return StepStats(d_loss, g_loss, d_real, d_fake)
