"""Reproduce the papers' tables on minigan's networks (``minigan reproduce``).

``ring`` / ``grid`` — PacGAN's mode-collapse benchmark (Lin et al. 2018, Table 1; see
``PROTOCOLS.md``): for each method (the plain GAN, and packing m = 2, 3, 4) and each
seed, train the article's networks (G 100-128-128-128-2 with a linear output, D
2m-128-128-128-1, leaky ReLU 0.2) on a fixed sample of 100,000 points, draw 2,500
samples and apply :func:`minigan.metrics.mode_coverage`.  Rows are mean +- standard
error over seeds.  What differs from PacGAN: the networks (theirs: 4 x 400 BatchNorm
+ ReLU G, maxout D), the number of updates (theirs: 400 epochs of 1,000 batches), and
minibatches of 96 samples (a multiple of 2, 3 and 4) instead of 100.

``parzen`` — Goodfellow et al. (2014), Table 1, on the bundled subset: the default
``minigan train`` recipe on mnist5k, 10,000 generated samples as kernel centres, sigma
from ``logspace(-1, 0, 10)`` chosen on the 500 validation digits, mean +- standard
error on the 500 test digits.  Reference rows computed the same way: the 4,000 real
training digits as centres, and one Gaussian fitted to them (covariance + s^2 I, s
chosen on validation like sigma).  Not the paper's test set: its numbers are listed
for orientation, not for comparison.

``scores`` — the digit-classifier scores, memorisation and detectability of the default
``minigan train`` recipe on mnist5k over several seeds, each beside the same numbers
for real digits the networks never saw (the 500 validation digits, an ideal
generator's score at the same sample size).  No paper has these rows: they are
comparable only within minigan.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .metrics import SIGMAS, class_scores, detection_accuracy, memorisation, mode_coverage, parzen_evaluate
from .metrics.evaluate import to_unit_interval
from .schedule import lr_factor
from .words import provenance, translator

#: PacGAN Table 1 (mean +- standard error over 10 trials): modes, HQ %, reverse KL.
PAPER_ROWS = {
    "ring": [
        ("GAN", "6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09"),
        ("ALI", "6.6 ± 0.3", "97.6 ± 0.4", "0.36 ± 0.04"),
        ("PacGAN2", "7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03"),
        ("PacGAN3", "7.8 ± 0.1", "97.7 ± 0.3", "0.10 ± 0.02"),
        ("PacGAN4", "7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02"),
    ],
    "grid": [
        ("GAN", "17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07"),
        ("ALI", "24.1 ± 0.4", "95.7 ± 0.6", "0.14 ± 0.03"),
        ("PacGAN2", "23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04"),
        ("PacGAN3", "24.6 ± 0.4", "94.2 ± 0.4", "0.06 ± 0.02"),
        ("PacGAN4", "24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01"),
    ],
}
#: Goodfellow et al. 2014, Table 1 (MNIST, nats).
PARZEN_PAPER_ROWS = [("DBN", "138 ± 2"), ("Stacked CAE", "121 ± 1.6"), ("Deep GSN", "214 ± 1.1"),
                     ("Adversarial nets", "225 ± 2")]


@dataclass(frozen=True)
class ToySettings:
    """What one ring/grid run does (the defaults are the full protocol run).

    Both networks use Adam with learning rate ``lr`` for the first ``decay_start``
    fraction of the steps, then a geometric decay to ``lr_end`` at the last step
    (:func:`learning_rate`).  Why: at PacGAN's constant 1e-4 the article's small
    networks leave the samples diffuse after 60,000 steps (few high-quality samples);
    a large rate finds the modes, and the decay lets G settle onto them.
    """

    steps: int = 60_000
    n_train: int = 100_000
    batch_size: int = 96
    lr: float = 1e-3
    lr_end: float = 1e-5
    decay_start: float = 0.5
    beta1: float = 0.5
    n_eval: int = 2_500


def learning_rate(step: int, settings: ToySettings) -> float:
    """Learning rate of (0-based) ``step``: ``lr`` until ``decay_start * steps``, then
    ``lr * (lr_end / lr) ** u`` with ``u`` going linearly from 0 to 1 at the last step."""
    kind = "constant" if settings.lr_end == settings.lr else "geometric"
    return settings.lr * lr_factor(step, settings.steps, kind, start=settings.decay_start,
                                   end=settings.lr_end / settings.lr)


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (std with ddof=1 over sqrt(n); 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def toy_run(dataset: str, pack: int, seed: int, settings: ToySettings, picture: Path | None = None) -> dict:
    """Train one GAN on ``dataset`` with packing ``pack`` and return its mode coverage."""
    from .train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, n=settings.n_train, steps=settings.steps, batch_size=settings.batch_size,
                         lr=settings.lr, g_lr=settings.lr, beta1=settings.beta1, real_label=1.0, pack=pack,
                         seed=seed).validate()
    data = load_dataset(config)
    config = config.resolve(data).validate()
    trainer = Trainer(config, data)
    started = time.perf_counter()
    for step in range(settings.steps):
        trainer.gan.d_opt.lr = trainer.gan.g_opt.lr = learning_rate(step, settings)
        trainer.train_step()
    seconds = time.perf_counter() - started
    samples = trainer.gan.sample(settings.n_eval)
    coverage = mode_coverage(samples, data.centres, data.std)
    if picture is not None:
        trainer.picture(picture, f"{dataset}, pack {pack}, seed {seed}\n{coverage}")
    return {"pack": pack, "seed": seed, "modes": coverage.modes, "high_quality": coverage.high_quality,
            "reverse_kl": coverage.reverse_kl, "seconds": seconds}


def toy_table(dataset: str, results: list[dict], settings: ToySettings, seeds: int, lang: str = "en") -> str:
    """Markdown table: the paper's rows, then minigan's (mean ± standard error over seeds);
    ``lang`` "en" or "zh" (:mod:`minigan.words`)."""
    t = translator(lang)
    total = {"ring": 8, "grid": 25}[dataset]
    lines = [t("| method | modes (of {total}) | high quality % | reverse KL | source |", total=total),
             "|---|---|---|---|---|"]
    for name, modes, hq, kl in PAPER_ROWS[dataset]:
        lines.append(f"| {name} | {modes} | {hq} | {kl} | {t('PacGAN Table 1 (10 trials)')} |")
    for pack in sorted({r["pack"] for r in results}):
        rows = [r for r in results if r["pack"] == pack]
        m, hq, kl = (mean_se([r[k] for r in rows]) for k in ("modes", "high_quality", "reverse_kl"))
        label = t("minigan GAN") if pack == 1 else t("minigan pack {pack}", pack=pack)
        seeds_note = t("{seeds} seeds, all {total} modes in {all_modes}", seeds=len(rows), total=total,
                       all_modes=sum(r["modes"] == total for r in rows))
        lines.append(f"| {label} | {m[0]:.1f} ± {m[1]:.1f} | {100 * hq[0]:.1f} ± {100 * hq[1]:.1f} | "
                     f"{kl[0]:.2f} ± {kl[1]:.2f} | {seeds_note} |")
    lines.append("")
    decay = (t(", decaying geometrically to {lr_end} over the last {fraction} of the steps",
               lr_end=f"{settings.lr_end:g}", fraction=f"{1 - settings.decay_start:.0%}")
             if settings.lr_end != settings.lr else "")
    lines.append(t("minigan rows: the article's networks (hidden 128 x 3, leaky ReLU), non-saturating loss, Adam lr "
                   "{lr}{decay} (both networks), beta1 {beta1}, batch {batch}, {steps} steps on {n_train} fixed "
                   "samples, {n_eval} samples evaluated; {seeds} seeds per row; reverse KL = KL(histogram of "
                   "high-quality samples over modes || uniform).",
                   lr=f"{settings.lr:g}", decay=decay, beta1=settings.beta1, batch=settings.batch_size,
                   steps=f"{settings.steps:,}", n_train=f"{settings.n_train:,}", n_eval=f"{settings.n_eval:,}",
                   seeds=seeds))
    return "\n".join(lines)


def gaussian_log_likelihood(train: np.ndarray, validation: np.ndarray, test: np.ndarray,
                            ridges=SIGMAS) -> tuple[float, float, float]:
    """One Gaussian N(mean, cov + s^2 I) fitted to ``train``; s chosen on ``validation``.

    Returns (mean log-likelihood on ``test``, its standard error, s).  Uses the
    eigendecomposition of the covariance, so every ridge costs one projection.
    """
    mu = train.mean(axis=0)
    cov = np.cov(train, rowvar=False)
    lam, vec = np.linalg.eigh(cov)
    lam = np.clip(lam, 0, None)
    d = train.shape[1]

    def loglik(x, s):
        proj = (x - mu) @ vec
        var = lam + s**2
        return -0.5 * (d * math.log(2 * math.pi) + np.sum(np.log(var)) + np.sum(proj**2 / var, axis=1))

    best = max(ridges, key=lambda s: loglik(validation, s).mean())
    values = loglik(test, best)
    return float(values.mean()), float(values.std() / math.sqrt(len(values))), float(best)


def parzen_rows(samples: np.ndarray, train: np.ndarray, validation: np.ndarray, test: np.ndarray) -> list[dict]:
    """minigan's row and the two reference rows, all on the same validation/test images."""
    u = to_unit_interval
    rows = []
    for name, centres in (("minigan GAN samples", samples), ("real training images (reference)", train)):
        r = parzen_evaluate(u(centres), u(validation), u(test))
        rows.append({"model": name, "centres": len(centres), "mean": r.mean, "stderr": r.stderr, "sigma": r.sigma})
    mean, se, s = gaussian_log_likelihood(u(train).astype(np.float64), u(validation).astype(np.float64),
                                          u(test).astype(np.float64))
    rows.append({"model": "one Gaussian fitted to the training images (reference)", "centres": None,
                 "mean": mean, "stderr": se, "sigma": s})
    return rows


