"""What defines a run: :class:`TrainConfig`, its validation and defaults, the presets,
and the data set it trains on."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import MiniganError
from ..gan import NOISE_KINDS, ORDERS, OUTPUTS
from ..losses import GENERATOR_LOSSES
from ..schedule import SCHEDULES

OPTIMIZERS = ("adam", "sgd")
#: The arithmetic of a run (weights, data, noise): float32 (default) or float64.
DTYPES = ("float32", "float64")
#: What computes the training step: minigan's NumPy layers, or PyTorch
#: (:mod:`minigan.train.torch_engine`, ``pip install -e '.[torch]'``).
ENGINES = ("numpy", "torch")
#: Where the PyTorch engine computes.
DEVICES = ("cpu", "cuda")
#: The networks: "mlp", the article's (section 4); "dcgan", a DCGAN for small images
#: (:mod:`minigan.dcgan`: transposed convolutions and batch norm in G, strided
#: convolutions and batch norm in D); "dcgan_g", DCGAN's generator with the article's
#: discriminator (structure in G only).
ARCHS = ("mlp", "dcgan", "dcgan_g")
#: The architectures whose generator is DCGAN's (images only).
CONV_G_ARCHS = ("dcgan", "dcgan_g")
METRIC_COLUMNS = ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")
CHECKPOINT_NAME = "checkpoint.npz"
#: Steps a default run aims for (mnist5k: 300 epochs of 62 steps).  Chosen from the step
#: timed on an idle 2-core machine (``minigan bench``'s default-recipe section: 7.0-7.4 ms
#: on one BLAS thread, the one ``minigan train`` uses) so that one default run, with its
#: pictures and checkpoints, stays under 2.5 minutes on the slowest 2-core machine this
#: project has run on; the wall time measured is in the README.  results/scores.md
#: measures the default at this length on ten seeds, results/time.md shows the judges'
#: distances still falling at the end.  With the article's recipe alone D wins on mnist5k's
#: 4,000 training digits within a few thousand steps and most seeds collapse, however
#: long they train.
DEFAULT_STEPS_IMAGES = 18_600
DEFAULT_STEPS_TOY = 10_000
#: Steps of a default run with DCGAN's generator (images only).  ``--arch dcgan``: 80 epochs,
#: chosen with its recipe by scripts/dcgan_recipe.py (results/dcgan_recipe/) so that a
#: default run stays under 10 minutes on the slowest 2-core machine the project has run on
#: (the structure study, results/structure.md, used the earlier 6,000 steps);
#: ``--arch dcgan_g`` (about 23 ms a step) about as long.
DEFAULT_STEPS_CONV = {"dcgan": 4_960, "dcgan_g": 12_000}
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


class OutputNotWritten(MiniganError):
    """A run's file could not be written (disk full, read-only directory, quota); the run
    stopped with its last checkpoint intact (exit code 4)."""

    exit_code = 4



@dataclass
class TrainConfig:
    """Everything that defines a run.  ``None`` means "choose for the data set" (see
    :meth:`resolve`); the resolved values are what ``config.json`` records.

    ``arch`` chooses the networks: ``"mlp"``, the article's, whose ``hidden`` lists the
    hidden-layer widths of both (G: z_dim -> hidden -> data dim; D: data dim -> hidden ->
    1), or ``"dcgan"`` (:mod:`minigan.dcgan`, images only), whose ``channels`` C sets the
    widths (G: 2C then C channels; D: C then 2C) and ``batchnorm`` whether its
    batch-norm layers are there (``None``: the architecture's recipe,
    :data:`DCGAN_RECIPES`).  ``epochs`` and ``steps`` are alternatives:
    give one (``steps`` wins if both are set), or neither for the default length.
    ``sample_every`` is in epochs (default: about 50 pictures per run);
    ``checkpoint_every`` in steps (``None``: at epoch
    ends, at most every 10 s).  ``momentum`` is SGD's; ``beta1``/``beta2`` are Adam's.
    ``lr`` is D's learning rate and ``g_lr`` G's (default twice ``lr``); ``real_label`` is
    D's target for real data (0.9: one-sided label smoothing; 1.0: the article's code);
    ``pack`` > 1 lets D judge packs of that many samples (PacGAN, :class:`minigan.nn.Pack`).

    The remedies of article sections 6.1-6.2 (each off at 0 / False / "constant"):
    ``dropout`` (probability, after each of D's hidden layers, :class:`minigan.nn.Dropout`),
    ``translate`` (D sees real and fake images shifted by up to that many pixels,
    :class:`minigan.nn.RandomTranslate`; images only), ``instance_noise`` (initial standard
    deviation of Gaussian noise on D's inputs, annealed linearly to 0 over the run,
    :class:`minigan.nn.InstanceNoise`), ``spectral_norm`` (each of D's Dense layers divided
    by its largest singular value, :class:`minigan.nn.SpectralNorm`), ``ema`` (decay of an
    exponential moving average of G's weights that pictures and samples use,
    :class:`minigan.ema.EMA`), ``lr_decay`` (both learning rates follow
    :func:`minigan.schedule.lr_factor` with ``lr_decay_start`` and ``lr_decay_end``).
    ``None`` chooses for the data set: :data:`IMAGE_RECIPE` for images (measured by
    ``minigan reproduce study``), all off for toy sets.

    ``dtype`` is the arithmetic of the whole run ("float32", or "float64" for exact
    comparisons).  ``engine`` computes the step: "numpy" (minigan's own layers) or "torch"
    (the same step on PyTorch, :mod:`minigan.train.torch_engine`, on ``device`` "cpu" or
    "cuda"); both read the same random streams and write the same checkpoint, so a run
    may be resumed on either.
    """

    dataset: str = "mnist5k"
    n: int | None = None
    epochs: int | None = None
    steps: int | None = None
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
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
    arch: str = "mlp"
    channels: int = 32
    batchnorm: bool | None = None
    alpha: float = 0.2
    noise: str = "gaussian"
    output: str | None = None
    seed: int = 0
    dropout: float | None = None
    translate: int | None = None
    instance_noise: float | None = None
    spectral_norm: bool | None = None
    ema: float | None = None
    lr_decay: str | None = None
    lr_decay_start: float = 0.5
    lr_decay_end: float = 0.0
    sample_every: int | None = None
    checkpoint_every: int | None = None
    dtype: str = "float32"
    engine: str = "numpy"
    device: str = "cpu"
    data_dir: str | None = field(default=None, compare=False)

    #: fields that may differ when a run is resumed (they do not change the maths; the
    #: two engines compute the same step, so a run may continue on the other one)
    RESUMABLE = ("epochs", "steps", "sample_every", "checkpoint_every", "data_dir", "engine", "device")

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
        positive_int("channels", self.channels)
        if self.batchnorm is not None and not isinstance(self.batchnorm, (bool, np.bool_)):
            bad("batchnorm", f"must be true or false, got {self.batchnorm!r}")
        positive_int("sample_every", self.sample_every, allow_none=True)
        positive_int("checkpoint_every", self.checkpoint_every, allow_none=True)
        positive_int("seed", self.seed, minimum=0)
        if not isinstance(self.hidden, tuple) or not self.hidden:
            bad("hidden", f"must be one or more layer widths, got {self.hidden!r}")
        for h in self.hidden:
            positive_int("hidden", h)
        choices = {"optimizer": OPTIMIZERS, "loss": GENERATOR_LOSSES, "order": ORDERS, "noise": NOISE_KINDS,
                   "dtype": DTYPES, "engine": ENGINES, "device": DEVICES, "arch": ARCHS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                bad(name, f"must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.output is not None and self.output not in OUTPUTS:
            bad("output", f"must be one of {', '.join(OUTPUTS)}; got {self.output!r}")
        if self.lr is not None:
            number("lr", self.lr, low_open=True)
        if self.g_lr is not None:
            number("g_lr", self.g_lr, low_open=True)
        number("real_label", self.real_label, low_open=True, high=1, high_open=False)
        positive_int("pack", self.pack)
        if self.dropout is not None:
            number("dropout", self.dropout, high=1)
        positive_int("translate", self.translate, minimum=0, allow_none=True)
        if self.instance_noise is not None:
            number("instance_noise", self.instance_noise)
        if self.spectral_norm is not None and not isinstance(self.spectral_norm, (bool, np.bool_)):
            bad("spectral_norm", f"must be true or false, got {self.spectral_norm!r}")
        if self.ema is not None:
            number("ema", self.ema, high=1)
        if self.lr_decay is not None and self.lr_decay not in SCHEDULES:
            bad("lr_decay", f"must be one of {', '.join(SCHEDULES)}; got {self.lr_decay!r}")
        number("lr_decay_start", self.lr_decay_start, high=1)
        number("lr_decay_end", self.lr_decay_end, high=1, high_open=False)
        if self.lr_decay == "geometric" and self.lr_decay_end <= 0:
            bad("lr_decay_end", f"must be > 0 for a geometric decay, got {self.lr_decay_end!r}")
        if self.batch_size % self.pack:
            bad("batch_size", f"must be a multiple of --pack {self.pack}, got {self.batch_size}")
        number("beta1", self.beta1, high=1)
        number("beta2", self.beta2, high=1)
        number("momentum", self.momentum, high=1)
        number("weight_decay", self.weight_decay)
        number("l1", self.l1)
        number("alpha", self.alpha)
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for name in ("channels", "batchnorm"):
            if self.arch not in CONV_G_ARCHS and getattr(self, name) != defaults[name]:
                bad(name, "shapes --arch dcgan's networks; the article's (--arch mlp) are set by --hidden")
        if self.engine == "numpy" and self.device != "cpu":
            bad("device", f"{self.device} needs --engine torch (the NumPy engine computes on the CPU)")
        return self

    def resolve(self, dataset) -> TrainConfig:
        """A copy with the defaults that depend on other values filled in: ``g_lr``
        (twice ``lr``), ``output`` (tanh for data in [-1, 1], linear otherwise) and, when
        neither ``epochs`` nor ``steps`` is set, the number of epochs that makes about
        16,000 steps for images (mnist5k: 258 epochs, see :data:`DEFAULT_STEPS_IMAGES`) or
        10,000 for toy sets (64 epochs of 10,000)."""
        out = dataclasses.replace(self)
        if out.arch in CONV_G_ARCHS:
            check_dcgan(out, dataset)
        recipe = IMAGE_RECIPE if dataset.image_shape is not None else {"lr": TOY_LR, **REMEDIES_OFF}
        if out.arch in CONV_G_ARCHS:
            recipe = DCGAN_RECIPES[out.arch]
        for name, value in recipe.items():
            if getattr(out, name) is None:
                setattr(out, name, value)
        if out.translate and dataset.image_shape is None:
            raise MiniganError(f"--translate shifts images; {dataset.name} has no images (use 0)")
        if out.translate and out.translate >= min(dataset.image_shape):
            raise MiniganError(f"--translate must be smaller than the {dataset.image_shape[0]}x"
                               f"{dataset.image_shape[1]} images, got {out.translate}")
        check_memory(out, dataset.dim)
        if out.g_lr is None:
            out.g_lr = 2 * out.lr
        if out.output is None:
            out.output = "tanh" if dataset.bounded else "linear"
        spe = steps_per_epoch(len(dataset), out.batch_size, out.d_steps)
        if out.epochs is None and out.steps is None:
            target = DEFAULT_STEPS_IMAGES if dataset.image_shape is not None else DEFAULT_STEPS_TOY
            if out.arch in CONV_G_ARCHS:
                target = DEFAULT_STEPS_CONV[out.arch]
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
        # A run recorded before a setting existed trained without it, whatever today's default.
        d = {**{k: v for k, v in REMEDIES_OFF.items() if k not in d}, **d}
        return cls(**{k: (tuple(v) if k == "hidden" else v) for k, v in d.items()})


#: The remedies switched off: what every run recorded before they existed trained with,
#: and the default for toy data sets.
REMEDIES_OFF = {"dropout": 0.0, "translate": 0, "instance_noise": 0.0, "spectral_norm": False, "ema": 0.0,
                "lr_decay": "constant"}
#: D's learning rate for toy data sets (G's is twice it unless given).
TOY_LR = 2e-4
#: The default for images, chosen by ``minigan reproduce study`` (results/study.md): D's
#: learning rate (G's is twice it) and the remedies.
IMAGE_RECIPE = {"lr": 4e-4, "dropout": 0.3, "translate": 2, "instance_noise": 0.0, "spectral_norm": False,
                "ema": 0.999, "lr_decay": "constant"}

#: The default for ``--arch dcgan``: DCGAN's optimiser (Adam 2e-4, beta1 0.5) at twice
#: its rates, the translation and moving average of the image recipe, no dropout and no
#: batch norm.  Chosen by measurement (results/dcgan_recipe/, results/structure.md): at
#: equal wall time the DCGAN without batch norm scored better than with it on seeds 1-5
#: (pooled judge), dropout in D made it worse, and batch norm with dropout was no better
#: by both judges (they disagreed) while each step cost 10-40 % more.
DCGAN_RECIPE = {"lr": 4e-4, "dropout": 0.0, "translate": 2, "instance_noise": 0.0, "spectral_norm": False,
                "ema": 0.999, "lr_decay": "constant", "batchnorm": False}
#: The default for each architecture with DCGAN's generator: with the article's D
#: (``dcgan_g``) the image recipe, whose dropout was measured on that D, and DCGAN's G
#: with its batch norm (as the structure study measured it).
DCGAN_RECIPES = {"dcgan": DCGAN_RECIPE, "dcgan_g": {**IMAGE_RECIPE, "batchnorm": True}}


def check_dcgan(config: TrainConfig, dataset) -> None:
    """Refuse, with one line naming the option, what ``--arch dcgan`` cannot train."""
    if dataset.image_shape is None:
        raise MiniganError(f"--arch {config.arch} needs images; {dataset.name} has none (use --arch mlp)")
    if any(v % 4 for v in dataset.image_shape):
        raise MiniganError(f"--arch {config.arch} needs images whose sides are multiples of 4 (two stride-2 layers); "
                           f"{dataset.name} has {dataset.image_shape[0]}x{dataset.image_shape[1]}")
    if config.arch == "dcgan_g":
        return
    if config.pack > 1:
        raise MiniganError("--pack needs --arch mlp (a convolutional D sees one image at a time)")
    if config.spectral_norm:
        raise MiniganError("--spectral-norm needs --arch mlp (it wraps Dense layers only)")


#: Named recipes.  ``"article"`` is exactly the article's code (section 4.3): labels 1/0,
#: one learning rate (DCGAN's 2e-4) for both networks, none of the remedies.
#: ``"smoothing"`` is the default before the recipe study: one-sided label smoothing and
#: G's rate twice D's, no remedies.  ``"default"`` is TrainConfig's own defaults.  Options
#: given explicitly override a preset.
PRESETS: dict[str, dict] = {
    "default": {},
    "article": {"real_label": 1.0, "lr": 2e-4, "g_lr": "lr", **REMEDIES_OFF},
    "smoothing": {"real_label": 0.9, "lr": 2e-4, "g_lr": 4e-4, **REMEDIES_OFF},
}


def config_from_preset(preset: str | None, **options) -> TrainConfig:
    """A :class:`TrainConfig` from ``preset`` (see :data:`PRESETS`) overridden by ``options``.

    ``g_lr = "lr"`` in a preset means "the same as ``lr``" (given or default).
    """
    name = preset or "default"
    if name not in PRESETS:
        raise MiniganError(f"--preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    values = {**PRESETS[name], **options}
    if values.get("g_lr") == "lr":
        values["g_lr"] = values["lr"]
    return TrainConfig(**values)


def memory_needed(config: TrainConfig, data_dim: int) -> int:
    """Bytes a run of ``config`` needs at least: float32 weights of G and D, each with its
    gradient and Adam's two moments (plus an averaged copy of G with ``ema``), and one
    step's activations (a few copies of a (2 batch, width) array per layer)."""
    widths_g = (config.z_dim, *config.hidden, data_dim)
    widths_d = (data_dim * config.pack, *config.hidden, 1)
    weights_g = sum(a * b + b for a, b in zip(widths_g[:-1], widths_g[1:]))
    weights_d = sum(a * b + b for a, b in zip(widths_d[:-1], widths_d[1:]))
    copies_g = 4 + (1 if config.ema else 0)
    activations = 6 * 2 * config.batch_size * (sum(widths_g) + sum(widths_d))
    return np.dtype(config.dtype).itemsize * (copies_g * weights_g + 4 * weights_d + activations)


def available_memory() -> int | None:
    """Bytes the system can still give this process (Linux ``MemAvailable``; else None)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(config: TrainConfig, data_dim: int) -> None:
    """Refuse, with one line, a network too large for this machine's memory."""
    need, have = memory_needed(config, data_dim), available_memory()
    if have is not None and need > have:
        raise MiniganError(
            f"--hidden {','.join(map(str, config.hidden))} needs about {need / 2**30:.1f} GiB of memory "
            f"(weights, gradients and Adam state of G and D) but {have / 2**30:.1f} GiB is available; "
            "choose smaller layer widths"
        )


def dataset_kind(name: str) -> str | None:
    """``"toy"``, ``"bundled"`` or ``"download"`` for a catalogue name (None if unknown)."""
    from ..data import DATASETS

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
    from ..data import load

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


