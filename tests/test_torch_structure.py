"""The PyTorch bridge for minigan's image and batch-norm layers (Conv2d, ConvTranspose2d,
BatchNorm1d, BatchNorm2d, MaxPool2d) and the DCGAN built from them:

* each layer's :func:`to_torch` twin computes minigan's forward (training and evaluation
  pass, running averages included) and, through autograd, minigan's hand-written input
  and parameter gradients, to 1e-10 in float64;
* ``to_torch`` / ``from_torch`` and ``state_dict`` / ``load_state_dict`` round-trip a
  DCGAN exactly, buffers included;
* ``minigan train --arch dcgan --engine torch`` computes the NumPy engine's steps (float64,
  weights, optimiser moments and running averages of G, D and G's moving average), and a
  run resumes across engines;
* ``minigan export`` / ``import-torch`` of a DCGAN run round-trips.

PyTorch is a test-only dependency; in CI a missing torch is an error, not a skip.
"""

import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

torch = require("torch", "PyTorch is not installed: pip install torch==2.13.0")

from minigan import checkpoint as ckpt  # noqa: E402
from minigan.dcgan import build_dcgan_discriminator, build_dcgan_generator  # noqa: E402
from minigan.errors import MiniganError  # noqa: E402
from minigan.interop import torch as interop  # noqa: E402
from minigan.interop.torch import (  # noqa: E402
    entries,
    from_torch,
    from_torch_layout,
    load_state_dict,
    state_dict,
    to_torch,
)
from minigan.nn import (  # noqa: E402
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    LeakyReLU,
    MaxPool2d,
    ReLU,
    Sequential,
    Tanh,
)
from minigan.train import TrainConfig, resume, train  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-12)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _np(t):
    return t.detach().cpu().numpy()


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def randomise(layer, seed):
    """Non-trivial values for every parameter and buffer (fresh layers have zero biases,
    unit gammas, zero means and unit variances)."""
    rng = np.random.default_rng(seed)
    for name, a in {**layer.params(), **layer.buffers()}.items():
        if name.endswith("running_var"):
            a[...] = rng.uniform(0.5, 2.0, a.shape)
        else:
            a[...] = rng.standard_normal(a.shape) * (0.3 if name.endswith("W") else 1.0)


def assert_train_parity(layer, x, dy):
    """minigan's training pass and backward against the to_torch twin in train mode and
    autograd: output, input gradient, every parameter gradient, the buffers after the
    pass; then the evaluation passes agree.  Returns the torch module."""
    t = to_torch(layer).train()
    y, cache = layer.forward(x)
    dx, grads = layer.backward(dy, cache)
    xt = torch.from_numpy(x).requires_grad_()
    yt = t(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(_np(yt), y, **TOL)
    np.testing.assert_allclose(xt.grad.numpy(), dx, **TOL)
    tensors = dict(t.named_parameters())
    tbuffers = dict(t.named_buffers())
    items = entries(layer)
    assert {n for k, n, *_ in items if k == "param"} == set(grads) == set(layer.params())
    for kind, name, tname, array, layout in items:
        if kind == "param":
            np.testing.assert_allclose(from_torch_layout(tensors[tname].grad.numpy(), layout), grads[name],
                                       err_msg=name, **TOL)
        else:  # the running averages the training pass advanced
            np.testing.assert_allclose(_np(tbuffers[tname]), array, err_msg=name, **TOL)
    t.eval()
    np.testing.assert_allclose(_np(t(torch.from_numpy(x))), layer(x), **TOL)
    return t


# -- (a) each layer: forward, backward, running averages --------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7), c=st.integers(1, 3), f=st.integers(1, 3),
       k=st.integers(1, 4), s=st.integers(1, 2), p=st.integers(0, 1), bias=st.booleans(),
       seed=st.integers(0, 2 ** 31 - 1))
def test_conv2d_matches_torch(n, h, w, c, f, k, s, p, bias, seed):
    k = min(k, min(h, w) + 2 * p)
    layer = Conv2d((h, w, c), f, k, stride=s, padding=p, bias=bias, dtype=np.float64, rng=seed)
    randomise(layer, seed)
    x = rand(n, h * w * c, seed=seed)
    t = assert_train_parity(layer, x, rand(n, int(np.prod(layer.out_shape)), seed=seed + 1))
    assert isinstance(t, torch.nn.Conv2d) and t.weight.dtype == torch.float64
    assert tuple(t.weight.shape) == (f, c, k, k)
    np.testing.assert_array_equal(_np(t.weight), layer.W.transpose(3, 0, 1, 2))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5), c=st.integers(1, 3), f=st.integers(1, 3),
       k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), op=st.integers(0, 2), bias=st.booleans(),
       seed=st.integers(0, 2 ** 31 - 1))
