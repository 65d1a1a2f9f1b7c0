"""``minigan bench --arch dcgan``: one training step of :mod:`minigan.dcgan`'s networks
next to the same step in PyTorch eager, the step's matrix products alone (the floor),
and where minigan's time goes.

The step is :meth:`minigan.GAN.train_step` on the default ``--arch dcgan`` networks
(28 x 28 digits, ``channels`` = 32: G z 100 -> 7x7x64 -> 14x14x32 -> 28x28x1, D 28x28x1
-> 14x14x32 -> 7x7x64 -> 1; no batch norm, as ``minigan train --arch dcgan``; with
``batchnorm=True`` DCGAN's batch-norm layers), float32, Adam(2e-4, betas (0.5, 0.999)):
D on the real batch, then on a fake batch made by G's training pass (each pass with its
own batch-norm statistics when there are any); then G through D.  The PyTorch step (:func:`make_torch_step`) is the
idiomatic NCHW model with the same layers, the fakes under ``no_grad``, D frozen in the
G step and fused Adam.

Every convolution is a matrix product on patches (:mod:`minigan.nn.im2col`), so the
floor is a list of products like the MLP's (:func:`dcgan_products`):

    Conv2d  (C -> F, k, output Ho x Wo)   forward (N Ho Wo, k k C) @ (k k C, F)
                                          dW      (k k C, N Ho Wo) @ (N Ho Wo, F)
                                          dx      (N Ho Wo, F) @ (F, k k C)
    ConvTranspose2d (C -> F, input H x W) forward (N H W, C) @ (C, k k F)
                                          dW      (k k F, N H W) @ (N H W, C)
                                          dx      (N H W, k k F) @ (k k F, C)
    Dense   as in :mod:`.flops`
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from ..allocator import keep_freed_memory
from .floor import products_step
from .flops import Product, flops
from .timing import alternate_blocks, median_ms

Z_DIM, IMAGE, CHANNELS = 100, (28, 28), 32


def build(seed: int = 0, channels: int = CHANNELS, batchnorm: bool = False):
    """minigan's DCGAN G and D (the networks of ``minigan train --arch dcgan``, which has no
    batch norm by default; no remedies)."""
    from ..dcgan import build_dcgan_discriminator, build_dcgan_generator
    from ..nn import Sequential

    G = build_dcgan_generator(Z_DIM, IMAGE, channels, batchnorm=batchnorm, rng=seed)
    D = Sequential(*build_dcgan_discriminator(IMAGE, channels, batchnorm=batchnorm, rng=seed + 1))
    return G, D


def make_minigan_step(real: np.ndarray, seed: int = 0, channels: int = CHANNELS, batchnorm: bool = False):
    from .. import GAN
    from ..optim import Adam

    keep_freed_memory()  # as minigan train runs it
    G, D = build(seed, channels, batchnorm)
    gan = GAN(G, D, z_dim=Z_DIM, g_optimizer=Adam(G.params(), lr=2e-4, betas=(0.5, 0.999)),
              d_optimizer=Adam(D.params(), lr=2e-4, betas=(0.5, 0.999)), rng=seed + 2)
    return lambda: gan.train_step(real)


def layer_products(model, n: int, *, forward: bool = True, param_grads: bool = False,
                   input_grad: bool = False) -> list[Product]:
    """The matrix products of ``model``'s layers on a batch of ``n`` (see the module docstring)."""
    from ..nn import Conv2d, ConvTranspose2d, Dense

    products = []
    for m in model.modules:
        if isinstance(m, Dense):
            a, b, rows = m.in_features, m.out_features, n
        elif isinstance(m, Conv2d):
            Ho, Wo, F = m.out_shape
            a, b, rows = m.k * m.k * m.in_shape[2], F, n * Ho * Wo
        elif isinstance(m, ConvTranspose2d):
            H, W, C = m.in_shape
            a, b, rows = C, m.k * m.k * m.out_channels, n * H * W
        else:
            continue
        if forward:
            products.append((rows, a, b))
        if param_grads:
            products.append((a, rows, b))
        if input_grad:
            products.append((rows, b, a))
    return products


