"""The PyTorch bridge: minigan.interop.torch (to_torch / from_torch / state dicts),
``minigan train --engine torch`` (float64 parity with the NumPy engine, resume across
engines, float32 statistics), ``minigan export`` / ``import-torch``, and the one-line
errors without PyTorch or CUDA.

PyTorch is a test-only dependency; in CI a missing torch is an error, not a skip.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

torch = require("torch", "PyTorch is not installed: pip install torch==2.13.0")

from minigan import checkpoint as ckpt  # noqa: E402
from minigan.errors import MiniganError  # noqa: E402
from minigan.gan import build_discriminator, build_generator  # noqa: E402
from minigan.interop.torch import from_torch, load_state_dict, state_dict, to_torch  # noqa: E402
from minigan.nn import (  # noqa: E402
    Dense,
    Dropout,
    InstanceNoise,
    LeakyReLU,
    Module,
    Pack,
    RandomTranslate,
    ReLU,
    Sequential,
    Sigmoid,
    SpectralNorm,
)
from minigan.nn.conv import Conv2d  # noqa: E402
from minigan.train import TrainConfig, resume, train  # noqa: E402

SMALL = dict(dataset="ring", n=640, hidden=(32, 32), z_dim=4, batch_size=32, checkpoint_every=10 ** 6)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def minigan(*args, cwd, env=None, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error:"), r.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


# -- to_torch / from_torch ---------------------------------------------------------------------------------


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_article_networks_convert_with_the_same_weights_and_outputs(dtype):
    G = build_generator(6, (16, 12), 5, alpha=0.1, dtype=dtype, rng=0)
    D = build_discriminator(5, (12, 16), dtype=dtype, rng=1)
    z = np.random.default_rng(2).standard_normal((7, 6)).astype(dtype)
    tG, tD = to_torch(G), to_torch(D)
    assert tG[0].weight.dtype == (torch.float32 if dtype == np.float32 else torch.float64)
    np.testing.assert_array_equal(_np(tG[0].weight), G.params()["0.W"].T)  # (out, in) = W.T
    assert isinstance(tG[1], torch.nn.LeakyReLU) and tG[1].negative_slope == 0.1
    assert isinstance(tG[-1], torch.nn.Tanh)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    x = G(z)
    np.testing.assert_allclose(_np(tG(torch.from_numpy(z))), x, rtol=tol, atol=tol)
    np.testing.assert_allclose(_np(tD(torch.from_numpy(x))), D(x), rtol=tol, atol=tol)
    # ... and back: the same structure, the same numbers, bit for bit.
    G2, D2 = from_torch(tG), from_torch(tD)
    assert repr(G2) == repr(G) and repr(D2) == repr(D)
    for a, b in ((G, G2), (D, D2)):
        for k, p in a.params().items():
            assert b.params()[k].dtype == p.dtype
            np.testing.assert_array_equal(b.params()[k], p)


def test_every_layer_and_the_remedies_round_trip():
    rng = np.random.default_rng(0)
    core = Sequential(RandomTranslate((2, 3), 1, rng=1), InstanceNoise(0.3, rng=2),
                      SpectralNorm(Dense(12, 8, dtype=np.float64, rng=3), rng=4), LeakyReLU(0.3), Dropout(0.25, rng=5),
                      Dense(8, 4, dtype=np.float64, rng=6), ReLU(), Dense(4, 1, dtype=np.float64, rng=7), Sigmoid())
    D = Pack(core, 2)
    tD = to_torch(D)
    x = rng.standard_normal((6, 6))
    np.testing.assert_allclose(_np(tD(torch.from_numpy(x))), D(x), rtol=1e-13)
    sn = tD.module[2]
    np.testing.assert_array_equal(_np(sn.parametrizations.weight[0]._u), core[2].u)  # the same u vector
    assert sorted(state_dict(D)) == sorted(tD.state_dict())
    back = from_torch(tD)
    assert repr(back) == repr(D)
    np.testing.assert_array_equal(back.module[2].v, core[2].v)
    np.testing.assert_allclose(back(x), D(x), rtol=0)


def test_numpy_rng_layers_draw_exactly_what_the_numpy_layers_draw():
    """In train mode with numpy_rng=True the PyTorch layers use the minigan layers' own
    generators: a copy of the network run forward in NumPy gives the same outputs and,
    through autograd, the same input gradients."""
    import copy

    def net():
        return Sequential(RandomTranslate((3, 4), 2, rng=1), InstanceNoise(0.5, rng=2),
                          SpectralNorm(Dense(12, 6, dtype=np.float64, rng=3), rng=4), LeakyReLU(0.2),
                          Dropout(0.4, rng=5), Dense(6, 1, dtype=np.float64, rng=6))

    a = net()
    b = copy.deepcopy(a)
    t = to_torch(b, numpy_rng=True).train()
    for m in t.modules():
        if hasattr(m, "parametrizations"):
            m.parametrizations.eval()
    x, dy = np.random.default_rng(0).standard_normal((5, 12)), np.random.default_rng(1).standard_normal((5, 1))
    for _ in range(3):
        y, cache = a.forward(x)
        dx, _ = a.backward(dy, cache)
        xt = torch.from_numpy(x).requires_grad_()
        yt = t(xt)
        yt.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(_np(yt), y, rtol=1e-12)
        np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-12, atol=1e-15)


def test_state_dict_loads_into_an_existing_minigan_module():
    G = build_generator(3, (8,), 2, rng=0)
    tG = to_torch(build_generator(3, (8,), 2, rng=1))
    load_state_dict(G, tG.state_dict())
    np.testing.assert_array_equal(G.params()["0.W"], _np(tG[0].weight).T)
    with pytest.raises(MiniganError, match="missing"):
        load_state_dict(G, {k: v for k, v in tG.state_dict().items() if k != "0.bias"})


class LearnersLayer(Module):
    """A module minigan.interop.torch knows nothing about."""

    def forward(self, x):
        return x, None

    def backward(self, dy, cache):
        return dy, {}


@pytest.mark.parametrize("bad, where", [
    (Sequential(Dense(4, 4, rng=0), Sequential(LeakyReLU(), LearnersLayer())), "'1.1'"),
    (Pack(Sequential(Conv2d((2, 2, 1), 1, 1, rng=0), LearnersLayer()), 2), "'module.1'"),
])
def test_to_torch_names_what_it_cannot_convert(bad, where):
    with pytest.raises(MiniganError, match=f"LearnersLayer at position {where}"):
        to_torch(bad)


def test_from_torch_names_what_it_cannot_convert():
    with pytest.raises(MiniganError, match=r"Conv1d at position '2'"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Conv1d(1, 1, 1)))
    with pytest.raises(MiniganError, match=r"plain torch.nn.Conv2d at position '1'"):
        from_torch(torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Conv2d(1, 1, 1)))
    # an nn.Linear without bias is a Dense(bias=False)
    back = from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False)))
    assert back[0].b is None and list(back.params()) == ["0.W"]


def test_importing_minigan_does_not_import_torch():
    code = "import sys, minigan, minigan.train, minigan.interop, minigan.cli; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr


# -- the engine --------------------------------------------------------------------------------------------


def final(run_dir) -> dict:
    return ckpt.load(Path(run_dir) / "checkpoint.npz")


def assert_close_state(a, b, rtol):
    """Every weight, buffer, optimiser moment and metric agrees to ``rtol`` (relative to the
    array's largest entry); step counts and generator states are equal."""
    assert sorted(a) == sorted(b)
    worst = 0.0
    for k in a:
        if k.startswith(("G/", "G_ema/", "D/", "D_buffers/", "g_opt/", "d_opt/")) or k in (
                "metrics/d_loss", "metrics/g_loss", "metrics/d_real", "metrics/d_fake"):
            if a[k].dtype.kind != "f":  # e.g. SGD's nesterov flag
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
                continue
            scale = max(float(np.abs(b[k]).max()), 1e-300)
            worst = max(worst, float(np.abs(a[k] - b[k]).max()) / scale)
        elif k.startswith(("rng/", "loop/step", "loop/position", "loop/perm", "metrics/step")):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert worst < rtol, worst
    return worst


def quiet(**kw):
    return dict(progress="none", handle_sigint=False, **kw)


@pytest.mark.parametrize("extra", [
    {},
    dict(loss="minimax", d_steps=2, order="g_first", optimizer="sgd", momentum=0.5, lr=0.01, weight_decay=1e-3),
    dict(dropout=0.3, instance_noise=0.2, spectral_norm=True, ema=0.9, pack=2, lr_decay="linear", l1=1e-5),
])
def test_float64_torch_engine_equals_numpy_engine(tmp_path, extra):
    cfg = dict(SMALL, steps=60, dtype="float64", **extra)
    train(TrainConfig(**cfg, engine="numpy"), tmp_path / "np", **quiet())
    train(TrainConfig(**cfg, engine="torch"), tmp_path / "pt", **quiet())
    assert_close_state(final(tmp_path / "pt"), final(tmp_path / "np"), 1e-10)


@pytest.mark.slow
def test_float64_parity_200_steps_default_sizes(tmp_path):
    """The issue's command, in process: ring, 200 steps, the default 128-128-128 networks."""
    cfg = dict(dataset="ring", steps=200, dtype="float64", checkpoint_every=10 ** 6)
    train(TrainConfig(**cfg, engine="numpy"), tmp_path / "np", **quiet())
    train(TrainConfig(**cfg, engine="torch"), tmp_path / "pt", **quiet())
    worst = assert_close_state(final(tmp_path / "pt"), final(tmp_path / "np"), 1e-10)
    print(f"largest relative difference after 200 steps: {worst:.2e}")


def test_translate_on_images_float64(tmp_path):
    cfg = dict(dataset="mnist5k", n=256, hidden=(16,), z_dim=4, batch_size=32, steps=12, dtype="float64",
               translate=2, dropout=0.2, ema=0.99, checkpoint_every=10 ** 6)
    train(TrainConfig(**cfg, engine="numpy"), tmp_path / "np", **quiet())
    train(TrainConfig(**cfg, engine="torch"), tmp_path / "pt", **quiet())
    assert_close_state(final(tmp_path / "pt"), final(tmp_path / "np"), 1e-10)


@pytest.mark.slow
def test_a_torch_run_resumes_on_either_engine(tmp_path):
    cfg = dict(SMALL, dtype="float64")
    train(TrainConfig(**cfg, steps=200), tmp_path / "ref", **quiet())
    train(TrainConfig(**cfg, steps=100, engine="torch"), tmp_path / "mixed", **quiet())
    resume(tmp_path / "mixed", steps=200, engine="numpy", **quiet())
    assert_close_state(final(tmp_path / "mixed"), final(tmp_path / "ref"), 1e-10)
    # and the other way round: NumPy first, PyTorch second
    train(TrainConfig(**cfg, steps=100), tmp_path / "mixed2", **quiet())
    resume(tmp_path / "mixed2", steps=200, engine="torch", **quiet())
    assert_close_state(final(tmp_path / "mixed2"), final(tmp_path / "ref"), 1e-10)


def test_float32_loss_curves_agree_statistically(tmp_path):
    cfg = dict(SMALL, steps=300)
    train(TrainConfig(**cfg), tmp_path / "np", **quiet())
    train(TrainConfig(**cfg, engine="torch"), tmp_path / "pt", **quiet())
    a, b = final(tmp_path / "np"), final(tmp_path / "pt")
    assert a["G/0.W"].dtype == b["G/0.W"].dtype == np.float32
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        x, y = a[f"metrics/{name}"][150:], b[f"metrics/{name}"][150:]
        assert abs(x.mean() - y.mean()) < 0.05 * max(abs(x.mean()), 0.1), (name, x.mean(), y.mean())
    # the first steps agree closely (float32 rounding only)
    np.testing.assert_allclose(a["metrics/d_loss"][:5], b["metrics/d_loss"][:5], rtol=1e-4)


# -- the command line ------------------------------------------------------------------------------------


CLI_SMALL = ["--dataset", "ring", "--n", "320", "--hidden", "8,8", "--z-dim", "2", "--steps", "20", "-q"]


@pytest.mark.slow
def test_cli_engine_export_import_sample(tmp_path):
    r = minigan("train", *CLI_SMALL, "--engine", "torch", "--device", "cpu", "--dtype", "float64", "--out", "run",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    stored = ckpt.load_config(final(tmp_path / "run"))["config"]
    assert (stored["engine"], stored["device"], stored["dtype"]) == ("torch", "cpu", "float64")
    r = minigan("sample", "--checkpoint", "run", "-o", "s.png", "--npy", "s.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = minigan("eval", "--checkpoint", "run", "-n", "500", "--quick", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "modes" in r.stdout, r.stdout
    r = minigan("export", "--checkpoint", "run", "-o", "model.pt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert {"G", "D", "config", "format"} <= set(payload)
    assert payload["G"]["0.weight"].dtype == torch.float64
    np.testing.assert_array_equal(payload["G"]["0.weight"].numpy().T, final(tmp_path / "run")["G/0.W"])
    r = minigan("import-torch", "model.pt", "--out", "back", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    a, b = final(tmp_path / "run"), final(tmp_path / "back")
    for k in b:
        if k.startswith(("G/", "D/")):
            np.testing.assert_array_equal(a[k], b[k])
    r = minigan("sample", "--checkpoint", "back", "-o", "s2.png", "--npy", "s2.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), np.load(tmp_path / "s2.npy"))


def test_export_and_import_errors(tmp_path):
    assert_one_line_error(minigan("export", "--checkpoint", "missing", "-o", "m.pt", cwd=tmp_path), "missing")
    assert_one_line_error(minigan("import-torch", "missing.pt", "--out", "r", cwd=tmp_path), "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    assert_one_line_error(minigan("import-torch", "junk.pt", "--out", "r", cwd=tmp_path), "junk.pt")
    assert not (tmp_path / "r").exists() and not (tmp_path / "m.pt").exists()


NO_TORCH = ("import sys; sys.modules['torch'] = None; from minigan.cli import main; "
            "sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("args", [
    ["train", *CLI_SMALL, "--engine", "torch", "--out", "r"],
    ["export", "--checkpoint", "RUN", "-o", "m.pt"],
])
def test_without_torch_one_line_says_how_to_install(tmp_path, args):
    if args[0] == "export":
        train(TrainConfig(**SMALL, steps=2), tmp_path / "RUN", **quiet())
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-c", NO_TORCH, *args], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert_one_line_error(r, "pip install -e '.[torch]'")
    assert not (tmp_path / "r").exists() and not (tmp_path / "m.pt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_line(tmp_path):
    r = minigan("train", *CLI_SMALL, "--engine", "torch", "--device", "cuda", "--out", "r", cwd=tmp_path)
    assert_one_line_error(r, "--device cuda")
    assert not (tmp_path / "r").exists()


def test_device_needs_the_torch_engine(tmp_path):
    r = minigan("train", *CLI_SMALL, "--device", "cuda", "--out", "r", cwd=tmp_path)
    assert_one_line_error(r, "--device", "--engine torch")