def parzen_table(rows: list[dict], dataset: str, n_test: int, lang: str = "en") -> str:
    t = translator(lang)
    lines = [t("| model | log-likelihood (nats) | sigma | source |"), "|---|---|---|---|"]
    for name, value in PARZEN_PAPER_ROWS:
        lines.append(f"| {name} | {value} | | {t('Goodfellow et al. 2014, Table 1 (full MNIST test set)')} |")
    for r in rows:
        lines.append(f"| {t(r['model'])} | {r['mean']:.0f} ± {r['stderr']:.0f} | {r['sigma']:.3f} | "
                     f"{t('minigan, {dataset} ({n_test} test images)', dataset=dataset, n_test=n_test)} |")
    lines.append("")
    lines.append(t("minigan rows: Parzen window on {dataset} with sigma from logspace(-1, 0, 10) chosen on the "
                   "validation images and the mean ± standard error over the {n_test} test images; pixels in "
                   "[0, 1].  Not the paper's test set: compare minigan's rows with each other, not with the "
                   "paper's.", dataset=dataset, n_test=n_test))
    return "\n".join(lines)


#: columns of the ``scores`` table: (key in a score row, header, format of the value)
SCORE_COLUMNS = [
    ("classes_covered", "classes covered (of 10)", "{:.1f}"),
    ("kl_to_uniform", "KL(class histogram ‖ uniform)", "{:.3f}"),
    ("confidence_score", "confidence score (max 10)", "{:.2f}"),
    ("frechet", "Fréchet distance to test digits (pooled judge)", "{:.1f}"),
    ("frechet_strided", "Fréchet distance to test digits (strided judge)", "{:.1f}"),
    ("nn_median", "median distance to nearest training digit", "{:.2f}"),
    ("near_copy_percent", "near copies %", "{:.1f}"),
    ("detection_accuracy", "detector accuracy (0.5 = indistinguishable)", "{:.3f}"),
]
#: The model names of the ``scores`` table (keys of its rows).
SCORES_MODEL = "minigan GAN (default recipe)"
SCORES_REFERENCE = "held-out real digits (reference)"