def test_conv_transpose2d_matches_torch(n, h, w, c, f, k, s, p, op, bias, seed):
    op, p = min(op, s - 1), min(p, k - 1)
    while (min(h, w) - 1) * s - 2 * p + k + op < 1:  # no output: minigan refuses, as PyTorch does
        p -= 1
    layer = ConvTranspose2d((h, w, c), f, k, stride=s, padding=p, output_padding=op, bias=bias, dtype=np.float64,
                            rng=seed)
    randomise(layer, seed)
    x = rand(n, h * w * c, seed=seed)
    t = assert_train_parity(layer, x, rand(n, int(np.prod(layer.out_shape)), seed=seed + 1))
    assert isinstance(t, torch.nn.ConvTranspose2d) and tuple(t.weight.shape) == (c, f, k, k)
    np.testing.assert_array_equal(_np(t.weight), layer.W.transpose(3, 0, 1, 2))


@pytest.mark.parametrize("make, shape", [
    (lambda dt: Conv2d((7, 6, 2), 3, 4, stride=2, padding=1, dtype=dt, rng=0), (7, 6, 2)),
    (lambda dt: ConvTranspose2d((3, 4, 2), 3, 4, stride=2, padding=1, output_padding=1, dtype=dt, rng=0), (3, 4, 2)),
    (lambda dt: ConvTranspose2d((7, 7, 4), 2, 4, stride=2, padding=1, dtype=dt, rng=0), (7, 7, 4)),
])
def test_dcgan_sized_convolutions_stride_2_padding_1(make, shape):
    layer = make(np.float64)
    randomise(layer, 1)
    n = 4
    assert_train_parity(layer, rand(n, int(np.prod(shape)), seed=2),
                        rand(n, int(np.prod(layer.out_shape)), seed=3))


@pytest.mark.parametrize("kind", ["1d", "2d"])
@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_batchnorm_matches_torch_in_train_and_eval_mode(kind, momentum, eps):
    C, n = 3, 5
    if kind == "1d":
        layer, width = BatchNorm1d(C, eps=eps, momentum=momentum, dtype=np.float64), C
    else:
        layer, width = BatchNorm2d(C, eps=eps, momentum=momentum, dtype=np.float64), 4 * 3 * C
    randomise(layer, 0)
    x = rand(n, width, seed=1) * 2.0 + 0.5
    t = assert_train_parity(layer, x, rand(n, width, seed=2))
    expected = torch.nn.BatchNorm1d if kind == "1d" else interop.BatchNorm2d
    assert type(t) is expected and (t.momentum, t.eps) == (momentum, eps)
    # Several training passes in a row: the running averages stay equal (unbiased variance,
    # PyTorch's momentum), and so does the evaluation pass that uses them.
    t.train()
    for seed in range(3, 7):
        xs = rand(n, width, seed=seed) * 3.0 - 1.0
        with torch.no_grad():
            yt = t(torch.from_numpy(xs))
        y, _ = layer.forward(xs)
        np.testing.assert_allclose(_np(yt), y, **TOL)
    np.testing.assert_allclose(_np(t.running_mean), layer.running_mean, **TOL)
    np.testing.assert_allclose(_np(t.running_var), layer.running_var, **TOL)
    assert int(t.num_batches_tracked) == 5
    t.eval()
    xs = rand(2, width, seed=9)
    np.testing.assert_allclose(_np(t(torch.from_numpy(xs))), layer(xs), **TOL)


def test_batchnorm2d_normalises_each_channel_over_batch_and_positions():
    """The channels-last wrapper is PyTorch's BatchNorm2d on the NCHW images."""
    H, W, C, n = 3, 4, 2, 3
    layer = BatchNorm2d(C, dtype=np.float64)
    randomise(layer, 0)
    x = rand(n, H * W * C, seed=1)
    t = to_torch(layer).train()
    plain = torch.nn.BatchNorm2d(C, dtype=torch.float64)
    plain.load_state_dict(t.state_dict())
    nchw = torch.from_numpy(x).reshape(n, H, W, C).permute(0, 3, 1, 2)
    expected = plain(nchw).permute(0, 2, 3, 1).reshape(n, -1)
    np.testing.assert_allclose(_np(t(torch.from_numpy(x))), _np(expected), **TOL)
    np.testing.assert_allclose(_np(t.running_var), _np(plain.running_var), **TOL)


