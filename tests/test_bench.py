"""``minigan bench`` end to end, its FLOP count, and the fast paths it measures.

No timing is asserted here: the benchmark prints ratios, the tests check that the
numbers are computed from the right quantities and that the fast code is exact.
"""

import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from minigan import build_discriminator, build_generator
from minigan.bench import network_shapes
from minigan.bench.flops import backward_flops, dense_shapes, forward_flops, train_step_flops
from minigan.nn import Dense, LeakyReLU, Module, Sequential, Tanh
from minigan.nn.module import backward
from minigan.optim import SGD, Adam

# --- the FLOP count ------------------------------------------------------------------


def hand_flops_per_sample(w):
    """One training step per sample, written out by hand for hidden width w.

    g, d = sum of in*out over G's and D's Dense layers; G's first layer is 100 x w, D's
    first is 784 x w.  D step: G forward 2g, D forward on 2 rows 4d, D backward on 2
    rows: dW 4d + dx except layer 1, 4(d - 784 w).  G step: G forward 2g, D forward 2d,
    D backward dx only 2d, G backward: dW 2g + dx except layer 1, 2(g - 100 w).
    """
    g = 100 * w + 2 * w * w + 784 * w
    d = 784 * w + 2 * w * w + w * 1
    return 8 * g + 16 * d - 4 * 784 * w - 2 * 100 * w


def test_flop_count_of_the_article_networks_by_hand():
    # G: 100*128 + 128*128 + 128*128 + 128*784 = 145,920;  D: 784*128 + 2*128*128 + 128 = 133,248
    assert hand_flops_per_sample(128) == 8 * 145_920 + 16 * 133_248 - 4 * 784 * 128 - 2 * 100 * 128 == 2_872_320
    g_shapes, d_shapes = network_shapes(128)
    assert g_shapes == dense_shapes(build_generator(rng=0)) == [(100, 128), (128, 128), (128, 128), (128, 784)]
    assert d_shapes == dense_shapes(build_discriminator(rng=0)) == [(784, 128), (128, 128), (128, 128), (128, 1)]
    for n in (1, 64, 256):
        assert sum(train_step_flops(g_shapes, d_shapes, n).values()) == 2_872_320 * n
    for w in (64, 256, 1024):
        assert sum(train_step_flops(*network_shapes(w), 64).values()) == hand_flops_per_sample(w) * 64


def test_flop_rules_for_one_layer():
    shapes = [(3, 5), (5, 7)]
    assert forward_flops(shapes, 2) == 2 * 2 * (15 + 35)
    assert backward_flops(shapes, 2, param_grads=True, input_grad=True) == 4 * 2 * (15 + 35)
    assert backward_flops(shapes, 2, param_grads=True, input_grad=False) == 4 * 2 * (15 + 35) - 2 * 2 * 15
    assert backward_flops(shapes, 2, param_grads=False, input_grad=True) == 2 * 2 * (15 + 35)


# --- the command, end to end ------------------------------------------------------------


def test_matmul_floor_computes_every_product_of_the_step_and_nothing_else(monkeypatch):
    from minigan.bench.floor import make_matmul_step

    n = 3
    step = make_matmul_step(*network_shapes(128), n)
    seen = []

    def record(kind):
        real = getattr(np, kind)

        def call(a, b, out):
            seen.append((a.shape[0], a.shape[1], b.shape[1]))
            assert out.shape == (a.shape[0], b.shape[1]) and out.dtype == np.float32
            return real(a, b, out=out)

        return call

    monkeypatch.setattr(np, "matmul", record("matmul"))
    monkeypatch.setattr(np, "multiply", record("multiply"))
    step()
    # the hand count at the top of this module, product by product
    assert sum(2 * r * k * c for r, k, c in seen) == 2_872_320 * n
    assert len(seen) == 4 + 4 + 7 + 4 + 4 + 4 + 7
    assert (2 * n, 784, 128) in seen and (784, 2 * n, 128) in seen  # D's first layer: forward, dW on 2N rows
    assert (n, 1, 128) in seen  # D's last layer's dx in the G step, by broadcasting