def dcgan_products(G, D, n: int) -> dict[str, list[Product]]:
    """Every matrix product of one DCGAN training step at batch ``n``, by part (the first
    layer of each network computes no input gradient, as in :mod:`.flops`)."""

    def backward(model, param_grads):
        first, rest = model.modules[0], type(model)(*model.modules[1:])
        return (layer_products(type(model)(first), n, forward=False, param_grads=param_grads)
                + layer_products(rest, n, forward=False, param_grads=param_grads, input_grad=True))

    return {
        "d_step/G forward (N)": layer_products(G, n),
        "d_step/D forward (N real, then N fake)": 2 * layer_products(D, n),
        "d_step/D backward (2 x N; dW, dx but the first)": 2 * backward(D, True),
        "g_step/G forward (N)": layer_products(G, n),
        "g_step/D forward (N)": layer_products(D, n),
        "g_step/D backward (N; dx only)": layer_products(D, n, forward=False, input_grad=True),
        "g_step/G backward (N; dW, dx but the first)": backward(G, True),
    }


def make_floor_step(G, D, n: int, seed: int = 0):
    """``step()`` computing exactly :func:`dcgan_products` on random operands (preallocated)."""
    return products_step(dcgan_products(G, D, n), seed)


def make_torch_step(real: np.ndarray, seed: int = 0, channels: int = CHANNELS, batchnorm: bool = False):
    """The same step in PyTorch eager, NCHW (see the module docstring); returns ``step()``."""
    import torch
    from torch import nn
    from torch.nn.functional import binary_cross_entropy_with_logits as bce

    torch.manual_seed(seed)
    n = real.shape[0]
    C, (H, W) = channels, IMAGE
    h, w = H // 4, W // 4
    def norm(c):  # a layer before batch norm has no bias (batch norm's shift replaces it)
        return [nn.BatchNorm2d(c)] if batchnorm else []

    bias = not batchnorm
    G = nn.Sequential(nn.Linear(Z_DIM, h * w * 2 * C, bias=bias), nn.Unflatten(1, (2 * C, h, w)),
                      *norm(2 * C), nn.ReLU(),
                      nn.ConvTranspose2d(2 * C, C, 4, 2, 1, bias=bias), *norm(C), nn.ReLU(),
                      nn.ConvTranspose2d(C, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, C, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(C, 2 * C, 4, 2, 1, bias=bias), *norm(2 * C), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(h * w * 2 * C, 1))
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=True)
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=True)
    x = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32)).view(n, 1, H, W)
    target_real, zeros, ones = torch.full((n, 1), 0.9), torch.zeros(n, 1), torch.ones(n, 1)

    def step():
        with torch.no_grad():
            fake = G(torch.randn(n, Z_DIM))
        real_logits, fake_logits = D(x), D(fake)
        d_loss = bce(real_logits, target_real) + bce(fake_logits, zeros)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        D.requires_grad_(False)
        g_loss = bce(D(G(torch.randn(n, Z_DIM))), ones)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)
        return d_loss.item(), g_loss.item()

    return step


def time_by_layer(real: np.ndarray, steps: int = 10, seed: int = 0, batchnorm: bool = False) -> dict[str, float]:
    """ms per step spent in each kind of layer (forward and backward, by class name), in
    the optimisers, and in the rest of the step, measured by wrapping every layer."""
    from .. import GAN
    from ..optim import Adam

    G, D = build(seed, batchnorm=batchnorm)
    spent: dict[str, float] = defaultdict(float)

    def wrap(m):
        name = type(m).__name__
        forward, backward = m.forward, m.backward

        def timed_forward(x, _f=forward, _n=name):
            start = time.perf_counter()
            out = _f(x)
            spent[f"{_n} forward"] += time.perf_counter() - start
            return out

        def timed_backward(dy, cache, _b=backward, _n=name, **kw):
            start = time.perf_counter()
            out = _b(dy, cache, **kw)
            spent[f"{_n} backward"] += time.perf_counter() - start
            return out

        m.forward, m.backward = timed_forward, timed_backward

    for m in [*G.modules, *D.modules]:
        wrap(m)
    keep_freed_memory()
    gan = GAN(G, D, z_dim=Z_DIM, g_optimizer=Adam(G.params(), lr=2e-4, betas=(0.5, 0.999)),
              d_optimizer=Adam(D.params(), lr=2e-4, betas=(0.5, 0.999)), rng=seed + 2)
    for opt in (gan.g_opt, gan.d_opt):
        step_fn = opt.step

        def timed_step(grads, _s=step_fn):
            start = time.perf_counter()
            _s(grads)
            spent["Adam"] += time.perf_counter() - start

        opt.step = timed_step
    for _ in range(3):
        gan.train_step(real)
    spent.clear()
    start = time.perf_counter()
    for _ in range(steps):
        gan.train_step(real)
    total = time.perf_counter() - start
    out = {k: 1e3 * v / steps for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}
    out["rest (losses, noise, Python)"] = 1e3 * (total - sum(spent.values())) / steps
    out["total"] = 1e3 * total / steps
    return out


