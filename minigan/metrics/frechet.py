"""Fréchet distance between two Gaussians fitted to feature sets (the FID formula,
computed here on minigan's own classifier features, so comparable only within minigan).

For means m1, m2 and covariances C1, C2::

    d^2 = ||m1 - m2||^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2})

The symmetric form ``(C1^{1/2} C2 C1^{1/2})^{1/2}`` has the same trace as the usual
``(C1 C2)^{1/2}`` and only needs square roots of symmetric positive semi-definite
matrices, which an eigendecomposition gives exactly (NumPy only, no SciPy).
"""

from __future__ import annotations

import numpy as np


def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative round-off eigenvalues -> 0)."""
    a = (a + a.T) / 2
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_gaussians(m1, c1, m2, c2) -> float:
    """The squared Fréchet distance d^2 between N(m1, c1) and N(m2, c2)."""
    m1, m2 = np.asarray(m1, np.float64), np.asarray(m2, np.float64)
    c1, c2 = np.asarray(c1, np.float64), np.asarray(c2, np.float64)
    s1 = sqrtm_psd(c1)
    cross = sqrtm_psd(s1 @ c2 @ s1)
    value = float(np.sum((m1 - m2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * np.trace(cross))
    return max(value, 0.0)


def frechet_distance(features_a, features_b) -> float:
    """d^2 between Gaussians fitted (mean, covariance) to two feature sets (N, F) and (M, F)."""
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance: need two (N, F) feature sets with N >= 2, got {a.shape}, {b.shape}")
    return frechet_distance_gaussians(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
