"""Timing two step functions fairly in one process: alternating blocks, not single steps.

NumPy's BLAS threads and PyTorch's OpenMP threads keep spinning for a while after their
own work.  Alternating single steps makes each side run while the other's threads still
spin on the second core, which can make a 5 ms step read 15-75 ms.  So each side runs a
*block* of steps, after a short pause (the other side's threads go idle) and a few
untimed warm-up steps; the blocks alternate A B B A A B ... so that neither side always
goes first.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def alternate_blocks(steps: dict[str, Callable[[], object]], *, blocks: int, block_steps: int, warmup: int = 3,
                     pause: float = 0.2) -> dict[str, list[float]]:
    """Run every function in ``steps`` for ``blocks`` blocks of ``block_steps`` timed calls.

    Returns ``{name: [seconds per call, ...]}`` with ``blocks * block_steps`` entries each.
    """
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for b in range(blocks):
        for name in names if b % 2 == 0 else names[::-1]:
            step = steps[name]
            time.sleep(pause)
            for _ in range(warmup):
                step()
            record = times[name]
            for _ in range(block_steps):
                start = time.perf_counter()
                step()
                record.append(time.perf_counter() - start)
    return times


def median_ms(seconds: list[float]) -> float:
    """Median of a list of durations in seconds, in milliseconds."""
    return statistics.median(seconds) * 1e3
