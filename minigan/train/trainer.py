"""The state of one run and one step of it: :class:`Trainer` (see :mod:`minigan.train`)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt
from ..allocator import keep_freed_memory
from ..ema import EMA
from ..errors import MiniganError
from ..gan import GAN, StepStats, make_noise
from ..optim import make_optimizer
from ..schedule import lr_factor
from ..viz import data_bounds
from .config import METRIC_COLUMNS, N_GRID, N_POINTS, N_REAL_POINTS, TrainConfig, check_batches, steps_per_epoch
from .networks import build_networks, discriminator_probability, instance_noise_layers


class Trainer:
    """The state of one run: the GAN, the data, the generators and the loop position.

    ``step`` counts completed steps.  Step ``s`` (0-based) is step ``s % spe`` of epoch
    ``s // spe`` (0-based), ``spe`` = :attr:`steps_per_epoch`.  :meth:`state_arrays` and
    :meth:`load_state` are the checkpoint's contents.

    With ``config.ema > 0``, :attr:`G_sample` is a second generator that holds the moving
    average of G's weights (updated after every step); otherwise it is G itself.  Pictures
    and samples come from :attr:`G_sample`.
    """

    def __init__(self, config: TrainConfig, dataset):
        self.config = config
        self.dataset = dataset
        dtype = np.dtype(config.dtype)
        self.x = dataset.x.astype(dtype, copy=False)
        check_batches(config, dataset)
        self.spe = steps_per_epoch(len(dataset), config.batch_size, config.d_steps)
        # spawn(6)'s first five children are spawn(5)'s: adding the sixth (the random
        # layers' generator) left every earlier run's randomness as it was.
        init_ss, noise_ss, shuffle_ss, fixed_ss, view_ss, augment_ss = np.random.SeedSequence(config.seed).spawn(6)
        self.augment_rng = np.random.default_rng(augment_ss)
        G, D = build_networks(config, dataset.dim, np.random.default_rng(init_ss), image_shape=dataset.image_shape,
                              augment_rng=self.augment_rng)
        opt = dict(lr=config.lr, weight_decay=config.weight_decay, l1=config.l1)
        if config.optimizer == "adam":
            opt["betas"] = (config.beta1, config.beta2)
        else:
            opt["momentum"] = config.momentum
        g_opt = make_optimizer(config.optimizer, G.params(), **{**opt, "lr": config.g_lr or config.lr})
        keep_freed_memory()  # thousands of steps, each allocating its arrays anew
        self.gan = GAN(G, D, z_dim=config.z_dim, g_optimizer=g_opt,
                       d_optimizer=make_optimizer(config.optimizer, D.params(), **opt), loss=config.loss,
                       d_steps=config.d_steps, order=config.order, noise=config.noise,
                       real_label=config.real_label, rng=np.random.default_rng(noise_ss))
        self.shuffle_rng = np.random.default_rng(shuffle_ss)
        self.G_sample = G
        self.ema = None
        if config.ema:
            self.G_sample = copy.deepcopy(G)
            self.ema = EMA(G, self.G_sample, config.ema)
        self.instance_noise = instance_noise_layers(D)
        if config.engine == "torch":
            # The same step on PyTorch: it wraps the GAN (and the EMA) built above, reads the
            # same random streams and keeps these NumPy objects up to date at sync().
            from .torch_engine import TorchGAN

            self.gan = TorchGAN(self.gan, ema=self.ema, device=config.device)
            if self.ema is not None:
                self.ema = self.gan.ema
        kind = self.kind
        n_fixed = N_GRID if kind == "image" else N_POINTS
        self.fixed_z = make_noise(np.random.default_rng(fixed_ss), n_fixed, config.z_dim, config.noise, dtype)
        view_rng = np.random.default_rng(view_ss)
        k = min(N_REAL_POINTS, len(dataset))
        self.real_view = self.x[np.sort(view_rng.choice(len(dataset), size=k, replace=False))]
        self.bounds = data_bounds(self.real_view) if kind in ("1d", "2d") else None
        self.step = 0
        self.perm: np.ndarray | None = None
        self.elapsed = 0.0
        self.metrics: dict[str, list] = {c: [] for c in METRIC_COLUMNS}

    # -- properties --------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``"image"``, ``"2d"``, ``"1d"`` or ``"other"``: what the pictures show."""
        if self.dataset.image_shape is not None:
            return "image"
        return {1: "1d", 2: "2d"}.get(self.dataset.dim, "other")

    @property
    def total_steps(self) -> int:
        c = self.config
        return c.steps if c.steps is not None else c.epochs * self.spe

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.step // self.spe

    # -- one step --------------------------------------------------------------------------

    def train_step(self) -> StepStats:
        """Run step number ``self.step`` (see the module docstring) and count it."""
        c, gan = self.config, self.gan
        self.apply_schedules()
        pos = self.step % self.spe
        if pos == 0 or self.perm is None:
            self.perm = self.shuffle_rng.permutation(len(self.x))
        B, k = c.batch_size, c.d_steps
        first = pos * k * B
        if k == 1:
            stats = gan.train_step(self.x[self.perm[first:first + B]])
        else:
            if c.order == "g_first":
                g_loss = gan.g_step(B)
            for j in range(k):
                idx = self.perm[first + j * B:first + (j + 1) * B]
                d_loss, d_real, d_fake = gan.d_step(self.x[idx])
            if c.order == "d_first":
                g_loss = gan.g_step(B)
            stats = StepStats(d_loss, g_loss, d_real, d_fake)
        if self.ema is not None:
            self.ema.update()
        self.step += 1
        return stats

    def sync(self) -> None:
        """Bring the NumPy networks, optimisers and moving average up to date with the
        engine's (a no-op for the NumPy engine, whose step updates them in place).  Called
        before anything reads them: checkpoints, pictures, samples, the viewer."""
        pull = getattr(self.gan, "pull", None)
        if pull is not None:
            pull()

    def sample(self, n: int) -> np.ndarray:
        """n samples (n, data dim) from :attr:`G_sample` on fresh noise from the GAN's
        noise generator (so: call it after training, not between steps of a run that
        must resume exactly)."""
        self.sync()
        return np.concatenate([self.G_sample(self.gan.sample_noise(min(1000, n - i))) for i in range(0, n, 1000)])

    def apply_schedules(self) -> None:
        """Set the learning rates and the instance-noise level for step ``self.step``:
        ``lr * f`` and ``g_lr * f`` with ``f`` = :func:`minigan.schedule.lr_factor`, and
        ``sigma = instance_noise * (1 - step / total_steps)``."""
        c, total = self.config, self.total_steps
        if c.lr_decay != "constant":
            f = lr_factor(self.step, total, c.lr_decay, start=c.lr_decay_start, end=c.lr_decay_end)
            self.gan.d_opt.lr = c.lr * f
            self.gan.g_opt.lr = (c.g_lr or c.lr) * f
        for layer in self.instance_noise:
            layer.sigma = c.instance_noise * max(0.0, 1.0 - self.step / total)

    def record(self, stats: StepStats, seconds: float) -> tuple:
        """Append one metrics row (step, epoch, ..., seconds) and return it; ``epoch`` is
        the 1-based epoch the step belonged to."""
        row = (self.step, (self.step - 1) // self.spe + 1, float(stats.d_loss), float(stats.g_loss),
               float(stats.d_real), float(stats.d_fake), float(seconds))
        for c, v in zip(METRIC_COLUMNS, row):
            self.metrics[c].append(v)
        return row

    # -- pictures ------------------------------------------------------------------------------

    def d_prob(self, x: np.ndarray) -> np.ndarray:
        """D(x) = sigmoid(D's logit), shape (N,) (see :func:`discriminator_probability`)."""
        self.sync()
        return discriminator_probability(self.gan.D, x)

    def picture(self, path: Path, title: str) -> Path | None:
        """Draw the fixed-noise picture for the current weights (None if the data has no
        picture: more than 2 dimensions and not images)."""
        from .. import viz

        self.sync()
        kind, fake = self.kind, self.G_sample(self.fixed_z)
        if kind == "image":
            return viz.save_image_grid(fake, self.dataset.image_shape, path)
        if kind == "2d":
            return viz.plot_2d(path, fake, self.real_view, self.d_prob, bounds=self.bounds, title=title)
        if kind == "1d":
            return viz.plot_1d(path, fake, self.real_view, self.d_prob, bounds=self.bounds,
                               centres=self.dataset.centres, std=self.dataset.std, title=title)
        return None

    # -- checkpoint contents ------------------------------------------------------------------------

    def state_arrays(self) -> dict[str, np.ndarray]:
        self.sync()
        gan = self.gan
        arrays = {}
        arrays.update(ckpt.network_arrays("G", gan.G))
        arrays.update(ckpt.network_arrays("D", gan.D))
        if self.ema is not None:
            arrays.update(ckpt.network_arrays("G_ema", self.G_sample))
        arrays.update(ckpt.flatten("g_opt", gan.g_opt.state_dict()))
        arrays.update(ckpt.flatten("d_opt", gan.d_opt.state_dict()))
        arrays["rng/noise"] = ckpt.encode_rng(gan.rng)
        arrays["rng/shuffle"] = ckpt.encode_rng(self.shuffle_rng)
        arrays["rng/augment"] = ckpt.encode_rng(self.augment_rng)
        arrays["loop/step"] = np.array(self.step, dtype=np.int64)
        arrays["loop/epoch"] = np.array(self.epoch, dtype=np.int64)
        arrays["loop/position"] = np.array(self.step % self.spe, dtype=np.int64)
        arrays["loop/steps_per_epoch"] = np.array(self.spe, dtype=np.int64)
        arrays["loop/elapsed"] = np.array(self.elapsed, dtype=np.float64)
        mid_epoch = self.step % self.spe != 0 and self.perm is not None
        arrays["loop/perm"] = self.perm.astype(np.int64) if mid_epoch else np.zeros(0, dtype=np.int64)
        for c in METRIC_COLUMNS:
            arrays[f"metrics/{c}"] = np.array(self.metrics[c], dtype=np.int64 if c in ("step", "epoch") else np.float64)
        return arrays

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore everything :meth:`state_arrays` saved.  Raises :class:`MiniganError`
        (and leaves the checkpoint file alone) if it does not fit this run."""
        gan = self.gan
        try:
            spe = int(arrays["loop/steps_per_epoch"])
            step = int(arrays["loop/step"])
            perm = np.asarray(arrays["loop/perm"])
            elapsed = float(arrays["loop/elapsed"])
            metrics = {c: np.asarray(arrays[f"metrics/{c}"]) for c in METRIC_COLUMNS}
            noise_rng = ckpt.decode_rng(arrays["rng/noise"])
            shuffle_rng = ckpt.decode_rng(arrays["rng/shuffle"])
            # Runs saved before random layers existed have no such state (and need none).
            augment_rng = ckpt.decode_rng(arrays["rng/augment"]) if "rng/augment" in arrays else None
        except (KeyError, ValueError, TypeError) as exc:
            raise MiniganError(f"checkpoint is incomplete or damaged: {exc}") from None
        if spe != self.spe:
            raise MiniganError(f"checkpoint has {spe} steps per epoch, this data and batch size give {self.spe}")
        if step % spe != 0 and perm.shape != (len(self.x),):
            raise MiniganError("checkpoint stopped mid-epoch but holds no permutation of this data set")
        if any(m.shape != (step,) for m in metrics.values()):
            raise MiniganError("checkpoint's metrics do not match its step count")
        ckpt.load_network("G", gan.G, arrays)
        ckpt.load_network("D", gan.D, arrays)
        if self.ema is not None:
            ckpt.load_network("G_ema", self.G_sample, arrays)
        ckpt.load_optimizer("g_opt", gan.g_opt, arrays)
        ckpt.load_optimizer("d_opt", gan.d_opt, arrays)
        gan.rng = noise_rng
        self.shuffle_rng = shuffle_rng
        if augment_rng is not None:
            # The random layers hold this generator: restore its state in place.
            self.augment_rng.bit_generator.state = augment_rng.bit_generator.state
        self.step = step
        self.perm = perm.copy() if step % spe != 0 else None
        self.elapsed = elapsed
        self.metrics = {c: metrics[c].tolist() for c in METRIC_COLUMNS}
        push = getattr(gan, "push", None)
        if push is not None:  # the PyTorch engine: copy the restored state to its tensors
            push()


