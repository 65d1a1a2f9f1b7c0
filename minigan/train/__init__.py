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

Randomness comes from six generators spawned from ``SeedSequence(seed)``: network
initialisation, the GAN's noise z, the data shuffle, the fixed noise behind the sample
pictures, the choice of real points drawn in 2-D/1-D pictures, and the random layers
(dropout masks, translations, instance noise).  The fourth and fifth are used once at
the start, so drawing pictures never changes training.  (The data set
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
``training.html``       with ``train(..., viewer=True)`` (``minigan train``'s default) and
                        2-D data: the training viewer of :mod:`minigan.viewer`, a page
                        with a slider over snapshots of D(x), the points and G's gradient
``viewer.npz``          the viewer's frames, saved (atomically, no pickle) just before each
                        checkpoint, so that a resumed run's viewer keeps its first part

Resume is exact: the checkpoint holds the weights (and G's moving average, D's
spectral-norm vectors), both optimisers' states, the noise, shuffle and random-layer
generators' states, the step, the current epoch's permutation and the
metrics, so ``N`` steps, a stop anywhere (even mid-epoch), a resume and ``N`` more steps
give the same weights, bit for bit, as ``2N`` steps without a stop.

The package is split along those seams: :mod:`~minigan.train.config` (what defines a
run; :mod:`~minigan.train.options` declares its fields), :mod:`~minigan.train.networks`
(G and D with the remedies),
:mod:`~minigan.train.trainer` (the state and one step), :mod:`~minigan.train.files` (the
run directory's files), :mod:`~minigan.train.rundir` (the one reader of a run's files) and
:mod:`~minigan.train.run` (the loop and the entry points).
"""

from ..gan import make_noise
from .config import (
    CHECKPOINT_NAME,
    DEFAULT_STEPS_IMAGES,
    DEFAULT_STEPS_TOY,
    IMAGE_RECIPE,
    METRIC_COLUMNS,
    N_GRID,
    N_POINTS,
    OPTIMIZERS,
    PRESETS,
    REMEDIES_OFF,
    OutputNotWritten,
    TrainConfig,
    TrainingDiverged,
    config_from_preset,
    data_info,
    dataset_kind,
    load_dataset,
    preset_options,
    steps_per_epoch,
    with_data_defaults,
)
from .files import check_new_run_dir, default_out_dir, list_frames, make_writable_dir, write_metrics_csv
from .networks import build_networks, discriminator_probability
from .options import merge_overrides
from .run import Run, RunResult, resume, train
from .rundir import SavedRun, load_networks, open_run, read_run
from .trainer import Trainer

__all__ = [
    "CHECKPOINT_NAME", "DEFAULT_STEPS_IMAGES", "DEFAULT_STEPS_TOY", "METRIC_COLUMNS", "N_GRID", "N_POINTS",
    "IMAGE_RECIPE", "OPTIMIZERS", "PRESETS", "REMEDIES_OFF", "Run", "RunResult", "SavedRun", "TrainConfig",
    "Trainer", "OutputNotWritten", "TrainingDiverged",
    "build_networks", "check_new_run_dir", "config_from_preset", "data_info", "dataset_kind", "default_out_dir",
    "discriminator_probability", "list_frames", "load_dataset", "load_networks", "make_noise", "make_writable_dir",
    "merge_overrides", "open_run", "preset_options", "read_run", "resume", "steps_per_epoch", "train",
    "with_data_defaults", "write_metrics_csv",
]
