"""The default recipe and its switches: the remedies as `minigan train` options, recorded
in config.json, resumed bit for bit, the article's recipe one preset away, and too-large
networks refused before any memory is taken."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.data import load
from minigan.errors import MiniganError
from minigan.nn import Dropout, InstanceNoise, RandomTranslate, SpectralNorm
from minigan.schedule import lr_factor
from minigan.train import (
    IMAGE_RECIPE,
    REMEDIES_OFF,
    TrainConfig,
    Trainer,
    config_from_preset,
    load_dataset,
    load_networks,
    resume,
    train,
)

DIGITS = dict(dataset="digits", batch_size=32, hidden=(16, 16), z_dim=8, sample_every=1000)  # 44 steps/epoch
ALL = dict(dropout=0.3, translate=1, instance_noise=0.2, spectral_norm=True, ema=0.99, lr_decay="linear")


def quiet():
    return dict(progress="none", handle_sigint=False)


class CtrlCAt:
    """A progress reporter that presses Ctrl-C (SIGINT to this process) after step ``n``:
    the run stops there with a checkpoint, as a learner's interrupted run does."""

    def __init__(self, n):
        self.n = n

    def start(self, total, step):
        pass

    def update(self, step, epoch, stats):
        if step == self.n:
            os.kill(os.getpid(), signal.SIGINT)

    def close(self):
        pass


def interrupted_run(config, out, n):
    result = train(config, out, progress=CtrlCAt(n), handle_sigint=True)
    assert result.status == "interrupted" and result.step == n


def final_state(run_dir):
    arrays = ckpt.load(Path(run_dir) / "checkpoint.npz")
    return {k: v for k, v in arrays.items() if k not in ("loop/elapsed", "metrics/seconds", "config")}


def resolved(config):
    config = config.validate()
    return config.resolve(load_dataset(config)).validate()


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
@pytest.mark.parametrize("n_first", [30, 44])  # mid-epoch and at an epoch's end
def test_every_remedy_resumes_bit_for_bit(tmp_path, n_first):
    train(TrainConfig(steps=2 * n_first, **DIGITS, **ALL), tmp_path / "full", **quiet())
    # The schedules depend on the run's length, so the split run is one 2n-step run stopped at n.
    interrupted_run(TrainConfig(steps=2 * n_first, **DIGITS, **ALL), tmp_path / "split", n_first)
    resume(tmp_path / "split", **quiet())
    a, b = final_state(tmp_path / "full"), final_state(tmp_path / "split")
    assert a.keys() == b.keys()
    assert {"rng/augment", "G_ema/0.W", "D_buffers/2.u", "D_buffers/2.v"} <= a.keys()
    differing = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not differing, differing


def test_resume_comparison_sees_the_random_layers(tmp_path):
    """The check above can fail: a resume whose random layers draw from a fresh generator
    ends with other weights."""
    train(TrainConfig(steps=40, **DIGITS, **ALL), tmp_path / "full", **quiet())
    interrupted_run(TrainConfig(steps=40, **DIGITS, **ALL), tmp_path / "split", 20)
    path = tmp_path / "split" / "checkpoint.npz"
    arrays = ckpt.load(path)
    arrays["rng/augment"] = ckpt.encode_rng(np.random.default_rng(123))
    config = ckpt.load_config(arrays)
    ckpt.save(path, {k: v for k, v in arrays.items() if k not in ("format", "format_version", "minigan_version",
                                                                    "config")}, config=config)
    resume(tmp_path / "split", **quiet())
    a, b = final_state(tmp_path / "full"), final_state(tmp_path / "split")
    assert not np.array_equal(a["D/2.W"], b["D/2.W"])


def test_config_json_records_every_remedy_and_the_networks_have_them(tmp_path):
    train(TrainConfig(steps=3, **DIGITS, **ALL), tmp_path / "run", **quiet())
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert {k: config[k] for k in ALL} == ALL
    G, D, cfg, _ = load_networks(tmp_path / "run" / "checkpoint.npz")
    kinds = [type(m) for m in D.modules]
    assert kinds[:2] == [RandomTranslate, InstanceNoise]
    assert kinds.count(SpectralNorm) == 3 and kinds.count(Dropout) == 2
    arrays = ckpt.load(tmp_path / "run" / "checkpoint.npz")
    # Sampling uses the moving average, not the last weights.
    np.testing.assert_array_equal(G.params()["0.W"], arrays["G_ema/0.W"])
    assert not np.array_equal(arrays["G_ema/0.W"], arrays["G/0.W"])


