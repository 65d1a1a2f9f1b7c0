"""``minigan gradcheck``: check every built-in module and loss, and G's gradient through D."""

from __future__ import annotations

import time

from ..errors import MiniganError

NAME = "gradcheck"
HELP = "check every backward pass against finite differences (float64) and print the table"


def add_arguments(p):
    p.add_argument("--seed", type=int, default=0, help="seed for the random inputs (default 0)")
    p.add_argument("--tol", type=float, default=1e-7, help="largest accepted relative error (default 1e-7)")


def run(args) -> int:
    from ..selfcheck import run_all

    if not args.tol > 0:
        raise MiniganError(f"--tol must be > 0, got {args.tol}")
    start = time.perf_counter()
    report = run_all(seed=args.seed, tol=args.tol)
    print(report)
    print(f"({time.perf_counter() - start:.1f} s, float64, 4th-order central differences, h = 1e-4 x max(1, |x|))")
    return 0 if report.passed else 1
