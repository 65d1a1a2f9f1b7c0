"""``minigan reproduce ring|grid|parzen|scores``: the papers' tables (and minigan's digit scores), re-measured.

Writes ``<out>/<what>.md`` (the paper's rows beside minigan's measured rows, the
command and the machine) and ``<out>/<what>.json`` (every run).  See
:mod:`minigan.reproduce` for the protocols and what differs from the papers.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import MiniganError
from ..words import LANGS

NAME = "reproduce"
HELP = ("re-measure PacGAN's ring/grid table, Goodfellow et al.'s Parzen table, minigan's digit scores, "
        "the recipe study, time to quality or the structure study, and write Markdown")


def add_arguments(p):
    p.add_argument("what", choices=("ring", "grid", "parzen", "scores", "study", "time", "structure"),
                   help="which table")
    p.add_argument("--seeds", type=int,
                   help="seeds per row (default 10 for ring/grid and scores, 1 for parzen, 5 for study and "
                        "structure, 3 for time)")
    p.add_argument("--first-seed", type=int, default=0, metavar="S",
                   help="scores, study, time, structure: use seeds S, S+1, ... (default 0)")
    p.add_argument("--variants", metavar="NAMES",
                   help="study, structure: comma-separated recipe or network names (default: all; see "
                        "minigan.study.VARIANTS, minigan.structure.ROWS)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="scores, study, time, structure: runs at a time, each with one BLAS thread (default 1)")
    p.add_argument("--append", action="store_true",
                   help="study: add these runs to the study.json already in --out (same --steps) instead of "
                        "starting a new table")
    p.add_argument("--threshold", default="100,50,25", metavar="FD[,FD...]",
                   help="time: the judge's Fréchet distances to reach (default 100,50,25)")
    p.add_argument("--steps", type=int, help="training steps per run (default: 60,000 ring/grid; the default "
                                              "minigan train length for parzen and scores)")
    p.add_argument("--baseline-steps", type=int, metavar="N",
                   help="scores: also train the --baseline-variant recipe for N steps on the same seeds, the "
                        "'before' row, and say what both judges make of the change")
    p.add_argument("--baseline-variant", metavar="NAME",
                   help="scores: the study recipe of the 'before' row (default: the default recipe; see "
                        "minigan.study.VARIANTS)")
    p.add_argument("--packs", default="1,2,3,4", help="packing degrees, one row each (default 1,2,3,4)")
    p.add_argument("--dataset", default="mnist5k",
                   help="parzen, scores: mnist5k (default) or mnist (downloaded)")
    p.add_argument("--quick", action="store_true", help="a few hundred steps and 1-2 seeds: checks the pipeline")
    p.add_argument("--out", default="results", metavar="DIR", help="where the tables go (default results/)")
    p.add_argument("--render", action="store_true",
                   help="train nothing: write <out>/<what>.md and its Chinese <what>.zh.md again from "
                        "<out>/<what>.json (the header line of the .md is kept)")
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
    if args.baseline_steps is not None and args.baseline_steps < 1:
        raise MiniganError(f"--baseline-steps must be >= 1, got {args.baseline_steps}")
    if args.what == "scores":
        baseline_options(args.baseline_variant)  # an unknown name fails before any training
    out = Path(args.out)
    if args.render:
        return render_again(args.what, out)
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
        raw = {"settings": settings.__dict__, "runs": results}
    elif args.what == "parzen":
        from ..data import load
        from ..metrics.evaluate import validation_split

        trainer = train_default_recipe(args.dataset, 0, args.steps or (200 if args.quick else None), say)
        n = 1_000 if args.quick else 10_000
        samples = trainer.sample(n)
        train = load(args.dataset, "train").x
        test = load(args.dataset, "test").x
        say(f"Parzen windows: {n} generated centres, {len(test)} test images")
        rows = rp.parzen_rows(samples, train, validation_split(args.dataset, trainer.dataset), test)
        raw = {"config": trainer.config.to_dict(), "samples": n, "test_images": len(test), "rows": rows}
    elif args.what == "scores":
        from .. import study
        from ..data import load
        from ..study import parallel_map

        n = min(len(load(args.dataset, "test")), len(validation_split_of(args.dataset, load(args.dataset, "train"))))
        seeds = list(range(args.first_seed, args.first_seed + (args.seeds or (1 if args.quick else 10))))
        judges = {k: v["accuracy"] for k, v in study.judges_summary(args.dataset, log=say).items()}  # before workers
        steps = args.steps or (200 if args.quick else None)
        model = rp.SCORES_MODEL
        jobs = [(args.dataset, s, steps, n) for s in seeds]
        baseline = None
        if args.baseline_steps:
            options = baseline_options(args.baseline_variant)
            baseline = rp.baseline_label(args.baseline_variant, args.baseline_steps)
            jobs += [(args.dataset, s, args.baseline_steps, n, options) for s in seeds]
        say(f"{len(jobs)} runs, {args.jobs} at a time")
        results = parallel_map(rp.default_recipe_scores, jobs, args.jobs,
                               lambda k, total, r: say(f"[{k}/{total}] seed {r['gan']['seed']}, "
                                                       f"{r['gan']['steps']:,} steps: Fréchet "
                                                       f"{r['gan']['frechet']:.1f} (strided judge "
                                                       f"{r['gan']['frechet_strided']:.1f}), class KL "
                                                       f"{r['gan']['kl_to_uniform']:.3f}, "
                                                       f"{r['gan']['classes_covered']} classes"))
        rows = {model: [r["gan"] for r in results[:len(seeds)]]}
        if baseline:
            rows[baseline] = [r["gan"] for r in results[len(seeds):]]
        rows[rp.SCORES_REFERENCE] = [r["real"] for r in results[:len(seeds)]]
        from ..train import TrainConfig

        raw = {"config": TrainConfig(dataset=args.dataset, steps=steps).to_dict(), "seeds": seeds, "images": n,
               "judge_accuracy": judges, "baseline": baseline, "rows": rows}
    elif args.what == "study":
        from .. import study

        names = [v.name for v in study.VARIANTS] if not args.variants else [v.strip() for v in args.variants.split(",")]
        unknown = [v for v in names if v not in study.VARIANTS_BY_NAME]
        if unknown:
            raise MiniganError(f"--variants: unknown recipe(s) {unknown}; expected names from "
                               f"{[v.name for v in study.VARIANTS]}")
        seeds = range(args.first_seed, args.first_seed + (args.seeds or (1 if args.quick else 5)))
        steps = args.steps or (200 if args.quick else default_image_steps())
        judges = study.judges_summary("mnist5k", log=say)  # trained once, before the workers start
        out.mkdir(parents=True, exist_ok=True)
        jobs = [(name, seed, steps, str(out / f"study_{slug(name)}.png") if seed == seeds[0] else None)
                for name in names for seed in seeds]
        say(f"{len(jobs)} runs of {steps:,} steps, {args.jobs} at a time")
        previous = study.previous_runs(out / "study.json", steps) if args.append else []
        results = study.run_jobs(jobs, args.jobs, say)
        done = {(name, r["seed"]) for name, r in results}
        results = [(name, r) for name, r in previous if (name, r["seed"]) not in done] + results
        names = list(dict.fromkeys(name for name, _ in results))
        raw = {"steps": steps, "judges": judges, **first_judge_keys(judges),
               "variants": {v.name: v.options for v in study.VARIANTS if v.name in names},
               "runs": [{"variant": name, **r} for name, r in results]}
    elif args.what == "structure":
        from .. import structure, study

        names = [r.name for r in structure.ROWS] if not args.variants else [
            v.strip() for v in args.variants.split(",")]
        unknown = [v for v in names if v not in structure.ROWS_BY_NAME]
        if unknown:
            raise MiniganError(f"--variants: unknown networks {unknown}; expected names from "
                               f"{[r.name for r in structure.ROWS]}")
        seeds = list(range(args.first_seed, args.first_seed + (args.seeds or (1 if args.quick else 5))))
        judges = study.judges_summary("mnist5k", log=say)  # trained once, before the workers start
        out.mkdir(parents=True, exist_ok=True)
        raw = structure.run_structure(names, seeds, args.jobs, say, picture_dir=out, quick=args.quick)
        raw.update(judges=judges, **first_judge_keys(judges),
                   rows={r.name: r.options for r in structure.ROWS if r.name in names})
    else:
        from .. import study
        from ..train import preset_options

        thresholds = parse_thresholds(args.threshold)
        seeds = range(args.first_seed, args.first_seed + (args.seeds or (1 if args.quick else 3)))
        max_steps = args.steps or (400 if args.quick else 2 * default_image_steps())
        every = 200 if args.quick else 1000
        recipes = {"default": {}, "article (--preset article)": preset_options("article")}
        study.judges_summary("mnist5k", log=say)  # trained once, before any worker starts
        jobs = [(name, options, seed, thresholds, max_steps, every) for name, options in recipes.items()
                for seed in seeds]

        def report(k, total, r):
            name, run = r
            got = ", ".join(f"<= {t}: " + (f"step {v['step']:,} ({v['seconds']:.0f} s)" if v else "never")
                            for t, v in run["reached"].items())
            say(f"[{k}/{total}] {name} seed {run['seed']}: {got}")

        done = study.parallel_map(study._time_job, jobs, args.jobs, report)
        results = {name: [r for n, r in done if n == name] for name in recipes}
        study.plot_curves(results, default_image_steps(), out / "time.png")
        raw = {"thresholds": thresholds, "max_steps": max_steps, "every": every, "samples": TIME_SAMPLES,
               "default_steps": default_image_steps(), "runs": results}

    seconds = time.perf_counter() - started
    tables = {lang: render(args.what, raw, lang) for lang in LANGS}
    path = rp.write_results(out, args.what, header(args.what, seconds), tables, raw)
    print(tables["en"])
    say(f"written {path} ({seconds / 60:.1f} minutes)")
    return 0


def render_again(what: str, out: Path) -> int:
    """``--render``: the tables of ``what`` written again from ``out``'s JSON, no training."""
    from .. import reproduce as rp

    source = out / f"{what}.json"
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MiniganError(f"--render: no {source} (run `minigan reproduce {what} --out {out}` first)") from None
    except (OSError, ValueError) as exc:
        raise MiniganError(f"--render: cannot read {source}: {exc}") from None
    md = out / f"{what}.md"
    previous = md.read_text(encoding="utf-8") if md.exists() else ""
    head = previous[:previous.index("-->") + 3] + "\n\n" if previous.startswith("<!--") else ""
    try:
        tables = {lang: render(what, raw, lang) for lang in LANGS}
    except (KeyError, TypeError, IndexError) as exc:
        raise MiniganError(f"--render: {source} is not a {what} results file ({exc})") from None
    rp.write_results(out, what, head, tables, raw)
    print(f"written {md} and {md.with_suffix('')}.zh.md from {source}")
    return 0


