"""``minigan train``, ``sample`` and ``data`` end to end, in subprocesses, checking every output file."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def minigan(*args, cwd, timeout=180):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def check_png(path: Path):
    from matplotlib.image import imread
    from PIL import Image

    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width > 50 and im.height > 50
    assert imread(path).ndim in (2, 3)


def check_gif(path: Path, min_frames=2):
    from PIL import Image

    assert path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(path) as im:
        assert im.is_animated and im.n_frames >= min_frames
        return im.n_frames


def check_metrics(path: Path, n_steps: int, spe: int):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    body = rows[1:]
    assert len(body) == n_steps
    steps = [int(r[0]) for r in body]
    assert steps == list(range(1, n_steps + 1))
    assert [int(r[1]) for r in body] == [(s - 1) // spe + 1 for s in steps]
    values = np.array([[float(v) for v in r[2:]] for r in body])
    assert np.isfinite(values).all()
    assert ((values[:, 2:4] >= 0) & (values[:, 2:4] <= 1)).all()  # D outputs are probabilities
    assert (np.diff(values[:, 4]) >= 0).all()  # seconds never go back


def check_checkpoint(path: Path, step: int):
    with np.load(path, allow_pickle=False) as npz:
        assert int(npz["loop/step"]) == step
        assert json.loads(str(npz["config"][()]))["config"]
        assert any(k.startswith("G/") for k in npz.files) and any(k.startswith("D/") for k in npz.files)


@pytest.mark.slow
def test_toy_run_end_to_end(tmp_path):
    r = minigan("train", "--dataset", "ring", "--steps", "300", "--n", "2000", "--hidden", "32,32", "--z-dim", "8",
                "--sample-every", "2", "--out", "ring", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "ring"
    # final line: where the outputs are and the wall time
    last = r.stdout.strip().splitlines()[-1]
    assert "ring" in last and " s " in last and "300 steps" in last
    # not a terminal: plain progress lines on stderr
    assert "step 300/300 (100%)" in r.stderr and "\r" not in r.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["minigan_version"] and config["config"]["dataset"] == "ring"
    assert config["config"]["output"] == "linear" and config["data"]["dim"] == 2
    spe = config["steps_per_epoch"]
    assert spe == 2000 // 64
    check_metrics(out / "metrics.csv", 300, spe)
    check_checkpoint(out / "checkpoint.npz", 300)
    for png in ["losses.png", "samples.png", "samples/epoch_0000.png", "samples/epoch_0002.png",
                "samples/epoch_0008.png", "samples/step_0000300.png"]:
        check_png(out / png)
    assert not (out / "samples" / "epoch_0001.png").exists()  # --sample-every 2
    assert check_gif(out / "training.gif") == 1 + 4 + 1  # start, epochs 2/4/6/8, the end


def test_image_run_end_to_end(tmp_path):
    r = minigan("train", "--dataset", "digits", "--steps", "50", "--hidden", "64,64", "--out", "digits", "-q",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""  # --quiet: nothing but errors
    out = tmp_path / "digits"
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["output"] == "tanh" and config["data"]["image_shape"] == [8, 8]
    spe = config["steps_per_epoch"]
    check_metrics(out / "metrics.csv", 50, spe)
    check_checkpoint(out / "checkpoint.npz", 50)
    frames = sorted(p.name for p in (out / "samples").iterdir())
    assert frames == ["epoch_0000.png", "epoch_0001.png", "epoch_0002.png", "step_0000050.png"]
    for png in ["losses.png", "samples.png", *[f"samples/{f}" for f in frames]]:
        check_png(out / png)
    assert check_gif(out / "training.gif") == 4
    # a grid of 8 x 8 digits of 8 x 8 pixels with 2-pixel gaps, zoomed by an integer factor
    from PIL import Image

    with Image.open(out / "samples.png") as im:
        assert im.width == im.height and im.width % 82 == 0


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_mnist5k_short_run(tmp_path):
    r = minigan("train", "--steps", "30", "--out", "m", "--sample-every", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "m"
    config = json.loads((out / "config.json").read_text())
    c = config["config"]
    assert (c["dataset"], c["z_dim"], c["hidden"], c["batch_size"], c["lr"], c["beta1"], c["loss"]) == (
        "mnist5k", 100, [128, 128, 128], 64, 4e-4, 0.5, "non_saturating")
    assert (c["g_lr"], c["dropout"], c["translate"], c["ema"]) == (8e-4, 0.3, 2, 0.999)
    assert config["data"]["image_shape"] == [28, 28]
    with np.load(out / "checkpoint.npz", allow_pickle=False) as npz:
        assert npz["G/0.W"].shape == (100, 128) and npz["G/6.W"].shape == (128, 784)
        # D: RandomTranslate, then Dense / LeakyReLU / Dropout three times, then Dense.
        assert npz["D/1.W"].shape == (784, 128) and npz["D/10.W"].shape == (128, 1)
        assert npz["G_ema/0.W"].shape == (100, 128)
        assert npz["G/0.W"].dtype == np.float32
    check_png(out / "samples.png")
    check_gif(out / "training.gif")


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_one_d_run(tmp_path):
    r = minigan("train", "--dataset", "mixture1d", "--steps", "40", "--n", "640", "--hidden", "16", "--out", "m1",
                "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for png in ["samples.png", "losses.png", "samples/epoch_0000.png", "samples/epoch_0004.png"]:
        check_png(tmp_path / "m1" / png)
    check_gif(tmp_path / "m1" / "training.gif")


@pytest.mark.slow
def test_default_out_dir_is_fresh_each_time(tmp_path):
    args = ["train", "--dataset", "ring", "--steps", "3", "--n", "200", "--hidden", "8", "-q"]
    assert minigan(*args, cwd=tmp_path).returncode == 0
    assert minigan(*args, cwd=tmp_path).returncode == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(p.name.startswith("ring-") for p in runs)
    assert all((p / "checkpoint.npz").exists() for p in runs)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("ring")
    r = minigan("train", "--dataset", "ring", "--steps", "60", "--n", "640", "--hidden", "16,16", "--z-dim", "4",
                "--out", "run", "-q", cwd=base)
    assert r.returncode == 0, r.stderr
    return base / "run"


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("digits")
    r = minigan("train", "--dataset", "digits", "--steps", "10", "--hidden", "16", "--out", "run", "-q", cwd=base)
    assert r.returncode == 0, r.stderr
    return base / "run"


def test_sample_images(digits_run, tmp_path):
    r = minigan("sample", "--checkpoint", str(digits_run / "checkpoint.npz"), "-n", "25", "-o", "grid.png",
                "--npy", "x.npy", "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    check_png(tmp_path / "grid.png")
    x = np.load(tmp_path / "x.npy", allow_pickle=False)
    assert x.shape == (25, 64) and x.dtype == np.float32 and np.abs(x).max() <= 1
    # the same seed gives the same samples, another seed others; a run directory works too
    r = minigan("sample", "--checkpoint", str(digits_run), "-n", "25", "-o", "g2.png", "--npy", "y.npy",
                "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(x, np.load(tmp_path / "y.npy"))
    minigan("sample", "--checkpoint", str(digits_run), "-n", "25", "-o", "g3.png", "--npy", "z.npy", cwd=tmp_path)
    assert not np.array_equal(x, np.load(tmp_path / "z.npy"))


def test_sample_points(ring_run, tmp_path):
    r = minigan("sample", "--checkpoint", str(ring_run / "checkpoint.npz"), "-n", "500", "-o", "scatter.png",
                "--npy", "p.npy", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    check_png(tmp_path / "scatter.png")
    assert np.load(tmp_path / "p.npy").shape == (500, 2)


def test_data_list(tmp_path):
    r = minigan("data", "list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    names = [line.split()[0] for line in lines]
    for name in ["ring", "grid", "mixture1d", "moons", "spiral", "mnist5k", "digits", "mnist", "fashion-mnist"]:
        assert name in names
    by_name = {line.split()[0]: line for line in lines}
    assert "bundled" in by_name["mnist5k"] and "generated" in by_name["ring"]
    assert "cached" in by_name["mnist"] or "not downloaded" in by_name["mnist"]


def test_data_download_of_a_bundled_set_needs_nothing(tmp_path):
    r = minigan("data", "download", "digits", cwd=tmp_path)
    assert r.returncode == 0 and "needs no download" in r.stdout
