"""Metrics on cases with known answers."""

import math

import numpy as np
import pytest

from minigan.metrics import (
    frechet_distance,
    frechet_distance_gaussians,
    mode_coverage,
    parzen_evaluate,
    parzen_log_likelihood,
    sqrtm_psd,
)

RING = np.array([[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)])


def test_samples_exactly_on_every_mode():
    cov = mode_coverage(np.repeat(RING, 10, axis=0), RING, 0.01)
    assert cov.modes == 8 and cov.high_quality == 1.0 and cov.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert cov.counts == (10,) * 8


def test_all_samples_on_one_mode():
    cov = mode_coverage(np.tile(RING[3], (50, 1)) + 0.005, RING, 0.01)
    assert cov.modes == 1 and cov.high_quality == 1.0
    assert cov.reverse_kl == pytest.approx(math.log(8))


def test_samples_far_from_every_mode():
    cov = mode_coverage(np.full((40, 2), 5.0), RING, 0.01)
    assert cov.modes == 0 and cov.high_quality == 0.0 and math.isinf(cov.reverse_kl)


def test_three_sigma_boundary_and_mixed_case():
    # 0.029 from mode 0 is high quality (< 0.03), 0.031 is not; 2 of 4 samples are good.
    samples = RING[[0, 0, 1, 1]] + np.array([[0.029, 0], [0.031, 0], [0, 0], [0.5, 0.5]])
    cov = mode_coverage(samples, RING, 0.01)
    assert cov.high_quality == 0.5 and cov.modes == 2
    assert cov.reverse_kl == pytest.approx(math.log(8 / 2))


def test_mode_coverage_of_true_samples_is_high():
    rng = np.random.default_rng(0)
    samples = RING[rng.integers(0, 8, 2500)] + rng.standard_normal((2500, 2)) * 0.01
    cov = mode_coverage(samples, RING, 0.01)
    # Within 3 sigma of a 2-D Gaussian: 1 - exp(-9/2) = 98.9 %.
    assert cov.modes == 8 and cov.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert cov.reverse_kl < 0.01


def test_parzen_matches_the_analytic_density_of_a_gaussian():
    """KDE of N(0, s^2 I) samples with bandwidth b tends to the density of N(0, (s^2 + b^2) I)."""
    rng = np.random.default_rng(0)
    d, s, b = 2, 1.0, 0.5
    centres = rng.standard_normal((20000, d)) * s
    x = rng.standard_normal((2000, d)) * s
    mean, stderr = parzen_log_likelihood(centres, x, b, chunk=256)
    v = s**2 + b**2
    exact = np.mean(-d / 2 * math.log(2 * math.pi * v) - np.sum(x**2, axis=1) / (2 * v))
    # Tolerance 0.02 nats: the finite-sample KDE error at M = 20,000 in 2-D is ~0.005.
    assert mean == pytest.approx(exact, abs=0.02)
    assert 0 < stderr < 0.05


def test_parzen_selects_the_better_sigma_and_chunks_do_not_matter():
    rng = np.random.default_rng(1)
    centres, val, test = (rng.standard_normal((n, 3)) * 0.3 for n in (3000, 300, 300))
    result = parzen_evaluate(centres, val, test, sigmas=(0.01, 0.15, 5.0))
    assert result.sigma == 0.15
    a = parzen_log_likelihood(centres, test, 0.15, chunk=7)
    b = parzen_log_likelihood(centres, test, 0.15, chunk=10000)
    assert a[0] == pytest.approx(b[0], rel=1e-12)


def test_frechet_distance_identical_sets_is_zero():
    feats = np.random.default_rng(0).standard_normal((500, 6))
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance_gaussians([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1)
    # Commuting (diagonal) covariances: sum of the per-axis 1-D distances.
    c1, c2 = np.diag([1.0, 4.0, 0.25]), np.diag([9.0, 1.0, 0.25])
    assert frechet_distance_gaussians(np.zeros(3), c1, np.ones(3), c2) == pytest.approx(3 + (1 - 3) ** 2 + (2 - 1) ** 2)
    # A rotated pair: rotating both covariances by the same matrix changes nothing.
    q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((3, 3)))
    rotated = frechet_distance_gaussians(np.zeros(3), q @ c1 @ q.T, np.ones(3) @ q.T, q @ c2 @ q.T)
    assert rotated == pytest.approx(3 + 4 + 1, rel=1e-9)


def test_frechet_distance_of_samples_approaches_closed_form():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((20000, 2))
    b = rng.standard_normal((20000, 2)) * 2 + 1
    assert frechet_distance(a, b) == pytest.approx(2 * 1 + 2 * (2 - 1) ** 2, rel=0.03)


def test_sqrtm_psd_squares_back():
    m = np.random.default_rng(4).standard_normal((5, 5))
    a = m @ m.T
    r = sqrtm_psd(a)
    np.testing.assert_allclose(r @ r, a, rtol=1e-10, atol=1e-10)