@pytest.mark.slow
def test_bench_quick_json_end_to_end():
    out = subprocess.run([sys.executable, "-m", "minigan", "bench", "--quick", "--json"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("machine", "blas", "threads", "peak", "network", "headline", "scaling", "peak_rss_mb", "notes"):
        assert key in result
    assert result["peak"]["gflops"] > 0
    assert result["network"]["flops_per_sample"] == 2_872_320
    assert result["threads"]["numpy_blas"] >= 1
    torch = "pytorch_default" in result["threads"]
    (row,) = result["headline"]
    assert (row["batch"], row["width"], row["flops"]) == (64, 128, 2_872_320 * 64)
    cells = {(r["batch"], r["width"]) for r in result["scaling"]}
    assert {(16, 128), (64, 128), (64, 64)} <= cells
    for r in [row, *result["scaling"]]:
        assert r["minigan_ms"] > 0 and r["timed_steps"] > 0
        assert r["other_load_cpus"] is None or r["other_load_cpus"] >= 0
        assert r["minigan_peak_fraction"] == pytest.approx(
            r["flops"] / (r["minigan_ms"] * 1e-3) / (result["peak"]["gflops"] * 1e9))
        assert r["matmul_floor_ms"] > 0
        if torch:
            assert r["pytorch_ms"] > 0 and r["ratio"] == pytest.approx(r["minigan_ms"] / r["pytorch_ms"])
            assert r["floor_ratio"] == pytest.approx(r["matmul_floor_ms"] / r["pytorch_ms"])
        else:
            assert r["ratio"] is None and r["floor_ratio"] is None
    if torch:
        assert result["threads"]["pytorch"] >= 1
    else:
        assert any("pip install torch==2.13.0" in note for note in result["notes"])
    from minigan.train import DEFAULT_STEPS_IMAGES

    default = result["default_recipe"]["rows"]
    assert [r["threads"] for r in default] == [1, 2]
    for r in default:  # the default's whole step does more than the bare GAN step
        assert r["ms"] > 0 and r["default_seconds"] == pytest.approx(r["ms"] * 1e-3 * DEFAULT_STEPS_IMAGES)


@pytest.mark.slow
def test_bench_without_torch_prints_minigan_only_and_says_why():
    out = subprocess.run([sys.executable, "-m", "minigan", "bench", "--quick", "--no-torch"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    installed = importlib.util.find_spec("torch") is not None
    assert ("switched off (--no-torch)" if installed else "pip install torch==2.13.0") in out.stdout
    assert "minigan ms" in out.stdout and "pytorch ms" not in out.stdout
    assert "GFLOP/s" in out.stdout and "peak RSS" in out.stdout
    assert "the default recipe's whole step" in out.stdout and "BLAS threads" in out.stdout


def test_bench_rejects_bad_batch_option():
    out = subprocess.run([sys.executable, "-m", "minigan", "bench", "--batch", "0"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--batch" in out.stderr


# --- Adam, whole or in slices, equals Adam as Kingma & Ba wrote it -----------------------


def reference_adam(params, grads_per_step, lr, b1, b2, eps, weight_decay, l1):
    """Algorithm 1 of Kingma & Ba (2015), one parameter at a time, in float64; the L2
    and L1 terms are added to the gradient first, as in minigan.optim."""
    params = {k: p.astype(np.float64) for k, p in params.items()}
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    for t, grads in enumerate(grads_per_step, start=1):
        for k, p in params.items():
            g = grads[k].astype(np.float64) + weight_decay * p + l1 * np.sign(p)
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            m_hat = m[k] / (1 - b1**t)
            v_hat = v[k] / (1 - b2**t)
            params[k] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


def small_net(seed=0):
    net = Sequential(Dense(5, 4, rng=seed), LeakyReLU(), Dense(4, 3, rng=seed + 1), Tanh())
    rng = np.random.default_rng(seed)
    for p in net.params().values():  # non-zero biases too, so sign(p) is never 0
        p[...] = rng.uniform(-1, 1, p.shape)
    return net


def chunked(cls, chunk):
    """``cls`` updating a parameter at most ``chunk`` elements at a time."""
    return type(cls.__name__, (cls,), {"chunk": chunk})


@pytest.mark.parametrize("chunk", [65536, 7])  # whole parameters, and slices of 7 elements
@pytest.mark.parametrize("weight_decay, l1", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.003), (0.02, 0.001)])
def test_adam_equals_reference_adam(weight_decay, l1, chunk):
    net = small_net()
    params = net.params()
    start = {k: p.copy() for k, p in params.items()}
    rng = np.random.default_rng(1)
    grads_per_step = [{k: rng.standard_normal(p.shape).astype(np.float32) for k, p in params.items()}
                      for _ in range(8)]
    hyper = dict(lr=1e-2, betas=(0.5, 0.999), eps=1e-8, weight_decay=weight_decay, l1=l1)
    opt = chunked(Adam, chunk)(params, **hyper)
    copies = [{k: g.copy() for k, g in grads.items()} for grads in grads_per_step]
    for grads in grads_per_step:
        opt.step(grads)
    expected = reference_adam(start, copies, hyper["lr"], *hyper["betas"], hyper["eps"], weight_decay, l1)
    for k, p in net.params().items():
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, expected[k], rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(grads_per_step[-1][k], copies[-1][k])  # gradients left untouched


OPTIMISERS = [(Adam, dict(lr=1e-2, weight_decay=0.01, l1=0.001)),
              (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
              (SGD, dict(lr=0.1))]


@pytest.mark.parametrize("cls, hyper", OPTIMISERS)
def test_updates_in_slices_are_bitwise_equal_to_whole_updates(cls, hyper):
    whole, sliced = small_net(3), small_net(3)
    opt_whole, opt_sliced = cls(whole.params(), **hyper), chunked(cls, 7)(sliced.params(), **hyper)
    rng = np.random.default_rng(2)
    for _ in range(5):
        grads = {k: rng.standard_normal(p.shape).astype(np.float32) for k, p in whole.params().items()}
        opt_whole.step(grads)
        opt_sliced.step(grads)
    for k, p in whole.params().items():
        np.testing.assert_array_equal(p, sliced.params()[k])
    a, b = opt_whole.state_dict(), opt_sliced.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --- the backward options and the protocol contracts ------------------------------------


class PlainDouble:
    """A learner's module: the plain protocol, no base class, no backward options."""

    def forward(self, x):
        return 2 * x, None

    def backward(self, dy, cache):
        return 2 * dy, {}

    def params(self):
        return {}

    def __call__(self, x):
        return 2 * x


class PlainScale(Module):
    """A learner's Module subclass with a parameter and the plain backward(dy, cache)."""

    def __init__(self):
        self.store = {"s": np.full(3, 0.5)}

    def params(self):
        return self.store

    def forward(self, x):
        return x * self.store["s"], x

    def backward(self, dy, cache):
        return dy * self.store["s"], {"s": (dy * cache).sum(axis=0)}


@pytest.mark.parametrize("extra", [PlainDouble(), PlainScale()])
def test_learner_modules_keep_working_with_the_backward_options(extra):
    net = Sequential(Dense(4, 3, dtype=np.float64, rng=0), extra, Dense(3, 2, dtype=np.float64, rng=1))
    x = np.random.default_rng(0).standard_normal((5, 4))
    y, cache = net.forward(x)
    dy = np.ones_like(y)
    dx, grads = net.backward(dy, cache)
    assert set(grads) == set(net.params())
    _, only_grads = backward(net, dy, cache, need_dx=False)
    dx_only, none = backward(net, dy, cache, need_grads=False)
    assert none == {}
    np.testing.assert_array_equal(dx_only, dx)
    for k in grads:
        np.testing.assert_array_equal(only_grads[k], grads[k])


def test_need_dx_and_need_grads_skip_work_and_change_nothing_else():
    layer = Dense(6, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    y, cache = layer.forward(x)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    dx, grads = layer.backward(dy, cache)
    assert layer.backward(dy, cache, need_dx=False)[0] is None
    assert layer.backward(dy, cache, need_grads=False)[1] == {}
    np.testing.assert_array_equal(layer.backward(dy, cache, need_grads=False)[0], dx)
    np.testing.assert_array_equal(layer.backward(dy, cache, need_dx=False)[1]["W"], grads["W"])
    # One output unit: dx is an outer product, computed by broadcasting; same numbers as dy @ W.T.
    last = Dense(6, 1, dtype=np.float64, rng=2)
    z = np.random.default_rng(3).standard_normal((4, 6))
    _, c = last.forward(z)
    d = np.random.default_rng(4).standard_normal((4, 1))
    np.testing.assert_allclose(last.backward(d, c)[0], d @ last.W.T, rtol=1e-15)


def test_returned_arrays_are_never_overwritten_by_a_later_call():
    D = build_discriminator(8, (6, 5), rng=0)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 8)).astype(np.float32), rng.standard_normal((3, 8)).astype(np.float32)
    ya, ca = D.forward(a)
    yb, cb = D.forward(b)
    ya_copy = ya.copy()
    dxa, ga = D.backward(np.ones_like(ya), ca)
    kept = {k: g.copy() for k, g in ga.items()}
    dxa_copy = dxa.copy()
    D.backward(np.ones_like(yb), cb)
    D.backward(-np.ones_like(ya), ca)
    np.testing.assert_array_equal(ya, ya_copy)
    np.testing.assert_array_equal(dxa, dxa_copy)
    for k in kept:
        np.testing.assert_array_equal(ga[k], kept[k])


def test_leaky_relu_backward_is_exact():
    x = np.array([[-3.0, -1e-30, 0.0, 1e-30, 2.5]], dtype=np.float32)
    dy = np.array([[1.5, -2.0, 3.0, 4.0, -0.25]], dtype=np.float32)
    layer = LeakyReLU(0.2)
    dx, _ = layer.backward(dy, layer.forward(x)[1])
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, np.float32(0.2) * dy))
    assert dx.dtype == np.float32
    assert math.isclose(float(layer.forward(x)[0][0, 0]), -0.6, rel_tol=1e-6)


@pytest.mark.slow
def test_without_torch_installed_the_report_says_how_to_install_it(monkeypatch):
    from minigan.bench import run_benchmark
    from minigan.commands.bench import format_report

    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "torch" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = run_benchmark(quick=True)
    assert "pytorch_default" not in result["threads"] and result["headline"][0]["ratio"] is None
    report = format_report(result)
    assert "pip install torch==2.13.0" in report and "pytorch ms" not in report


def test_bench_default_step_alone_reports_both_thread_counts():
    out = subprocess.run([sys.executable, "-m", "minigan", "bench", "--default-step", "--quick", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [r["threads"] for r in result["rows"]] == [1, 2]
    assert all(r["ms"] > 0 and r["timed_steps"] == 20 for r in result["rows"])
    assert result["machine"]["cpus"] >= 1
