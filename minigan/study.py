"""The recipe study (``minigan reproduce study``) and time to quality (``minigan
reproduce time``): which of the remedies of article sections 6.1-6.2 make the article's
networks produce clean digits of every class, on every seed, in a few minutes.

Every run trains the article's G and D (3 x 128 hidden, leaky ReLU 0.2, tanh out) on
mnist5k's 4,000 training digits with one variant of the recipe, then draws 5,000
samples (from the moving average of G's weights where the variant keeps one) and scores
them with the judge (:mod:`minigan.metrics.judge`) against the 1,000 held-out digits:
Fréchet distance of the judge's 128 features, KL of the predicted-class histogram to
uniform, classes covered.  Rows are mean ± standard error over seeds; the worst seed is
listed too, because a learner runs one seed, not the mean.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .reproduce import mean_se

#: The recipe before this study (``--preset smoothing``): one-sided label smoothing and G's rate twice D's.
LABEL_SMOOTHING = {"real_label": 0.9, "lr": 2e-4, "g_lr": 4e-4}
ARTICLE = {"real_label": 1.0, "lr": 2e-4, "g_lr": 2e-4}
OFF = {"dropout": 0.0, "translate": 0, "instance_noise": 0.0, "spectral_norm": False, "ema": 0.0,
       "lr_decay": "constant"}
AVERAGE_AND_DECAY = {"ema": 0.999, "lr_decay": "linear"}
AUGMENT = {"dropout": 0.3, "translate": 2}


@dataclass(frozen=True)
class Variant:
    """One row of the study: a name (no commas: ``--variants`` separates names with them),
    what it is, and its TrainConfig options."""

    name: str
    description: str
    options: dict


VARIANTS = [
    Variant("article", "the article's recipe: labels 1/0, Adam 2e-4 for both, no remedy", {**ARTICLE, **OFF}),
    Variant("smoothing", "one-sided label smoothing 0.9, G's rate 2x (the previous default)",
            {**LABEL_SMOOTHING, **OFF}),
    Variant("+dropout", "smoothing + dropout 0.3 in D", {**LABEL_SMOOTHING, **OFF, "dropout": 0.3}),
    Variant("+translate", "smoothing + random +-2 px translation of D's inputs",
            {**LABEL_SMOOTHING, **OFF, "translate": 2}),
    Variant("+ema+decay", "smoothing + EMA of G (0.999) + linear lr decay over the second half",
            {**LABEL_SMOOTHING, **OFF, **AVERAGE_AND_DECAY}),
    Variant("+dropout+translate", "smoothing + dropout 0.3 + translation 2", {**LABEL_SMOOTHING, **OFF, **AUGMENT}),
    Variant("all four", "smoothing + dropout + translation + EMA + lr decay",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, **AVERAGE_AND_DECAY}),
    Variant("all four + SN", "all four + spectral normalisation of D",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, **AVERAGE_AND_DECAY, "spectral_norm": True}),
    Variant("all four + noise", "all four + instance noise (sigma 0.1, annealed to 0)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, **AVERAGE_AND_DECAY, "instance_noise": 0.1}),
    Variant("+dropout+translate+ema", "smoothing + dropout + translation + EMA of G (constant learning rates)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999}),
    Variant("+dropout+translate+ema lr x2", "+dropout+translate+ema with both learning rates doubled (D 4e-4, "
            "G 8e-4): the default recipe",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999, "lr": 4e-4, "g_lr": 8e-4}),
    Variant("+dropout+translate+ema lr x4",
            "+dropout+translate+ema with both learning rates four times higher (D 8e-4, G 1.6e-3)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999, "lr": 8e-4, "g_lr": 1.6e-3}),
    Variant("+dropout+translate+ema lr x2 late decay",
            "+dropout+translate+ema lr x2 with the learning rates decaying linearly to 0 over the last 20 % "
            "of the steps",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999, "lr": 4e-4, "g_lr": 8e-4, "lr_decay": "linear",
             "lr_decay_start": 0.8}),
    Variant("+dropout+translate+ema late decay",
            "+dropout+translate+ema with the learning rates decaying linearly to 0 over the last 20 % of the steps",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999, "lr_decay": "linear", "lr_decay_start": 0.8}),
    Variant("+dropout+translate+pack 2", "smoothing + dropout + translation + packing (D judges pairs, PacGAN m = 2)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "pack": 2}),
]
VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}
N_SAMPLES = 5_000


def score_generator(G_sample, z_dim: int, judge, held_x: np.ndarray, *, n: int = N_SAMPLES, seed: int = 0) -> dict:
    """Judge scores of ``n`` samples of ``G_sample`` (standard normal z of ``z_dim``)."""
    from .metrics import class_scores

    z = np.random.default_rng(seed).standard_normal((n, z_dim), dtype=np.float32)
    samples = np.concatenate([G_sample(z[i:i + 1000]) for i in range(0, n, 1000)])
    s = class_scores(judge, samples, held_x)
    return {"frechet": s.frechet, "kl_to_uniform": s.kl_to_uniform, "classes_covered": s.classes_covered,
            "confidence_score": s.confidence_score, "histogram": list(s.histogram)}


def study_run(options: dict, seed: int, steps: int, picture: str | None = None, dataset: str = "mnist5k") -> dict:
    """Train one variant for ``steps`` steps on ``seed`` and score it (see the module docstring)."""
    from .metrics.judge import held_out, load_judge
    from .train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, steps=steps, seed=seed, **options).validate()
    data = load_dataset(config)
    trainer = Trainer(config.resolve(data).validate(), data)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(steps):
            trainer.train_step()
    seconds = time.perf_counter() - started
    judge, _ = load_judge(dataset)
    scores = score_generator(trainer.G_sample, config.z_dim, judge, held_out(dataset).x, seed=seed)
    if picture is not None:
        from . import viz

        viz.save_image_grid(trainer.G_sample(trainer.fixed_z), data.image_shape, Path(picture))
    return {"seed": seed, "steps": steps, "seconds": seconds, **scores}


def _call(job):
    fn, args = job
    return fn(*args)


def parallel_map(fn, jobs: list, workers: int, report=lambda k, n, result: None) -> list:
    """``[fn(*job) for job in jobs]`` on ``workers`` processes, each with one BLAS thread;
    ``report(k, n, result)`` is called as each result arrives.  Results keep the order of
    ``jobs``.  ``fn`` must be importable (a module-level function)."""
    if workers <= 1:
        results = []
        for k, job in enumerate(jobs, 1):
            results.append(fn(*job))
            report(k, len(jobs), results[-1])
        return results
    import concurrent.futures as cf
    import multiprocessing as mp

    # Children read the BLAS thread count when NumPy loads: set it before they start.
    previous = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({k: "1" for k in previous})
    try:
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_call, (fn, job)): i for i, job in enumerate(jobs)}
            results = [None] * len(jobs)
            for k, future in enumerate(cf.as_completed(futures), 1):
                results[futures[future]] = future.result()
                report(k, len(jobs), results[futures[future]])
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return results


def run_jobs(jobs: list, workers: int, say) -> list:
    """The study's runs (``(variant, seed, steps, picture)`` each) on ``workers`` processes;
    returns ``(variant, result)`` pairs in the order of ``jobs``."""
    return parallel_map(study_job, jobs, workers, lambda k, n, r: say(f"[{k}/{n}] " + describe(*r)))


def study_job(variant: str, seed: int, steps: int, picture: str | None):
    return variant, study_run(VARIANTS_BY_NAME[variant].options, seed, steps, picture)


def previous_runs(path: Path, steps: int) -> list[tuple[str, dict]]:
    """The runs of an earlier ``study.json`` as ``(variant, result)`` pairs, for
    ``--append``; refuses a file written with another number of steps."""
    import json

    from .errors import MiniganError

    if not path.exists():
        raise MiniganError(f"--append: there is no {path} to add to")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("steps") != steps:
        raise MiniganError(f"--append: {path} has runs of {raw.get('steps')} steps, not {steps}")
    return [(r["variant"], {k: v for k, v in r.items() if k != "variant"}) for r in raw["runs"]]


def describe(variant: str, r: dict) -> str:
    return (f"{variant} seed {r['seed']}: Fréchet {r['frechet']:.1f}, class KL {r['kl_to_uniform']:.3f}, "
            f"{r['classes_covered']} classes, {r['seconds']:.0f} s")


def real_reference(judge, dataset: str = "mnist5k") -> float:
    """The judge's Fréchet distance of the real training digits against the held-out ones:
    what a generator that reproduced the training set would score."""
    from .data import load
    from .metrics import frechet_distance
    from .metrics.judge import held_out

    return frechet_distance(judge.features(held_out(dataset).x), judge.features(load(dataset, "train").x))


def study_table(results: list[tuple[str, dict]], judge_accuracy: float, steps: int, reference: float) -> str:
    """Markdown: one row per variant (in :data:`VARIANTS` order), mean ± standard error."""
    lines = ["| recipe | Fréchet distance | worst seed | class KL to uniform | classes covered | "
             "seeds with FD <= 100 and KL <= 0.05 | seconds | seeds |",
             "|---|---|---|---|---|---|---|---|"]
    for v in VARIANTS:
        rows = [r for name, r in results if name == v.name]
        if not rows:
            continue
        fd, kl, cov, sec = (mean_se([r[k] for r in rows]) for k in ("frechet", "kl_to_uniform", "classes_covered",
                                                                     "seconds"))
        good = sum(r["frechet"] <= 100 and r["kl_to_uniform"] <= 0.05 for r in rows)
        lines.append(f"| {v.name} | {fd[0]:.1f} ± {fd[1]:.1f} | {max(r['frechet'] for r in rows):.1f} | "
                     f"{kl[0]:.3f} ± {kl[1]:.3f} | {cov[0]:.1f} ± {cov[1]:.1f} | {good}/{len(rows)} | "
                     f"{sec[0]:.0f} ± {sec[1]:.0f} | {', '.join(str(r['seed']) for r in rows)} |")
    lines.append("")
    lines.append("Recipes:")
    for v in VARIANTS:
        if any(name == v.name for name, _ in results):
            lines.append(f"- **{v.name}**: {v.description}.")
    lines.append("")
    lines.append(f"Every run: the article's networks (hidden 128 x 3, leaky ReLU 0.2, tanh output), Adam (D 2e-4, "
                 f"beta1 0.5), batch 64, {steps:,} steps on mnist5k's 4,000 training digits, one BLAS thread per "
                 f"run, two runs at a time on the machine named above.  Scores of {N_SAMPLES:,} samples (from the "
                 f"moving average of G where the recipe keeps one) by the judge, a convolutional digit classifier "
                 f"on minigan's engine ({100 * judge_accuracy:.1f} % right on the 1,000 held-out digits): Fréchet "
                 f"distance of its 128 penultimate features against the held-out digits (the 4,000 real training "
                 f"digits score {reference:.1f}), KL of the histogram of predicted classes "
                 f"to uniform, classes with at least one sample.  Mean ± standard error over seeds.")
    return "\n".join(lines)


def time_to_quality(options: dict, seed: int, thresholds, max_steps: int, every: int,
                    dataset: str = "mnist5k", n: int = 2_000) -> dict:
    """Train ``options`` on ``seed`` and score G every ``every`` steps (``n`` samples,
    the judge's Fréchet distance) until every threshold is reached or ``max_steps`` pass.

    Returns, per threshold, the first step and the *training* seconds (scoring excluded)
    at which the score was at or below it (``None`` if never), and every score on the way.
    """
    from .metrics.judge import held_out, load_judge
    from .train import TrainConfig, Trainer, load_dataset

    judge, _ = load_judge(dataset)
    held = held_out(dataset).x
    config = TrainConfig(dataset=dataset, steps=max_steps, seed=seed, **options).validate()
    data = load_dataset(config)
    trainer = Trainer(config.resolve(data).validate(), data)
    seconds, curve = 0.0, []
    reached = {str(t): None for t in thresholds}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while trainer.step < max_steps and any(v is None for v in reached.values()):
            started = time.perf_counter()
            for _ in range(min(every, max_steps - trainer.step)):
                trainer.train_step()
            seconds += time.perf_counter() - started
            fd = score_generator(trainer.G_sample, config.z_dim, judge, held, n=n, seed=seed)["frechet"]
            curve.append((trainer.step, round(seconds, 2), fd))
            for t in thresholds:
                if reached[str(t)] is None and fd <= t:
                    reached[str(t)] = {"step": trainer.step, "seconds": seconds}
    return {"seed": seed, "reached": reached, "curve": curve}


def _time_job(name: str, options: dict, seed: int, thresholds, max_steps: int, every: int):
    return name, time_to_quality(options, seed, thresholds, max_steps, every)


def time_table(results: dict[str, list[dict]], thresholds, max_steps: int, every: int, n: int) -> str:
    lines = ["| recipe | Fréchet threshold | seeds reaching it | seconds to get there | steps to get there |",
             "|---|---|---|---|---|"]
    for name, runs in results.items():
        for t in thresholds:
            got = [r["reached"][str(t)] for r in runs if r["reached"][str(t)] is not None]
            if got:
                s, st = mean_se([g["seconds"] for g in got]), mean_se([g["step"] for g in got])
                cells = f"{s[0]:.0f} ± {s[1]:.0f} | {st[0]:,.0f} ± {st[1]:,.0f}"
            else:
                cells = f"not within {max_steps:,} steps | —"
            lines.append(f"| {name} | {t:g} | {len(got)}/{len(runs)} | {cells} |")
    lines.append("")
    lines.append(f"Training time only (scoring excluded), one BLAS thread per run.  Every {every:,} steps the judge "
                 f"scores {n:,} samples (fewer than the study's 5,000, so a somewhat higher Fréchet distance); a run "
                 f"stops once it has reached every threshold, or after {max_steps:,} steps.  Means ± standard "
                 "errors over the seeds that got there.")
    return "\n".join(lines)


def default_variant(dataset: str = "mnist5k") -> str | None:
    """The name of the study's recipe that *is* today's default ``minigan train`` recipe
    (the same resolved configuration), or None if the study has no such row."""
    from .train import TrainConfig, load_dataset

    def resolved(**options):
        config = TrainConfig(dataset=dataset, steps=1, **options).validate()
        return config.resolve(load_dataset(config)).to_dict()

    default = resolved()
    return next((v.name for v in VARIANTS if resolved(**v.options) == default), None)
