"""Training does not accumulate memory: traced allocations stay flat over 1,000 steps.

``tracemalloc`` sees every NumPy array buffer and every Python object.  After 100 steps
(optimiser state, caches of the allocator, ... all settled), the memory still allocated
between steps must not grow by more than ``SLACK`` over the next 900 steps: a leak of even
one small array per step (a (16, 128) float32 array is 8 KiB) would be megabytes.
"""

import tracemalloc

import numpy as np
import pytest

from minigan import GAN, build_discriminator, build_generator
from minigan.bench.system import peak_rss_mb

SLACK = 64 * 1024  # bytes


@pytest.mark.slow
def test_no_memory_growth_over_1000_training_steps():
    gan = GAN(build_generator(rng=0), build_discriminator(rng=1), z_dim=100, rng=2)
    real = np.random.default_rng(3).uniform(-1, 1, (16, 784)).astype(np.float32)
    tracemalloc.start()
    try:
        for step in range(1, 1001):
            gan.train_step(real)
            if step == 100:
                after_100, _ = tracemalloc.get_traced_memory()
        after_1000, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_1000 - after_100 < SLACK, f"traced memory grew by {after_1000 - after_100} bytes in 900 steps"
    # A step's temporaries (activations, gradients) are freed: what stays allocated between
    # steps is far smaller than what one step uses at its peak.
    assert after_1000 < peak


def test_peak_rss_is_reported():
    rss = peak_rss_mb()
    assert rss is None or rss > 1  # MiB; None only where getrusage does not exist (Windows)