def baseline_label(variant: str | None, steps: int, lang: str = "en") -> str:
    """The name of the ``scores`` table's "before" row."""
    t = translator(lang)
    return t("{variant}, {steps} steps (before)", variant=variant or t("default recipe"), steps=f"{steps:,}")


def score_row(images: np.ndarray, judges: dict, train: np.ndarray, test: np.ndarray, seed: int) -> dict:
    """Every column of :data:`SCORE_COLUMNS` for ``images`` (N, 784), judged against
    ``test`` by ``judges`` (``{kind: classifier}``, :func:`minigan.metrics.judge.load_judges`)."""
    from .metrics import frechet_distance

    scores = class_scores(judges["pooled"], images, test)
    strided = judges["strided"]
    copies = memorisation(images, train, test)
    return {"classes_covered": scores.classes_covered, "kl_to_uniform": scores.kl_to_uniform,
            "confidence_score": scores.confidence_score, "frechet": scores.frechet,
            "frechet_strided": frechet_distance(strided.features(test), strided.features(images)),
            "nn_median": copies.generated_median, "near_copy_percent": 100 * copies.near_copy_fraction,
            "detection_accuracy": detection_accuracy(test, images, rng=seed)}


def default_recipe_scores(dataset: str, seed: int, steps: int | None, n: int, options: dict | None = None) -> dict:
    """Train the default ``minigan train`` recipe (changed by ``options``, e.g. a study
    variant's) on ``dataset`` with ``seed`` and score ``n`` of its samples and ``n``
    held-out real digits (the validation split) with both judges: ``{"gan": row, "real":
    row}`` (see :func:`score_row`)."""
    from .data import load
    from .metrics.evaluate import validation_split
    from .study import judges_of
    from .train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, steps=steps, seed=seed, **(options or {}))
    data = load_dataset(config.validate())
    trainer = Trainer(config.resolve(data).validate(), data)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(trainer.total_steps):
            trainer.train_step()
    seconds = time.perf_counter() - started
    judges = judges_of(dataset)
    train, test = load(dataset, "train"), load(dataset, "test").x
    reference = validation_split(dataset, train)
    rows = {"gan": score_row(trainer.sample(n), judges, train.x, test[:n], seed),
            "real": score_row(reference[:n], judges, train.x, test[:n], seed)}
    return {k: {"seed": seed, **v, **({"seconds": seconds, "steps": trainer.total_steps} if k == "gan" else {})}
            for k, v in rows.items()}