def test_schedules_reach_the_optimisers_and_the_noise_layer():
    config = resolved(TrainConfig(steps=50, **DIGITS, **ALL))
    trainer = Trainer(config, load_dataset(config))
    noise = trainer.instance_noise[0]
    for step in range(50):
        trainer.train_step()
        assert noise.sigma == pytest.approx(0.2 * (1 - step / 50))
        assert trainer.gan.d_opt.lr == pytest.approx(config.lr * lr_factor(step, 50, "linear"))
        assert trainer.gan.g_opt.lr == pytest.approx(config.g_lr * lr_factor(step, 50, "linear"))
    assert trainer.gan.d_opt.lr == 0.0


def test_power_iteration_runs_once_per_discriminator_update():
    config = resolved(TrainConfig(steps=10, d_steps=2, **DIGITS, spectral_norm=True))
    trainer = Trainer(config, load_dataset(config))
    calls = []
    layer = next(m for m in trainer.gan.D.modules if isinstance(m, SpectralNorm))
    original = layer.update_buffers
    layer.update_buffers = lambda: (calls.append(1), original())
    for _ in range(3):
        trainer.train_step()
    assert len(calls) == 3 * 2


def test_defaults_depend_on_the_data():
    images = resolved(TrainConfig(steps=1))
    assert {k: getattr(images, k) for k in IMAGE_RECIPE} == IMAGE_RECIPE
    toy = resolved(TrainConfig(dataset="ring", steps=1))
    assert {k: getattr(toy, k) for k in REMEDIES_OFF} == REMEDIES_OFF
    with pytest.raises(MiniganError, match="--translate shifts images"):
        resolved(TrainConfig(dataset="ring", steps=1, translate=2))


def test_article_preset_is_the_article_recipe():
    article = resolved(config_from_preset("article", steps=1))
    assert article.real_label == 1.0 and article.g_lr == article.lr == 2e-4
    assert {k: getattr(article, k) for k in REMEDIES_OFF} == REMEDIES_OFF
    assert config_from_preset("article", lr=1e-3).g_lr == 1e-3
    assert config_from_preset("article", dropout=0.3).dropout == 0.3
    default = resolved(config_from_preset(None, steps=1))
    assert default.real_label == 0.9 and default.g_lr == 2 * default.lr
    with pytest.raises(MiniganError, match="--preset"):
        config_from_preset("best")


def test_runs_recorded_before_the_remedies_resume_without_them():
    legacy = {k: v for k, v in TrainConfig(dataset="mnist5k", steps=5).to_dict().items() if k not in REMEDIES_OFF}
    config = TrainConfig.from_dict(legacy)
    assert {k: getattr(config, k) for k in REMEDIES_OFF} == REMEDIES_OFF


def minigan(*args, cwd):
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_refuses_networks_that_do_not_fit_in_memory(tmp_path):
    r = minigan("train", "--hidden", "100000,100000", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "GiB of memory" in r.stderr and "--hidden 100000,100000" in r.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["--dropout", "1.5"], "--dropout must be < 1"),
    (["--translate", "-1"], "--translate must be an integer >= 0"),
    (["--ema", "1"], "--ema must be < 1"),
    (["--lr-decay", "cosine"], "invalid choice"),
    (["--dataset", "ring", "--translate", "2"], "--translate shifts images"),
])
def test_cli_rejects_bad_remedy_options_in_one_line(tmp_path, args, message):
    r = minigan("train", *args, "--steps", "2", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_cli_preset_article_is_recorded_and_resume_keeps_it(tmp_path):
    run = tmp_path / "run"
    r = minigan("train", "--preset", "article", "--dataset", "digits", "--hidden", "8", "--z-dim", "4",
                "--steps", "4", "--out", str(run), "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["real_label"] == 1.0 and config["g_lr"] == config["lr"]
    assert {k: config[k] for k in REMEDIES_OFF} == REMEDIES_OFF
    r = minigan("train", "--resume", str(run), "--steps", "6", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = minigan("train", "--resume", str(run), "--steps", "8", "--dropout", "0.3", cwd=tmp_path)
    assert r.returncode == 2 and "conflicts with the run being resumed" in r.stderr


def test_sampling_from_a_run_with_remedies_is_deterministic(tmp_path):
    train(TrainConfig(steps=3, **DIGITS, **ALL), tmp_path / "run", **quiet())
    G, D, _, _ = load_networks(tmp_path / "run" / "checkpoint.npz")
    x = load("digits", "test").x[:16]
    assert np.array_equal(D(x), D(x))  # no dropout, shift or noise in inference


def test_the_study_has_a_row_for_the_default_recipe():
    from minigan.study import VARIANTS, default_variant

    name = default_variant()
    assert name is not None and name in {v.name for v in VARIANTS}
    assert default_variant() != "article"


def test_study_recipe_names_can_be_given_on_the_command_line():
    from minigan.study import VARIANTS

    names = [v.name for v in VARIANTS]
    assert all("," not in n for n in names) and len(set(names)) == len(names)
