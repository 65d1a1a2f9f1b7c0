"""Exact resume: N steps + stop + resume + N steps == 2N steps, bit for bit.

Also: ``kill -9`` at random moments always leaves a loadable checkpoint, Ctrl-C saves
one and exits 130, and a NaN loss stops the run naming the step and the quantity.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.gan import StepStats
from minigan.train import TrainConfig, Trainer, TrainingDiverged, read_run, resume, train

TOY = dict(dataset="ring", n=500, batch_size=32, hidden=(24, 24), z_dim=4, sample_every=100)  # 15 steps/epoch


def final_state(run_dir):
    """All arrays of the run's checkpoint except the wall-clock ones."""
    arrays = ckpt.load(Path(run_dir) / "checkpoint.npz")
    return {k: v for k, v in arrays.items() if k not in ("loop/elapsed", "metrics/seconds", "config")}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    differing = [k for k in a if not (a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]))]
    assert not differing, differing


def quiet(**kw):
    return dict(progress="none", handle_sigint=False, **kw)


@pytest.mark.parametrize(
    "extra, n_first",
    [
        ({}, 22),  # stop in mid-epoch (15 steps per epoch)
        ({}, 30),  # stop exactly at an epoch boundary
        ({"optimizer": "sgd", "lr": 0.02, "momentum": 0.9, "d_steps": 2, "order": "g_first", "noise": "uniform",
          "loss": "minimax", "weight_decay": 1e-3, "l1": 1e-4}, 11),
    ],
)
@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_resume_is_bit_identical_in_process(tmp_path, extra, n_first):
    cfg = TrainConfig(steps=2 * n_first, **TOY, **extra)
    full = train(cfg, tmp_path / "full", **quiet())
    assert full.step == 2 * n_first
    first = train(TrainConfig(steps=n_first, **TOY, **extra), tmp_path / "split", **quiet())
    assert first.step == n_first
    second = resume(tmp_path / "split", steps=2 * n_first, **quiet())
    assert second.status == "finished" and second.step == 2 * n_first
    assert_same_state(final_state(tmp_path / "full"), final_state(tmp_path / "split"))
    # The metrics files agree too (apart from the wall-clock column).
    strip = [line.rsplit(",", 1)[0] for line in (tmp_path / "full" / "metrics.csv").read_text().splitlines()]
    strip2 = [line.rsplit(",", 1)[0] for line in (tmp_path / "split" / "metrics.csv").read_text().splitlines()]
    assert strip == strip2 and len(strip) == 2 * n_first + 1


def test_resume_detects_a_difference(tmp_path):
    """The comparison above can fail: a resume that reshuffles gives other weights."""
    train(TrainConfig(steps=40, **TOY), tmp_path / "full", **quiet())
    train(TrainConfig(steps=22, **TOY), tmp_path / "split", **quiet())
    out, cfg, arrays = read_run(tmp_path / "split")
    rng = ckpt.decode_rng(arrays["rng/shuffle"])
    rng.random()  # one extra draw: the kind of bug exact resume must not have
    arrays["rng/shuffle"] = ckpt.encode_rng(rng)
    arrays["loop/perm"] = np.zeros(0, dtype=np.int64)  # and forget the epoch's order
    arrays = {k: v for k, v in arrays.items() if k not in ("format", "format_version", "minigan_version", "config")}
    ckpt.save(out / "checkpoint.npz", arrays, config=ckpt.load_config(ckpt.load(out / "checkpoint.npz")))
    with pytest.raises(Exception, match="permutation"):
        resume(tmp_path / "split", steps=40, **quiet())


def test_resume_on_images_mid_epoch(tmp_path):
    kw = dict(dataset="digits", batch_size=64, hidden=(32,), z_dim=8, sample_every=1)  # 22 steps/epoch
    train(TrainConfig(steps=50, **kw), tmp_path / "full", **quiet())
    train(TrainConfig(steps=31, **kw), tmp_path / "split", **quiet())
    resume(tmp_path / "split", steps=50, **quiet())
    assert_same_state(final_state(tmp_path / "full"), final_state(tmp_path / "split"))
    names = sorted(p.name for p in (tmp_path / "split" / "samples").iterdir())
    assert names[:3] == ["epoch_0000.png", "epoch_0001.png", "epoch_0002.png"]


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_resume_can_extend_an_epoch_run(tmp_path):
    train(TrainConfig(epochs=2, **TOY), tmp_path / "a", **quiet())
    result = resume(tmp_path / "a", epochs=3, **quiet())
    assert result.step == 45 and result.epoch == 3
    assert resume(tmp_path / "a", **quiet()).status == "already_done"


