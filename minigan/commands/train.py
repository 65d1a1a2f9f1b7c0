"""``minigan train``: train a GAN and write its run directory (see :mod:`minigan.train`).

Exit codes: 0 done; 2 bad input (one ``minigan: error:`` line, nothing written);
3 a loss became NaN/inf (the last good checkpoint is kept); 130 interrupted by Ctrl-C
(a checkpoint of the last completed step is saved first; ``--resume DIR`` continues).
"""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import MiniganError

NAME = "train"
HELP = ("train the article's GAN (default: its 100-128-128-128-784 generator on the bundled MNIST digits, "
        "18,600 steps, under 2.5 minutes on 2 cores)")

EPILOG = """\
outputs (in --out DIR, default runs/<dataset>-<YYYYmmdd-HHMMSS>):
  config.json  metrics.csv  checkpoint.npz  samples/epoch_NNNN.png  samples.png
  losses.png  training.gif
  training.html  viewer.npz   (2-D data sets, unless --no-viewer: an animation with a slider
                              of D(x), the points and G's gradient arrows; open it in a browser)
An --out directory that already holds a run is refused: continue it with --resume DIR.
--resume DIR continues a stopped run exactly (bit for bit); only --epochs/--steps (a new
total), --sample-every, --checkpoint-every, --data-dir, --engine and --device may be given
with it (or values equal to the run's own).  A run resumes on the engine it last ran on
unless --engine says otherwise.
exit codes: 0 done, 2 bad input, 3 loss became NaN/inf, 4 a file could not be written (disk full,
  read-only, quota; the last checkpoint is intact), 130 interrupted (checkpoint saved)
"""


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``"128,128,128"`` -> ``(128, 128, 128)``."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths like 128,128,128, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive integers, got {text!r}")
    return sizes


def add_arguments(p):
    from ..gan import NOISE_KINDS, ORDERS, OUTPUTS
    from ..losses import GENERATOR_LOSSES
    from ..schedule import SCHEDULES
    from ..train import OPTIMIZERS, PRESETS
    from ..train.config import ARCHS, DEVICES, DTYPES, ENGINES

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    # Every default is None so that --resume can tell what was given on the command line.
    d = p.add_argument_group("data")
    d.add_argument("--dataset", metavar="NAME", help="data set, see 'minigan data list' (default mnist5k)")
    d.add_argument("--n", type=int, metavar="N",
                   help="training examples: toy sets draw N (default 10000), image sets keep N (default all)")
    d.add_argument("--data-dir", metavar="DIR", help="cache directory of downloaded data sets")
    length = d.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, metavar="E",
                        help="passes over the training set (default: about 18,600 steps for images, "
                             "10,000 for toy sets; mnist5k: 300 epochs)")
    length.add_argument("--steps", type=int, metavar="S", help="train for S steps in total instead of --epochs")
    d.add_argument("--batch-size", type=int, metavar="B", help="real examples per D update (default 64)")

    o = p.add_argument_group("optimisation")
    o.add_argument("--optimizer", choices=OPTIMIZERS, help="adam (default) or sgd, for both networks")
    o.add_argument("--lr", type=float, help="D's learning rate (default 4e-4 for images, 2e-4 for toy sets)")
    o.add_argument("--g-lr", type=float, metavar="LR", help="G's learning rate (default: twice --lr)")
    o.add_argument("--real-label", type=float, metavar="Y",
                   help="D's target for real data: 0.9 (default) is one-sided label smoothing, "
                        "1.0 the article's code")
    o.add_argument("--beta1", type=float, help="Adam's beta1 (default 0.5)")
    o.add_argument("--beta2", type=float, help="Adam's beta2 (default 0.999)")
    o.add_argument("--momentum", type=float, help="SGD's momentum (default 0)")
    o.add_argument("--weight-decay", type=float, metavar="WD", help="L2 penalty added to the gradients (default 0)")
    o.add_argument("--l1", type=float, help="L1 penalty added to the gradients (default 0)")
    o.add_argument("--loss", choices=GENERATOR_LOSSES, help="generator loss (default non_saturating)")
    o.add_argument("--d-steps", type=int, metavar="K",
                   help="discriminator updates per generator update, each on its own real batch (default 1)")
    o.add_argument("--order", choices=ORDERS, help="d_first (default, the article's code) or g_first")
    o.add_argument("--pack", type=int, metavar="M",
                   help="PacGAN packing: D judges M samples at once, all real or all fake (default 1)")

    m = p.add_argument_group("model")
    m.add_argument("--z-dim", type=int, metavar="Z", help="noise dimension (default 100)")
    m.add_argument("--hidden", type=hidden_sizes, metavar="W,W,...",
                   help="hidden widths of G and of D (default 128,128,128)")
    m.add_argument("--arch", choices=ARCHS,
                   help="mlp (default): the article's networks; dcgan: a DCGAN for images (transposed "
                        "convolutions and batch norm in G, strided convolutions and batch norm in D); dcgan_g: "
                        "DCGAN's G with the article's D")
    m.add_argument("--channels", type=int, metavar="C",
                   help="--arch dcgan: G has 2C then C channels, D C then 2C (default 32)")
    m.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None,
                   help="--arch dcgan: batch-norm layers in G and D (default: no for dcgan, chosen by "
                        "results/dcgan_recipe/; yes in dcgan_g's G)")
    m.add_argument("--alpha", type=float, help="leaky ReLU slope (default 0.2)")
    m.add_argument("--noise", choices=NOISE_KINDS, help="distribution of z (default gaussian)")
    m.add_argument("--output", choices=OUTPUTS,
                   help="G's last activation (default: tanh for images, linear for toy sets)")
    m.add_argument("--seed", type=int, help="seed of everything random (default 0)")
    m.add_argument("--dtype", choices=DTYPES,
                   help="arithmetic of the whole run (default float32; float64 for exact comparisons)")

    e = p.add_argument_group("engine")
    e.add_argument("--engine", choices=ENGINES,
                   help="numpy (default): minigan's own layers; torch: the same step on PyTorch, same random "
                        "streams, same run directory (pip install -e '.[torch]'); a run resumes with either")
    e.add_argument("--device", choices=DEVICES, help="where --engine torch computes (default cpu)")

    rem = p.add_argument_group("remedies (article sections 6.1-6.2; see 'minigan.train.TrainConfig')")
    rem.add_argument("--preset", choices=tuple(PRESETS),
                     help="'article': exactly the article's recipe (labels 1/0, one learning rate, no remedies); "
                          "'smoothing': the default before the recipe study (label 0.9, G's rate 2x, no remedies); "
                          "'default' (default): the measured default recipe.  Options given explicitly win")
    rem.add_argument("--dropout", type=float, metavar="P", help="dropout probability after D's hidden layers")
    rem.add_argument("--translate", type=int, metavar="S",
                     help="shift D's real and fake images by up to S pixels (differentiable augmentation)")
    rem.add_argument("--instance-noise", type=float, metavar="SIGMA",
                     help="Gaussian noise on D's inputs, SIGMA at the start, annealed linearly to 0")
    rem.add_argument("--spectral-norm", action=argparse.BooleanOptionalAction, default=None,
                     help="divide each of D's weight matrices by its largest singular value")
    rem.add_argument("--ema", type=float, metavar="DECAY",
                     help="sample from a moving average of G's weights with this decay (0: off)")
    rem.add_argument("--lr-decay", choices=SCHEDULES, help="learning-rate schedule of both networks")
    rem.add_argument("--lr-decay-start", type=float, metavar="F",
                     help="fraction of the run after which the learning rates decay (default 0.5)")
    rem.add_argument("--lr-decay-end", type=float, metavar="F",
                     help="learning-rate factor reached at the last step (default 0)")

    r = p.add_argument_group("run")
    r.add_argument("--out", metavar="DIR", help="run directory (default runs/<dataset>-<timestamp>); must be new")
    r.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    r.add_argument("--sample-every", type=int, metavar="E",
                   help="draw the sample picture every E epochs (default: about 50 pictures per run)")
    r.add_argument("--checkpoint-every", type=int, metavar="S",
                   help="save a checkpoint every S steps (default: at epoch ends, at most every 10 s)")
    r.add_argument("--no-viewer", dest="viewer", action="store_false",
                   help="do not write training.html, the training viewer of 2-D data sets (written by default)")
    r.add_argument("--viewer-frames", type=int, metavar="F",
                   help="snapshots in training.html, spread evenly over the run (default 50)")
    r.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