#: Samples the judge scores at each point of ``reproduce time``'s curves.
TIME_SAMPLES = 2_000


def render(what: str, raw: dict, lang: str = "en") -> str:
    """The Markdown table of ``what`` from its results JSON ``raw`` (as ``run`` writes it),
    in ``lang`` ("en" or "zh")."""
    from .. import reproduce as rp
    from .. import structure, study

    if what in ("ring", "grid"):
        runs = raw["runs"]
        seeds = sum(r["pack"] == runs[0]["pack"] for r in runs)
        return rp.toy_table(what, runs, rp.ToySettings(**raw["settings"]), seeds, lang)
    if what == "parzen":
        return rp.parzen_table(raw["rows"], raw["config"]["dataset"], raw.get("test_images", PARZEN_TEST_IMAGES),
                               lang)
    if what == "scores":
        return rp.scores_table(raw["rows"], raw["config"]["dataset"], raw["images"], raw["judge_accuracy"],
                               raw.get("baseline"), lang)
    if what == "study":
        results = [(r["variant"], r) for r in raw["runs"]]
        return study.study_table(results, study.judges_of_raw(raw), raw["steps"], study.default_variant(), lang)
    if what == "structure":
        return structure.structure_table(raw, study.judges_of_raw(raw), lang)
    return study.time_table(raw["runs"], raw["thresholds"], raw["max_steps"], raw["every"],
                            raw.get("samples", TIME_SAMPLES), raw.get("default_steps"), lang)


