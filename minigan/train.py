"""A complete training run: configuration, the loop of section 3.3, outputs, exact resume.

::

    from minigan.train import TrainConfig, train, resume
    result = train(TrainConfig(dataset="ring", steps=2000), "runs/ring")
    result = resume("runs/ring", steps=4000)      # continue the same run to step 4000

What a run is
-------------
The data set's training split is visited in *epochs*: at the start of each epoch the
rows are shuffled by a seeded generator, then cut into ``N // batch_size`` batches (a
last, smaller batch is dropped so every step sees the same batch size).  One *step*
is one generator update together with its ``d_steps`` discriminator updates; each
discriminator update gets its own real batch, so an epoch has
``(N // batch_size) // d_steps`` steps.  With ``d_steps = 1`` a step is exactly
:meth:`minigan.gan.GAN.train_step`.

Randomness comes from five generators spawned from ``SeedSequence(seed)``: network
initialisation, the GAN's noise z, the data shuffle, the fixed noise behind the sample
pictures, and the choice of real points drawn in 2-D/1-D pictures.  The last two are
used once at the start, so drawing pictures never changes training.  (The data set
itself is drawn, for toy sets, or ordered, for image sets, by ``load(..., seed=seed)``.)

What a run writes into its directory
------------------------------------
``config.json``         everything needed to rebuild the run (and the minigan version)
``metrics.csv``         one row per step: step, epoch, d_loss, g_loss, d_real, d_fake, seconds
``checkpoint.npz``      the complete state (see :mod:`minigan.checkpoint`), written atomically
``samples/epoch_NNNN.png``  a picture from the fixed noise at the start (0000) and the end
                        of every ``sample_every``-th epoch (``step_NNNNNNN.png`` when a run
                        stops mid-epoch): an image grid, or for 2-D data the real and
                        generated points over D's decision surface, for 1-D data their
                        histograms with D(x)
``samples.png``         the latest of those pictures
``losses.png``          the losses, and D(x) / D(G(z)), over the steps
``training.gif``        the pictures as an animation (at most 100 frames)

Resume is exact: the checkpoint holds the weights, both optimisers' states, the noise
and shuffle generators' states, the step, the current epoch's permutation and the
metrics, so ``N`` steps, a stop anywhere (even mid-epoch), a resume and ``N`` more steps
give the same weights, bit for bit, as ``2N`` steps without a stop.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .errors import MiniganError
from .gan import GAN, NOISE_KINDS, ORDERS, OUTPUTS, StepStats, build_discriminator, build_generator, make_noise
from .losses import GENERATOR_LOSSES
from .nn.activations import sigmoid
from .nn.pack import Pack
from .optim import make_optimizer
from .viz import data_bounds

OPTIMIZERS = ("adam", "sgd")
METRIC_COLUMNS = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
CHECKPOINT_NAME = "checkpoint.npz"
#: Steps a default run aims for.  With the article's recipe alone (both networks Adam
#: 2e-4, beta1 0.5, labels 1/0) the discriminator wins outright on mnist5k's 4,000
#: training digits after 3,000-6,000 steps (D(x) -> 1, D(G(z)) -> 0, samples collapse to
#: one or two speckled shapes).  With one-sided label smoothing (real label 0.9) and G's
#: learning rate twice D's -- the defaults below -- seed 0 recovers and keeps improving to
#: about 20,000 steps (digit-classifier Fréchet distance ~200 at 2,000 steps, ~30 at
#: 20,000), but not every seed does: notebooks/06 measures both recipes over seeds.
#: mnist5k: 323 epochs.
DEFAULT_STEPS_IMAGES = 20_000
DEFAULT_STEPS_TOY = 10_000
#: About this many sample pictures per run when ``sample_every`` is not given.
PICTURES_PER_RUN = 50
#: Training-set size for toy sets when ``n`` is not given (small epochs, many pictures).
DEFAULT_TOY_N = 10_000
#: Default checkpointing: at an epoch's end once this many seconds have passed since the
#: last checkpoint, and mid-epoch after ``CHECKPOINT_MAX_S``.
CHECKPOINT_MIN_S = 10.0
CHECKPOINT_MAX_S = 60.0
N_GRID = 64  # images in a sample grid
N_POINTS = 1000  # generated points in a 2-D or 1-D picture
N_REAL_POINTS = 2000


class TrainingDiverged(MiniganError):
    """A loss or D output became NaN or infinite; the run stopped (exit code 3)."""

    exit_code = 3


# -- configuration ---------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything that defines a run.  ``None`` means "choose for the data set" (see
    :meth:`resolve`); the resolved values are what ``config.json`` records.

    ``hidden`` lists the hidden-layer widths of both networks (G: z_dim -> hidden ->
    data dim; D: data dim -> hidden -> 1).  ``epochs`` and ``steps`` are alternatives:
    give one (``steps`` wins if both are set), or neither for the default length.
    ``sample_every`` is in epochs (default: about 50 pictures per run);
    ``checkpoint_every`` in steps (``None``: at epoch
    ends, at most every 10 s).  ``momentum`` is SGD's; ``beta1``/``beta2`` are Adam's.
    ``lr`` is D's learning rate and ``g_lr`` G's (default twice ``lr``); ``real_label`` is
    D's target for real data (0.9: one-sided label smoothing; 1.0: the article's code);
    ``pack`` > 1 lets D judge packs of that many samples (PacGAN, :class:`minigan.nn.Pack`).
    """

    dataset: str = "mnist5k"
    n: int | None = None
    epochs: int | None = None
    steps: int | None = None
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 2e-4
    g_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    momentum: float = 0.0
    weight_decay: float = 0.0
    l1: float = 0.0
    loss: str = "non_saturating"
    d_steps: int = 1
    order: str = "d_first"
    real_label: float = 0.9
    pack: int = 1
    z_dim: int = 100
    hidden: tuple[int, ...] = (128, 128, 128)
    alpha: float = 0.2
    noise: str = "gaussian"
    output: str | None = None
    seed: int = 0
    sample_every: int | None = None
    checkpoint_every: int | None = None
    data_dir: str | None = field(default=None, compare=False)

    #: fields that may differ when a run is resumed (they do not change the maths)
    RESUMABLE = ("epochs", "steps", "sample_every", "checkpoint_every", "data_dir")

    def __post_init__(self):
        if isinstance(self.hidden, list):
            self.hidden = tuple(self.hidden)

    def validate(self) -> TrainConfig:
        """Raise :class:`MiniganError` naming the option for any invalid value."""

        def bad(name, msg):
            raise MiniganError(f"--{name.replace('_', '-')} {msg}")

        def positive_int(name, value, allow_none=False, minimum=1):
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                bad(name, f"must be an integer >= {minimum}, got {value!r}")

        def number(name, value, *, low=0.0, low_open=False, high=None, high_open=True):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(value):
                bad(name, f"must be a finite number, got {value!r}")
            if value < low or (low_open and value == low):
                bad(name, f"must be {'>' if low_open else '>='} {low:g}, got {value!r}")
            if high is not None and (value > high or (high_open and value == high)):
                bad(name, f"must be {'<' if high_open else '<='} {high:g}, got {value!r}")

        if not isinstance(self.dataset, str) or not self.dataset:
            bad("dataset", f"must be a data set name, got {self.dataset!r}")
        positive_int("n", self.n, allow_none=True)
        positive_int("epochs", self.epochs, allow_none=True)
        positive_int("steps", self.steps, allow_none=True)
        positive_int("batch_size", self.batch_size)
        positive_int("d_steps", self.d_steps)
        positive_int("z_dim", self.z_dim)
        positive_int("sample_every", self.sample_every, allow_none=True)
        positive_int("checkpoint_every", self.checkpoint_every, allow_none=True)
        positive_int("seed", self.seed, minimum=0)
        if not isinstance(self.hidden, tuple) or not self.hidden:
            bad("hidden", f"must be one or more layer widths, got {self.hidden!r}")
        for h in self.hidden:
            positive_int("hidden", h)
        choices = {"optimizer": OPTIMIZERS, "loss": GENERATOR_LOSSES, "order": ORDERS, "noise": NOISE_KINDS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                bad(name, f"must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.output is not None and self.output not in OUTPUTS:
            bad("output", f"must be one of {', '.join(OUTPUTS)}; got {self.output!r}")
        number("lr", self.lr, low_open=True)
        if self.g_lr is not None:
            number("g_lr", self.g_lr, low_open=True)
        number("real_label", self.real_label, low_open=True, high=1, high_open=False)
        positive_int("pack", self.pack)
        if self.batch_size % self.pack:
            bad("batch_size", f"must be a multiple of --pack {self.pack}, got {self.batch_size}")
        number("beta1", self.beta1, high=1)
        number("beta2", self.beta2, high=1)
        number("momentum", self.momentum, high=1)
        number("weight_decay", self.weight_decay)
        number("l1", self.l1)
        number("alpha", self.alpha)
        return self

    def resolve(self, dataset) -> TrainConfig:
        """A copy with the defaults that depend on other values filled in: ``g_lr``
        (twice ``lr``), ``output`` (tanh for data in [-1, 1], linear otherwise) and, when
        neither ``epochs`` nor ``steps`` is set, the number of epochs that makes about
        20,000 steps for images (mnist5k: 323 epochs, see :data:`DEFAULT_STEPS_IMAGES`) or
        10,000 for toy sets (64 epochs of 10,000)."""
        out = dataclasses.replace(self)
        if out.g_lr is None:
            out.g_lr = 2 * out.lr
        if out.output is None:
            out.output = "tanh" if dataset.bounded else "linear"
        spe = steps_per_epoch(len(dataset), out.batch_size, out.d_steps)
        if out.epochs is None and out.steps is None:
            target = DEFAULT_STEPS_IMAGES if dataset.image_shape is not None else DEFAULT_STEPS_TOY
            out.epochs = max(1, round(target / spe))
        if out.sample_every is None:
            epochs = out.epochs if out.steps is None else math.ceil(out.steps / max(spe, 1))
            out.sample_every = max(1, round(epochs / PICTURES_PER_RUN))
        return out

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise MiniganError(f"unknown configuration keys {unknown} (written by a newer minigan?)")
        return cls(**{k: (tuple(v) if k == "hidden" else v) for k, v in d.items()})


def dataset_kind(name: str) -> str | None:
    """``"toy"``, ``"bundled"`` or ``"download"`` for a catalogue name (None if unknown)."""
    from .data import DATASETS

    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else name
    spec = DATASETS.get(key)
    return spec.kind if spec is not None else None


def with_data_defaults(config: TrainConfig) -> TrainConfig:
    """``config`` with ``n`` filled in for toy sets (10,000 fresh samples: short epochs,
    so the per-epoch pictures animate).  Image sets keep ``n = None`` (the whole split)."""
    if config.n is None and dataset_kind(config.dataset) == "toy":
        return dataclasses.replace(config, n=DEFAULT_TOY_N)
    return config


def load_dataset(config: TrainConfig):
    """The training split the config names (``n`` rows, drawn or ordered with ``seed``)."""
    from .data import load

    ds = load(config.dataset, "train", n=config.n, seed=config.seed, data_dir=config.data_dir)
    if ds.x.dtype != np.float32 or ds.x.ndim != 2:
        raise MiniganError(f"data set {config.dataset}: expected float32 rows, got {ds.x.dtype} {ds.x.shape}")
    return ds


def steps_per_epoch(n_rows: int, batch_size: int, d_steps: int) -> int:
    """``(n_rows // batch_size) // d_steps``: whole batches, ``d_steps`` of them per step."""
    return (n_rows // batch_size) // d_steps


def data_info(dataset) -> dict:
    return {
        "name": dataset.name,
        "split": dataset.split,
        "size": len(dataset),
        "dim": dataset.dim,
        "image_shape": list(dataset.image_shape) if dataset.image_shape is not None else None,
        "bounded": bool(dataset.bounded),
    }


def build_networks(config: TrainConfig, data_dim: int, rng):
    """G and D of the config, initialised from ``rng`` (G first, then D).  With
    ``config.pack = m > 1``, D is built for m x data_dim inputs and wrapped in
    :class:`minigan.nn.Pack`, so it still takes (N, data_dim) batches."""
    G = build_generator(config.z_dim, config.hidden, data_dim, alpha=config.alpha, output=config.output,
                        dtype=np.float32, rng=rng)
    D = build_discriminator(data_dim * config.pack, config.hidden, alpha=config.alpha, dtype=np.float32, rng=rng)
    return G, (Pack(D, config.pack) if config.pack > 1 else D)


def discriminator_probability(D, x: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(D's logit) for each row of ``x``, shape (N,).  A packing D
    (:class:`~minigan.nn.Pack`) judges packs, so each point is shown to it as a pack of
    m copies of itself."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if isinstance(D, Pack):
        x = np.repeat(x, D.m, axis=0)
    return sigmoid(D(x)).ravel()


# -- the trainer --------------------------------------------------------------------------------------


class Trainer:
    """The state of one run: the GAN, the data, the generators and the loop position.

    ``step`` counts completed steps.  Step ``s`` (0-based) is step ``s % spe`` of epoch
    ``s // spe`` (0-based), ``spe`` = :attr:`steps_per_epoch`.  :meth:`state_arrays` and
    :meth:`load_state` are the checkpoint's contents.
    """

    def __init__(self, config: TrainConfig, dataset):
        self.config = config
        self.dataset = dataset
        self.x = dataset.x
        self.spe = steps_per_epoch(len(dataset), config.batch_size, config.d_steps)
        if self.spe < 1:
            raise MiniganError(
                f"--batch-size {config.batch_size} x --d-steps {config.d_steps} is more than the "
                f"{len(dataset)} training examples of {dataset.name}"
            )
        init_ss, noise_ss, shuffle_ss, fixed_ss, view_ss = np.random.SeedSequence(config.seed).spawn(5)
        G, D = build_networks(config, dataset.dim, np.random.default_rng(init_ss))
        opt = dict(lr=config.lr, weight_decay=config.weight_decay, l1=config.l1)
        if config.optimizer == "adam":
            opt["betas"] = (config.beta1, config.beta2)
        else:
            opt["momentum"] = config.momentum
        g_opt = make_optimizer(config.optimizer, G.params(), **{**opt, "lr": config.g_lr or config.lr})
        self.gan = GAN(G, D, z_dim=config.z_dim, g_optimizer=g_opt,
                       d_optimizer=make_optimizer(config.optimizer, D.params(), **opt), loss=config.loss,
                       d_steps=config.d_steps, order=config.order, noise=config.noise,
                       real_label=config.real_label, rng=np.random.default_rng(noise_ss))
        self.shuffle_rng = np.random.default_rng(shuffle_ss)
        kind = self.kind
        n_fixed = N_GRID if kind == "image" else N_POINTS
        self.fixed_z = make_noise(np.random.default_rng(fixed_ss), n_fixed, config.z_dim, config.noise)
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
        self.step += 1
        return stats

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
        return discriminator_probability(self.gan.D, x)

    def picture(self, path: Path, title: str) -> Path | None:
        """Draw the fixed-noise picture for the current weights (None if the data has no
        picture: more than 2 dimensions and not images)."""
        from . import viz

        kind, fake = self.kind, self.gan.G(self.fixed_z)
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
        gan = self.gan
        arrays = {}
        arrays.update(ckpt.model_arrays("G", gan.G))
        arrays.update(ckpt.model_arrays("D", gan.D))
        arrays.update(ckpt.flatten("g_opt", gan.g_opt.state_dict()))
        arrays.update(ckpt.flatten("d_opt", gan.d_opt.state_dict()))
        arrays["rng/noise"] = ckpt.encode_rng(gan.rng)
        arrays["rng/shuffle"] = ckpt.encode_rng(self.shuffle_rng)
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
        except (KeyError, ValueError, TypeError) as exc:
            raise MiniganError(f"checkpoint is incomplete or damaged: {exc}") from None
        if spe != self.spe:
            raise MiniganError(f"checkpoint has {spe} steps per epoch, this data and batch size give {self.spe}")
        if step % spe != 0 and perm.shape != (len(self.x),):
            raise MiniganError("checkpoint stopped mid-epoch but holds no permutation of this data set")
        if any(m.shape != (step,) for m in metrics.values()):
            raise MiniganError("checkpoint's metrics do not match its step count")
        ckpt.load_model("G", gan.G, arrays)
        ckpt.load_model("D", gan.D, arrays)
        ckpt.load_optimizer("g_opt", gan.g_opt, arrays)
        ckpt.load_optimizer("d_opt", gan.d_opt, arrays)
        gan.rng = noise_rng
        self.shuffle_rng = shuffle_rng
        self.step = step
        self.perm = perm.copy() if step % spe != 0 else None
        self.elapsed = elapsed
        self.metrics = {c: metrics[c].tolist() for c in METRIC_COLUMNS}


# -- run directory ----------------------------------------------------------------------------------------


def default_out_dir(dataset: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<dataset>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``, ... if that exists."""
    base = Path(root) / f"{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def check_new_run_dir(path: Path) -> None:
    """Refuse a directory that already holds a run (or anything else)."""
    if path.exists() and not path.is_dir():
        raise MiniganError(f"--out {path} exists and is not a directory")
    if path.is_dir():
        if (path / CHECKPOINT_NAME).exists() or (path / "config.json").exists():
            raise MiniganError(
                f"{path} already holds a run; continue it with --resume {path}, or choose another --out"
            )
        if any(path.iterdir()):
            raise MiniganError(f"--out {path} is not empty; choose a new or empty directory")


def make_writable_dir(path: Path) -> None:
    """Create ``path`` (and parents) and check a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        ckpt.atomic_write_bytes(path / ".write-test", b"")
        (path / ".write-test").unlink()
        (path / "samples").mkdir(exist_ok=True)
    except OSError as exc:
        raise MiniganError(f"cannot write to output directory {path}: {exc.strerror or exc}") from None


def _fmt(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.9g}"


def write_metrics_csv(path: Path, metrics: dict[str, list]) -> None:
    """(Re)write the whole metrics file atomically."""
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(METRIC_COLUMNS)
    for row in zip(*(metrics[c] for c in METRIC_COLUMNS)):
        w.writerow([_fmt(int(v)) if c in ("step", "epoch") else _fmt(float(v)) for c, v in zip(METRIC_COLUMNS, row)])
    ckpt.atomic_write_bytes(path, buf.getvalue().encode())


_FRAME = re.compile(r"^(epoch|step)_(\d+)\.png$")


def list_frames(samples_dir: Path, spe: int) -> list[tuple[int, Path, str]]:
    """The pictures in ``samples/`` in training order: (step, path, caption)."""
    frames = []
    for p in samples_dir.glob("*.png"):
        m = _FRAME.match(p.name)
        if m:
            n = int(m.group(2))
            step = n * spe if m.group(1) == "epoch" else n
            caption = f"epoch {n}" if m.group(1) == "epoch" else f"step {n}"
            frames.append((step, p, caption))
    return sorted(frames, key=lambda f: (f[0], f[1].name))


@dataclass
class RunResult:
    """What :func:`train` / :func:`resume` did: ``status`` is ``"finished"``,
    ``"interrupted"`` (SIGINT; checkpoint saved) or ``"already_done"``."""

    out_dir: Path
    status: str
    step: int
    total_steps: int
    steps_per_epoch: int
    seconds: float
    last: dict | None = None

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.step // self.steps_per_epoch

    @property
    def epochs(self) -> float:
        """Epochs trained, with the fraction of an unfinished one."""
        return self.step / self.steps_per_epoch

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME


class _StopFlag:
    """SIGINT sets ``requested``; a second SIGINT raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


class Run:
    """A trainer bound to its output directory: the loop, the files, the progress."""

    def __init__(self, trainer: Trainer, out_dir: Path, *, progress="auto", handle_sigint: bool = True):
        from .progress import make_progress

        self.trainer = trainer
        self.out = Path(out_dir)
        self.progress = make_progress(progress) if isinstance(progress, str) else progress
        self.handle_sigint = handle_sigint
        self.stop = _StopFlag()
        self.last_checkpoint_step = None

    # -- files ------------------------------------------------------------------------------

    def config_json(self) -> dict:
        from . import __version__

        t = self.trainer
        return {
            "minigan_version": __version__,
            "config": t.config.to_dict(),
            "data": data_info(t.dataset),
            "steps_per_epoch": t.spe,
            "total_steps": t.total_steps,
        }

    def save_checkpoint(self) -> None:
        ckpt.save(self.out / CHECKPOINT_NAME, self.trainer.state_arrays(), config=self.config_json())
        self.last_checkpoint_step = self.trainer.step
        self.last_checkpoint_time = time.perf_counter()

    def picture(self, name: str, title: str) -> None:
        path = self.out / "samples" / name
        if self.trainer.picture(path, title) is not None:
            import shutil

            shutil.copyfile(path, self.out / "samples.png")

    def epoch_picture(self) -> None:
        t = self.trainer
        e = t.epoch
        self.picture(f"epoch_{e:04d}.png", f"epoch {e} (step {t.step})")

    def finish_pictures(self) -> None:
        """losses.png and training.gif from what is on disk and in memory."""
        from . import viz

        t = self.trainer
        if t.metrics["step"]:
            viz.plot_losses({c: np.asarray(v) for c, v in t.metrics.items()}, self.out / "losses.png",
                            title=f"{t.dataset.name}: losses (dotted: values at D = 1/2)")
        frames = list_frames(self.out / "samples", t.spe)
        frames = [f for f in frames if f[0] <= t.step]
        if frames:
            viz.save_gif([f[1] for f in frames], self.out / "training.gif",
                         captions=[f[2] for f in frames] if t.kind == "image" else None)

    # -- the loop -------------------------------------------------------------------------------

    def _checkpoint_due(self) -> bool:
        t, every = self.trainer, self.trainer.config.checkpoint_every
        if every is not None:
            return t.step % every == 0
        waited = time.perf_counter() - self.last_checkpoint_time
        return waited >= CHECKPOINT_MAX_S or (t.step % t.spe == 0 and waited >= CHECKPOINT_MIN_S)

    def _one_step(self, csv_file, writer, t0: float, base: float) -> None:
        """Train one step, then record, check, report, draw and checkpoint as due."""
        t, cfg, total = self.trainer, self.trainer.config, self.trainer.total_steps
        stats = t.train_step()
        t.elapsed = base + (time.perf_counter() - t0)
        row = t.record(stats, t.elapsed)
        writer.writerow([_fmt(v) for v in row])
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            value = getattr(stats, name)
            if not math.isfinite(value):
                csv_file.flush()
                raise TrainingDiverged(
                    f"training diverged: {name} is {value} at step {t.step} (epoch {row[1]}); "
                    f"the last good checkpoint is {self.out / CHECKPOINT_NAME} (step "
                    f"{self.last_checkpoint_step}); try a smaller --lr"
                )
        self.progress.update(t.step, row[1], stats)
        if t.step % t.spe == 0:
            csv_file.flush()
            if t.epoch % cfg.sample_every == 0 or t.step == total:
                self.epoch_picture()
        if self._checkpoint_due() or t.step == total:
            csv_file.flush()
            self.save_checkpoint()

    def loop(self, csv_file) -> str:
        """Train up to ``total_steps``; returns ``"finished"`` or ``"interrupted"``."""
        t = self.trainer
        total = t.total_steps
        writer = csv.writer(csv_file, lineterminator="\n")
        t0, base = time.perf_counter(), t.elapsed
        self.progress.start(total, t.step)
        try:
            # Overflow warnings would only repeat what the NaN/inf check below reports.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while t.step < total:
                    if self.stop.requested:
                        return "interrupted"
                    self._one_step(csv_file, writer, t0, base)
        finally:
            self.progress.close()
        return "finished"

    def run(self) -> RunResult:
        t = self.trainer
        out = self.out
        self.last_checkpoint_time = time.perf_counter()
        if t.step == 0:
            self.picture("epoch_0000.png", "epoch 0 (before training)")
            self.save_checkpoint()
        elif self.last_checkpoint_step is None:
            self.last_checkpoint_step = t.step
        started = time.perf_counter()
        status = "finished"
        previous = None
        if self.handle_sigint and threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self.stop)
        try:
            with open(out / "metrics.csv", "a", newline="") as f:
                try:
                    status = self.loop(f)
                except TrainingDiverged:
                    f.flush()
                    self.finish_pictures()
                    raise
            if self.last_checkpoint_step != t.step:
                self.save_checkpoint()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if status == "finished" and t.step % t.spe != 0:
            self.picture(f"step_{t.step:07d}.png", f"step {t.step} (in epoch {t.epoch + 1})")
        self.finish_pictures()
        m = t.metrics
        last = {c: m[c][-1] for c in METRIC_COLUMNS} if m["step"] else None
        return RunResult(out, status, t.step, t.total_steps, t.spe, time.perf_counter() - started, last)


# -- entry points ---------------------------------------------------------------------------------------------


def train(config: TrainConfig, out_dir: str | os.PathLike | None = None, *, progress="auto",
          handle_sigint: bool = True, data=None) -> RunResult:
    """Start a new run of ``config`` in ``out_dir`` (default: :func:`default_out_dir`).

    ``out_dir`` must not exist yet or be empty.  ``progress``: ``"auto"``, ``"bar"``,
    ``"lines"``, ``"none"`` or a reporter object.  ``data``: an already loaded
    :class:`~minigan.data.Dataset` to train on instead of loading ``config.dataset``.
    Raises :class:`MiniganError` for bad input (before anything is written) and
    :class:`TrainingDiverged` for a NaN/inf loss.
    """
    config = with_data_defaults(config.validate())
    ds = data if data is not None else load_dataset(config)
    config = config.resolve(ds).validate()
    trainer = Trainer(config, ds)
    out = Path(out_dir) if out_dir is not None else default_out_dir(config.dataset)
    check_new_run_dir(out)
    make_writable_dir(out)
    run = Run(trainer, out, progress=progress, handle_sigint=handle_sigint)
    ckpt.atomic_write_bytes(out / "config.json", (json.dumps(run.config_json(), indent=2) + "\n").encode())
    write_metrics_csv(out / "metrics.csv", trainer.metrics)
    return run.run()


def read_run(run_dir: str | os.PathLike) -> tuple[Path, TrainConfig, dict[str, np.ndarray]]:
    """``(directory, config, checkpoint arrays)`` of the run in ``run_dir`` (a run directory
    or its ``checkpoint.npz``)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise MiniganError(f"no checkpoint to resume from: {path} does not exist")
    arrays = ckpt.load(path)
    stored = ckpt.load_config(arrays)
    try:
        config = TrainConfig.from_dict(stored["config"])
    except (KeyError, TypeError) as exc:
        raise MiniganError(f"checkpoint {path} has no usable run configuration: {exc}") from None
    return path.parent, config, arrays


def load_networks(path):
    """``(G, D, config, data_info)`` rebuilt from the checkpoint at ``path``."""
    arrays = ckpt.load(path)
    stored = ckpt.load_config(arrays)
    try:
        config = TrainConfig.from_dict(stored["config"])
        data = stored["data"]
        dim = int(data["dim"])
        G, D = build_networks(config, dim, np.random.default_rng(0))
    except (KeyError, TypeError, ValueError) as exc:
        raise MiniganError(f"checkpoint {path} has no usable network configuration: {exc}") from None
    ckpt.load_model("G", G, arrays)
    ckpt.load_model("D", D, arrays)
    return G, D, config, data


def resume(run_dir: str | os.PathLike, *, progress="auto", handle_sigint: bool = True, data=None,
           **overrides) -> RunResult:
    """Continue the run in ``run_dir`` from its checkpoint, exactly where it stopped.

    ``overrides`` may change only :attr:`TrainConfig.RESUMABLE` fields (e.g. a larger
    ``steps`` or ``epochs`` target); any other value that differs from the run's own
    raises :class:`MiniganError`.
    """
    out, config, arrays = read_run(run_dir)
    config = merge_overrides(config, overrides)
    ds = data if data is not None else load_dataset(config)
    config = config.resolve(ds).validate()
    stored = ckpt.load_config(arrays).get("data", {})
    if stored and (stored.get("size"), stored.get("dim")) != (len(ds), ds.dim):
        raise MiniganError(
            f"data set {config.dataset} now has {len(ds)} rows of {ds.dim} values; the run was trained on "
            f"{stored.get('size')} rows of {stored.get('dim')}"
        )
    trainer = Trainer(config, ds)
    trainer.load_state(arrays)
    if trainer.step > trainer.total_steps:
        raise MiniganError(
            f"the run is already at step {trainer.step}, past the requested {trainer.total_steps}; "
            "ask for more --steps or --epochs"
        )
    make_writable_dir(out)
    ckpt.remove_stale_temporaries(out)
    run = Run(trainer, out, progress=progress, handle_sigint=handle_sigint)
    run.last_checkpoint_step = trainer.step
    ckpt.atomic_write_bytes(out / "config.json", (json.dumps(run.config_json(), indent=2) + "\n").encode())
    write_metrics_csv(out / "metrics.csv", trainer.metrics)
    if trainer.step == trainer.total_steps:
        run.finish_pictures()
        return RunResult(out, "already_done", trainer.step, trainer.total_steps, trainer.spe, 0.0, None)
    # Pictures from after the checkpoint (a killed run went on a little) are redrawn.
    for step, path, _ in list_frames(out / "samples", trainer.spe):
        if step > trainer.step:
            path.unlink()
    return run.run()


def merge_overrides(config: TrainConfig, overrides: dict) -> TrainConfig:
    """``config`` with ``overrides`` applied; only :attr:`TrainConfig.RESUMABLE` fields may
    change, anything else must equal the run's value (else :class:`MiniganError`)."""
    changes = {}
    for name, value in overrides.items():
        if value is None:
            continue
        if name == "hidden":
            value = tuple(value)
        current = getattr(config, name)
        if name in TrainConfig.RESUMABLE:
            changes[name] = value
        elif value != current:
            shown = ",".join(map(str, value)) if name == "hidden" else value
            was = ",".join(map(str, current)) if name == "hidden" else current
            raise MiniganError(
                f"--{name.replace('_', '-')} {shown} conflicts with the run being resumed ({name} = {was}); "
                "a resumed run keeps its settings"
            )
    if "steps" in changes:
        changes.setdefault("epochs", None)
    elif "epochs" in changes:
        changes["steps"] = None
    return dataclasses.replace(config, **changes).validate()
