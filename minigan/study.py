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
from .train.config import REMEDIES_OFF, preset_options
from .words import gap, item, translator

#: The recipe before this study (``--preset smoothing``): one-sided label smoothing and G's rate twice D's.
LABEL_SMOOTHING = preset_options("smoothing")
ARTICLE = preset_options("article")
OFF = REMEDIES_OFF
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
    Variant("+dropout+translate+ema lr x2 ema 0.9995",
            "+dropout+translate+ema lr x2 with a slower moving average of G (decay 0.9995, about the last 2,000 "
            "steps instead of 1,000)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.9995, "lr": 4e-4, "g_lr": 8e-4}),
    Variant("+dropout+translate+ema late decay",
            "+dropout+translate+ema with the learning rates decaying linearly to 0 over the last 20 % of the steps",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "ema": 0.999, "lr_decay": "linear", "lr_decay_start": 0.8}),
    Variant("+dropout+translate+pack 2", "smoothing + dropout + translation + packing (D judges pairs, PacGAN m = 2)",
            {**LABEL_SMOOTHING, **OFF, **AUGMENT, "pack": 2}),
]
VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}
N_SAMPLES = 5_000


def score_generator(G_sample, z_dim: int, judges: dict, held_x: np.ndarray, *, n: int = N_SAMPLES,
                    seed: int = 0) -> dict:
    """Scores of ``n`` samples of ``G_sample`` (standard normal z of ``z_dim``) by
    ``judges`` (``{kind: classifier}``, :func:`minigan.metrics.judge.load_judges`): the
    pooled judge's Fréchet distance, class histogram, KL and confidence score, and the
    strided judge's Fréchet distance (``frechet_strided``)."""
    from .metrics import class_scores, frechet_distance

    z = np.random.default_rng(seed).standard_normal((n, z_dim), dtype=np.float32)
    samples = np.concatenate([G_sample(z[i:i + 1000]) for i in range(0, n, 1000)])
    s = class_scores(judges["pooled"], samples, held_x)
    strided = judges["strided"]
    return {"frechet": s.frechet, "frechet_strided": frechet_distance(strided.features(held_x),
                                                                     strided.features(samples)),
            "kl_to_uniform": s.kl_to_uniform, "classes_covered": s.classes_covered,
            "confidence_score": s.confidence_score, "histogram": list(s.histogram)}


def judges_of(dataset: str = "mnist5k") -> dict:
    """``{kind: classifier}`` of both judges of ``dataset`` (cached; see :mod:`minigan.metrics.judge`)."""
    from .metrics.judge import load_judges

    return {kind: clf for kind, (clf, _) in load_judges(dataset).items()}


def study_run(options: dict, seed: int, steps: int, picture: str | None = None, dataset: str = "mnist5k") -> dict:
    """Train one variant for ``steps`` steps on ``seed`` and score it (see the module docstring)."""
    from .metrics.judge import held_out
    from .train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, steps=steps, seed=seed, **options).validate()
    data = load_dataset(config)
    trainer = Trainer(config.resolve(data).validate(), data)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(steps):
            trainer.train_step()
    seconds = time.perf_counter() - started
    scores = score_generator(trainer.G_sample, config.z_dim, judges_of(dataset), held_out(dataset).x, seed=seed)
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
    return (f"{variant} seed {r['seed']}: Fréchet {r['frechet']:.1f} (strided judge "
            f"{r.get('frechet_strided', float('nan')):.1f}), class KL {r['kl_to_uniform']:.3f}, "
            f"{r['classes_covered']} classes, {r['seconds']:.0f} s")


def real_reference(judge, dataset: str = "mnist5k") -> float:
    """The judge's Fréchet distance of the real training digits against the held-out ones:
    what a generator that reproduced the training set would score."""
    from .data import load
    from .metrics import frechet_distance
    from .metrics.judge import held_out

    return frechet_distance(judge.features(held_out(dataset).x), judge.features(load(dataset, "train").x))