def run_dcgan_benchmark(*, quick: bool = False, use_torch: bool = True, batches=(64,), seed: int = 0,
                        minigan_threads: int | None = 1, batchnorm: bool = False, progress=None) -> dict:
    """Measure the DCGAN step at each batch size (see the module docstring).

    ``minigan_threads``: NumPy's BLAS threads during minigan's and the floor's blocks
    (``minigan train --arch dcgan`` runs with 1; None leaves them as they are); PyTorch
    runs with its default threads and, in a second column, with as many as minigan.
    """
    from ..threads import blas_threads
    from .system import OtherLoad

    say = progress or (lambda _msg: None)
    blocks, block_steps, warmup, pause = (2, 5, 2, 0.1) if quick else (6, 10, 3, 0.3)
    torch_threads = None
    if use_torch:
        import torch

        torch_threads = torch.get_num_threads()
    rows = []
    with blas_threads(minigan_threads):
        for n in batches:
            real = np.random.default_rng(seed).uniform(-1, 1, (n, IMAGE[0] * IMAGE[1])).astype(np.float32)
            G, D = build(seed, batchnorm=batchnorm)
            steps = {"minigan": make_minigan_step(real, seed, batchnorm=batchnorm),
                     "floor": make_floor_step(G, D, n, seed)}
            if use_torch:
                torch_step = make_torch_step(real, seed, batchnorm=batchnorm)
                steps["pytorch"] = torch_step
                if minigan_threads is not None and minigan_threads != torch_threads:
                    def same_threads(_s=torch_step, _t=minigan_threads, _d=torch_threads):
                        torch.set_num_threads(_t)
                        try:
                            return _s()
                        finally:
                            torch.set_num_threads(_d)

                    steps["pytorch_same_threads"] = same_threads
            say(f"DCGAN step, batch {n}: {blocks} x {block_steps} timed steps per side")
            with OtherLoad() as load:
                times = alternate_blocks(steps, blocks=blocks, block_steps=block_steps, warmup=warmup, pause=pause)
            row = {"batch": n, "flops": sum(flops(p) for p in dcgan_products(G, D, n).values()),
                   "other_load_cpus": load.cpus, "timed_steps": blocks * block_steps}
            row.update({f"{name}_ms": median_ms(t) for name, t in times.items()})
            if use_torch:
                row["ratio"] = row["minigan_ms"] / row["pytorch_ms"]
                row["floor_ratio"] = row["floor_ms"] / row["pytorch_ms"]
                if "pytorch_same_threads_ms" in row:
                    row["ratio_same_threads"] = row["minigan_ms"] / row["pytorch_same_threads_ms"]
            rows.append(row)
        say("where minigan's time goes (batch 64)")
        real = np.random.default_rng(seed).uniform(-1, 1, (64, IMAGE[0] * IMAGE[1])).astype(np.float32)
        breakdown = time_by_layer(real, 3 if quick else 20, seed, batchnorm)
    G, D = build(seed, batchnorm=batchnorm)
    return {"rows": rows, "breakdown_ms": breakdown, "minigan_threads": minigan_threads, "batchnorm": batchnorm,
            "pytorch_threads": torch_threads, "params": {"G": G.num_params(), "D": D.num_params()},
            "flops_parts_per_sample": {k: flops(v) for k, v in dcgan_products(G, D, 1).items()}}
