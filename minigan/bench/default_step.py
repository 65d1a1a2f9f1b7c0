"""The default recipe's whole training step, on one and on two BLAS threads.

``minigan bench`` times :class:`~minigan.GAN`'s bare step; a default ``minigan train``
step does more (dropout in D, the translation of the real digits, the moving average of
G, the data pipeline).  This times :meth:`minigan.train.Trainer.train_step` of the
default configuration on mnist5k, in alternating blocks (:mod:`.timing`) with NumPy's
BLAS on 1 and on 2 threads, and says what the default length costs at each: the numbers
behind :data:`minigan.threads.RUN_THREADS` and :data:`minigan.train.DEFAULT_STEPS_IMAGES`.
"""

from __future__ import annotations

import numpy as np

from ..threads import blas_threads
from .timing import alternate_blocks


def make_default_step(seed: int = 0):
    """``step()`` of a fresh default-recipe trainer on mnist5k (no pictures, no checkpoints)."""
    from ..train import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset="mnist5k", seed=seed).validate()
    data = load_dataset(config)
    trainer = Trainer(config.resolve(data).validate(), data)

    def step():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            trainer.train_step()

    return step


def measure_default_step(*, blocks: int = 6, block_steps: int = 200, warmup: int = 20, pause: float = 0.2,
                         thread_counts=(1, 2), seed: int = 0) -> dict:
    """Mean ms per default-recipe step at each BLAS thread count, and the seconds the
    default length's steps take at that speed (training only: pictures, checkpoints and
    start-up come on top).

    The *mean*, not the median the rest of ``minigan bench`` reports: a run's wall time is
    the sum of its steps, and with two threads the occasional slow step (a worker thread
    that had to be woken) is what the median hides."""
    from ..train import DEFAULT_STEPS_IMAGES

    steps = {}
    for threads in thread_counts:
        step = make_default_step(seed)

        def timed(step=step, threads=threads):
            with blas_threads(threads):
                step()

        steps[f"{threads} thread{'s' if threads > 1 else ''}"] = timed
    times = alternate_blocks(steps, blocks=blocks, block_steps=block_steps, warmup=warmup, pause=pause)
    rows = []
    for seconds, threads in zip(times.values(), thread_counts):
        ms = 1e3 * sum(seconds) / len(seconds)
        rows.append({"threads": threads, "ms": ms, "median_ms": 1e3 * sorted(seconds)[len(seconds) // 2],
                     "timed_steps": len(seconds),
                     "default_steps": DEFAULT_STEPS_IMAGES, "default_seconds": ms * 1e-3 * DEFAULT_STEPS_IMAGES})
    return {"rows": rows, "blocks": blocks, "steps_per_block": block_steps}


def format_default_step(result: dict) -> list[str]:
    """Report lines for :func:`measure_default_step`'s result."""
    lines = [f"the default recipe's whole step (minigan train: dropout, translation, EMA of G; mean and median "
             f"of {result['blocks'] * result['steps_per_block']} steps per thread count, alternating blocks)",
             "BLAS threads   mean ms   median ms   default length   seconds of training (at the mean)"]
    for r in result["rows"]:
        lines.append(f"{r['threads']:>12} {r['ms']:>9.2f} {r['median_ms']:>11.2f} {r['default_steps']:>16,} "
                     f"{r['default_seconds']:>21.0f}")
    return lines
