"""What defines a run: :class:`TrainConfig`, its validation and defaults, the presets,
and the data set it trains on."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import MiniganError
from ..gan import NOISE_KINDS, ORDERS, OUTPUTS
from ..losses import GENERATOR_LOSSES
from ..schedule import SCHEDULES
from .options import check, declarations, declare, hidden_sizes, show

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
    """Everything that defines a run.  Each field is declared once with its help, kind and
    range (:func:`~minigan.train.options.declare`): ``minigan train``'s options (whose
    ``--help`` reads them), :meth:`validate` and the fields a resumed run may change
    (:data:`RESUMABLE`) follow.  ``None`` means "choose for the data set" (:meth:`resolve`:
    the recipes below); the resolved values are what ``config.json`` records.

    ``arch`` "mlp" is the article's networks (G: z_dim -> hidden -> data dim; D: data dim
    -> hidden -> 1), "dcgan" :mod:`minigan.dcgan`'s, "dcgan_g" DCGAN's G with the
    article's D.  ``steps`` wins over ``epochs`` if both are set.  The remedies of article
    sections 6.1-6.2, each off at 0 / False / "constant", are :class:`minigan.nn.Dropout`,
    :class:`~minigan.nn.RandomTranslate`, :class:`~minigan.nn.InstanceNoise`,
    :class:`~minigan.nn.SpectralNorm`, :class:`minigan.ema.EMA` and
    :func:`minigan.schedule.lr_factor`.  ``engine`` "torch" computes the same step on
    PyTorch (:mod:`minigan.train.torch_engine`) from the same random streams into the same
    checkpoint, so a run may be resumed on either engine.
    """

    dataset: str = declare("mnist5k", "data set, see 'minigan data list'", "data", metavar="NAME")
    n: int | None = declare(None, "training examples", "data", int, low=1, metavar="N",
                            chooses=f"toy sets draw N, default {DEFAULT_TOY_N}; image sets keep N, default all")
    epochs: int | None = declare(
        None, "passes over the training set", "data", int, low=1, metavar="E", exclusive="length", resumable=True,
        chooses=f"default: about {DEFAULT_STEPS_IMAGES:,} steps for images, {DEFAULT_STEPS_TOY:,} for toy sets, "
                + ", ".join(f"{v:,} with --arch {k}" for k, v in DEFAULT_STEPS_CONV.items()))
    steps: int | None = declare(None, "train for S steps in total instead of --epochs", "data", int, low=1,
                                metavar="S", exclusive="length", resumable=True, chooses="default: see --epochs")
    batch_size: int = declare(64, "real examples per D update", "data", int, low=1, metavar="B")
    optimizer: str = declare("adam", "optimiser of both networks", "optimisation", choices=OPTIMIZERS)
    lr: float | None = declare(None, "D's learning rate", "optimisation", float, low=0, low_open=True)
    g_lr: float | None = declare(None, "G's learning rate", "optimisation", float, low=0, low_open=True,
                                 metavar="LR", chooses="default: twice --lr")
    beta1: float = declare(0.5, "Adam's beta1", "optimisation", float, low=0, high=1)
    beta2: float = declare(0.999, "Adam's beta2", "optimisation", float, low=0, high=1)
    momentum: float = declare(0.0, "SGD's momentum", "optimisation", float, low=0, high=1)
    weight_decay: float = declare(0.0, "L2 penalty added to the gradients", "optimisation", float, low=0,
                                  metavar="WD")
    l1: float = declare(0.0, "L1 penalty added to the gradients", "optimisation", float, low=0)
    loss: str = declare("non_saturating", "generator loss", "optimisation", choices=GENERATOR_LOSSES)
    d_steps: int = declare(1, "discriminator updates per generator update, each on its own real batch",
                           "optimisation", int, low=1, metavar="K")
    order: str = declare("d_first", "which network a step updates first; d_first is the article's code",
                         "optimisation", choices=ORDERS)
    real_label: float = declare(0.9, "D's target for real data: below 1 is one-sided label smoothing, 1.0 the "
                                "article's code", "optimisation", float, low=0, low_open=True, high=1,
                                high_open=False, metavar="Y")
    pack: int = declare(1, "PacGAN packing: D judges M samples at once, all real or all fake", "optimisation", int,
                        low=1, metavar="M")
    z_dim: int = declare(100, "noise dimension", "model", int, low=1, metavar="Z")
    hidden: tuple[int, ...] = declare((128, 128, 128), "hidden widths of G and of D", "model", tuple, low=1,
                                      metavar="W,W,...", parse=hidden_sizes)
    arch: str = declare("mlp", "mlp: the article's networks; dcgan: a DCGAN for images (transposed convolutions and "
                        "batch norm in G, strided convolutions and batch norm in D); dcgan_g: DCGAN's G with the "
                        "article's D", "model", choices=ARCHS)
    channels: int = declare(32, "--arch dcgan: G has 2C then C channels, D C then 2C", "model", int, low=1,
                            metavar="C")
    batchnorm: bool | None = declare(None, "--arch dcgan: batch-norm layers in G and D", "model", bool)
    alpha: float = declare(0.2, "leaky ReLU slope", "model", float, low=0)
    noise: str = declare("gaussian", "distribution of z", "model", choices=NOISE_KINDS)
    output: str | None = declare(None, "G's last activation", "model", choices=OUTPUTS,
                                 chooses="default: tanh for data in [-1, 1], else linear")
    seed: int = declare(0, "seed of everything random", "model", int, low=0)
    dropout: float | None = declare(None, "dropout probability after D's hidden layers", "remedies", float, low=0,
                                    high=1, metavar="P")
    translate: int | None = declare(None, "shift D's real and fake images by up to S pixels, a differentiable "
                                    "augmentation", "remedies", int, low=0, metavar="S")
    instance_noise: float | None = declare(None, "Gaussian noise on D's inputs, SIGMA at the start, annealed "
                                           "linearly to 0", "remedies", float, low=0, metavar="SIGMA")
    spectral_norm: bool | None = declare(None, "divide each of D's weight matrices by its largest singular value",
                                         "remedies", bool)
    ema: float | None = declare(None, "sample from a moving average of G's weights with this decay, 0 for off",
                                "remedies", float, low=0, high=1, metavar="DECAY")
    lr_decay: str | None = declare(None, "learning-rate schedule of both networks", "remedies", choices=SCHEDULES)
    lr_decay_start: float = declare(0.5, "fraction of the run after which the learning rates decay", "remedies",
                                    float, low=0, high=1, metavar="F")
    lr_decay_end: float = declare(0.0, "learning-rate factor reached at the last step", "remedies", float, low=0,
                                  high=1, high_open=False, metavar="F")
    sample_every: int | None = declare(None, "draw the sample picture every E epochs", "run", int, low=1,
                                       metavar="E", resumable=True,
                                       chooses=f"default: about {PICTURES_PER_RUN} pictures per run")
    checkpoint_every: int | None = declare(None, "save a checkpoint every S steps", "run", int, low=1, metavar="S",
                                           resumable=True,
                                           chooses=f"default: at epoch ends, at most every {CHECKPOINT_MIN_S:g} s")
    dtype: str = declare("float32", "arithmetic of the whole run, float64 for exact comparisons", "model",
                         choices=DTYPES)
    engine: str = declare("numpy", "numpy: minigan's own layers; torch: the same step on PyTorch, same random "
                          "streams, same run directory (pip install -e '.[torch]'); a run resumes with either",
                          "engine", choices=ENGINES, resumable=True)
    device: str = declare("cpu", "where --engine torch computes", "engine", choices=DEVICES, resumable=True)
    data_dir: str | None = declare(None, "cache directory of downloaded data sets", "data", metavar="DIR",
                                   resumable=True, compare=False,
                                   chooses="default: $MINIGAN_DATA, else ~/.cache/minigan")

    def __post_init__(self):
        if isinstance(self.hidden, list):
            self.hidden = tuple(self.hidden)

    def validate(self) -> TrainConfig:
        """Raise :class:`MiniganError` naming the option for any invalid value: each field
        against its declaration, then the rules between fields."""
        for name, (f, o) in declarations(TrainConfig).items():
            check(name, getattr(self, name), o, nullable=f.default is None)
        for broken, message in (
            (self.lr_decay == "geometric" and self.lr_decay_end <= 0,
             f"--lr-decay-end must be > 0 for a geometric decay, got {self.lr_decay_end!r}"),
            (self.batch_size % self.pack != 0,
             f"--batch-size must be a multiple of --pack {self.pack}, got {self.batch_size}"),
            (self.arch not in CONV_G_ARCHS and self.channels != TrainConfig.channels,
             "--channels shapes --arch dcgan's networks; the article's (--arch mlp) are set by --hidden"),
            (self.arch not in CONV_G_ARCHS and self.batchnorm != TrainConfig.batchnorm,
             "--batchnorm shapes --arch dcgan's networks; the article's (--arch mlp) are set by --hidden"),
            (self.engine == "numpy" and self.device != "cpu",
             f"--device {self.device} needs --engine torch (the NumPy engine computes on the CPU)"),
        ):
            if broken:
                raise MiniganError(message)
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
        recipe = DCGAN_RECIPES.get(out.arch) or (IMAGE_RECIPE if dataset.image_shape is not None else TOY_RECIPE)
        for name, value in recipe.items():
            if getattr(out, name) is None:
                setattr(out, name, value)
        if out.translate and dataset.image_shape is None:
            raise MiniganError(f"--translate shifts images; {dataset.name} has no images (use 0)")
        if out.translate and out.translate >= min(dataset.image_shape):
            raise MiniganError(f"--translate must be smaller than the {dataset.image_shape[0]}x"
                               f"{dataset.image_shape[1]} images, got {out.translate}")
        check_batches(out, dataset)
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
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise MiniganError(f"unknown configuration keys {unknown} (written by a newer minigan?)")
        # A run recorded before a setting existed trained without it, whatever today's default.
        d = {**{k: v for k, v in REMEDIES_OFF.items() if k not in d}, **d}
        decl = declarations(cls)
        return cls(**{k: (tuple(v) if decl[k][1].kind is tuple else v) for k, v in d.items()})



#: The fields that may differ when a run is resumed (they do not change the maths; the two
#: engines compute the same step, so a run may continue on the other one).
TrainConfig.RESUMABLE = tuple(name for name, (_, o) in declarations(TrainConfig).items() if o.resumable)


#: The remedies switched off: what every run recorded before they existed trained with,
#: and the default for toy data sets.
REMEDIES_OFF = {"dropout": 0.0, "translate": 0, "instance_noise": 0.0, "spectral_norm": False, "ema": 0.0,
                "lr_decay": "constant"}
#: D's learning rate for toy data sets (G's is twice it unless given).
TOY_LR = 2e-4
#: The default for toy data sets: :data:`TOY_LR` and no remedies.
TOY_RECIPE = {"lr": TOY_LR, **REMEDIES_OFF}
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
#: The recipes as ``minigan train --help`` tells what a ``None`` default becomes (an
#: architecture's where it differs from the image recipe).
RECIPE_HELP = {"for images": IMAGE_RECIPE, "for toy sets": TOY_RECIPE,
               **{f"with --arch {arch}": {k: v for k, v in recipe.items() if IMAGE_RECIPE.get(k) != v}
                  for arch, recipe in DCGAN_RECIPES.items()}}


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


#: Named recipes; options given explicitly override a preset.  ``"default"`` is
#: TrainConfig's own defaults.
PRESETS: dict[str, dict] = {
    "default": {},
    "article": {"real_label": 1.0, "lr": 2e-4, "g_lr": "lr", **REMEDIES_OFF},
    "smoothing": {"real_label": 0.9, "lr": 2e-4, "g_lr": 4e-4, **REMEDIES_OFF},
}
#: What each preset is (``minigan train --help`` shows it).
PRESET_HELP = {
    "default": "the measured default recipe",
    "article": "exactly the article's code (section 4.3): labels 1/0, one learning rate (DCGAN's 2e-4) for both "
               "networks, no remedies",
    "smoothing": "the default before the recipe study: one-sided label smoothing (0.9), G's rate twice D's, "
                 "no remedies",
}


def preset_options(preset: str | None, **options) -> dict:
    """The options of ``preset`` (see :data:`PRESETS`; None: ``"default"``) overridden by
    ``options``.  ``g_lr = "lr"`` in a preset means "the same as ``lr``" (given or default)."""
    name = preset or "default"
    if name not in PRESETS:
        raise MiniganError(f"--preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    values = {**PRESETS[name], **options}
    if values.get("g_lr") == "lr":
        values["g_lr"] = values["lr"]
    return values


def config_from_preset(preset: str | None, **options) -> TrainConfig:
    """A :class:`TrainConfig` from ``preset`` (see :data:`PRESETS`) overridden by ``options``."""
    return TrainConfig(**preset_options(preset, **options))


def check_batches(config: TrainConfig, dataset) -> None:
    """Refuse, with one line naming the options, a batch larger than the data set."""
    if steps_per_epoch(len(dataset), config.batch_size, config.d_steps) < 1:
        raise MiniganError(f"--batch-size {config.batch_size} x --d-steps {config.d_steps} is more than the "
                           f"{len(dataset)} training examples of {dataset.name}")


def memory_needed(config: TrainConfig, data_dim: int) -> tuple[int, int]:
    """Bytes a run of ``config`` needs at least, as ``(weights, activations)``: G's and D's
    weights, each with its gradient and Adam's two moments (plus an averaged copy of G
    with ``ema``), and one step's activations (a few copies of a (2 batch, width) array
    per layer)."""
    widths_g = (config.z_dim, *config.hidden, data_dim)
    widths_d = (data_dim * config.pack, *config.hidden, 1)
    weights_g = sum(a * b + b for a, b in zip(widths_g[:-1], widths_g[1:]))
    weights_d = sum(a * b + b for a, b in zip(widths_d[:-1], widths_d[1:]))
    copies_g = 4 + (1 if config.ema else 0)
    activations = 6 * 2 * config.batch_size * (sum(widths_g) + sum(widths_d))
    size = np.dtype(config.dtype).itemsize
    return size * (copies_g * weights_g + 4 * weights_d), size * activations


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
    """Refuse, with one line naming the options that drive the estimate, a run too large
    for this machine's memory."""
    (weights, activations), have = memory_needed(config, data_dim), available_memory()
    if have is not None and weights + activations > have:
        lower = "a smaller --batch-size" if activations > weights else "smaller --hidden widths"
        raise MiniganError(
            f"--batch-size {config.batch_size} with --hidden {show(config.hidden)} needs about "
            f"{(weights + activations) / 2**30:.1f} GiB of memory ({weights / 2**30:.1f} GiB for the weights, "
            f"gradients and Adam state of G and D, {activations / 2**30:.1f} GiB for one step's activations) "
            f"but {have / 2**30:.1f} GiB is available; choose {lower}"
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


