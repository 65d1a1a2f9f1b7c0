"""The DCGAN and the GAN step with batch-dependent layers: D judges real and fake in
separate passes, G's fakes come from its training pass, samples from its evaluation pass;
running statistics travel with checkpoints and the moving average; ``--arch dcgan`` runs
end to end (train, exact resume, sample, eval) and refuses what it cannot do."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import GAN
from minigan import checkpoint as ckpt
from minigan.dcgan import build_dcgan_discriminator, build_dcgan_generator
from minigan.ema import EMA
from minigan.losses import discriminator_loss
from minigan.nn import BatchNorm2d, Sequential
from minigan.optim import SGD
from minigan.selfcheck import discriminator_real_and_fake
from minigan.train import TrainConfig, resume, train

# batch norm on: these tests follow its statistics through training, checkpoints and the
# moving average (the default --arch dcgan has none, results/dcgan_recipe/).
SMALL = dict(arch="dcgan", channels=4, batch_size=16, n=400, sample_every=100, batchnorm=True)


def small_dcgan(seed=0, dtype=np.float64, batchnorm=True):
    rng = np.random.default_rng(seed)
    G = build_dcgan_generator(8, (8, 8), 3, batchnorm=batchnorm, dtype=dtype, rng=rng)
    D = Sequential(*build_dcgan_discriminator((8, 8), 3, batchnorm=batchnorm, dtype=dtype, rng=rng))
    return G, D


class Recorder(SGD):
    """SGD that also keeps the last gradients it was given."""

    def step(self, grads):
        self.last = {k: v.copy() for k, v in grads.items()}
        super().step(grads)


def test_the_networks_have_dcgans_shapes():
    G = build_dcgan_generator(100, (28, 28), 32, rng=0)
    D = Sequential(*build_dcgan_discriminator((28, 28), 32, rng=1))
    z = np.random.default_rng(0).standard_normal((5, 100)).astype(np.float32)
    x = G(z)
    assert x.shape == (5, 784) and x.dtype == np.float32 and np.abs(x).max() <= 1
    assert D(x).shape == (5, 1)
    assert any(isinstance(m, BatchNorm2d) for m in G.modules) and any(isinstance(m, BatchNorm2d) for m in D.modules)
    G_plain, D_plain = small_dcgan(batchnorm=False)
    assert not any(isinstance(m, BatchNorm2d) for m in [*G_plain.modules, *D_plain.modules])
    # A layer before batch norm has no bias (it would cancel); without batch norm it has one.
    assert "0.b" not in G.params() and "0.b" in G_plain.params()


def test_one_stacked_pass_is_not_two_passes_once_D_has_batch_norm():
    """The reason GAN.d_step runs D twice: with batch norm, a pass over the real and fake
    batches stacked normalises both with their mixed statistics."""
    G, D = small_dcgan(1)
    rng = np.random.default_rng(2)
    real, fake = rng.uniform(-1, 1, (6, 64)), G.forward(rng.standard_normal((6, 8)))[0]
    stacked = D.forward(np.concatenate([real, fake]))[0]
    separate = np.concatenate([D.forward(real)[0], D.forward(fake)[0]])
    assert np.abs(stacked - separate).max() > 1e-3
    # Without batch norm the two are the same maths.
    G0, D0 = small_dcgan(1, batchnorm=False)
    np.testing.assert_allclose(D0.forward(np.concatenate([real, fake]))[0],
                               np.concatenate([D0.forward(real)[0], D0.forward(fake)[0]]), rtol=1e-12, atol=1e-14)


def test_d_step_uses_two_passes_and_the_training_pass_of_G():
    G, D = small_dcgan(3)
    gan = GAN(G, D, z_dim=8, d_optimizer=Recorder(D.params(), lr=1e-3), g_optimizer=SGD(G.params(), lr=1e-3), rng=4)
    real = np.random.default_rng(5).uniform(-1, 1, (6, 64))
    G_copy, D_copy = copy.deepcopy(G), copy.deepcopy(D)
    z = copy.deepcopy(gan.rng).standard_normal((6, 8))
    g_stats = G.buffers()["1.running_mean"].copy()
    gan.d_step(real)
    fake = G_copy.forward(z)[0]  # training pass: batch statistics
    f, want = discriminator_real_and_fake(D_copy, real, fake)
    got = gan.d_opt.last
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12)
    # (minigan gradcheck checks that gradient against finite differences.)  The stacked
    # pass would have given another one.
    logits, cache = D_copy.forward(np.concatenate([real, fake]))
    _, d_real, d_fake = discriminator_loss(logits[:6], logits[6:])
    _, stacked = D_copy.backward(np.concatenate([d_real, d_fake]), cache)
    assert max(np.abs(stacked[k] - want[k]).max() for k in want) > 1e-4
    # G made the fakes in its training pass: its running statistics moved.
    assert not np.array_equal(G.buffers()["1.running_mean"], g_stats)


def test_samples_come_from_the_evaluation_pass():
    G, D = small_dcgan(6)
    gan = GAN(G, D, z_dim=8, rng=7)
    for _ in range(3):  # running statistics away from their initial values
        gan.train_step(np.random.default_rng(8).uniform(-1, 1, (8, 64)))
    z = copy.deepcopy(gan.rng).standard_normal((5, 8))
    samples = gan.sample(5)
    np.testing.assert_allclose(samples, G(z), rtol=1e-12)
    # Each sample on its own is the same sample: nothing depends on the rest of the batch.
    np.testing.assert_allclose(samples[:1], G(z[:1]), rtol=1e-12)
    assert np.abs(G.forward(z)[0] - samples).max() > 1e-6  # the training pass differs


def test_the_moving_average_averages_running_statistics_too():
    G, _ = small_dcgan(9)
    G_avg = copy.deepcopy(G)
    ema = EMA(G, G_avg, decay=0.75)
    G.forward(np.random.default_rng(10).standard_normal((4, 8)))  # moves G's running stats
    before = G_avg.buffers()["1.running_var"].copy()
    ema.update()
    np.testing.assert_allclose(G_avg.buffers()["1.running_var"],
                               0.75 * before + 0.25 * G.buffers()["1.running_var"], rtol=1e-12)


def test_checkpoint_network_arrays_hold_buffers(tmp_path):
    G, _ = small_dcgan(11, dtype=np.float32)
    G.forward(np.random.default_rng(12).standard_normal((4, 8)).astype(np.float32))
    arrays = ckpt.network_arrays("G", G)
    assert "G_buffers/1.running_mean" in arrays and "G/1.gamma" in arrays
    path = ckpt.save(tmp_path / "c.npz", arrays)
    fresh, _ = small_dcgan(13, dtype=np.float32)
    ckpt.load_network("G", fresh, ckpt.load(path))
    for k, v in {**G.params(), **G.buffers()}.items():
        np.testing.assert_array_equal({**fresh.params(), **fresh.buffers()}[k], v)


def final_state(run_dir):
    arrays = ckpt.load(Path(run_dir) / "checkpoint.npz")
    return {k: v for k, v in arrays.items() if k not in ("loop/elapsed", "metrics/seconds", "config")}


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_dcgan_run_resumes_bit_for_bit(tmp_path):
    kw = dict(progress="none", handle_sigint=False)
    train(TrainConfig(steps=14, dataset="digits", **SMALL), tmp_path / "full", **kw)
    train(TrainConfig(steps=9, dataset="digits", **SMALL), tmp_path / "split", **kw)
    resume(tmp_path / "split", steps=14, **kw)
    a, b = final_state(tmp_path / "full"), final_state(tmp_path / "split")
    assert a.keys() == b.keys()
    assert any(k.startswith("G_ema_buffers/") for k in a) and any(k.startswith("D_buffers/") for k in a)
    assert [k for k in a if not np.array_equal(a[k], b[k])] == []


def minigan(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env)


@pytest.mark.slow
def test_train_sample_eval_on_the_command_line(tmp_path):
    run = tmp_path / "run"
    done = minigan("train", "--arch", "dcgan", "--channels", "4", "--dataset", "digits", "--steps", "30",
                   "--batch-size", "16", "--out", str(run), "-q")
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["arch"] == "dcgan" and config["config"]["translate"] == 2
    # the recipe results/dcgan_recipe/ chose: no batch norm, no dropout, 80 epochs by default
    assert config["config"]["batchnorm"] is False and config["config"]["dropout"] == 0.0
    done = minigan("sample", "--checkpoint", str(run), "-n", "16", "-o", str(tmp_path / "grid.png"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "grid.png").stat().st_size > 0
    done = minigan("eval", "--checkpoint", str(run), "-n", "300", "--quick", "--json")
    assert done.returncode == 0, done.stderr
    assert "frechet" in json.loads(done.stdout)["class_scores"]


@pytest.mark.parametrize("args, words", [
    (["--arch", "dcgan", "--dataset", "ring"], "--arch dcgan needs images; ring has none"),
    (["--arch", "dcgan", "--pack", "2"], "--pack needs --arch mlp"),
    (["--arch", "dcgan", "--spectral-norm"], "--spectral-norm needs --arch mlp"),
    (["--arch", "cnn"], "--arch"),
    (["--channels", "16"], "--channels shapes --arch dcgan's networks"),
    (["--arch", "dcgan", "--channels", "0"], "--channels must be an integer >= 1"),
])
def test_what_dcgan_cannot_do_is_one_line(tmp_path, args, words):
    done = minigan("train", *args, "--steps", "2", "--out", "out", "-q", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error:") and words in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_minigan_gradcheck_covers_the_new_layers():
    from minigan.selfcheck import run_all

    report = run_all(seed=0)
    text = str(report)
    assert report.passed, text
    for name in ("Conv2d, stride 2, padding 1: W", "ConvTranspose2d, output_padding 1: dx", "BatchNorm1d: gamma",
                 "BatchNorm2d: dx", "DCGAN G through D: G.", "DCGAN D on real + fake"):
        assert name in text, name


def test_default_recipes_of_the_convolutional_archs():
    """``--arch dcgan``: no batch norm, no dropout, 4,960 steps (results/dcgan_recipe/);
    ``dcgan_g``: DCGAN's G with its batch norm and the image recipe's dropout in the article's D."""
    from minigan.train import TrainConfig, load_dataset
    from minigan.train.networks import build_networks

    def resolved(**kw):
        config = TrainConfig(dataset="mnist5k", **kw).validate()
        return config.resolve(load_dataset(config)).validate()

    dcgan = resolved(arch="dcgan")
    assert dcgan.batchnorm is False and dcgan.dropout == 0.0 and dcgan.translate == 2 and dcgan.ema == 0.999
    assert dcgan.epochs * 62 == 4_960 and dcgan.steps is None
    G, D = build_networks(dcgan, 784, image_shape=(28, 28), rng=0)[:2]
    assert not any(type(m).__name__.startswith("BatchNorm") for m in list(G.modules) + list(D.modules))
    dcgan_g = resolved(arch="dcgan_g")
    assert dcgan_g.batchnorm is True and dcgan_g.dropout == 0.3
    assert resolved(arch="dcgan", batchnorm=True).batchnorm is True
    assert resolved().batchnorm is None  # the article's networks have no such layers
