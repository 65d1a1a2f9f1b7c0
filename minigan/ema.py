"""An exponential moving average of the generator's weights (Yazıcı et al. 2019;
Karras et al. 2018): sample from the average, not from the last iterate.

G's weights oscillate from step to step as D and G chase each other (article section
6.2: the samples' noise and blur partly *is* that oscillation).  With decay ``beta``,
after every G update::

    theta_ema <- beta * theta_ema + (1 - beta) * theta

an average over roughly the last ``1 / (1 - beta)`` steps (1,000 for 0.999).  Training
never reads ``theta_ema``; pictures, ``minigan sample`` and the metrics do.

Buffers are averaged the same way.  A generator with batch norm samples in evaluation
mode, with its running mean and variance; the averaged weights need statistics that
match them, and the running averages of the last iterates' activations, averaged with
the same decay, are the closest at hand without an extra pass over fresh noise (timm's
``ModelEmaV2`` averages a whole state dict, buffers included, for the same reason).
"""

from __future__ import annotations

import numpy as np


class EMA:
    """Keep ``target``'s parameters (and buffers) an exponential moving average of ``source``'s.

    ``source`` and ``target`` are two modules of the same architecture (``target``
    usually a copy of ``source``: the average starts at the initial weights).  The
    arrays of ``target.params()`` are updated in place, so ``target`` can be used as a
    network at any time.  Updates stay in the parameters' dtype (a Python float decay
    does not promote float32).
    """

    def __init__(self, source, target, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA: decay must be in (0, 1), got {decay!r}")
        src, dst = _state(source), _state(target)
        if src.keys() != dst.keys() or any(src[k].shape != dst[k].shape for k in src):
            raise ValueError("EMA: source and target must have the same parameter and buffer names and shapes")
        self.source, self.target, self.decay = source, target, float(decay)

    def update(self) -> None:
        """``target <- decay * target + (1 - decay) * source``, parameter by parameter and
        buffer by buffer."""
        src = _state(self.source)
        for name, avg in _state(self.target).items():
            # avg - (1 - decay) * (avg - p): the same average with one temporary.
            delta = avg - src[name]
            delta *= 1.0 - self.decay
            avg -= delta


def _state(module) -> dict[str, np.ndarray]:
    """Parameters and buffers (prefixed, so a buffer is never taken for a parameter)."""
    buffers = module.buffers() if hasattr(module, "buffers") else {}
    return {**module.params(), **{f"buffer:{k}": v for k, v in buffers.items()}}


def copy_params(source, target) -> None:
    """Copy every parameter of ``source`` into ``target`` (same names and shapes) in place."""
    src = source.params()
    for name, p in target.params().items():
        np.copyto(p, src[name])
