"""A runtime tweak for the runners that train many steps (``minigan train``'s
:class:`~minigan.train.Trainer`, the benchmarks), kept out of :mod:`minigan.gan` so that the
training step there reads as the article's algorithm.

Every training step allocates new arrays (caches and gradients are never reused, see
:mod:`minigan.nn.module`); :func:`keep_freed_memory` makes those allocations reuse memory
the process already has.
"""

from __future__ import annotations

import numpy as np

_kept_freed_memory = False


def keep_freed_memory() -> None:
    """Make glibc's ``malloc`` keep freed blocks of up to 16 MiB in the process (once per process).

    By default glibc hands a freed block of more than 128 KiB straight back to the
    kernel, and the next step's arrays of that size arrive as fresh pages: one page
    fault per 4 KiB, about 10 % of a step at batch 64.  glibc raises that threshold to
    the size of the largest block freed so far, so allocating and freeing one 16 MiB
    block once is enough.  Elsewhere this is a harmless allocation; setting
    ``MALLOC_MMAP_THRESHOLD_`` in the environment turns glibc's adjustment off (and so
    overrides this).
    """
    global _kept_freed_memory
    if not _kept_freed_memory:
        block = np.empty(4 * 2**20, dtype=np.float32)
        del block
        _kept_freed_memory = True
