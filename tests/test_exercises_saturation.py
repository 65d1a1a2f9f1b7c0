"""The bce_with_logits and generator_gradient checkers at saturated logits.

A discriminator that wins confidently (logits of -1e2 and beyond on the fakes, for
thousands of steps of the chapter 4 run) is where a gradient computed through the
probability p = sigmoid(logit) turns NaN although it is exact at ordinary logits.  The
checkers must fail such answers with the hint that names that mistake, name an overflow
on the side where it happens, tell a float64 -> float32 downcast apart from an upcast,
and still pass correct answers written in other stable forms.
"""

from __future__ import annotations

import exercise_answers as answers  # tests/ is on sys.path (pytest's default import mode)
import numpy as np
import pytest

from minigan.exercises import _bce, _generator, check
from minigan.nn.activations import sigmoid

# --------------------------------------------------------------------------------------
# Correct answers written differently: each must pass every check.


def bce_logaddexp_tanh(logits, targets):
    """Loss with np.logaddexp (softplus), gradient with the tanh form of sigmoid."""
    z, y = logits, np.asarray(targets, dtype=logits.dtype)
    loss = np.mean(np.logaddexp(0.0, z) - z * y)
    return float(loss), (0.5 * (1 + np.tanh(0.5 * z)) - y) / z.size


def bce_minigan_sigmoid(logits, targets):
    """minigan's own sigmoid for the gradient, a piecewise np.where loss."""
    z, y = logits, np.asarray(targets, dtype=logits.dtype)
    a = np.abs(z)
    loss = np.mean(np.where(z >= 0, z, 0) - z * y + np.log1p(np.exp(-a)))
    return float(loss), (sigmoid(z) - y) / z.size


def _chain(G, D, z, dlogits_of):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    return G.backward(d_fake, g_cache)[1]


def gg_logaddexp(G, D, z):
    """p = exp(-log(1 + exp(-l))), never overflows."""
    return _chain(G, D, z, lambda l: (np.exp(-np.logaddexp(0.0, -l)) - 1) / l.size)


def gg_minus_sigmoid_of_minus_l(G, D, z):
    """sigmoid(l) - 1 = -sigmoid(-l) = -exp(-softplus(l))."""
    return _chain(G, D, z, lambda l: -np.exp(-np.logaddexp(0.0, l)) / l.size)


def gg_where_stable_sigmoid(G, D, z):
    def dlogits(l):
        e = np.exp(-np.abs(l))
        p = np.where(l >= 0, 1 / (1 + e), e / (1 + e))
        return -(1 - p) / l.size
    return _chain(G, D, z, dlogits)


def gg_minigan_sigmoid(G, D, z):
    return _chain(G, D, z, lambda l: (sigmoid(l) - 1) / l.size)


def gg_tanh(G, D, z):
    return _chain(G, D, z, lambda l: (0.5 * (1 + np.tanh(0.5 * l)) - 1) / l.size)


CORRECT = [
    ("bce_with_logits", bce_logaddexp_tanh), ("bce_with_logits", bce_minigan_sigmoid),
    ("generator_gradient", gg_logaddexp), ("generator_gradient", gg_minus_sigmoid_of_minus_l),
    ("generator_gradient", gg_where_stable_sigmoid), ("generator_gradient", gg_minigan_sigmoid),
    ("generator_gradient", gg_tanh),
]


@pytest.mark.parametrize("name, answer", CORRECT, ids=[f"{n}:{a.__name__}" for n, a in CORRECT])
def test_correct_answers_written_differently_pass(name, answer):
    result = check(name, answer)
    assert result, str(result)


# --------------------------------------------------------------------------------------
# generator_gradient: saturated discriminators.

SATURATED_ROW = "饱和的判别器"


def rows(result):
    return {r.name: r for r in result.rows}


def saturated_row(result):
    (row,) = [r for r in result.rows if SATURATED_ROW in r.name]
    return row