def judges_summary(dataset: str = "mnist5k", log=lambda message: None) -> dict:
    """``{kind: {"accuracy": held-out accuracy, "reference": real training digits' FD}}``
    for both judges (trained and cached on first use: call before workers start)."""
    from .metrics.judge import load_judges

    return {kind: {"accuracy": acc, "reference": real_reference(clf, dataset)}
            for kind, (clf, acc) in load_judges(dataset, log=log).items()}


def judges_sentence(judges: dict, n: int, lang: str = "en") -> str:
    """How the judges score, for the note under a table (``judges`` from :func:`judges_summary`;
    a table recorded before the second judge has the pooled judge only)."""
    t = translator(lang)
    p = judges["pooled"]
    if "strided" not in judges:
        return t("Scores of {n} samples (from the moving average of G where the recipe keeps one) by the judge, a "
                 "convolutional digit classifier on minigan's engine (`minigan.metrics.judge`, max pooling, "
                 "{pooled_acc} % right on the 1,000 held-out digits; the 4,000 real training digits score "
                 "{pooled_ref}): Fréchet distance of its 128 penultimate features against the held-out digits, the "
                 "class histogram, its KL to uniform and the classes with at least one sample.", n=f"{n:,}",
                 pooled_acc=f"{100 * p['accuracy']:.1f}", pooled_ref=f"{p['reference']:.1f}")
    s = judges["strided"]
    return t("Scores of {n} samples (from the moving average of G where the recipe keeps one) by two judges, "
             "convolutional digit classifiers on minigan's engine (`minigan.metrics.judge`): the pooled judge (max "
             "pooling, {pooled_acc} % right on the 1,000 held-out digits; the 4,000 real training digits score "
             "{pooled_ref}) gives the Fréchet distance of its 128 penultimate features against the held-out "
             "digits, the class histogram, its KL to uniform and the classes with at least one sample; the strided "
             "judge (strided convolutions, no pooling, {strided_acc} % right; real training digits {strided_ref}) "
             "gives a second Fréchet distance.  A change counts as better only where both judges' distances fall "
             "(paired over seeds, mean difference beyond two standard errors, `minigan.agreement`).", n=f"{n:,}",
             pooled_acc=f"{100 * p['accuracy']:.1f}", pooled_ref=f"{p['reference']:.1f}",
             strided_acc=f"{100 * s['accuracy']:.1f}", strided_ref=f"{s['reference']:.1f}")


def judges_of_raw(raw: dict) -> dict:
    """The judges' summary of a results JSON (files written before the second judge keep
    the pooled judge's under ``judge_accuracy`` / ``real_training_digits_frechet``)."""
    if raw.get("judges"):
        return raw["judges"]
    return {"pooled": {"accuracy": raw["judge_accuracy"], "reference": raw["real_training_digits_frechet"]}}


