"""An exponential moving average of the generator's weights (Yazıcı et al. 2019;
Karras et al. 2018): sample from the average, not from the last iterate.

G's weights oscillate from step to step as D and G chase each other (article section
6.2: the samples' noise and blur partly *is* that oscillation).  With decay ``beta``,
after every G update::

    theta_ema <- beta * theta_ema + (1 - beta) * theta

an average over roughly the last ``1 / (1 - beta)`` steps (1,000 for 0.999).  Training
never reads ``theta_ema``; pictures, ``minigan sample`` and the metrics do.
"""

from __future__ import annotations

import numpy as np


class EMA:
    """Keep ``target``'s parameters an exponential moving average of ``source``'s.

    ``source`` and ``target`` are two modules of the same architecture (``target``
    usually a copy of ``source``: the average starts at the initial weights).  The
    arrays of ``target.params()`` are updated in place, so ``target`` can be used as a
    network at any time.  Updates stay in the parameters' dtype (a Python float decay
    does not promote float32).
    """

    def __init__(self, source, target, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA: decay must be in (0, 1), got {decay!r}")
        src, dst = source.params(), target.params()
        if src.keys() != dst.keys() or any(src[k].shape != dst[k].shape for k in src):
            raise ValueError("EMA: source and target must have the same parameter names and shapes")
        self.source, self.target, self.decay = source, target, float(decay)

    def update(self) -> None:
        """``target <- decay * target + (1 - decay) * source``, parameter by parameter."""
        src = self.source.params()
        for name, avg in self.target.params().items():
            # avg - (1 - decay) * (avg - p): the same average with one temporary.
            delta = avg - src[name]
            delta *= 1.0 - self.decay
            avg -= delta


def copy_params(source, target) -> None:
    """Copy every parameter of ``source`` into ``target`` (same names and shapes) in place."""
    src = source.params()
    for name, p in target.params().items():
        np.copyto(p, src[name])
