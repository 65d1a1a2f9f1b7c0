"""Packing (PacGAN, Lin et al. 2018): let the discriminator judge m samples at once.

``Pack(D, m)`` turns a batch of N samples (N, d) into N/m *packs* (N/m, m d) by
concatenating m consecutive rows, and runs ``D`` (built for m d inputs) on the packs::

    forward:   x (N, d) -> packs (N/m, m d) -> D -> logits (N/m, 1)
    backward:  d logits -> D.backward -> d packs (N/m, m d) -> reshape -> dx (N, d)

A reshape of a C-contiguous array is a view, so packing costs nothing, and the
backward pass is the same reshape in reverse.  A pack is all real or all fake as long
as the real and the generated rows are stacked in multiples of m, which is how
:class:`minigan.gan.GAN` stacks them.  A D that sees m samples together can notice
that they are too alike: the remedy for mode collapse that needs no change to G.
"""

from __future__ import annotations

import numpy as np

from .module import Module, backward


class Pack(Module):
    """Run ``module`` on packs of ``m`` consecutive samples (see the module docstring)."""

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, module: Module, m: int):
        if not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"Pack: m must be a positive integer, got {m!r}")
        self.module = module
        self.m = int(m)

    def __repr__(self) -> str:
        return f"Pack(m={self.m}, {self.module!r})"

    def params(self) -> dict[str, np.ndarray]:
        return self.module.params()

    def buffers(self) -> dict[str, np.ndarray]:
        return self.module.buffers() if hasattr(self.module, "buffers") else {}

    def update_buffers(self) -> None:
        if hasattr(self.module, "update_buffers"):
            self.module.update_buffers()

    def pack(self, x: np.ndarray) -> np.ndarray:
        """(N, d) -> (N/m, m d); N must be a multiple of m."""
        if not isinstance(x, np.ndarray) or x.ndim != 2:
            raise ValueError(f"{self!r}: expected a 2-D input (batch, features), got {getattr(x, 'shape', x)}")
        if x.shape[0] % self.m:
            raise ValueError(f"Pack(m={self.m}): the batch of {x.shape[0]} samples is not a multiple of {self.m}")
        return x.reshape(x.shape[0] // self.m, self.m * x.shape[1])

    def forward(self, x):
        y, cache = self.module.forward(self.pack(x))
        return y, (x.shape, cache)

    def __call__(self, x):
        return self.module(self.pack(x))

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        shape, inner = cache
        dpacks, grads = backward(self.module, dy, inner, need_dx=need_dx, need_grads=need_grads)
        return (None if dpacks is None else dpacks.reshape(shape)), grads