def scores_model_name(model: str, lang: str = "en") -> str:
    """A ``scores`` row's model name in ``lang`` (the rows are keyed by the English names)."""
    import re

    before = re.fullmatch(r"(.*), ([\d,]+) steps \(before\)", model)
    if before:
        variant = None if before.group(1) == "default recipe" else before.group(1)
        return baseline_label(variant, int(before.group(2).replace(",", "")), lang)
    return translator(lang)(model)


def scores_table(rows: dict[str, list[dict]], dataset: str, n: int, judges: dict,
                 baseline: str | None = None, lang: str = "en") -> str:
    """Markdown: one line per model, each cell mean ± standard error over its runs, then
    the first model's runs seed by seed (beside ``baseline``'s, a key of ``rows``, with
    what both judges make of the change; ``judges``: accuracy per judge kind); ``lang``
    "en" or "zh" (:mod:`minigan.words`)."""
    from .agreement import verdict

    t = translator(lang)
    lines = [f"| {t('model')} | " + " | ".join(t(h) for _, h, _ in SCORE_COLUMNS) + f" | {t('runs')} |",
             "|---" * (len(SCORE_COLUMNS) + 2) + "|"]
    for model, runs in rows.items():
        cells = []
        for key, _, fmt in SCORE_COLUMNS:
            m, se = mean_se([r[key] for r in runs])
            cells.append(f"{fmt.format(m)} ± {fmt.format(se)}")
        lines.append(f"| {scores_model_name(model, lang)} | " + " | ".join(cells) + f" | {len(runs)} |")
    lines.append("")
    model, runs = next(iter(rows.items()))
    good = sum(r["classes_covered"] == 10 and r["kl_to_uniform"] <= 0.03 for r in runs)
    lines.append(t("{model}, seed by seed ({good} of {n} with all 10 classes and class KL <= 0.03):",
                   model=scores_model_name(model, lang), good=good, n=len(runs)))
    lines.append("")
    before = {r["seed"]: r for r in rows.get(baseline, [])} if baseline else {}
    extra = t(" | Fréchet before (pooled) | Fréchet before (strided) | both lower") if before else ""
    lines.append(t("| seed | classes covered | class KL | Fréchet (pooled judge) | Fréchet (strided judge) | "
                   "detector accuracy") + extra + " |")
    lines.append("|---" * (6 + (3 if before else 0)) + "|")
    for r in runs:
        cells = (f"| {r['seed']} | {r['classes_covered']} | {r['kl_to_uniform']:.3f} | {r['frechet']:.1f} | "
                 f"{r['frechet_strided']:.1f} | {r['detection_accuracy']:.3f}")
        b = before.get(r["seed"])
        if b is not None:
            both = r["frechet"] < b["frechet"] and r["frechet_strided"] < b["frechet_strided"]
            cells += f" | {b['frechet']:.1f} | {b['frechet_strided']:.1f} | {t('yes') if both else t('no')}"
        elif before:
            cells += " | — | — | —"
        lines.append(cells + " |")
    if before:
        lines.append("")
        lines.append(t("Against {baseline}, over the shared seeds: {verdict} (paired, mean difference beyond two "
                       "standard errors, `minigan.agreement`).", baseline=scores_model_name(baseline, lang),
                       verdict=verdict(rows[baseline], runs, lang)))
    lines.append("")
    lines.append(t("{n} images per row and run, judged against the {n} {dataset} test digits.  Two judges "
                   "(convolutional digit classifiers on minigan's engine, `minigan.metrics.judge`): the pooled judge "
                   "(max pooling, {pooled} % right on the 1,000 held-out digits) gives the class histogram, the "
                   "confidence score exp(E KL(p(y|x) || p(y))) and the Fréchet distance of its 128 penultimate "
                   "features; the strided judge (strided convolutions, no pooling, {strided} % right) a second "
                   "Fréchet distance.  On 500 images a Fréchet distance reads higher than on the study's 5,000.  "
                   "Near copies are images closer to a training digit than 99 % of test digits are; the detector "
                   "is a fresh 784-64-2 MLP trained on half of the images and half of the test digits, accuracy on "
                   "the other halves.  Comparable only within minigan.", n=n, dataset=dataset,
                   pooled=f"{100 * judges['pooled']:.1f}", strided=f"{100 * judges['strided']:.1f}"))
    return "\n".join(lines)


def write_results(out_dir: Path, name: str, header: str, tables: dict[str, str], raw) -> Path:
    """Write ``<name>.json`` (``raw``), ``<name>.md`` (the English table) and, for every
    other language ``lang`` in ``tables``, ``<name>.<lang>.md``, each after ``header``;
    returns the English table's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    for lang, table in tables.items():
        suffix = ".md" if lang == "en" else f".{lang}.md"
        (out_dir / f"{name}{suffix}").write_text(provenance(header, lang) + table + "\n", encoding="utf-8")
    return out_dir / f"{name}.md"
