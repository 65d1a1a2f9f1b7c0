"""This machine's float32 matrix-product speed: the yardstick for "fraction of peak"."""

from __future__ import annotations

import time

import numpy as np


def matmul_peak_gflops(size: int = 2048, repeats: int = 5, seed: int = 0) -> float:
    """Best-of-``repeats`` GFLOP/s of ``np.matmul`` on two ``size x size`` float32 matrices.

    2 size^3 FLOPs per product; the result goes into a preallocated array so only the
    arithmetic is timed.  Uses NumPy's BLAS with its current thread count.
    """
    rng = np.random.default_rng(seed)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    c = np.empty((size, size), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