def test_the_saturated_networks_reach_both_signs_in_both_dtypes():
    seen = set()
    for case in _generator.EXERCISE.regimes[0].cases(0)[1:]:  # after the unsaturated control case
        (G, D, z), sign = case.args, -1 if "判为假" in case.label else 1
        dtype, logits = z.dtype, D(G(z))
        assert logits.dtype == dtype
        if sign < 0:
            assert logits.max() <= -99 and logits.min() <= -1000
        else:
            assert logits.min() >= 99 and logits.max() >= 1000
        # the reference stays finite, and large where D rejects: the non-saturating gradient
        ref = _generator.reference(G, D, z)
        assert all(np.all(np.isfinite(g)) for g in ref.values())
        seen.add((np.dtype(dtype).name, sign))
    assert seen == {("float32", -1), ("float32", 1), ("float64", -1), ("float64", 1)}


def test_gradient_through_probability_fails_only_at_saturation_with_the_probability_hint():
    result = check("generator_gradient", answers.gg_through_probability)
    assert not result
    failed = [r.name for r in result.failed]
    assert failed == [saturated_row(result).name], str(result)  # exact everywhere else
    row = saturated_row(result)
    assert "NaN" in row.detail and "判为假" in row.detail
    assert row.hint == _generator.THROUGH_P
    for word in ("经过了概率 p", "1/p 上溢为 inf", "0 · inf = NaN", "dL/dlogit = (sigmoid(l) - 1)/N"):
        assert word in row.hint


def test_exp_ratio_sigmoid_is_blamed_on_the_positive_side():
    row = saturated_row(check("generator_gradient", answers.gg_sigmoid_as_exp_ratio))
    assert row.status == "FAIL" and "判为真" in row.detail
    assert row.hint == _generator.EXP_OVERFLOW


def test_eps_against_division_by_zero_is_told_that_the_gradient_vanished():
    row = saturated_row(check("generator_gradient", answers.gg_eps_in_probability))
    assert row.status == "FAIL" and row.hint == _generator.VANISHED


# --------------------------------------------------------------------------------------
# bce_with_logits: float32 logits of +-1e2 are among the extremes; overflow named per side.

def test_extremes_include_float32_logits_of_100():
    assert {100.0, -100.0} <= set(_bce.EXTREME_Z.tolist())
    names = [r.name for r in check("bce_with_logits", bce_logaddexp_tanh).rows]
    assert any("1e4" in n and "±100" in n and "float32" in n for n in names)


@pytest.mark.parametrize("answer, here, not_there", [
    (answers.bce_softplus_overflows_for_negative_z, "在 z = -1e4", "在 z = +"),
    (answers.bce_naive_sigmoid_in_gradient, "在 z = -1e4", "在 z = +"),
    (answers.bce_sigmoid_as_exp_ratio, "在 z = +1e4", "在 z = -"),
])
def test_overflow_is_named_on_the_side_where_it_happens(answer, here, not_there):
    result = check("bce_with_logits", answer)
    assert not result
    hints = " ".join(result.hints)
    assert here in hints and not_there not in hints, str(result)


def test_naive_logs_overflow_on_both_sides():
    hints = " ".join(check("bce_with_logits", answers.bce_naive_logs).hints)
    assert "在 z = -1e4" in hints and "在 z = +1e4" in hints and "np.log(0) = -inf" in hints


# --------------------------------------------------------------------------------------
# float64 -> float32: a downcast is not an upcast.

@pytest.mark.parametrize("name, answer, words", [
    ("bce_with_logits", answers.bce_downcasts_to_float32, "dtype 被降低了"),
    ("bce_with_logits", answers.bce_computes_in_float32, "只在 float32 的精度上正确"),
    ("generator_gradient", answers.gg_returns_float32, "dtype 被降低了"),
    ("generator_gradient", answers.gg_downcasts_logits, "只在 float32 的精度上正确"),
])
def test_downcasts_are_told_as_downcasts(name, answer, words):
    result = check(name, answer)
    assert not result
    hints = " ".join(result.hints)
    assert words in hints and "dtype 被提升了" not in hints and "接近但不精确" not in hints, str(result)