def test_maxpool2d_matches_torch():
    H, W, C, n = 6, 4, 3, 2
    layer = MaxPool2d((H, W, C))
    x, dy = rand(n, H * W * C, seed=0), rand(n, H // 2 * W // 2 * C, seed=1)
    t = assert_train_parity(layer, x, dy)
    assert isinstance(t, torch.nn.MaxPool2d) and t.in_shape == (H, W, C)


def test_float32_layers_stay_float32():
    for layer in (Conv2d((4, 4, 1), 2, 3, padding=1, rng=0), ConvTranspose2d((2, 2, 2), 1, 4, stride=2, padding=1,
                                                                              rng=0),
                  BatchNorm1d(3), BatchNorm2d(2)):
        t = to_torch(layer)
        assert all(p.dtype == torch.float32 for p in t.parameters()), layer
        back = from_torch(t)
        assert all(a.dtype == np.float32 for a in {**back.params(), **back.buffers()}.values()), layer


# -- (b) DCGAN round trips -------------------------------------------------------------------------------------


def dcgan(dtype=np.float64, batchnorm=True, seed=0):
    G = build_dcgan_generator(6, (8, 12), 3, batchnorm=batchnorm, dtype=dtype, rng=seed)
    D = Sequential(*build_dcgan_discriminator((8, 12), 3, batchnorm=batchnorm, dtype=dtype, rng=seed + 1))
    return G, D


def state(m):
    return {**m.params(), **{f"buffer:{k}": v for k, v in m.buffers().items()}}


def assert_same_network(a, b):
    assert repr(a) == repr(b)
    sa, sb = state(a), state(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batchnorm", [True, False])
def test_dcgan_round_trips_exactly_buffers_included(dtype, batchnorm):
    G, D = dcgan(dtype, batchnorm)
    z = rand(8, 6, seed=3).astype(dtype)
    # Non-trivial running averages: a few training passes of each network first.
    for _ in range(3):
        D.forward(G.forward(z)[0])
    tG, tD = to_torch(G), to_torch(D)
    assert not tG.training and not tD.training
    assert [type(m).__name__ for m in tD] == (["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Linear"]
                                              if batchnorm else
                                              ["Conv2d", "LeakyReLU", "Conv2d", "LeakyReLU", "Linear"])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    x = G(z)
    np.testing.assert_allclose(_np(tG(torch.from_numpy(z))), x, rtol=tol, atol=tol)
    np.testing.assert_allclose(_np(tD(torch.from_numpy(x))), D(x), rtol=tol, atol=tol)
    for net, tnet in ((G, tG), (D, tD)):
        assert_same_network(from_torch(tnet), net)
        # state dicts: the same names as PyTorch's module, the same values, both ways
        sd = state_dict(net)
        assert sorted(sd) == sorted(tnet.state_dict())
        for k, v in tnet.state_dict().items():
            assert v.dtype == sd[k].dtype, k
            np.testing.assert_array_equal(v.numpy(), sd[k].numpy(), err_msg=k)
        fresh = dcgan(dtype, batchnorm, seed=7)[0 if net is G else 1]
        load_state_dict(fresh, tnet.state_dict())
        assert_same_network(fresh, net)
    if batchnorm:
        assert {"1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight"} <= set(tG.state_dict())
        assert "3.bias" not in tG.state_dict()  # the transposed convolution before batch norm has no bias


def test_weights_trained_in_torch_come_back():
    """A few PyTorch training passes and an optimiser step on the to_torch twin, then
    from_torch and load_state_dict: minigan holds exactly PyTorch's weights and running
    averages, and computes the same evaluation pass."""
    G, _ = dcgan()
    tG = to_torch(G).train()
    opt = torch.optim.SGD(tG.parameters(), lr=0.1)
    for seed in range(3):
        opt.zero_grad()
        tG(torch.from_numpy(rand(4, 6, seed=seed))).square().mean().backward()
        opt.step()
    tG.eval()
    back = from_torch(tG)
    load_state_dict(G, tG.state_dict())
    for net in (back, G):
        for _, _, tname, array, layout in entries(net):
            np.testing.assert_array_equal(from_torch_layout(_np(tG.state_dict()[tname]), layout), array)
        z = rand(5, 6, seed=9)
        np.testing.assert_allclose(net(z), _np(tG(torch.from_numpy(z))), **TOL)


def test_other_image_layers_round_trip():
    net = Sequential(Conv2d((6, 6, 2), 4, 3, padding=1, dtype=np.float64, rng=0), MaxPool2d((6, 6, 4)),
                     BatchNorm2d(4, dtype=np.float64), ReLU(), Dense(36, 5, dtype=np.float64, rng=1),
                     BatchNorm1d(5, eps=1e-3, momentum=0.2, dtype=np.float64), LeakyReLU(0.1),
                     Dense(5, 2 * 2 * 3, bias=False, dtype=np.float64, rng=2),
                     ConvTranspose2d((2, 2, 3), 1, 3, stride=2, padding=1, output_padding=1, dtype=np.float64, rng=3),
                     Tanh())
    for m in net.modules:
        randomise(m, 4)
    t = to_torch(net)
    assert type(t[5]) is torch.nn.BatchNorm1d and isinstance(t[1], interop.MaxPool2d)
    assert t[7].bias is None
    x = rand(3, 72, seed=5)
    np.testing.assert_allclose(_np(t(torch.from_numpy(x))), net(x), **TOL)
    assert_same_network(from_torch(t), net)
    # training pass of the whole stack, autograd against minigan's backward
    assert_train_parity(copy.deepcopy(net), x, rand(3, 16, seed=6))


def test_load_state_dict_accepts_num_batches_tracked_or_not_and_checks_the_rest():
    G, _ = dcgan()
    sd = to_torch(dcgan(seed=5)[0]).state_dict()
    load_state_dict(G, {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")})
    np.testing.assert_array_equal(G.buffers()["1.running_var"], sd["1.running_var"].numpy())
    with pytest.raises(MiniganError, match=r"missing \['4.running_mean'\]"):
        load_state_dict(G, {k: v for k, v in sd.items() if k != "4.running_mean"})
    with pytest.raises(MiniganError, match="unexpected"):
        load_state_dict(G, {**sd, "4.extra": torch.zeros(1)})
    bad = dict(sd)
    bad["3.weight"] = sd["3.weight"].permute(1, 0, 2, 3).contiguous()  # (F, C, k, k): the wrong layout
    with pytest.raises(MiniganError, match="3.weight"):
        load_state_dict(G, bad)


def test_from_torch_refuses_nchw_layers_and_what_minigan_cannot_compute():
    nn = torch.nn
    with pytest.raises(MiniganError, match=r"plain torch.nn.Conv2d at position '1'"):
        from_torch(nn.Sequential(nn.Tanh(), nn.Conv2d(1, 2, 3)))
    with pytest.raises(MiniganError, match=r"plain torch.nn.BatchNorm2d at position '0'"):
        from_torch(nn.Sequential(nn.BatchNorm2d(3)))
    grouped = interop.ConvTranspose2d((3, 3, 2), 2, 3)
    grouped.groups = 2
    with pytest.raises(MiniganError, match=r"ConvTranspose2d at position '0' has groups=2"):
        from_torch(nn.Sequential(grouped))
    conv = interop.Conv2d((5, 5, 1), 2, 3)
    conv.dilation = (2, 2)
    with pytest.raises(MiniganError, match=r"Conv2d at the top level has dilation=\(2, 2\)"):
        from_torch(conv)
    with pytest.raises(MiniganError, match="BatchNorm1d at position '1' needs affine=True"):
        from_torch(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, affine=False)))



# -- (c) the torch engine on a DCGAN ---------------------------------------------------------------------------


DCGAN = dict(dataset="mnist5k", n=256, arch="dcgan", channels=4, z_dim=8, batch_size=16, dtype="float64", ema=0.9,
             checkpoint_every=10 ** 6, batchnorm=True)


def quiet(**kw):
    return dict(progress="none", handle_sigint=False, **kw)


def final(run_dir) -> dict:
    return ckpt.load(Path(run_dir) / "checkpoint.npz")


NETWORK_PREFIXES = ("G/", "D/", "G_ema/", "G_buffers/", "D_buffers/", "G_ema_buffers/")


def assert_close_state(a, b, rtol):
    """Every weight, buffer, optimiser moment and loss agrees to ``rtol`` (relative to the
    array's largest entry); step counts and generator states are equal.  Returns the
    largest relative difference of the networks' arrays (weights and buffers) and of all."""
    assert sorted(a) == sorted(b)
    nets, worst = 0.0, 0.0
    for k in a:
        if k.startswith((*NETWORK_PREFIXES, "g_opt/", "d_opt/")) or k in (
                "metrics/d_loss", "metrics/g_loss", "metrics/d_real", "metrics/d_fake"):
            if a[k].dtype.kind != "f":
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
                continue
            scale = max(float(np.abs(b[k]).max()), 1e-300)
            diff = float(np.abs(a[k] - b[k]).max()) / scale
            worst = max(worst, diff)
            if k.startswith(NETWORK_PREFIXES):
                nets = max(nets, diff)
        elif k.startswith(("rng/", "loop/step", "loop/position", "loop/perm", "metrics/step")):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert worst < rtol, worst
    return nets, worst


@pytest.mark.parametrize("extra", [
    {},
    dict(dropout=0.2, instance_noise=0.1, d_steps=2, order="g_first", loss="minimax"),
    dict(batchnorm=False, optimizer="sgd", momentum=0.5, lr=0.01, lr_decay="linear"),
])
def test_float64_dcgan_torch_engine_equals_numpy_engine(tmp_path, extra):
    cfg = dict(DCGAN, steps=30, **extra)
    train(TrainConfig(**cfg, engine="numpy"), tmp_path / "np", **quiet())
    train(TrainConfig(**cfg, engine="torch"), tmp_path / "pt", **quiet())
    a, b = final(tmp_path / "pt"), final(tmp_path / "np")
    if cfg.get("batchnorm", True):
        # the running averages moved (and are compared): G's, D's and the moving average's
        for k in ("G_buffers/1.running_var", "D_buffers/4.running_mean", "G_ema_buffers/4.running_mean"):
            key = k if k in b else k.replace("D_buffers/4", "D_buffers/6")
            assert key in b and not np.allclose(b[key], 1.0 if "var" in key else 0.0), key
    else:
        assert not any("_buffers/" in k for k in b)
    nets, worst = assert_close_state(a, b, 1e-10)
    print(f"dcgan {extra}: networks {nets:.1e}, everything {worst:.1e}")


def test_a_dcgan_run_resumes_on_either_engine(tmp_path):
    train(TrainConfig(**DCGAN, steps=30), tmp_path / "ref", **quiet())
    train(TrainConfig(**DCGAN, steps=15, engine="torch"), tmp_path / "mixed", **quiet())
    resume(tmp_path / "mixed", steps=30, engine="numpy", **quiet())
    assert_close_state(final(tmp_path / "mixed"), final(tmp_path / "ref"), 1e-10)
    train(TrainConfig(**DCGAN, steps=15), tmp_path / "mixed2", **quiet())
    resume(tmp_path / "mixed2", steps=30, engine="torch", **quiet())
    assert_close_state(final(tmp_path / "mixed2"), final(tmp_path / "ref"), 1e-10)


# -- (d) export / import-torch of a DCGAN run ---------------------------------------------------------------


def minigan(*args, cwd, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_cli_export_import_of_a_dcgan_run(tmp_path):
    r = minigan("train", "--dataset", "mnist5k", "--n", "128", "--arch", "dcgan", "--channels", "4", "--z-dim", "8",
                "--batch-size", "16", "--steps", "6", "--ema", "0.9", "--dtype", "float64", "--engine", "torch",
                "--batchnorm", "--no-viewer", "-q", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = minigan("export", "--checkpoint", "run", "-o", "model.pt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    run = final(tmp_path / "run")
    assert {"G", "D", "G_ema"} <= set(payload)
    G, D = payload["G"], payload["D"]
    assert G["3.weight"].dtype == torch.float64 and G["3.weight"].shape == (8, 4, 4, 4)  # (C_in, C_out, k, k)
    np.testing.assert_array_equal(G["3.weight"].numpy(), run["G/3.W"].transpose(3, 0, 1, 2))
    np.testing.assert_array_equal(G["1.running_var"].numpy(), run["G_buffers/1.running_var"])
    np.testing.assert_array_equal(D["4.running_mean"].numpy(), run["D_buffers/4.running_mean"])
    # The state dicts load into the to_torch modules (strict), as a PyTorch user would.
    from minigan.commands.export import read_networks

    nets, _ = read_networks(tmp_path / "run")
    for name in ("G", "D", "G_ema"):
        to_torch(nets[name]).load_state_dict(payload[name])
    r = minigan("import-torch", "model.pt", "--out", "back", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    back = final(tmp_path / "back")
    keys = [k for k in back if k.startswith(NETWORK_PREFIXES)]
    assert {k.split("/")[0] for k in keys} == {p[:-1] for p in NETWORK_PREFIXES}
    for k in keys:
        assert back[k].dtype == run[k].dtype, k
        np.testing.assert_array_equal(back[k], run[k], err_msg=k)
    for d in ("run", "back"):
        r = minigan("sample", "--checkpoint", d, "-o", f"{d}.png", "--npy", f"{d}.npy", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "run.npy"), np.load(tmp_path / "back.npy"))
