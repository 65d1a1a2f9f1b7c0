"""Copy-paste (the article's section 5.2, item 4): are generated images near-copies of
training images?

For each generated image, the Euclidean distance to its nearest training image; the
same for held-out real images, which the model never saw and so are the reference for
"how close does a new, genuine image come to the training set".  A generated image is a
*near-copy* when it is closer to a training image than ``quantile`` (default 1 %) of
the held-out images are.  A model that memorises shows a generated distance
distribution shifted left of the held-out one and a near-copy fraction far above 1 %.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Distance from each row of ``queries`` (N, D) to its nearest row of ``reference`` (M, D)."""
    q = np.asarray(queries, np.float64)
    r = np.asarray(reference, np.float64)
    r_sq = np.sum(r**2, axis=1)
    out = np.empty(len(q))
    for start in range(0, len(q), chunk):
        qb = q[start:start + chunk]
        d2 = np.sum(qb**2, axis=1, keepdims=True) - 2 * qb @ r.T + r_sq
        out[start:start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0))
    return out


@dataclass(frozen=True)
class Memorisation:
    generated_median: float
    heldout_median: float
    threshold: float
    near_copy_fraction: float
    heldout_fraction: float

    def as_dict(self) -> dict:
        return asdict(self)


def memorisation(generated, train, heldout, quantile: float = 0.01) -> Memorisation:
    """Nearest-training-image distances of generated vs held-out images, and near-copies."""
    g = nearest_distances(generated, train)
    h = nearest_distances(heldout, train)
    threshold = float(np.quantile(h, quantile))
    return Memorisation(float(np.median(g)), float(np.median(h)), threshold,
                        float(np.mean(g < threshold)), float(np.mean(h < threshold)))
