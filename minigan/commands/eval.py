"""``minigan eval``: every metric that applies to a checkpoint's data set.

Samples ``-n`` points from the checkpoint's generator (default: 10,000 for image sets,
the Parzen protocol's count; 2,500 for toy sets, PacGAN's) and runs
:func:`minigan.metrics.evaluate.evaluate`: mode coverage for mixtures; digit-classifier
scores, memorisation, Parzen log-likelihood for image sets; detectability for all.
Prints a table, or JSON with ``--json``.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from ..errors import MiniganError

NAME = "eval"
HELP = "measure a checkpoint's generator: mode coverage, classifier scores, Parzen, memorisation, detection"


def add_arguments(p):
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="checkpoint.npz, or a run directory")
    p.add_argument("-n", type=int, default=None, metavar="N",
                   help="samples to draw (default 10000 for images, 2500 for toy sets)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and the metric classifiers (default 0)")
    p.add_argument("--quick", action="store_true", help="shorter classifier training (for tests)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def flatten(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += flatten(v, f"{prefix}{k}.")
        else:
            rows.append((prefix + k, v))
    return rows


def format_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return str(v)


def run(args) -> int:
    from ..metrics.evaluate import evaluate
    from ..train import load_networks, make_noise

    if args.n is not None and not 10 <= args.n <= 100_000:
        raise MiniganError(f"-n must be between 10 and 100000, got {args.n}")
    if args.seed < 0:
        raise MiniganError(f"--seed must be >= 0, got {args.seed}")
    G, _, config, data = load_networks(args.checkpoint, "--checkpoint")
    n = args.n or (10_000 if data.get("image_shape") else 2_500)
    with np.errstate(over="ignore", invalid="ignore"):
        samples = G(make_noise(np.random.default_rng(args.seed), n, config.z_dim, config.noise))
    if not np.isfinite(samples).all():
        raise MiniganError(f"the generator in {args.checkpoint} produces NaN/inf (a diverged run?)")

    def log(message):
        if not args.json:
            print(f"  {message} ...", file=sys.stderr, flush=True)

    result = evaluate(config.dataset, samples, seed=args.seed, quick=args.quick, log=log)
    result["checkpoint"] = str(args.checkpoint)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = flatten(result)
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {format_value(v)}")
    return 0