def study_table(results: list[tuple[str, dict]], judges: dict, steps: int, baseline: str | None = None,
                lang: str = "en") -> str:
    """Markdown: one row per variant (in :data:`VARIANTS` order), mean ± standard error,
    both judges, and what both judges say of each row against ``baseline`` (a variant
    name); ``lang`` "en" or "zh" (:mod:`minigan.words`)."""
    from .agreement import verdict

    t = translator(lang)
    base = [r for name, r in results if name == baseline]
    # Tables recorded before the second judge have neither its column nor a verdict.
    two_judges = any(r.get("frechet_strided") is not None for _, r in results)
    headers = [t("recipe"), t("Fréchet distance (pooled judge)"), t("worst seed")]
    headers += [t("Fréchet distance (strided judge)")] if two_judges else []
    headers += [t("class KL to uniform"), t("classes covered"), t("seeds with FD <= 100 and KL <= 0.05")]
    headers += [t("against {baseline}", baseline=baseline or t("the default"))] if two_judges else []
    headers += [t("seconds"), t("seeds")]
    lines = ["| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
    for v in VARIANTS:
        rows = [r for name, r in results if name == v.name]
        if not rows:
            continue
        fd, kl, cov, sec = (mean_se([r[k] for r in rows]) for k in ("frechet", "kl_to_uniform", "classes_covered",
                                                                     "seconds"))
        good = sum(r["frechet"] <= 100 and r["kl_to_uniform"] <= 0.05 for r in rows)
        cells = [v.name, f"{fd[0]:.1f} ± {fd[1]:.1f}", f"{max(r['frechet'] for r in rows):.1f}"]
        if two_judges:
            strided = [r["frechet_strided"] for r in rows if r.get("frechet_strided") is not None]
            cells.append("—" if len(strided) < len(rows) else "{:.1f} ± {:.1f}".format(*mean_se(strided)))
        cells += [f"{kl[0]:.3f} ± {kl[1]:.3f}", f"{cov[0]:.1f} ± {cov[1]:.1f}", f"{good}/{len(rows)}"]
        if two_judges:
            cells.append(t("(baseline)") if v.name == baseline else verdict(base, rows, lang) if base else "—")
        cells += [f"{sec[0]:.0f} ± {sec[1]:.0f}", ", ".join(str(r["seed"]) for r in rows)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(t("Recipes:"))
    for v in VARIANTS:
        if any(name == v.name for name, _ in results):
            lines.append(item(lang, v.name, t(v.description)))
    lines.append("")
    lines.append(t("Every run: the article's networks (hidden 128 x 3, leaky ReLU 0.2, tanh output), Adam (D 2e-4, "
                   "beta1 0.5), batch 64, {steps} steps on mnist5k's 4,000 training digits, one BLAS thread per "
                   "run, two runs at a time on the machine named above.", steps=f"{steps:,}")
                 + gap(lang) + judges_sentence(judges if two_judges else {"pooled": judges["pooled"]}, N_SAMPLES, lang)
                 + gap(lang) + (t("A strided distance shows as — for runs recorded before the second judge existed.")
                                + gap(lang) if two_judges and any(r.get("frechet_strided") is None for _, r in results)
                                else "")
                 + t("Mean ± standard error over seeds."))
    return "\n".join(lines)


def time_to_quality(options: dict, seed: int, thresholds, max_steps: int, every: int,
                    dataset: str = "mnist5k", n: int = 2_000) -> dict:
    """Train ``options`` on ``seed`` and score G every ``every`` steps (``n`` samples,
    the judge's Fréchet distance) until every threshold is reached or ``max_steps`` pass.

    Returns, per threshold, the first step and the *training* seconds (scoring excluded)
    at which the pooled judge's score was at or below it (``None`` if never), and the
    curve: ``(step, seconds, pooled FD, strided FD)`` at every scoring.
    """
    from .metrics.judge import held_out
    from .train import TrainConfig, Trainer, load_dataset

    judges = judges_of(dataset)
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
            scores = score_generator(trainer.G_sample, config.z_dim, judges, held, n=n, seed=seed)
            fd = scores["frechet"]
            curve.append((trainer.step, round(seconds, 2), fd, scores["frechet_strided"]))
            for t in thresholds:
                if reached[str(t)] is None and fd <= t:
                    reached[str(t)] = {"step": trainer.step, "seconds": seconds}
    return {"seed": seed, "reached": reached, "curve": curve}


def _time_job(name: str, options: dict, seed: int, thresholds, max_steps: int, every: int):
    return name, time_to_quality(options, seed, thresholds, max_steps, every)


def time_table(results: dict[str, list[dict]], thresholds, max_steps: int, every: int, n: int,
               default_steps: int | None = None, lang: str = "en") -> str:
    """Markdown: seconds and steps to each threshold of the pooled judge, then both judges'
    distances along the way (:func:`curve_rows`), the default length marked; ``lang`` "en"
    or "zh" (:mod:`minigan.words`)."""
    t = translator(lang)
    lines = [t("| recipe | Fréchet threshold | seeds reaching it | seconds to get there | steps to get there |"),
             "|---|---|---|---|---|"]
    for name, runs in results.items():
        for threshold in thresholds:
            got = [r["reached"][str(threshold)] for r in runs if r["reached"][str(threshold)] is not None]
            if got:
                s, st = mean_se([g["seconds"] for g in got]), mean_se([g["step"] for g in got])
                cells = f"{s[0]:.0f} ± {s[1]:.0f} | {st[0]:,.0f} ± {st[1]:,.0f}"
            else:
                cells = t("not within {max_steps} steps", max_steps=f"{max_steps:,}") + " | —"
            lines.append(f"| {t(name)} | {threshold:g} | {len(got)}/{len(runs)} | {cells} |")
    lines.append("")
    lines.append(t("Training time only (scoring excluded), one BLAS thread per run.  Every {every} steps the judge "
                   "scores {n} samples (fewer than the study's 5,000, so a somewhat higher Fréchet distance); a run "
                   "stops once it has reached every threshold, or after {max_steps} steps.  Means ± standard errors "
                   "over the seeds that got there.", every=f"{every:,}", n=f"{n:,}", max_steps=f"{max_steps:,}"))
    lines += ["", *curve_rows(results, default_steps, lang=lang)]
    return "\n".join(lines)


def curve_means(runs: list[dict]) -> list[tuple[int, float, float, float | None]]:
    """``(step, mean seconds, mean pooled FD, mean strided FD)`` at each step every run of
    ``runs`` was scored at (a run stops once it reaches its thresholds)."""
    by_step: dict[int, list] = {}
    for run in runs:
        for point in run["curve"]:
            by_step.setdefault(int(point[0]), []).append(point)
    out = []
    for step, points in sorted(by_step.items()):
        if len(points) < len(runs):
            continue
        strided = [p[3] for p in points if len(p) > 3]
        out.append((step, float(np.mean([p[1] for p in points])), float(np.mean([p[2] for p in points])),
                    float(np.mean(strided)) if len(strided) == len(points) else None))
    return out


def curve_rows(results: dict[str, list[dict]], default_steps: int | None, points: int = 8,
               lang: str = "en") -> list[str]:
    """Markdown lines: both judges' mean distances at about ``points`` steps of each
    recipe's curve, always including the last step and the scorings on either side of
    ``default_steps`` (marked in bold)."""
    t = translator(lang)
    lines = [t("Both judges along the way (mean over seeds; **bold**: the scorings next to the default length, "
               "{steps} steps):", steps=f"{default_steps:,}") if default_steps
             else t("Both judges along the way (mean over seeds):"), "",
             t("| recipe | step | seconds | Fréchet (pooled judge) | Fréchet (strided judge) |"),
             "|---|---|---|---|---|"]
    for name, runs in results.items():
        curve = curve_means(runs)
        if not curve:
            continue
        stride = max(len(curve) // points, 1)
        keep = {c[0] for c in curve[stride - 1::stride]} | {curve[-1][0]}
        near = set()
        if default_steps:
            below = [c[0] for c in curve if c[0] <= default_steps]
            above = [c[0] for c in curve if c[0] >= default_steps]
            near = {below[-1]} if below else set()
            near |= {above[0]} if above else set()
        for step, sec, fd, fd2 in curve:
            if step in keep or step in near:
                mark = "**" if step in near else ""
                second = "—" if fd2 is None else f"{fd2:.1f}"
                lines.append(f"| {t(name)} | {mark}{step:,}{mark} | {sec:.0f} | {fd:.1f} | {second} |")
    return lines


def plot_curves(results: dict[str, list[dict]], default_steps: int | None, path: Path) -> Path:
    """Both judges' Fréchet distance against steps, one line per recipe (mean over seeds),
    log scale, a dashed line at the default length; saved as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    for col, (ax, title) in enumerate(zip(axes, ("pooled judge", "strided judge"))):
        for name, runs in results.items():
            curve = [c for c in curve_means(runs) if c[2 + col] is not None]
            if curve:
                ax.plot([c[0] for c in curve], [c[2 + col] for c in curve], marker=".", label=name)
        if default_steps:
            ax.axvline(default_steps, color="k", linestyle="--", linewidth=1, label=f"default ({default_steps:,})")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("Fréchet distance")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def default_variant(dataset: str = "mnist5k") -> str | None:
    """The name of the study's recipe that *is* today's default ``minigan train`` recipe
    (the same resolved configuration), or None if the study has no such row."""
    from .train import TrainConfig, load_dataset

    def resolved(**options):
        config = TrainConfig(dataset=dataset, steps=1, **options).validate()
        return config.resolve(load_dataset(config)).to_dict()

    default = resolved()
    return next((v.name for v in VARIANTS if resolved(**v.options) == default), None)
