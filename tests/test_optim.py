"""Optimisers against steps computed by hand, regularisation, state round trips, errors."""

import math

import numpy as np
import pytest

from minigan.optim import SGD, Adam, make_optimizer


def one_param(values, dtype=np.float64):
    return {"w": np.array(values, dtype=dtype)}


def test_sgd_plain_step():
    p = one_param([1.0, -2.0])
    SGD(p, lr=0.1).step({"w": np.array([0.5, -1.0])})
    np.testing.assert_allclose(p["w"], [1.0 - 0.05, -2.0 + 0.1], rtol=1e-15)


def test_sgd_momentum_two_steps_by_hand():
    p = one_param([1.0])
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step({"w": np.array([1.0])})  # v = 1,            w = 1 - 0.1 = 0.9
    opt.step({"w": np.array([2.0])})  # v = 0.9 + 2 = 2.9, w = 0.9 - 0.29 = 0.61
    assert p["w"][0] == pytest.approx(0.61, rel=1e-14)


def test_sgd_nesterov_two_steps_by_hand():
    p = one_param([1.0])
    opt = SGD(p, lr=0.1, momentum=0.9, nesterov=True)
    opt.step({"w": np.array([1.0])})  # v = 1,   update g + 0.9 v = 1.9,  w = 0.81
    opt.step({"w": np.array([2.0])})  # v = 2.9, update 2 + 2.61 = 4.61,   w = 0.81 - 0.461
    assert p["w"][0] == pytest.approx(0.349, rel=1e-13)


def test_sgd_l2_and_l1_terms():
    p = one_param([2.0, -3.0])
    SGD(p, lr=0.5, weight_decay=0.1, l1=0.01).step({"w": np.zeros(2)})
    # g = 0.1 * w + 0.01 * sign(w) = [0.21, -0.31]
    np.testing.assert_allclose(p["w"], [2.0 - 0.105, -3.0 + 0.155], rtol=1e-14)


def adam_by_hand(w, grads, lr, b1, b2, eps):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_adam_first_step_is_lr_times_sign():
    p = one_param([1.0, 1.0])
    Adam(p, lr=0.01).step({"w": np.array([3.0, -1e-3])})
    # Bias correction makes m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps).
    np.testing.assert_allclose(p["w"], [1.0 - 0.01, 1.0 + 0.01], rtol=1e-6)


def test_adam_matches_hand_computed_steps():
    grads = [0.3, -1.2, 0.05, 2.0, -0.7]
    p = one_param([0.5])
    opt = Adam(p, lr=1e-2, betas=(0.5, 0.999), eps=1e-8)
    for g in grads:
        opt.step({"w": np.array([g])})
    assert opt.t == len(grads)
    assert p["w"][0] == pytest.approx(adam_by_hand(0.5, grads, 1e-2, 0.5, 0.999, 1e-8), rel=1e-13)


def test_adam_weight_decay_and_l1_are_added_to_the_gradient():
    p = one_param([2.0])
    Adam(p, lr=0.1, weight_decay=0.5, l1=0.25).step({"w": np.array([-1.5])})
    # g = -1.5 + 0.5 * 2 + 0.25 = -0.25 -> first step is -lr * sign(g)
    assert p["w"][0] == pytest.approx(2.1, rel=1e-7)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.5, weight_decay=0.01, l1=0.001),
                                  lambda p: Adam(p, lr=1e-3, weight_decay=0.01, l1=0.001)])
def test_float32_kept_and_grads_not_modified(make):
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((4, 3)).astype(np.float32), "b": np.zeros(3, np.float32)}
    grads = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()}
    copies = {k: g.copy() for k, g in grads.items()}
    ids = {k: id(v) for k, v in params.items()}
    opt = make(params)
    for _ in range(3):
        opt.step(grads)
    for k in params:
        assert params[k].dtype == np.float32 and id(params[k]) == ids[k]  # updated in place
        np.testing.assert_array_equal(grads[k], copies[k])
    assert all(v.dtype == np.float32 for v in opt.state_dict().values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda p: Adam(p, lr=1e-2)])
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(1)
    grads = [{"w": rng.standard_normal(5)} for _ in range(6)]
    a = one_param(np.ones(5))
    opt_a = make(a)
    for g in grads[:3]:
        opt_a.step(g)
    state = opt_a.state_dict()
    assert all(isinstance(v, (int, float, bool, np.ndarray)) for v in state.values())
    b = {"w": a["w"].copy()}
    opt_b = make(b)
    opt_b.load_state_dict(state)
    for g in grads[3:]:
        opt_a.step(g)
        opt_b.step(g)
    np.testing.assert_array_equal(a["w"], b["w"])


def test_load_state_dict_rejects_mismatch():
    opt = Adam(one_param(np.ones(3)))
    state = opt.state_dict()
    other = Adam(one_param(np.ones(4)))
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="keys"):
        Adam({"v": np.ones(3)}).load_state_dict(state)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0),
        lambda p: SGD(p, lr=-1.0),
        lambda p: SGD(p, lr=0.1, momentum=1.0),
        lambda p: SGD(p, lr=0.1, nesterov=True),
        lambda p: SGD(p, lr=float("nan")),
        lambda p: Adam(p, lr=0.0),
        lambda p: Adam(p, betas=(1.0, 0.999)),
        lambda p: Adam(p, betas=(0.5,)),
        lambda p: Adam(p, eps=-1.0),
        lambda p: Adam(p, weight_decay=-0.1),
        lambda p: Adam(p, l1=float("inf")),
        lambda p: Adam({}),
        lambda p: make_optimizer("rmsprop", p),
    ],
)
def test_invalid_hyperparameters_raise(make):
    with pytest.raises(ValueError):
        make(one_param([1.0]))


def test_step_rejects_wrong_gradients():
    opt = Adam(one_param([1.0, 2.0]))
    with pytest.raises(ValueError, match="missing"):
        opt.step({"x": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        opt.step({"w": np.zeros(3)})


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-12, 1e-15), (np.float32, 2e-6, 1e-6)])
def test_in_place_adam_equals_its_plain_form(dtype, rtol, atol):
    """``Adam._update`` (in place, rewritten last line, chunked over large arrays) and
    ``adam_reference`` (the definition's three lines) give the same parameters and moments,
    step after step, on an array large enough to be updated in chunks."""
    from minigan.optim import adam_reference

    rng = np.random.default_rng(0)
    start = rng.standard_normal(300_000).astype(dtype)
    params = {"w": start.copy()}
    opt = Adam(params, lr=3e-3, betas=(0.5, 0.999), eps=1e-8)
    p, m, v = start.astype(np.float64), np.zeros(start.size), np.zeros(start.size)
    for t in range(1, 6):
        g = (rng.standard_normal(start.size) * 10.0 ** rng.integers(-4, 2)).astype(dtype)
        opt.step({"w": g})
        p, m, v = adam_reference(p, g.astype(np.float64), m, v, t, 3e-3, 0.5, 0.999, 1e-8)
        assert params["w"].dtype == dtype
        # float32: parameters of size ~1 hold about 1e-7 absolutely, whatever the formula
        np.testing.assert_allclose(params["w"], p, rtol=rtol, atol=atol)
        # the moments sum gradients of up to 10: float32 holds them to about 1e-6 absolutely
        np.testing.assert_allclose(opt.state["m"]["w"], m, rtol=rtol, atol=10 * atol)
        np.testing.assert_allclose(opt.state["v"]["w"], v, rtol=rtol, atol=100 * atol)
