"""Layers: gradients against finite differences (float64), dtype, errors, protocol."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.gradcheck import away_from_kink, check_module
from minigan.nn import Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh, init, sigmoid

TOL = 1e-7
batches = st.integers(1, 8)
widths = st.integers(1, 7)
seeds = st.integers(0, 2**31 - 1)


def inputs(seed, shape, scale, dtype=np.float64):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return away_from_kink(x, 1e-3).astype(dtype)


@given(n=batches, d_in=widths, d_out=widths, scale=st.floats(0.1, 10.0), seed=seeds)
def test_dense_gradients(n, d_in, d_out, scale, seed):
    layer = Dense(d_in, d_out, dtype=np.float64, rng=seed)
    layer.b[:] = np.random.default_rng(seed + 1).standard_normal(d_out)  # non-zero bias too
    report = check_module(layer, inputs(seed, (n, d_in), scale), rng=seed)
    assert report.passed, str(report)
    assert report.max_error < TOL


@given(n=batches, d=widths, alpha=st.floats(0.0, 1.0), scale=st.floats(0.01, 1000.0), seed=seeds)
def test_leaky_relu_gradients(n, d, alpha, scale, seed):
    report = check_module(LeakyReLU(alpha), inputs(seed, (n, d), scale), rng=seed)
    assert report.passed, str(report)


@given(n=batches, d=widths, scale=st.floats(0.01, 100.0), seed=seeds)
def test_relu_gradients(n, d, scale, seed):
    assert check_module(ReLU(), inputs(seed, (n, d), scale), rng=seed).passed


# Beyond |x| ~ 4 tanh' and sigmoid' fall below ~1e-3 of their peak and a central
# difference can no longer resolve them to 1e-7 relative; scales stay below that.
@given(n=batches, d=widths, scale=st.floats(0.05, 1.5), seed=seeds)
def test_tanh_gradients(n, d, scale, seed):
    report = check_module(Tanh(), inputs(seed, (n, d), scale), rng=seed)
    assert report.passed, str(report)


@given(n=batches, d=widths, scale=st.floats(0.05, 3.0), seed=seeds)
def test_sigmoid_gradients(n, d, scale, seed):
    report = check_module(Sigmoid(), inputs(seed, (n, d), scale), rng=seed)
    assert report.passed, str(report)


activation_kinds = st.sampled_from(["leaky", "relu", "tanh", "sigmoid"])


def make_activation(kind, alpha):
    return {"leaky": LeakyReLU(alpha), "relu": ReLU(), "tanh": Tanh(), "sigmoid": Sigmoid()}[kind]


@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    kinds=st.lists(activation_kinds, min_size=4, max_size=4),
    alpha=st.floats(0.05, 0.5),
    n=batches,
    seed=seeds,
)
def test_sequential_gradients(sizes, kinds, alpha, n, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [Dense(a, b, dtype=np.float64, rng=rng), make_activation(kinds[i], alpha)]
    net = Sequential(*layers)
    x = inputs(seed, (n, sizes[0]), 1.0)
    # Keep every pre-activation off the kink (checked, not assumed); skip draws that are not.
    h = x
    for layer in net.modules:
        h = layer(h)
        if isinstance(layer, Dense):
            if np.min(np.abs(h)) < 1e-3:  # the 4th-order stencil reaches 2h = 2e-4
                return
    report = check_module(net, x, rng=seed)
    assert report.passed, str(report)
    checked = {row.name for row in report.rows}
    assert {f"{2 * i}.{p}" for i in range(len(sizes) - 1) for p in ("W", "b")} <= checked


def test_dense_matches_definition():
    layer = Dense(3, 2, dtype=np.float64, rng=0)
    layer.W[:] = [[1, 2], [3, 4], [5, 6]]
    layer.b[:] = [0.5, -1]
    y = layer(np.array([[1.0, 0.0, -1.0]]))
    np.testing.assert_array_equal(y, [[1 - 5 + 0.5, 2 - 6 - 1]])


def test_activation_values_match_definitions():
    x = np.array([[-2.0, -0.5, 0.5, 3.0]])
    np.testing.assert_array_equal(LeakyReLU(0.2)(x), [[-0.4, -0.1, 0.5, 3.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0, 0, 0.5, 3.0]])
    np.testing.assert_allclose(Tanh()(x), [[math.tanh(v) for v in x[0]]], rtol=1e-15)
    np.testing.assert_allclose(Sigmoid()(x), [[1 / (1 + math.exp(-v)) for v in x[0]]], rtol=1e-15)


def test_sigmoid_is_stable_and_precise_at_extremes():
    z = np.array([-1e4, -745.0, -30.0, 0.0, 30.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    # Full relative precision in the left tail, where 1 - 1/(1+e^30) would be noise.
    assert s[2] == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=1e-14)
    z32 = z.astype(np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s32 = sigmoid(z32)
    assert s32.dtype == np.float32 and np.all(np.isfinite(s32))


@pytest.mark.parametrize("module", [Dense(4, 3, rng=0), LeakyReLU(), ReLU(), Tanh(), Sigmoid(),
                                    Sequential(Dense(4, 5, rng=0), LeakyReLU(), Dense(5, 3, rng=1), Tanh())])
def test_float32_in_float32_out(module):
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    y, cache = module.forward(x)
    dx, grads = module.backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_params_are_live_and_named():
    net = Sequential(Dense(2, 3, rng=0), LeakyReLU(), Sequential(Dense(3, 1, rng=1)))
    params = net.params()
    assert list(params) == ["0.W", "0.b", "2.0.W", "2.0.b"]
    x = np.ones((1, 2), dtype=np.float32)
    before = net(x).copy()
    params["2.0.b"] += 1.0
    np.testing.assert_allclose(net(x), before + 1.0)
    assert net.num_params() == 2 * 3 + 3 + 3 + 1


def test_backward_keeps_no_state_on_the_module():
    layer = Dense(3, 2, rng=0)
    before = set(vars(layer))
    layer.forward(np.ones((4, 3), dtype=np.float32))
    assert set(vars(layer)) == before


@pytest.mark.parametrize(
    "module, x, words",
    [
        (Dense(784, 128), np.zeros((4, 100), np.float32), ["Dense(784 -> 128)", "(batch, 784)", "(4, 100)"]),
        (Dense(3, 2), np.zeros(3, np.float32), ["Dense(3 -> 2)", "2-D", "(3,)"]),
        (Dense(3, 2), np.zeros((2, 3), np.int64), ["Dense(3 -> 2)", "floating", "int64"]),
        (Dense(3, 2), np.zeros((2, 3), np.float64), ["Dense(3 -> 2)", "float32", "float64"]),
        (Tanh(), np.zeros((2, 3, 4), np.float32), ["Tanh()", "2-D", "(2, 3, 4)"]),
        (LeakyReLU(), [[1.0, 2.0]], ["LeakyReLU", "NumPy array", "list"]),
    ],
)
def test_wrong_input_names_module_and_shapes(module, x, words):
    with pytest.raises(ValueError) as info:
        module.forward(x)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("bad", [dict(in_features=0, out_features=2), dict(in_features=2, out_features=-1),
                                 dict(in_features=2.5, out_features=2)])
def test_dense_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="Dense"):
        Dense(**bad)


def test_leaky_relu_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(1.5)


def test_sequential_rejects_non_modules():
    with pytest.raises(ValueError, match="module protocol"):
        Sequential(Dense(2, 2), "tanh")


def test_initialisers_follow_their_formulas():
    rng = np.random.default_rng(0)
    fan_in, fan_out = 400, 600
    w = init.glorot_uniform((fan_in, fan_out), rng)
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert w.dtype == np.float32 and w.shape == (fan_in, fan_out)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    # Var of U(-a, a) is a^2 / 3 = 2 / (fan_in + fan_out).
    assert np.var(w) == pytest.approx(2 / (fan_in + fan_out), rel=0.02)
    assert np.std(init.glorot_normal((fan_in, fan_out), rng)) == pytest.approx(math.sqrt(2 / 1000), rel=0.02)
    assert np.std(init.he_normal((fan_in, fan_out), rng)) == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    assert np.std(init.normal(0.05)((fan_in, fan_out), rng)) == pytest.approx(0.05, rel=0.02)
    assert np.all(Dense(3, 4, init="he_normal", rng=0).b == 0)
    with pytest.raises(ValueError, match="glorot_uniform"):
        Dense(3, 4, init="xavier")


def test_same_seed_same_weights():
    np.testing.assert_array_equal(Dense(5, 4, rng=7).W, Dense(5, 4, rng=7).W)
    assert not np.array_equal(Dense(5, 4, rng=7).W, Dense(5, 4, rng=8).W)


def test_as_rng_passes_a_generator_through_and_seeds_the_rest():
    from minigan.nn.init import as_rng

    g = np.random.default_rng(5)
    assert as_rng(g) is g
    assert as_rng(7).random() == np.random.default_rng(7).random()
    assert isinstance(as_rng(None), np.random.Generator)
