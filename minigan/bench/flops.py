"""Floating-point operations of one training step, counted from the layer shapes.

Only the matrix products are counted (they are > 97 % of the arithmetic; bias adds,
activations, losses and the optimiser are not).  For a Dense layer ``in -> out`` on a
batch of N rows, one multiply-add is 2 FLOPs, so::

    forward   y  = x @ W       2 N in out
    backward  dW = x.T @ dy    2 N in out   (only when the parameter gradients are used)
              dx = dy @ W.T    2 N in out   (only when someone needs the input gradient)

i.e. 4 N in out when both are computed and 2 N in out when only one is.  A layer with
one output unit computes ``dx`` as an outer product (N in multiplications); it is still
counted as 2 N in out, the matrix-product convention.

One step of ``GAN.train_step`` (one D step, then one G step) is::

    D step  G forward on N noise vectors            (no backward)
            D forward on 2N rows (real + fake)
            D backward on 2N rows: dW for every layer, dx for all but the first
    G step  G forward on N, D forward on N
            D backward on N: dx only (D's parameters are frozen)
            G backward on N: dW for every layer, dx for all but the first
"""

from __future__ import annotations

Shapes = list[tuple[int, int]]


def dense_shapes(model) -> Shapes:
    """``[(in, out), ...]`` of the Dense layers of a :class:`~minigan.nn.Sequential`, in order."""
    from ..nn import Dense

    return [(m.in_features, m.out_features) for m in model.modules if isinstance(m, Dense)]


def mlp_shapes(sizes) -> Shapes:
    """``[(sizes[0], sizes[1]), (sizes[1], sizes[2]), ...]`` for layer sizes like (100, 128, 784)."""
    return list(zip(sizes[:-1], sizes[1:]))


Product = tuple[int, int, int]  # (rows, inner, cols): an (rows, inner) @ (inner, cols) product


def forward_products(shapes: Shapes, n: int) -> list[Product]:
    """``x @ W`` for every layer: (N, in) @ (in, out)."""
    return [(n, i, o) for i, o in shapes]


def backward_products(shapes: Shapes, n: int, *, param_grads: bool, input_grad: bool) -> list[Product]:
    """``dW = x.T @ dy`` (in, N) @ (N, out) if ``param_grads``, and ``dx = dy @ W.T``
    (N, out) @ (out, in) for every layer but the first (the first too if ``input_grad``)."""
    products = []
    for k, (i, o) in enumerate(shapes):
        if param_grads:
            products.append((i, n, o))
        if k > 0 or input_grad:
            products.append((n, o, i))
    return products


def flops(products: list[Product]) -> int:
    """2 rows inner cols per product (one multiply-add = 2 FLOPs)."""
    return sum(2 * r * k * c for r, k, c in products)


def forward_flops(shapes: Shapes, n: int) -> int:
    """2 N in out per layer."""
    return flops(forward_products(shapes, n))


def backward_flops(shapes: Shapes, n: int, *, param_grads: bool, input_grad: bool) -> int:
    """2 N in out per layer for dW (if ``param_grads``) and for dx (every layer but the
    first, and the first too if ``input_grad``)."""
    return flops(backward_products(shapes, n, param_grads=param_grads, input_grad=input_grad))


def train_step_products(g_shapes: Shapes, d_shapes: Shapes, n: int) -> dict[str, list[Product]]:
    """The matrix products of each part of one training step at batch ``n`` (module docstring)."""
    return {
        "d_step/G forward (N)": forward_products(g_shapes, n),
        "d_step/D forward (2N)": forward_products(d_shapes, 2 * n),
        "d_step/D backward (2N; dW, dx but the first)": backward_products(d_shapes, 2 * n, param_grads=True,
                                                                          input_grad=False),
        "g_step/G forward (N)": forward_products(g_shapes, n),
        "g_step/D forward (N)": forward_products(d_shapes, n),
        "g_step/D backward (N; dx only)": backward_products(d_shapes, n, param_grads=False, input_grad=True),
        "g_step/G backward (N; dW, dx but the first)": backward_products(g_shapes, n, param_grads=True,
                                                                         input_grad=False),
    }


def train_step_flops(g_shapes: Shapes, d_shapes: Shapes, n: int) -> dict[str, int]:
    """FLOPs of each part of one training step at batch ``n`` (see the module docstring)."""
    return {part: flops(products) for part, products in train_step_products(g_shapes, d_shapes, n).items()}
