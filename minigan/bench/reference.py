"""The same training step in PyTorch (eager, CPU), written the fastest idiomatic way.

Same shapes and maths as :meth:`minigan.GAN.train_step`: G and D of the article with
hidden width ``width``, leaky ReLU 0.2, float32, Adam(2e-4, betas (0.5, 0.999)) for both,
non-saturating G loss; one D step on real + fake (the fake batch made under
``torch.no_grad()``), then one G step with D's parameters frozen
(``requires_grad_(False)``), so autograd computes neither D's weight gradients nor
anything for z.  Adam is ``fused=True`` where this PyTorch supports it on the CPU, else
``foreach=True``.  Initialisation is PyTorch's default (the shapes, not the values,
set the cost).  The step returns the same four numbers as minigan's ``StepStats``.

Only this module imports torch, and only when called.
"""

from __future__ import annotations

import numpy as np


def torch_default_threads() -> int:
    """``torch.get_num_threads()`` of a freshly imported torch (call before changing anything)."""
    import torch

    return torch.get_num_threads()


def make_torch_step(real: np.ndarray, *, width: int = 128, z_dim: int = 100, depth: int = 3, seed: int = 0):
    """Build the PyTorch models and return ``(step, info)``; ``step()`` runs one training step.

    ``real`` is the (N, 784) float32 batch used by every step; ``info`` says which Adam
    implementation was used.
    """
    import torch
    from torch import nn
    from torch.nn.functional import binary_cross_entropy_with_logits as bce

    torch.manual_seed(seed)
    n, out_dim = real.shape

    def mlp(sizes, last=None):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.LeakyReLU(0.2))
        if last is not None:
            layers.append(last)
        return nn.Sequential(*layers)

    G = mlp((z_dim, *[width] * depth, out_dim), nn.Tanh())
    D = mlp((out_dim, *[width] * depth, 1))
    kind = "fused"
    try:
        g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=True)
        d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=True)
    except (RuntimeError, TypeError, ValueError):
        kind = "foreach"
        g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True)
        d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), foreach=True)
    x = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32))
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)

    def step():
        # D step: fakes without a graph, one pass of D over real + fake.
        with torch.no_grad():
            fake = G(torch.randn(n, z_dim))
        logits = D(torch.cat([x, fake]))
        d_loss = bce(logits[:n], ones) + bce(logits[n:], zeros)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        probs = logits.detach().sigmoid()
        # G step: D frozen, gradient through D into G only.
        D.requires_grad_(False)
        g_loss = bce(D(G(torch.randn(n, z_dim))), ones)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        D.requires_grad_(True)
        return d_loss.item(), g_loss.item(), probs[:n].mean().item(), probs[n:].mean().item()

    return step, {"adam": kind, "version": torch.__version__}
