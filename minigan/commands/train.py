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
--resume DIR continues a stopped run exactly (bit for bit).  Options given with it must
equal the run's own, except
  {resumable}
(--epochs or --steps: a new total).  A run resumes on the engine it last ran on unless
--engine says otherwise.
exit codes: 0 done, 2 bad input, 3 loss became NaN/inf, 4 a file could not be written (disk full,
  read-only, quota; the last checkpoint is intact), 130 interrupted (checkpoint saved)
"""


def add_arguments(p):
    from ..train import PRESETS, TrainConfig
    from ..train.config import PRESET_HELP, RECIPE_HELP
    from ..train.options import add_options, flag

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG.format(resumable=", ".join(map(flag, TrainConfig.RESUMABLE)))
    groups = add_options(p, TrainConfig, RECIPE_HELP)  # one option per TrainConfig field
    groups["remedies"].add_argument(
        "--preset", choices=tuple(PRESETS),
        help="; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items()) + " (default default; options "
             "given explicitly win)")
    r = groups["run"]
    r.add_argument("--out", metavar="DIR", help="run directory (default runs/<dataset>-<timestamp>); must be new")
    r.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    r.add_argument("--no-viewer", dest="viewer", action="store_false",
                   help="do not write training.html, the training viewer of 2-D data sets (written by default)")
    r.add_argument("--viewer-frames", type=int, metavar="F",
                   help="snapshots in training.html, spread evenly over the run (default 50)")
    r.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def run(args) -> int:
    from ..train import OutputNotWritten, TrainConfig, TrainingDiverged, resume, train
    from ..train.config import preset_options
    from ..train.options import declarations

    given = {name: getattr(args, name) for name in declarations(TrainConfig) if getattr(args, name) is not None}
    # A preset's values must agree with a resumed run's own, as explicit options must.
    options = preset_options(args.preset, **given)
    if args.viewer_frames is not None and args.viewer_frames < 2:
        raise MiniganError(f"--viewer-frames must be an integer >= 2, got {args.viewer_frames}")
    progress = "none" if args.quiet else "auto"
    start = time.perf_counter()
    try:
        if args.resume is not None:
            from pathlib import Path

            if args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve():
                raise MiniganError("--out and --resume name different directories; --resume DIR continues in DIR")
            result = resume(args.resume, progress=progress, viewer=args.viewer, viewer_frames=args.viewer_frames,
                            **options)
        else:
            result = train(TrainConfig(**options), args.out, progress=progress, viewer=args.viewer,
                           viewer_frames=args.viewer_frames)
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
