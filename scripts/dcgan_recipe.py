"""How ``minigan train --arch dcgan``'s recipe and length were chosen (results/dcgan_recipe/).

Two steps, each a JSON of runs scored like the structure study (5,000 samples from the
moving average of G, both judges, :func:`minigan.study.study_run`):

    python scripts/dcgan_recipe.py tune  --seeds 101,102,103 --budget 490   # candidates at equal wall time
    python scripts/dcgan_recipe.py check --seeds 201,202,203,204,205        # the chosen default beside the MLP default
    python scripts/dcgan_recipe.py table                                    # results/dcgan_recipe/README.md

``tune`` trains each candidate for ``--budget`` seconds of training (steps = budget / its
time per step, measured first on this machine, one BLAS thread) on tuning seeds; ``check``
trains today's ``--arch dcgan`` default and the MLP default, each at its default length,
on seeds nobody tuned on.  Runs go two at a time (``--jobs``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "results" / "dcgan_recipe"

#: The candidates of the tuning step (TrainConfig options).
CANDIDATES = {
    "dcgan no bn": {"arch": "dcgan", "batchnorm": False},
    "dcgan no bn + dropout 0.3": {"arch": "dcgan", "batchnorm": False, "dropout": 0.3},
    "dcgan + dropout 0.3": {"arch": "dcgan", "dropout": 0.3},
}
#: The check: each network with today's default recipe and length.
CHECK = {"dcgan default": {"arch": "dcgan"}, "mlp default": {}}


def tune_job(name: str, seed: int, steps: int, picture: str | None):
    from minigan.study import study_run

    return name, study_run(CANDIDATES[name], seed, steps, picture)


def check_job(name: str, seed: int):
    from minigan.study import study_run
    from minigan.train import TrainConfig, load_dataset
    from minigan.train.config import steps_per_epoch

    config = TrainConfig(dataset="mnist5k", **CHECK[name]).validate()
    data = load_dataset(config)
    resolved = config.resolve(data)
    steps = resolved.epochs * steps_per_epoch(len(data), resolved.batch_size, resolved.d_steps)
    return name, study_run(CHECK[name], seed, steps)


def run(kind: str, seeds: list[int], jobs: int, budget: float) -> dict:
    from minigan.structure import step_seconds
    from minigan.study import describe, judges_summary, parallel_map

    judges = judges_summary("mnist5k")  # trained once, before the workers start
    started = time.time()

    def report(k, n, r):
        print(f"[{k}/{n}] {time.time() - started:.0f} s  " + describe(*r), flush=True)

    if kind == "tune":
        step_s = {name: step_seconds(options, steps=20, warmup=3) for name, options in CANDIDATES.items()}
        work = [(name, seed, round(budget / step_s[name]),
                 str(OUT / f"{name.replace(' ', '_')}_{seed}.png") if seed == seeds[0] else None)
                for name in CANDIDATES for seed in seeds]
        runs = parallel_map(tune_job, work, jobs, report)
        extra = {"budget_seconds": budget, "step_seconds": step_s, "candidates": CANDIDATES}
    else:
        runs = parallel_map(check_job, [(name, seed) for name in CHECK for seed in seeds], jobs, report)
        extra = {"rows": CHECK}
    return {"judges": judges, **extra, "runs": [{"row": name, **r} for name, r in runs]}


def table() -> str:
    from minigan.agreement import verdict
    from minigan.reproduce import mean_se

    lines = ["# How `--arch dcgan`'s recipe and length were chosen", "",
             "Written by `python scripts/dcgan_recipe.py table` from `tune.json` and `check.json` (see the script's "
             "docstring for the commands).  Scores of 5,000 samples from the moving average of G by both judges "
             "(`minigan.metrics.judge`); mean ± standard error over seeds.", ""]
    for name, title in (("tune", "Tuning: candidates at equal wall time, tuning seeds"),
                        ("check", "Check: the chosen default beside the MLP default, seeds nobody tuned on")):
        path = OUT / f"{name}.json"
        if not path.exists():
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        rows = list(dict.fromkeys(r["row"] for r in raw["runs"]))
        lines += [f"## {title}", ""]
        if name == "tune":
            lines += [f"Budget: {raw['budget_seconds']:.0f} s of training per run (steps = budget / the candidate's "
                      "time per step, measured first with one BLAS thread).", ""]
        first = [r for r in raw["runs"] if r["row"] == rows[0]]
        lines += ["| networks and recipe | steps | Fréchet (pooled judge) | Fréchet (strided judge) | class KL | "
                  f"classes | against {rows[0]} | seconds | seeds |", "|---|---|---|---|---|---|---|---|---|"]
        for row in rows:
            runs = [r for r in raw["runs"] if r["row"] == row]
            against = "—" if row == rows[0] else verdict(first, runs)
            fd, fd2, kl, cov, sec = (mean_se([r[k] for r in runs]) for k in (
                "frechet", "frechet_strided", "kl_to_uniform", "classes_covered", "seconds"))
            lines.append(f"| {row} | {runs[0]['steps']:,} | {fd[0]:.1f} ± {fd[1]:.1f} | {fd2[0]:.1f} ± {fd2[1]:.1f} | "
                         f"{kl[0]:.3f} ± {kl[1]:.3f} | {cov[0]:.1f} | {against} | {sec[0]:.0f} ± {sec[1]:.0f} | "
                         f"{', '.join(str(r['seed']) for r in runs)} |")
        lines.append("")
    lines.append("\"against\": what both judges say of the row against the first row, paired by seed "
                 "(`minigan.agreement`: better or worse only where both judges' paired differences pass two "
                 "standard errors).  Seconds are training time two runs at a time on the 2-core machine (a ratio "
                 "between rows, not a wall time to publish).")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=("tune", "check", "table"))
    p.add_argument("--seeds", default="101,102,103", help="comma-separated seeds")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--budget", type=float, default=490.0, help="tune: seconds of training per run")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.kind != "table":
        seeds = [int(s) for s in args.seeds.split(",")]
        raw = run(args.kind, seeds, args.jobs, args.budget)
        (OUT / f"{args.kind}.json").write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    (OUT / "README.md").write_text(table() + "\n", encoding="utf-8")
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
