"""How many threads NumPy's BLAS uses, set from inside the process (``threadpoolctl``).

OpenBLAS's worker threads keep spinning for a while after each matrix product.  On a
2-core machine that spinning takes the second core away from the element-wise NumPy work
between products (im2col copies, col2im additions, batch norm), and at batch 64 the
products are too small for a second thread to pay.  Timed in one process on the 2-core
machine:

* the article's MLP, the default recipe (idle machine, 2,000 steps after 300 of warm-up,
  twice each, alternating): 7.0 and 7.4 ms a step on one BLAS thread, 8.3 and 8.6 ms
  on two;
* the DCGAN (with other work running, so as a ratio): about 60 ms on one, 82 ms on two.

So ``minigan train`` runs every architecture's NumPy loop with one (:data:`RUN_THREADS`),
and leaves the second core to the operating system, a notebook or a second run.
"""

from __future__ import annotations

import contextlib

#: BLAS threads of the NumPy engine's training loop, by architecture (absent: leave as is).
RUN_THREADS = {"mlp": 1, "dcgan": 1, "dcgan_g": 1}


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """Within the block NumPy's BLAS uses ``threads`` threads (None: leave it alone).
    PyTorch's own thread pool is not touched."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
