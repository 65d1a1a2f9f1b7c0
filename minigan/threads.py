"""How many threads NumPy's BLAS uses, set from inside the process (``threadpoolctl``).

OpenBLAS's worker threads keep spinning for a while after each matrix product.  On a
2-core machine that spinning takes the second core away from the element-wise NumPy work
between products (im2col copies, col2im additions, batch norm), which slows the DCGAN
step: timed in one process on the 2-core machine (with other work running, so as a
ratio), one step took about 60 ms on one BLAS thread and 82 ms on two, so
``minigan train --arch dcgan`` runs with one (:data:`RUN_THREADS`).
"""

from __future__ import annotations

import contextlib

#: BLAS threads of the NumPy engine's training loop, by architecture (absent: leave as is).
RUN_THREADS = {"dcgan": 1, "dcgan_g": 1}


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