#: The test images of the Parzen table in files written before it recorded them (mnist5k's 500 test digits).
PARZEN_TEST_IMAGES = 500


def parse_thresholds(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not v > 0 for v in values):
        raise MiniganError(f"--threshold must be positive numbers separated by commas, got {text!r}")
    return values


def slug(name: str) -> str:
    """A file-name-safe form of a recipe name ("all four + SN" -> "all_four_SN")."""
    return "_".join("".join(c if c.isalnum() else " " for c in name).split())


def default_image_steps() -> int:
    from ..train import DEFAULT_STEPS_IMAGES

    return DEFAULT_STEPS_IMAGES


def first_judge_keys(judges: dict) -> dict:
    """The pooled judge's accuracy and real-digit distance under the keys the JSON files
    had before the second judge (the chapter notebooks read them)."""
    return {"judge_accuracy": judges["pooled"]["accuracy"],
            "real_training_digits_frechet": judges["pooled"]["reference"]}


def baseline_options(variant: str | None) -> dict:
    """The training options of the ``--baseline-variant`` (a study recipe; None: the default)."""
    from .. import study

    if variant is None:
        return {}
    if variant not in study.VARIANTS_BY_NAME:
        raise MiniganError(f"--baseline-variant: unknown recipe {variant!r}; expected a name from "
                           f"{[v.name for v in study.VARIANTS]}")
    return study.VARIANTS_BY_NAME[variant].options


def validation_split_of(dataset, train):
    from ..metrics.evaluate import validation_split

    return validation_split(dataset, train)


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
