"""The training viewer (minigan/viewer.py): frames, arrows, the HTML page, and how
``minigan train`` writes it without changing training or exact resume."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.gan import build_discriminator, build_generator
from minigan.gradcheck import numerical_gradient, rel_error
from minigan.losses import generator_loss
from minigan.train import TrainConfig, build_networks, resume, train
from minigan.viewer import (
    DEFAULT_FRAMES,
    TrainingRecorder,
    discriminator_field,
    frame_steps,
    generator_push,
    grid_points,
    inference_view,
    write_html,
)

ROOT = Path(__file__).resolve().parents[1]
MAX_PAGE = 5_000_000
SLIDER = re.compile(r'<input[^>]*type="range"[^>]*class="anim-slider"')
BOUNDS = np.array([[-1.5, 1.5], [-1.5, 1.5]])


def small_pair(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    G = build_generator(3, (16, 16), 2, output="linear", dtype=dtype, rng=rng)
    D = build_discriminator(2, (16, 16), dtype=dtype, rng=rng)
    return G, D


def ring_points(n=300, seed=0):
    a = np.random.default_rng(seed).integers(0, 8, n) * (2 * np.pi / 8)
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def recorder(n=24, resolution=12, loss="non_saturating"):
    z = np.random.default_rng(1).standard_normal((n, 3)).astype(np.float32)
    return TrainingRecorder(ring_points(), z, BOUNDS, loss=loss, resolution=resolution)


# -- frames --------------------------------------------------------------------------------------


def test_frames_have_the_documented_shapes_and_dtypes(tmp_path):
    G, D = small_pair()
    rec = recorder()
    for step, losses in ((0, ()), (10, (1.3, 0.7)), (20, (1.2, 0.8))):
        rec.snapshot(G, D, step, *losses)
    a = rec.arrays()
    assert a["fake"].shape == a["push"].shape == (3, 24, 2) and a["field"].shape == (3, 12, 12)
    assert a["fake"].dtype == a["push"].dtype == a["field"].dtype == np.float32
    assert a["real"].dtype == a["z"].dtype == np.float32 and a["real"].shape == (300, 2)
    assert a["step"].tolist() == [0, 10, 20] and a["step"].dtype == np.int64
    assert np.isnan(a["d_loss"][0]) and a["g_loss"][1:].tolist() == [0.7, 0.8]
    assert ((a["field"] >= 0) & (a["field"] <= 1)).all()
    np.testing.assert_array_equal(a["fake"][2], G(rec.z))
    # the field is D(x) on the grid, row j at x2 = grid[j]
    pts = grid_points(BOUNDS, 12)
    assert pts[1, 0] > pts[0, 0] and pts[1, 1] == pts[0, 1]
    np.testing.assert_allclose(a["field"][2].ravel(), 1 / (1 + np.exp(-D(pts).ravel())), rtol=1e-5)
    # stored without pickle, read back equal; truncate drops later frames
    path = rec.save(tmp_path / "viewer.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    back = TrainingRecorder.load(path)
    for k, v in back.arrays().items():
        np.testing.assert_array_equal(v, a[k])
    back.truncate(10)
    assert back.steps == [0, 10] and len(back.fake) == len(back.field) == 2


def test_frame_steps_cover_the_run_evenly():
    s = frame_steps(10_000, 50)
    assert s[0] == 0 and s[-1] == 10_000 and len(s) == 50 and (np.diff(s) > 0).all()
    assert frame_steps(52).tolist() == [0, 10, 21, 31, 42, 52]  # short runs: frames >= 10 steps apart
    assert frame_steps(3).tolist() == [0, 3]


# -- the arrows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["non_saturating", "minimax"])
def test_arrows_are_minus_the_gradient_of_the_generator_loss(loss):
    """push = -n dL_G/dx, against central differences of L_G in float64."""
    G, D = small_pair(np.float64, seed=3)
    x = np.random.default_rng(4).uniform(-1.5, 1.5, (7, 2))
    push = generator_push(D, x, loss)
    assert push.dtype == np.float64 and push.shape == x.shape

    def total_loss(_):
        return x.shape[0] * generator_loss(D(x), loss)[0]

    numeric = numerical_gradient(total_loss, x, h=1e-6)
    assert rel_error(push, -numeric) < 1e-7
    # ... and the check can fail: the gradient itself, or the other loss's arrows, do not pass
    assert rel_error(-push, -numeric) > 0.5
    other = generator_push(D, x, "minimax" if loss == "non_saturating" else "non_saturating")
    assert rel_error(other, -numeric) > 1e-2


def test_arrows_shrink_where_D_saturates():
    """Non-saturating: |push| = (1 - D(x)) |grad logit|; minimax: D(x) |grad logit|."""
    _, D = small_pair(np.float64, seed=5)
    x = np.random.default_rng(6).uniform(-1.5, 1.5, (50, 2))
    ns, mm = generator_push(D, x, "non_saturating"), generator_push(D, x, "minimax")
    d = 1 / (1 + np.exp(-D(x).ravel()))
    np.testing.assert_allclose(ns * (d / (1 - d))[:, None], mm, rtol=1e-9, atol=1e-14)


def test_snapshots_draw_no_random_numbers_and_skip_random_layers():
    cfg = TrainConfig(dataset="ring", hidden=(16, 16), z_dim=3, dropout=0.5, instance_noise=0.3, output="linear")
    augment = np.random.default_rng(7)
    G, D = build_networks(cfg, 2, np.random.default_rng(0), augment_rng=augment)
    before = augment.bit_generator.state
    rec = recorder()
    rec.snapshot(G, D, 0)
    rec.snapshot(G, D, 1)
    assert augment.bit_generator.state == before
    np.testing.assert_array_equal(rec.push[0], rec.push[1])  # deterministic
    plain = inference_view(D)
    assert len(plain.modules) < len(D.modules)
    np.testing.assert_array_equal(plain(rec.fake[0]), D(rec.fake[0]))
    np.testing.assert_array_equal(discriminator_field(D, BOUNDS, 12), rec.field[0])


# -- the page --------------------------------------------------------------------------------------


def busy_recorder(frames: int) -> TrainingRecorder:
    """A worst case for the PNG frames: points all over the plot, arrows of every length,
    a field with many colour bands."""
    rng = np.random.default_rng(8)
    rec = recorder(n=240, resolution=48)
    g = np.linspace(-1.5, 1.5, 48)
    xx, yy = np.meshgrid(g, g)
    for k in range(frames):
        c = rng.uniform(-1.5, 1.5, (6, 2))
        field = sum(np.exp(-((xx - a) ** 2 + (yy - b) ** 2) / 0.1) for a, b in c)
        rec.steps.append(k * 100)
        rec.d_loss.append(1.3)
        rec.g_loss.append(0.8)
        rec.fake.append(rng.uniform(-1.5, 1.5, (240, 2)).astype(np.float32))
        rec.push.append((rng.standard_normal((240, 2)) * rng.uniform(0, 3)).astype(np.float32))
        rec.field.append(np.clip(field, 0, 1).astype(np.float32))
    return rec


def test_html_page_has_the_player_and_stays_under_5_mb(tmp_path):
    """Measured on a few busy frames, extrapolated to DEFAULT_FRAMES."""
    few, many = 2, 6
    sizes = {}
    for n in (few, many):
        page = write_html(busy_recorder(n), tmp_path / f"p{n}.html", title="ring").read_text(encoding="utf-8")
        sizes[n] = len(page.encode())
        assert page.startswith("<!DOCTYPE html>") and "</html>" in page
        assert SLIDER.search(page) and 'title="播放"' in page and 'title="下一帧"' in page
        assert page.count("data:image/png;base64,") == n
        assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    per_frame = (sizes[many] - sizes[few]) / (many - few)
    projected = sizes[few] + per_frame * (DEFAULT_FRAMES - few)
    assert per_frame > 1000
    assert projected < 0.8 * MAX_PAGE, f"{DEFAULT_FRAMES} frames would make a {projected / 1e6:.2f} MB page"


# -- minigan train -----------------------------------------------------------------------------------


def minigan(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


RING = ["--dataset", "ring", "--n", "640", "--hidden", "16,16", "--z-dim", "4", "--steps", "40"]


def without_times(text: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "T s", text)


@pytest.mark.slow
def test_minigan_train_writes_the_viewer_and_no_viewer_does_not(tmp_path):
    r = minigan("train", *RING, "--out", "on", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    off = minigan("train", *RING, "--out", "off", "--no-viewer", cwd=tmp_path)
    assert off.returncode == 0, off.stderr
    # progress output unchanged by the viewer
    assert without_times(r.stderr) == without_times(off.stderr)
    assert without_times(r.stdout).replace("on/", "X/") == without_times(off.stdout).replace("off/", "X/")
    page = (tmp_path / "on" / "training.html").read_text(encoding="utf-8")
    assert SLIDER.search(page) and len(page.encode()) < MAX_PAGE
    frames = TrainingRecorder.load(tmp_path / "on" / "viewer.npz")
    assert frames.steps == frame_steps(40).tolist()
    assert page.count("data:image/png;base64,") == len(frames.steps)
    assert not (tmp_path / "off" / "training.html").exists() and not (tmp_path / "off" / "viewer.npz").exists()
    # the same weights with and without the viewer
    a, b = ckpt.load(tmp_path / "on" / "checkpoint.npz"), ckpt.load(tmp_path / "off" / "checkpoint.npz")
    assert_same_state(a, b)


def test_image_runs_write_no_viewer(tmp_path):
    r = minigan("train", "--dataset", "digits", "--steps", "3", "--hidden", "8", "--out", "d", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "d" / "training.html").exists() and not (tmp_path / "d" / "viewer.npz").exists()


# -- exact resume ------------------------------------------------------------------------------------------

TOY = dict(dataset="ring", n=500, batch_size=32, hidden=(24, 24), z_dim=4, sample_every=100)  # 15 steps/epoch
QUIET = dict(progress="none", handle_sigint=False)
WALL_CLOCK = ("loop/elapsed", "metrics/seconds", "config")


def assert_same_state(a, b):
    a = {k: v for k, v in a.items() if k not in WALL_CLOCK}
    b = {k: v for k, v in b.items() if k not in WALL_CLOCK}
    assert a.keys() == b.keys()
    assert not [k for k in a if not (a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]))]


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_resume_with_the_viewer_equals_the_uninterrupted_run(tmp_path):
    full = train(TrainConfig(steps=44, **TOY), tmp_path / "full", viewer=True, **QUIET)
    plain = train(TrainConfig(steps=44, **TOY), tmp_path / "plain", **QUIET)
    train(TrainConfig(steps=22, **TOY), tmp_path / "split", viewer=True, **QUIET)
    # a killed run may have written frames after its last checkpoint: a resume drops them
    rec = TrainingRecorder.load(tmp_path / "split" / "viewer.npz")
    assert rec.steps == frame_steps(22).tolist()
    rec.steps.append(999)
    for name in ("d_loss", "g_loss", "fake", "push", "field"):
        getattr(rec, name).append(getattr(rec, name)[-1])
    rec.save(tmp_path / "split" / "viewer.npz")
    second = resume(tmp_path / "split", steps=44, **QUIET)
    assert full.step == plain.step == second.step == 44
    state = ckpt.load(tmp_path / "full" / "checkpoint.npz")
    assert_same_state(state, ckpt.load(tmp_path / "split" / "checkpoint.npz"))
    assert_same_state(state, ckpt.load(tmp_path / "plain" / "checkpoint.npz"))  # the viewer changes nothing
    assert not (tmp_path / "plain" / "training.html").exists()
    # the resumed viewer kept its first part and went on; common frames are bit-identical
    split = TrainingRecorder.load(tmp_path / "split" / "viewer.npz")
    whole = TrainingRecorder.load(tmp_path / "full" / "viewer.npz")
    expected = sorted(set(frame_steps(22).tolist()) | {s for s in frame_steps(44).tolist() if s > 22})
    assert split.steps == expected
    common = [s for s in split.steps if s in whole.steps]
    assert len(common) >= 3
    for s in common:
        i, j = split.steps.index(s), whole.steps.index(s)
        np.testing.assert_array_equal(split.push[i], whole.push[j])
        np.testing.assert_array_equal(split.field[i], whole.field[j])
    assert SLIDER.search((tmp_path / "split" / "training.html").read_text(encoding="utf-8"))


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_a_run_without_frames_resumes_with_a_viewer_from_the_resume_step(tmp_path):
    train(TrainConfig(steps=20, **TOY), tmp_path / "r", **QUIET)
    resume(tmp_path / "r", steps=40, viewer=True, **QUIET)
    rec = TrainingRecorder.load(tmp_path / "r" / "viewer.npz")
    assert rec.steps[0] == 20 and rec.steps[-1] == 40


# -- the chapter 3 notebook ------------------------------------------------------------------------------


def test_chapter_3_notebook_shows_the_viewer():
    path = ROOT / "notebooks" / "03_algorithm.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    html = ["".join(o["data"]["text/html"]) for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    players = [h for h in html if SLIDER.search(h)]
    assert len(players) == 1, "chapter 3 shows one training viewer"
    assert players[0].count("data:image/png;base64,") >= 10
    assert path.stat().st_size < MAX_PAGE


def test_player_controls_are_chinese_and_frames_are_at_least_640_px_wide():
    """Issue 23: the viewer was 388 px wide with 6-px labels and English controls."""
    import base64
    import struct

    html = busy_recorder(2).to_jshtml()
    for english in ("Once", "Loop", "Reflect", '"Play"', '"Pause"', "First frame", "speed"):
        assert english not in html, f"English control text {english!r} left in the player"
    for chinese in ("放一遍", "循环", "往返", 'title="播放"', 'aria-label="暂停"', "第一帧", "加速"):
        assert chinese in html
    png = base64.b64decode(re.search(r"data:image/png;base64,([^\"]+)", html).group(1))
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    assert width >= 640 and height >= 500, (width, height)
