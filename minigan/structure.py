"""The structure study (``minigan reproduce structure``): does "a more complex structure"
(the article's FAQ, sections 6.1-6.3) make better digits than the article's networks, at
the same wall time on a learner's 2-core CPU, and is it the *structure* (convolution) or
the *size*?

Rows (each with the recipe ``minigan train`` uses for it, see :mod:`minigan.train.config`):

- ``mlp``: the article's networks, 3 x 128 (the default run);
- ``mlp wide``: 3 x 256 hidden units in G and D, so G has about as many parameters as
  DCGAN's generator (size without structure);
- ``dcgan_g``: DCGAN's generator with the article's discriminator (structure in G only);
- ``dcgan no bn``: the DCGAN without its batch-norm layers;
- ``dcgan``: the DCGAN (:mod:`minigan.dcgan`).

Every row is trained for the same *wall time*, twice: the time of the default MLP run and
the time of the default DCGAN run.  Time per step of each row is measured first on this
machine (one BLAS thread, as each run has; :func:`step_seconds`) and turns each budget into
a number of steps, so that the runs themselves are deterministic whatever else the
machine does.  Scores as in :mod:`minigan.study` (the judge's Fréchet distance of 5,000
samples, class KL, classes covered), mean ± standard error over seeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .reproduce import mean_se
from .study import N_SAMPLES, describe, parallel_map, study_run


@dataclass(frozen=True)
class Row:
    name: str
    description: str
    options: dict


ROWS = [
    Row("mlp", "the article's networks (hidden 3 x 128, 147k parameters in G), the default recipe", {}),
    Row("mlp wide", "hidden 3 x 256 in G and D (G 359k parameters, about as many as DCGAN's G): size without structure",
        {"hidden": (256, 256, 256)}),
    Row("dcgan_g", "DCGAN's generator (347k parameters) with the article's discriminator: structure in G only",
        {"arch": "dcgan_g"}),
    Row("dcgan no bn", "the DCGAN without batch norm in G and D (today's default --arch dcgan)",
        {"arch": "dcgan", "batchnorm": False}),
    Row("dcgan", "the DCGAN: transposed convolutions and batch norm in G, strided convolutions and batch norm in D",
        {"arch": "dcgan", "batchnorm": True}),
]
ROWS_BY_NAME = {r.name: r for r in ROWS}


def step_seconds(options: dict, steps: int = 30, warmup: int = 5, dataset: str = "mnist5k") -> float:
    """Median wall time of one training step of ``options`` on this machine, one BLAS thread."""
    from .threads import blas_threads
    from .train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset=dataset, steps=steps + warmup, **options).validate()
    data = load_dataset(config)
    trainer = Trainer(config.resolve(data).validate(), data)
    times = []
    with blas_threads(1), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(steps + warmup):
            start = time.perf_counter()
            trainer.train_step()
            if k >= warmup:
                times.append(time.perf_counter() - start)
    return float(np.median(times))


def budgets(step_s: dict[str, float]) -> dict[str, float]:
    """The two wall-time budgets in seconds: the default MLP run's and the default DCGAN
    run's training time at the measured step times (their default step counts; the
    default ``--arch dcgan`` is the row without batch norm)."""
    from .train.config import DEFAULT_STEPS_CONV, steps_per_epoch

    spe = steps_per_epoch(4_000, 64, 1)
    mlp_steps = max(1, round(default_mlp_steps() / spe)) * spe
    dcgan_steps = max(1, round(DEFAULT_STEPS_CONV["dcgan"] / spe)) * spe
    return {"mlp default": mlp_steps * step_s["mlp"], "dcgan default": dcgan_steps * step_s["dcgan no bn"]}


def default_mlp_steps() -> int:
    from .train.config import DEFAULT_STEPS_IMAGES

    return DEFAULT_STEPS_IMAGES


def structure_job(row: str, seed: int, steps: int, picture: str | None):
    return row, study_run(ROWS_BY_NAME[row].options, seed, steps, picture)


def run_structure(rows: list[str], seeds: list[int], workers: int, say, picture_dir=None,
                  quick: bool = False) -> dict:
    """Measure the step times, then train every row at both budgets on every seed
    (``quick``: budgets of 0.5 and 1 s, to see that everything runs)."""
    say("time per step, one BLAS thread, each row on its own")
    timed = [name for name in ROWS_BY_NAME if name in rows or name in ("mlp", "dcgan no bn")]  # the budgets need both
    step_s = {name: step_seconds(ROWS_BY_NAME[name].options, steps=3 if quick else 30, warmup=1 if quick else 5)
              for name in timed}
    for name, s in step_s.items():
        say(f"  {name}: {1e3 * s:.1f} ms")
    budget = {"mlp default": 0.5, "dcgan default": 1.0} if quick else budgets(step_s)
    jobs = []
    for label, seconds in budget.items():
        for name in rows:
            steps = max(1, round(seconds / step_s[name]))
            for seed in seeds:
                picture = None
                if picture_dir is not None and seed == seeds[0]:
                    picture = str(picture_dir / f"structure_{label.split()[0]}_{name.replace(' ', '_')}.png")
                jobs.append((name, seed, steps, picture))
    labels = [label for label, seconds in budget.items() for _ in rows for _ in seeds]
    results = parallel_map(structure_job, jobs, workers, lambda k, n, r: say(f"[{k}/{n}] " + describe(*r)))
    runs = [{"budget": label, "row": name, **r} for label, (name, r) in zip(labels, results)]
    return {"step_seconds": step_s, "budgets": budget, "runs": runs}


def structure_table(result: dict, judges: dict, lang: str = "en") -> str:
    """Markdown: for each budget, one row per architecture, mean ± standard error, both
    judges (``judges`` from :func:`minigan.study.judges_summary`); ``lang`` "en" or "zh"
    (:mod:`minigan.words`)."""
    from .study import judges_sentence
    from .words import gap, item, translator

    t = translator(lang)
    two_judges = any(r.get("frechet_strided") is not None for r in result["runs"])
    headers = ["networks", "steps", "Fréchet distance (pooled judge)", "worst seed"]
    headers += ["Fréchet distance (strided judge)"] if two_judges else []
    headers += ["class KL to uniform", "classes", "time per step", "seeds"]
    lines = []
    for label, seconds in result["budgets"].items():
        lines += [t("### At the {label} run's wall time: {seconds} s of training", label=t(label),
                    seconds=f"{seconds:.0f}"), "",
                  "| " + " | ".join(t(h) for h in headers) + " |", "|---" * len(headers) + "|"]
        for row in ROWS:
            runs = [r for r in result["runs"] if r["budget"] == label and r["row"] == row.name]
            if not runs:
                continue
            fd, kl, cov = (mean_se([r[k] for r in runs]) for k in ("frechet", "kl_to_uniform", "classes_covered"))
            cells = [row.name, f"{runs[0]['steps']:,}", f"{fd[0]:.1f} ± {fd[1]:.1f}",
                     f"{max(r['frechet'] for r in runs):.1f}"]
            if two_judges:
                strided = [r["frechet_strided"] for r in runs if r.get("frechet_strided") is not None]
                cells.append("—" if len(strided) < len(runs) else "{:.1f} ± {:.1f}".format(*mean_se(strided)))
            cells += [f"{kl[0]:.3f} ± {kl[1]:.3f}", f"{cov[0]:.1f}", f"{1e3 * result['step_seconds'][row.name]:.1f} ms",
                      ", ".join(str(r["seed"]) for r in runs)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(t("Networks:"))
    for row in ROWS:
        lines.append(item(lang, row.name, t(row.description)))
    lines += ["", t("Every run: mnist5k's 4,000 training digits, batch 64, the recipe `minigan train` uses for those "
                    "networks, one BLAS thread, two runs at a time; the number of steps is the budget divided by the "
                    "row's time per step, measured first on this machine with nothing else running.")
              + gap(lang) + judges_sentence(judges if two_judges else {"pooled": judges["pooled"]}, N_SAMPLES, lang)
              + gap(lang) + t("Mean ± standard error over seeds.")]
    return "\n".join(lines)
