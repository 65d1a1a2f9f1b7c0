"""A full disk, a read-only directory or a quota while a run writes its files: one line
naming the file and what is intact, exit code 4, no traceback, and the last checkpoint
loadable and resumable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.train import OutputNotWritten, TrainConfig, load_networks, resume, train

CONFIG = dict(dataset="ring", n=512, batch_size=64, steps=40, checkpoint_every=10, hidden=(8,), seed=0)


def test_a_failed_checkpoint_write_names_the_file_and_keeps_the_last_one(tmp_path, monkeypatch):
    real_save, calls = ckpt.save, []

    def save(path, *args, **kwargs):  # the third checkpoint (step 20) finds the disk full
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(ckpt, "save", save)
    out = tmp_path / "run"
    with pytest.raises(OutputNotWritten) as info:
        train(TrainConfig(**CONFIG), out, progress="none")
    message = str(info.value)
    assert "\n" not in message and f"could not write {out / 'checkpoint.npz'}" in message
    assert "No space left on device" in message and "checkpoint of step 10" in message
    assert f"minigan train --resume {out}" in message
    assert not list(out.glob(ckpt.TEMP_PREFIX + "*"))  # no half-written temporary left
    assert load_networks(out)[2].steps == 40  # the step-10 checkpoint still loads
    monkeypatch.setattr(ckpt, "save", real_save)
    done = resume(out, progress="none")  # and the run goes on from it
    assert done.step == 40 and done.status == "finished"


def test_a_failed_picture_before_any_checkpoint_says_so(tmp_path, monkeypatch):
    from minigan.train import trainer as trainer_module

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trainer_module.Trainer, "picture", no_space)
    with pytest.raises(OutputNotWritten, match=r"epoch_0000\.png: No space left on device; no checkpoint was "
                                               r"written yet"):
        train(TrainConfig(**CONFIG), tmp_path / "run", progress="none")


PATCHED_CLI = """
import sys
import minigan.checkpoint as ckpt
real, calls = ckpt.save, []
def save(path, *args, **kwargs):
    calls.append(path)
    if len(calls) == 3:
        raise OSError(28, "No space left on device")
    return real(path, *args, **kwargs)
ckpt.save = save
from minigan.cli import main
sys.exit(main(sys.argv[1:]))
"""


def train_args(out: Path) -> list[str]:
    return ["train", "--dataset", "ring", "--n", "512", "--steps", "40", "--checkpoint-every", "10",
            "--hidden", "8", "--out", str(out), "--quiet", "--no-viewer"]


def test_the_command_line_ends_in_one_line_and_exit_code_4(tmp_path):
    done = subprocess.run([sys.executable, "-c", PATCHED_CLI, *train_args(tmp_path / "run")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error: could not write") and "Traceback" not in done.stderr
    assert "checkpoint of step 10" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="mounting a small tmpfs needs root on Linux")
@pytest.mark.slow
def test_a_really_full_filesystem(tmp_path):
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=800k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        out = mount / "run"
        # A run whose checkpoints (written beside the old one), viewer frames and pictures
        # (about 27 kB each) outgrow 800 kB within its 300 steps, after a few checkpoints.
        done = subprocess.run([sys.executable, "-m", "minigan", "train", "--dataset", "ring", "--n", "512",
                               "--steps", "300", "--checkpoint-every", "10", "--hidden", "64,64", "--out", str(out),
                               "--quiet"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 4, (done.returncode, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "No space left on device" in lines[0] and "Traceback" not in done.stderr
        assert "checkpoint of step" in lines[0], lines[0]
        step = int(lines[0].split("checkpoint of step ")[1].split()[0])
        assert step > 0
        G, _, config, _ = load_networks(out)  # the last checkpoint loads
        assert np.isfinite(G(np.zeros((2, config.z_dim), np.float32))).all()
        assert int(ckpt.load(out / "checkpoint.npz")["loop/step"]) == step
        moved = tmp_path / "moved"  # "free space": here, by moving the run to a roomy disk
        shutil.copytree(out, moved)
        again = subprocess.run([sys.executable, "-m", "minigan", "train", "--resume", str(moved), "--quiet"],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert int(ckpt.load(moved / "checkpoint.npz")["loop/step"]) == 300
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
