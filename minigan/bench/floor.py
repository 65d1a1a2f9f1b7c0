"""The matrix products of one training step alone: a floor under minigan's step time.

:func:`make_matmul_step` returns a function that computes exactly the products
:func:`~minigan.bench.flops.train_step_products` lists, on random float32 operands
allocated once, with ``np.matmul(a, b, out=c)``; nothing else (no bias, activation,
loss, optimiser, noise or Python layer calls).  However well the rest of the step is
written, NumPy cannot run the step faster than this with the same BLAS and threads, so
``floor ms / pytorch ms`` says how far below PyTorch a NumPy step could possibly get.
"""

from __future__ import annotations

import numpy as np

from .flops import Shapes, train_step_products


def make_matmul_step(g_shapes: Shapes, d_shapes: Shapes, n: int, seed: int = 0):
    """``step()`` computing every product of one training step at batch ``n``."""
    return products_step(train_step_products(g_shapes, d_shapes, n), seed)


def products_step(parts: dict, seed: int = 0):
    """``step()`` computing every ``(rows, inner, cols)`` product of ``parts`` ({part: [product, ...]})
    on random float32 operands allocated once."""
    rng = np.random.default_rng(seed)
    operands = []
    for products in parts.values():
        for rows, inner, cols in products:
            a = rng.standard_normal((rows, inner), dtype=np.float32)
            b = rng.standard_normal((inner, cols), dtype=np.float32)
            operands.append((a, b, np.empty((rows, cols), dtype=np.float32)))

    def step():
        for a, b, c in operands:
            if a.shape[1] == 1:
                # minigan computes a k = 1 product (D's last layer's dx) by broadcasting
                np.multiply(a, b, out=c)
            else:
                np.matmul(a, b, out=c)

    return step