def test_nan_guard_names_step_and_quantity(tmp_path, monkeypatch):
    original = Trainer.train_step

    def poisoned(self):
        stats = original(self)
        if self.step == 23:
            return StepStats(stats.d_loss, float("nan"), stats.d_real, stats.d_fake)
        return stats

    monkeypatch.setattr(Trainer, "train_step", poisoned)
    with pytest.raises(TrainingDiverged) as info:
        train(TrainConfig(steps=100, checkpoint_every=10, **TOY), tmp_path / "run", **quiet())
    message = str(info.value)
    assert "g_loss is nan at step 23" in message and "step 20" in message
    arrays = ckpt.load(tmp_path / "run" / "checkpoint.npz")  # the last good checkpoint stays
    assert int(arrays["loop/step"]) == 20
    assert np.isfinite(arrays["G/0.W"]).all()


# -- subprocesses ----------------------------------------------------------------------------------------


def minigan(*args, cwd, **kw):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, **kw)


def spawn(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.Popen([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


TOY_ARGS = ["--dataset", "ring", "--n", "500", "--batch-size", "32", "--hidden", "24,24", "--z-dim", "4",
            "--sample-every", "100"]


@pytest.mark.slow
def test_cli_resume_is_bit_identical(tmp_path):
    assert minigan("train", *TOY_ARGS, "--steps", "52", "--out", "full", "-q", cwd=tmp_path).returncode == 0
    assert minigan("train", *TOY_ARGS, "--steps", "26", "--out", "split", "-q", cwd=tmp_path).returncode == 0
    r = minigan("train", "--resume", "split", "--steps", "52", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    assert_same_state(final_state(tmp_path / "full"), final_state(tmp_path / "split"))


def wait_for(path: Path, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


BIG_ARGS = ["--dataset", "ring", "--n", "500", "--batch-size", "32", "--hidden", "256,256", "--z-dim", "4",
            "--sample-every", "100"]


@pytest.mark.slow
def test_kill_9_always_leaves_a_loadable_checkpoint(tmp_path):
    rnd = random.Random(1234)
    for i in range(6):
        out = tmp_path / f"run{i}"
        # Wide nets make each checkpoint ~1.6 MB, so a kill often lands in the middle of a write.
        proc = spawn("train", *BIG_ARGS, "--steps", "100000", "--checkpoint-every", "1", "--out", str(out), "-q",
                     cwd=tmp_path)
        wait_for(out / "checkpoint.npz", proc)
        time.sleep(rnd.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        arrays = ckpt.load(out / "checkpoint.npz")
        step = int(arrays["loop/step"])
        assert arrays["metrics/step"].shape == (step,)
    # and the last one resumes (a few steps further)
    r = minigan("train", "--resume", str(out), "--steps", str(step + 5), "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not list(out.glob(ckpt.TEMP_PREFIX + "*"))
    assert int(ckpt.load(out / "checkpoint.npz")["loop/step"]) == step + 5


@pytest.mark.slow
def test_ctrl_c_saves_exits_130_and_resumes_exactly(tmp_path):
    out = tmp_path / "run"
    proc = spawn("train", *TOY_ARGS, "--steps", "100000", "--checkpoint-every", "1000000", "--out", str(out),
                 cwd=tmp_path)
    wait_for(out / "checkpoint.npz", proc)  # the step-0 checkpoint: training has started
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted at step" in stderr and "--resume" in stderr and "Traceback" not in stderr
    step = int(ckpt.load(out / "checkpoint.npz")["loop/step"])
    assert step > 0  # the interrupt saved the current step, not just the step-0 checkpoint
    total = step + 7
    r = minigan("train", "--resume", str(out), "--steps", str(total), "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = minigan("train", *TOY_ARGS, "--steps", str(total), "--out", "straight", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert_same_state(final_state(out), final_state(tmp_path / "straight"))


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_cli_divergence_exit_code_and_message(tmp_path):
    r = minigan("train", *TOY_ARGS, "--optimizer", "sgd", "--lr", "1e30", "--steps", "200", "--out", "run", "-q",
                cwd=tmp_path)
    assert r.returncode == 3, (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error: training diverged:")
    assert " at step " in lines[0] and any(q in lines[0] for q in ("d_loss", "g_loss", "d_real", "d_fake"))
    ckpt.load(tmp_path / "run" / "checkpoint.npz")
