"""``minigan reproduce ring|grid|parzen|scores``: the papers' tables (and minigan's digit scores), re-measured.

Writes ``<out>/<what>.md`` (the paper's rows beside minigan's measured rows, the
command and the machine) and ``<out>/<what>.json`` (every run).  See
:mod:`minigan.reproduce` for the protocols and what differs from the papers.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import MiniganError

NAME = "reproduce"
HELP = "re-measure PacGAN's ring/grid table, Goodfellow et al.'s Parzen table or minigan's digit scores and write Markdown"


def add_arguments(p):
    p.add_argument("what", choices=("ring", "grid", "parzen", "scores"), help="which table")
    p.add_argument("--seeds", type=int, help="seeds per row (default 10 for ring/grid, 1 for parzen, 3 for scores)")
    p.add_argument("--steps", type=int, help="training steps per run (default: 60,000 ring/grid; the default "
                                              "minigan train length for parzen and scores)")
    p.add_argument("--packs", default="1,2,3,4", help="packing degrees, one row each (default 1,2,3,4)")
    p.add_argument("--dataset", default="mnist5k",
                   help="parzen, scores: mnist5k (default) or mnist (downloaded)")
    p.add_argument("--quick", action="store_true", help="a few hundred steps and 1-2 seeds: checks the pipeline")
    p.add_argument("--out", default="results", metavar="DIR", help="where the tables go (default results/)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}, " \
           f"Python {platform.python_version()}, NumPy {np.__version__}"


def header(what: str, seconds: float) -> str:
    command = "minigan " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "minigan reproduce"
    return (f"<!-- written by `{command}` on {time.strftime('%Y-%m-%d')}; machine: {machine()}; "
            f"{seconds / 60:.1f} minutes -->\n\n")


def parse_packs(text: str) -> list[int]:
    try:
        packs = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        packs = []
    if not packs or any(p < 1 or p > 8 for p in packs):
        raise MiniganError(f"--packs must be integers from 1 to 8 separated by commas, got {text!r}")
    return packs


def run(args) -> int:
    from .. import reproduce as rp

    if args.seeds is not None and not 1 <= args.seeds <= 100:
        raise MiniganError(f"--seeds must be between 1 and 100, got {args.seeds}")
    if args.steps is not None and args.steps < 1:
        raise MiniganError(f"--steps must be >= 1, got {args.steps}")
    out = Path(args.out)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    started = time.perf_counter()

    if args.what in ("ring", "grid"):
        packs = parse_packs(args.packs)
        seeds = args.seeds or (2 if args.quick else 10)
        settings = rp.ToySettings()
        if args.quick:
            settings = rp.ToySettings(steps=300, n_train=10_000)
        if args.steps:
            settings = rp.ToySettings(**{**settings.__dict__, "steps": args.steps})
        results, total, k = [], len(packs) * seeds, 0
        for pack in packs:
            for seed in range(seeds):
                k += 1
                picture = out / f"{args.what}_pack{pack}.png" if seed == 0 else None
                if picture is not None:
                    out.mkdir(parents=True, exist_ok=True)
                r = rp.toy_run(args.what, pack, seed, settings, picture)
                results.append(r)
                say(f"[{k}/{total}] {args.what} pack {pack} seed {seed}: modes {r['modes']}, high quality "
                    f"{100 * r['high_quality']:.1f} %, reverse KL {r['reverse_kl']:.3f} ({r['seconds']:.0f} s)")
        table = rp.toy_table(args.what, results, settings, seeds)
        raw = {"settings": settings.__dict__, "runs": results}
    elif args.what == "parzen":
        from ..data import load
        from ..metrics.evaluate import validation_split

        trainer = train_default_recipe(args.dataset, 0, args.steps or (200 if args.quick else None), say)
        n = 1_000 if args.quick else 10_000
        samples = trainer.gan.sample(n)
        train = load(args.dataset, "train").x
        test = load(args.dataset, "test").x
        say(f"Parzen windows: {n} generated centres, {len(test)} test images")
        rows = rp.parzen_rows(samples, train, validation_split(args.dataset, trainer.dataset), test)
        table = rp.parzen_table(rows, args.dataset, len(test))
        raw = {"config": trainer.config.to_dict(), "samples": n, "rows": rows}
    else:
        from ..data import load
        from ..metrics import MLPClassifier
        from ..metrics.evaluate import validation_split

        train = load(args.dataset, "train")
        test = load(args.dataset, "test").x
        reference = validation_split(args.dataset, train)
        n = min(len(test), len(reference))
        seeds = args.seeds or (1 if args.quick else 3)
        rows: dict[str, list[dict]] = {"minigan GAN (default recipe)": [], "held-out real digits (reference)": []}
        for seed in range(seeds):
            trainer = train_default_recipe(args.dataset, seed, args.steps or (200 if args.quick else None), say)
            classifier = MLPClassifier(train.dim, int(train.y.max()) + 1, rng=seed).fit(
                train.x, train.y, epochs=2 if args.quick else 8)
            say(f"seed {seed}: scoring {n} generated and {n} held-out real digits")
            for model, images in zip(rows, (trainer.gan.sample(n), reference[:n])):
                rows[model].append(rp.score_row(images, classifier, train.x, test[:n], seed))
        table = rp.scores_table(rows, args.dataset, n)
        raw = {"config": trainer.config.to_dict(), "seeds": seeds, "images": n, "rows": rows}

    seconds = time.perf_counter() - started
    path = rp.write_results(out, args.what, header(args.what, seconds) + table, raw)
    print(table)
    say(f"written {path} ({seconds / 60:.1f} minutes)")
    return 0


def train_default_recipe(dataset: str, seed: int, steps, say):
    """A :class:`~minigan.train.Trainer` after the default ``minigan train`` recipe on ``dataset``."""
    from ..train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, steps=steps, seed=seed)
    data = load_dataset(config.validate())
    trainer = Trainer(config.resolve(data).validate(), data)
    total = trainer.total_steps
    say(f"training {dataset} (seed {seed}) for {total} steps (the default recipe)")
    for step in range(total):
        trainer.train_step()
        if (step + 1) % max(1, total // 10) == 0:
            say(f"  step {step + 1}/{total}")
    return trainer
