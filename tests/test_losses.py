"""Losses: definitions, gradients, extreme logits, the article's formulas corrected."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.gradcheck import check_loss
from minigan.losses import bce_with_logits, discriminator_loss, generator_loss

seeds = st.integers(0, 2**31 - 1)


def log_sigmoid(a):
    """log(1 / (1 + e^-a)) = -log1p(e^-a), exact to rounding for |a| < 700 (no 1 - p)."""
    return -math.log1p(math.exp(-a))


def log_one_minus_sigmoid(a):
    """log(1 - 1 / (1 + e^-a)) = -log1p(e^a): computing 1 - p first would lose the digits
    of p near 1 (for a around 13, enough to miss rel=1e-12)."""
    return -math.log1p(math.exp(a))


def naive_bce(z, y):
    """Textbook BCE, -y log p - (1 - y) log(1 - p) with p = 1 / (1 + e^-z), written with
    log p = -log1p(e^-z) and log(1 - p) = -log1p(e^z) so it stays accurate for |z| < 700."""
    return y * math.log1p(math.exp(-z)) + (1 - y) * math.log1p(math.exp(z))


@given(n=st.integers(1, 10), scale=st.floats(0.1, 8.0), seed=seeds)
def test_bce_gradient_and_value(n, scale, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((n, 1)) * scale, rng.random((n, 1))
    report = check_loss(bce_with_logits, z, y)
    assert report.passed, str(report)
    loss, _ = bce_with_logits(z, y)
    expected = sum(naive_bce(a, b) for a, b in zip(z.ravel(), y.ravel())) / n
    assert loss == pytest.approx(expected, rel=1e-12)


@given(n=st.integers(1, 10), m=st.integers(1, 10), seed=seeds)
def test_discriminator_loss_gradients_and_value(n, m, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((n, 1)) * 3, rng.standard_normal((m, 1)) * 3
    assert check_loss(discriminator_loss, real, fake).passed
    loss, _, _ = discriminator_loss(real, fake)
    # -(E log D(x) + E log(1 - D(G(z)))): minus the value function V(D, G).
    v = np.mean([log_sigmoid(a) for a in real.ravel()]) + np.mean([log_one_minus_sigmoid(a) for a in fake.ravel()])
    assert loss == pytest.approx(-v, rel=1e-12)


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
@given(n=st.integers(1, 10), seed=seeds)
def test_generator_loss_gradients_and_value(kind, n, seed):
    rng = np.random.default_rng(seed)
    fake = rng.standard_normal((n, 1)) * 3
    assert check_loss(generator_loss, fake, kind=kind).passed
    loss, _ = generator_loss(fake, kind)
    if kind == "non_saturating":
        expected = -np.mean([log_sigmoid(a) for a in fake.ravel()])
    else:
        expected = np.mean([log_one_minus_sigmoid(a) for a in fake.ravel()])
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("logit", [13.0, 13.6641799733989, 14.0, 30.0, -30.0])
def test_minimax_value_is_exact_where_one_minus_p_loses_digits(logit):
    """The example hypothesis once found (a logit near 13.66): the library's exact
    -log1p(e^z) against a reference computed the same exact way and in higher precision."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    exact = -float((Decimal(1) + Decimal(logit).exp()).ln())
    loss, _ = generator_loss(np.array([[logit]]), "minimax")
    assert loss == pytest.approx(exact, rel=1e-14)
    assert log_one_minus_sigmoid(logit) == pytest.approx(exact, rel=1e-14)


def test_generator_loss_defaults_to_the_non_saturating_kind():
    fake = np.random.default_rng(0).standard_normal((6, 1)) * 3
    default, d_default = generator_loss(fake)
    ns, d_ns = generator_loss(fake, "non_saturating")
    mm, _ = generator_loss(fake, "minimax")
    assert default == ns and np.array_equal(d_default, d_ns) and default != mm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_and_exact(dtype):
    z = np.array([[1e4], [-1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss1, d1 = bce_with_logits(z, 1.0)
        loss0, d0 = bce_with_logits(z, 0.0)
        total, d_real, d_fake = discriminator_loss(z, z)
        ns, d_ns = generator_loss(z, "non_saturating")
        mm, d_mm = generator_loss(z, "minimax")
    # Per element: target 1 costs 0 at z = 1e4 and 1e4 at z = -1e4; mean over 2 elements.
    assert loss1 == 5000.0 and loss0 == 5000.0 and total == 10000.0
    assert ns == 5000.0 and mm == -5000.0
    # Gradients (sigmoid(z) - y) / N are exactly 0 or +-1/2.
    np.testing.assert_array_equal(d1, [[0.0], [-0.5]])
    np.testing.assert_array_equal(d0, [[0.5], [0.0]])
    np.testing.assert_array_equal(d_ns, [[0.0], [-0.5]])
    np.testing.assert_array_equal(d_mm, [[-0.5], [0.0]])
    for g in (d1, d0, d_real, d_fake, d_ns, d_mm):
        assert g.dtype == dtype


def test_minimax_saturates_where_non_saturating_does_not():
    """Section 3.4 vs 4.3: when D rejects fakes (D(G(z)) ~ 0) only the code's loss has gradient."""
    z = np.array([[-10.0]])
    _, d_minimax = generator_loss(z, "minimax")
    _, d_ns = generator_loss(z, "non_saturating")
    assert abs(d_minimax[0, 0]) < 1e-4
    assert abs(d_ns[0, 0]) > 0.99


def test_probabilities_underflow_where_logits_do_not():
    """log(sigmoid(z)) computed from a float32 probability is -inf at z = -200; the logit form is exact."""
    z = np.array([[-200.0]], dtype=np.float32)
    with np.errstate(divide="ignore", over="ignore"):
        naive = -np.log(1 / (1 + np.exp(np.float32(200))))
    assert np.isinf(naive)
    assert bce_with_logits(z, 1.0)[0] == pytest.approx(200.0)


def test_float32_preserved_and_loss_is_python_float():
    z = np.random.default_rng(0).standard_normal((5, 1)).astype(np.float32)
    loss, d = bce_with_logits(z, np.ones((5, 1), np.float32))
    assert isinstance(loss, float) and d.dtype == np.float32


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        generator_loss(np.zeros((2, 1)), "wasserstein")
    with pytest.raises(ValueError, match="do not match"):
        bce_with_logits(np.zeros((2, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="floating"):
        bce_with_logits(np.zeros((2, 1), dtype=np.int64), 1.0)
