"""Mode coverage on mixtures of Gaussians (the PacGAN protocol, Lin et al. 2018, Table 1).

For generated samples and the K mode centres of the data (each mode with std sigma):

* a sample is *high quality* if it lies within 3 sigma of its nearest centre;
* a mode is *captured* if at least one high-quality sample has it as nearest centre;
* reverse KL is ``KL(q || uniform)`` with q the histogram of the high-quality samples
  over their nearest modes: ``sum_k q_k log(q_k K)``, with 0 log 0 = 0.  (PacGAN's
  exact definition is not confirmed; this is minigan's, and it is 0 when every mode
  gets the same share, log K when all samples sit on one mode.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ModeCoverage:
    """``modes``: captured count; ``high_quality``: fraction in [0, 1]; ``reverse_kl``: nats."""

    modes: int
    total_modes: int
    high_quality: float
    reverse_kl: float
    counts: tuple[int, ...]

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"modes {self.modes}/{self.total_modes}, high quality {100 * self.high_quality:.1f} %, "
                f"reverse KL {self.reverse_kl:.3f}")


def nearest_centre(samples: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For samples (N, D) and centres (K, D): index of the nearest centre and the distance to it."""
    d2 = (np.sum(samples**2, axis=1, keepdims=True) - 2 * samples @ centres.T + np.sum(centres**2, axis=1))
    idx = np.argmin(d2, axis=1)
    dist = np.linalg.norm(samples - centres[idx], axis=1)  # exact, not the expanded form
    return idx, dist


def mode_coverage(samples, centres, std: float) -> ModeCoverage:
    """Apply the protocol above to ``samples`` (N, D) and ``centres`` (K, D)."""
    samples = np.asarray(samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if samples.ndim != 2 or centres.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"mode_coverage: samples {samples.shape} and centres {centres.shape} must be "
                         "(N, D) and (K, D)")
    if not std > 0:
        raise ValueError(f"mode_coverage: std must be > 0, got {std}")
    k = len(centres)
    idx, dist = nearest_centre(samples, centres)
    good = dist <= 3 * std
    counts = np.bincount(idx[good], minlength=k)
    n_good = int(counts.sum())
    if n_good:
        q = counts / n_good
        nz = q > 0
        reverse_kl = float(np.sum(q[nz] * np.log(q[nz] * k)))
    else:
        reverse_kl = float("inf")
    return ModeCoverage(
        modes=int(np.count_nonzero(counts)),
        total_modes=k,
        high_quality=n_good / len(samples) if len(samples) else 0.0,
        reverse_kl=reverse_kl,
        counts=tuple(int(c) for c in counts),
    )
