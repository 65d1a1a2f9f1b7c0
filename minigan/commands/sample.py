"""``minigan sample``: draw samples from a trained generator's checkpoint.

The networks are rebuilt from the configuration stored in the checkpoint, so only the
``.npz`` file is needed (not the data set).  Images become a grid PNG; 2-D samples a
scatter plot over the discriminator's decision surface; 1-D samples a histogram with
D(x).  ``--npy`` also saves the raw samples, float32 of shape (n, D).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..errors import MiniganError

NAME = "sample"
HELP = "draw samples from a checkpoint: an image grid, or a scatter plot for 2-D data (and --npy)"
MAX_SAMPLES = 100_000


def add_arguments(p):
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="checkpoint.npz, or a run directory")
    p.add_argument("-n", type=int, default=64, metavar="N", help="how many samples (default 64)")
    p.add_argument("-o", "--output", default="samples.png", metavar="PNG",
                   help="picture to write (default samples.png)")
    p.add_argument("--npy", metavar="PATH", help="also save the samples as a float32 (n, D) .npy array")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise z (default 0)")


def run(args) -> int:
    from .. import viz
    from ..train import discriminator_probability, load_networks, make_noise

    if not 1 <= args.n <= MAX_SAMPLES:
        raise MiniganError(f"-n must be between 1 and {MAX_SAMPLES}, got {args.n}")
    if args.seed < 0:
        raise MiniganError(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise MiniganError(f"-o {out}: the picture is written as PNG; give a name ending in .png")
    G, D, config, data = load_networks(args.checkpoint, "--checkpoint")
    z = make_noise(np.random.default_rng(args.seed), args.n, config.z_dim, config.noise)
    with np.errstate(over="ignore", invalid="ignore"):
        x = G(z)
    if not np.isfinite(x).all():
        raise MiniganError(f"the generator in {args.checkpoint} produces NaN/inf (a diverged run?)")
    dim, shape = int(data["dim"]), data.get("image_shape")

    def d_prob(p):
        return discriminator_probability(D, p)

    try:
        if shape is not None:
            viz.save_image_grid(x, tuple(shape), out)
        elif dim == 2:
            viz.plot_2d(out, x, None, d_prob, title=f"{args.n} samples, {data.get('name', '')}")
        elif dim == 1:
            viz.plot_1d(out, x, None, d_prob, title=f"{args.n} samples, {data.get('name', '')}")
        else:
            raise MiniganError(f"cannot draw {dim}-dimensional samples; use --npy to save them")
        if args.npy:
            np.save(args.npy, x.astype(np.float32), allow_pickle=False)
    except OSError as exc:
        raise MiniganError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    print(f"minigan: wrote {out}" + (f" and {args.npy}" if args.npy else ""), file=sys.stdout)
    return 0