CONFIG_OPTIONS = ("dataset", "n", "data_dir", "epochs", "steps", "batch_size", "optimizer", "lr", "g_lr", "beta1",
                  "beta2", "momentum", "weight_decay", "l1", "loss", "d_steps", "order", "real_label", "pack",
                  "z_dim", "hidden", "arch", "channels", "batchnorm", "alpha", "noise", "output", "seed",
                  "sample_every", "checkpoint_every", "dropout", "translate", "instance_noise", "spectral_norm", "ema",
                  "lr_decay", "lr_decay_start", "lr_decay_end", "dtype", "engine", "device")


def run(args) -> int:
    from ..train import PRESETS, OutputNotWritten, TrainingDiverged, config_from_preset, resume, train

    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    if args.viewer_frames is not None and args.viewer_frames < 2:
        raise MiniganError(f"--viewer-frames must be an integer >= 2, got {args.viewer_frames}")
    progress = "none" if args.quiet else "auto"
    start = time.perf_counter()
    try:
        if args.resume is not None:
            from pathlib import Path

            if args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve():
                raise MiniganError("--out and --resume name different directories; --resume DIR continues in DIR")
            if args.preset is not None:
                # A preset's values must agree with the run's own, as explicit options must.
                given = {**{k: v for k, v in config_from_preset(args.preset).to_dict().items()
                            if k in PRESETS[args.preset]}, **given}
            result = resume(args.resume, progress=progress, viewer=args.viewer, viewer_frames=args.viewer_frames,
                            **given)
        else:
            result = train(config_from_preset(args.preset, **given), args.out, progress=progress,
                           viewer=args.viewer, viewer_frames=args.viewer_frames)
    except (TrainingDiverged, OutputNotWritten) as exc:
        print(f"minigan: error: {exc}", file=sys.stderr)
        return exc.exit_code
    wall = time.perf_counter() - start
    where = result.out_dir
    if result.status == "interrupted":
        print(f"minigan: interrupted at step {result.step}/{result.total_steps}; checkpoint saved to "
              f"{result.checkpoint}; continue with: minigan train --resume {where}", file=sys.stderr)
        return 130
    if args.quiet:
        return 0
    if result.status == "already_done":
        print(f"minigan: {where} is already at step {result.step}; give a larger --steps or --epochs to go on")
        return 0
    last = result.last
    epochs = f"{result.epoch}" if result.step % result.steps_per_epoch == 0 else f"{result.epochs:.2f}"
    print(f"minigan: trained {result.step} steps ({epochs} epochs) in {wall:.1f} s "
          f"(d_loss {last['d_loss']:.3f}, g_loss {last['g_loss']:.3f}, D(x) {last['d_real']:.3f}, "
          f"D(G(z)) {last['d_fake']:.3f}); outputs in {where}/")
    return 0
