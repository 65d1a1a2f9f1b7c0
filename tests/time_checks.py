"""Time ``minigan.exercises.check`` on every answer the project knows: the correct answers in
tests/exercise_answers*.py, every wrong answer there, and every mistake of every table.

    python tests/time_checks.py          # the slowest checks, median of 3 runs each
    python tests/time_checks.py --all    # every check
    python tests/time_checks.py conv_backward batchnorm_backward   # only these exercises

The target (issues 22 and 24) is every check under 0.5 s; run it on an otherwise idle machine.  Not a test:
a timed unit test would fail on a busy machine for no fault of the code.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from minigan.exercises import EXERCISES, check, mistakes  # noqa: E402


def answers():
    """``(exercise, kind, answer)`` for every known answer."""
    for path in sorted(HERE.glob("exercise_answers*.py")):
        module = importlib.import_module(path.stem)
        for name in dir(module):
            value = getattr(module, name)
            exercise = name[3:].lower()
            layer = {"mydense": "dense", "myleakyrelu": "leaky_relu", "mytanh": "tanh", "mysigmoid": "sigmoid"}
            if name.startswith("my_") and exercise in EXERCISES:
                yield exercise, f"correct {name}", value
            elif name.lower() in layer:
                yield layer[name.lower()], f"correct {name}", value
        for wrong in getattr(module, "WRONG", []):
            yield wrong.exercise, f"wrong {getattr(wrong.answer, '__name__', wrong.answer)}", wrong.answer
    classic = importlib.import_module("test_exercises_classic")  # batchnorm_backward, conv_backward
    for exercise, answer, *_ in classic.CORRECT + classic.WRONG + classic.DIAGNOSED:
        yield exercise, f"{'wrong' if _ else 'correct'} {answer.__name__}", answer
    for exercise in EXERCISES:
        for m in mistakes(exercise):
            yield exercise, f"table {m.key}", m.answer


def main(argv: list[str]) -> int:
    check("dense", importlib.import_module("exercise_answers").MyDense)  # imports (hypothesis) out of the way
    times, only = [], [a for a in argv if a in EXERCISES]
    for exercise, kind, answer in answers():
        if only and exercise not in only:
            continue
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            check(exercise, answer)
            runs.append(time.perf_counter() - start)
        times.append((statistics.median(runs), exercise, kind))
    times.sort(reverse=True)
    print(f"{len(times)} checks, median of 3 runs each; slowest first:")
    for seconds, exercise, kind in times if "--all" in argv else times[:10]:
        print(f"  {seconds:6.3f} s  {exercise:24s} {kind}")
    over = [t for t in times if t[0] >= 0.5]
    print(f"{len(over)} checks at 0.5 s or more")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
