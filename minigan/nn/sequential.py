"""A chain of modules, ``Sequential(m0, m1, ...)``: ``y = m_k(... m1(m0(x)))``."""

from __future__ import annotations

import numpy as np

from .module import Module, backward


class Sequential(Module):
    """Compose modules.  Parameters are named ``"<index>.<name>"`` (``"0.W"``, ``"0.b"``,
    ``"2.W"``, ...), nesting with more dots, so optimisers, checkpoints and gradient
    checks all key on the same names.

    The cache is the tuple of the children's caches; ``backward`` runs the children in
    reverse order, feeding each one's ``dx`` to the one before it (the chain rule).
    ``need_dx=False`` is passed on to the first child (nobody needs its ``dx``) and
    ``need_grads=False`` to every child, for the children that support them.
    """

    backward_options = frozenset({"need_dx", "need_grads"})

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if not (callable(getattr(m, "forward", None)) and callable(getattr(m, "backward", None))):
                raise ValueError(
                    f"Sequential: item {i} ({m!r}) does not follow the module protocol "
                    "(it needs forward(x) and backward(dy, cache))"
                )
        self.modules = list(modules)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}) {m!r}" for i, m in enumerate(self.modules))
        return f"Sequential(\n{inner}\n)"

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def params(self) -> dict[str, np.ndarray]:
        out = {}
        for i, m in enumerate(self.modules):
            params = m.params() if hasattr(m, "params") else {}
            for name, p in params.items():
                out[f"{i}.{name}"] = p
        return out

    def buffers(self) -> dict[str, np.ndarray]:
        out = {}
        for i, m in enumerate(self.modules):
            for name, b in (m.buffers() if hasattr(m, "buffers") else {}).items():
                out[f"{i}.{name}"] = b
        return out

    def update_buffers(self) -> None:
        for m in self.modules:
            if hasattr(m, "update_buffers"):
                m.update_buffers()

    def forward(self, x):
        caches = []
        for m in self.modules:
            x, cache = m.forward(x)
            caches.append(cache)
        return x, tuple(caches)

    def __call__(self, x):
        for m in self.modules:
            x = m(x)
        return x

    def backward(self, dy, cache, *, need_dx: bool = True, need_grads: bool = True):
        grads = {}
        for i in range(len(self.modules) - 1, -1, -1):
            dy, g = backward(self.modules[i], dy, cache[i], need_dx=need_dx or i > 0, need_grads=need_grads)
            if need_grads:
                for name, value in g.items():
                    grads[f"{i}.{name}"] = value
        return dy, grads
