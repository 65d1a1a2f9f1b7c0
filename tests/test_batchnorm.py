"""Batch normalisation: the training pass standardises with the batch's statistics and
keeps PyTorch's running averages; the evaluation pass uses them; the backward pass is
the full derivation (checked in float64, with properties a partial derivation breaks)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.gradcheck import check_module
from minigan.nn import BatchNorm1d, BatchNorm2d

seeds = st.integers(0, 2**31 - 1)


def affine(bn, rng):
    bn.gamma[...] = rng.uniform(0.5, 2.0, bn.gamma.shape)
    bn.beta[...] = rng.standard_normal(bn.beta.shape)
    return bn


def test_training_pass_standardises_each_feature():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 0.0]
    y, _ = BatchNorm1d(3, dtype=np.float64).forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    # biased variance in the normalisation: var(y) = var / (var + eps)
    np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5), rtol=1e-10)


def test_a_small_example_by_hand():
    """x = (1, 2, 3, 6): mean 3, biased variance 3.5, unbiased 14/3."""
    bn = BatchNorm1d(1, eps=0.5, momentum=0.25, dtype=np.float64)
    bn.gamma[0], bn.beta[0] = 2.0, 1.0
    y, _ = bn.forward(np.array([[1.0], [2.0], [3.0], [6.0]]))
    np.testing.assert_allclose(y.ravel(), 1.0 + 2.0 * np.array([-2.0, -1.0, 0.0, 3.0]) / 2.0)  # sqrt(3.5 + 0.5) = 2
    assert bn.running_mean[0] == pytest.approx(0.75 * 0.0 + 0.25 * 3.0)
    assert bn.running_var[0] == pytest.approx(0.75 * 1.0 + 0.25 * 14.0 / 3.0)
    # evaluation: (x - 0.75) / sqrt(running_var + 0.5) * 2 + 1, each row on its own
    rv = 0.75 + 0.25 * 14.0 / 3.0
    assert bn(np.array([[4.0]]))[0, 0] == pytest.approx((4.0 - 0.75) / np.sqrt(rv + 0.5) * 2.0 + 1.0)


def test_running_averages_follow_pytorchs_rule_over_steps():
    rng = np.random.default_rng(1)
    bn = BatchNorm1d(4, momentum=0.1, dtype=np.float64)
    mean, var = np.zeros(4), np.ones(4)
    for _ in range(5):
        x = rng.standard_normal((8, 4)) * 3 + 2
        bn.forward(x)
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)
    assert set(bn.buffers()) == {"running_mean", "running_var"}


def test_evaluation_rows_are_independent_training_rows_are_not():
    rng = np.random.default_rng(2)
    bn = affine(BatchNorm1d(3, dtype=np.float64), rng)
    x = rng.standard_normal((6, 3))
    bn.forward(x)
    np.testing.assert_array_equal(bn(x)[:1], bn(x[:1]))
    other = x.copy()
    other[1:] += 5.0
    assert not np.allclose(bn.forward(x)[0][0], bn.forward(other)[0][0])


def test_batchnorm2d_is_per_channel_over_batch_and_positions():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 5, 2)) * [1.0, 7.0] + [0.0, 3.0]  # channels last
    y, _ = BatchNorm2d(2, dtype=np.float64).forward(x.reshape(4, -1))
    y = y.reshape(4, 5, 5, 2)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, rtol=1e-3)


@pytest.mark.parametrize("make, shape", [
    (lambda: BatchNorm1d(5, dtype=np.float64), (7, 5)),
    (lambda: BatchNorm1d(1, dtype=np.float64), (3, 1)),
    (lambda: BatchNorm2d(3, dtype=np.float64), (2, 4 * 4 * 3)),
])
def test_gradients_match_finite_differences(make, shape):
    rng = np.random.default_rng(4)
    report = check_module(affine(make(), rng), rng.standard_normal(shape) * 2 + 1, rng=rng)
    assert report.passed, str(report)


@given(st.integers(2, 9), st.integers(1, 4), seeds)
def test_input_gradient_is_orthogonal_to_ones_and_xhat(m, f, seed):
    """The mean and variance terms make dx sum to zero over the batch and be orthogonal to
    xhat (exactly so at eps = 0: y does not change when x is shifted or scaled); a backward
    that treats mu and var as constants has neither property."""
    rng = np.random.default_rng(seed)
    bn = affine(BatchNorm1d(f, eps=1e-300, dtype=np.float64), rng)
    x = rng.standard_normal((m, f))
    y, cache = bn.forward(x)
    dy = rng.standard_normal(y.shape)
    dx, _ = bn.backward(dy, cache)
    xhat, istd = cache
    scale = m * np.abs(dy).max() * np.abs(bn.gamma).max() * istd.max()  # the size of each term of dx
    np.testing.assert_allclose(dx.sum(axis=0) / scale, 0.0, atol=1e-12)
    np.testing.assert_allclose((dx * xhat).sum(axis=0) / scale, 0.0, atol=1e-12)


def test_treating_the_statistics_as_constants_fails_the_check():
    rng = np.random.default_rng(5)
    bn = affine(BatchNorm1d(3, dtype=np.float64), rng)
    correct = bn.backward

    def constants_backward(dy, cache):
        xhat, istd = cache
        _, grads = correct(dy, cache)
        return dy * bn.gamma * istd, grads

    bn.backward = constants_backward
    assert not check_module(bn, rng.standard_normal((6, 3)), rng=rng).passed


def test_float32_stays_float32():
    bn = BatchNorm2d(4)
    x = np.random.default_rng(6).standard_normal((3, 2 * 2 * 4)).astype(np.float32)
    y, cache = bn.forward(x)
    dx, grads = bn.backward(np.ones_like(y), cache)
    assert y.dtype == dx.dtype == bn(x).dtype == np.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("call, words", [
    (lambda: BatchNorm1d(3).forward(np.zeros((1, 3), np.float32)), "at least 2 values per feature"),
    (lambda: BatchNorm2d(3).forward(np.zeros((4, 10), np.float32)), "not whole images with 3 channels"),
    (lambda: BatchNorm1d(0), "num_features must be a positive integer"),
    (lambda: BatchNorm1d(2, momentum=1.5), "momentum must be in [0, 1]"),
])
def test_errors_name_the_problem(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
