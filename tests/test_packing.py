"""Packing (PacGAN): shapes, gradients through the packed discriminator, training, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from minigan import GAN, build_discriminator, build_generator
from minigan.gradcheck import check_function, check_module
from minigan.losses import discriminator_loss, generator_loss
from minigan.nn import Dense, Pack


def test_pack_concatenates_consecutive_samples():
    inner = Dense(6, 1, dtype=np.float64, rng=0)
    packed = Pack(inner, 3)
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    y = packed(x)
    # Pack 0 is rows 0..2 side by side: [0 1 2 3 4 5]; pack 1 rows 3..5: [6 .. 11].
    np.testing.assert_allclose(y, np.array([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11.0]]) @ inner.W + inner.b)
    with pytest.raises(ValueError, match="multiple of 3"):
        packed(np.zeros((4, 2)))


def test_pack_module_gradients():
    rng = np.random.default_rng(0)
    D = build_discriminator(2 * 3, (5, 4), dtype=np.float64, rng=rng)
    report = check_module(Pack(D, 3), rng.standard_normal((9, 2)), rng=1)
    assert report.passed, str(report)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_generator_gradient_through_packed_discriminator(m):
    rng = np.random.default_rng(m)
    G = build_generator(3, (6,), 2, output="linear", dtype=np.float64, rng=rng)
    D = Pack(build_discriminator(2 * m, (5, 4), dtype=np.float64, rng=rng), m)
    z = rng.standard_normal((4 * m, 3))

    def f():
        return generator_loss(D(G(z)))[0]

    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    assert logits.shape == (4, 1)  # one logit per pack
    _, d_logits = generator_loss(logits)
    d_fake, _ = D.backward(d_logits, d_cache)
    _, grads = G.backward(d_fake, g_cache)
    report = check_function(f, G.params(), grads, title=f"G through Pack(D, {m})")
    assert report.passed, str(report)

    real = rng.standard_normal((4 * m, 2))

    def f_d():
        return discriminator_loss(D(real), D(G(z)))[0]

    logits, cache = D.forward(np.concatenate([real, fake]))
    _, d_real, d_fake_logits = discriminator_loss(logits[:4], logits[4:])
    _, d_grads = D.backward(np.concatenate([d_real, d_fake_logits]), cache)
    report = check_function(f_d, D.params(), d_grads, title=f"D = Pack(., {m}) on real + fake")
    assert report.passed, str(report)


def test_gan_trains_with_a_packed_discriminator():
    G = build_generator(3, (8,), 2, output="linear", rng=0)
    D = Pack(build_discriminator(4, (8,), rng=1), 2)
    gan = GAN(G, D, z_dim=3, rng=2)
    stats = gan.train_step(np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32))
    assert 0 < stats.d_real < 1 and 0 < stats.d_fake < 1 and np.isfinite(stats.d_loss)


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "minigan", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
def test_train_with_pack_flag_and_bad_pack(tmp_path):
    done = run("train", "--dataset", "ring", "--steps", "50", "--pack", "4", "--out", str(tmp_path / "r"), "-q")
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["config"]["pack"] == 4
    bad = run("train", "--dataset", "ring", "--steps", "5", "--pack", "3", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "multiple of --pack 3" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
@pytest.mark.parametrize("what", ["ring", "parzen", "scores"])
def test_reproduce_quick_end_to_end(what, tmp_path):
    extra = ["--baseline-steps", "100"] if what == "scores" else []
    done = run("reproduce", what, "--quick", *extra, "--out", str(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    table = (tmp_path / f"{what}.md").read_text()
    raw = json.loads((tmp_path / f"{what}.json").read_text())
    if what == "ring":
        assert "PacGAN4" in table and "minigan pack 4" in table
        assert len(raw["runs"]) == 4 * 2
        assert all(0 <= r["modes"] <= 8 and 0 <= r["high_quality"] <= 1 for r in raw["runs"])
        assert (tmp_path / "ring_pack2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    elif what == "scores":
        (generated,), (before,), (reference,) = raw["rows"].values()
        assert "held-out real digits (reference)" in table
        assert generated["steps"] == 200 and before["steps"] == 100 and generated["seed"] == before["seed"]
        assert "strided judge" in table and "Fréchet before (strided)" in table
        assert 0 < generated["frechet_strided"] and 0 < before["frechet_strided"]
        # Real digits the classifier never saw: every class present, and a detector
        # cannot tell them from other real digits (500 vs 500 images: chance +- ~0.05).
        assert reference["classes_covered"] == 10 and 0.4 < reference["detection_accuracy"] < 0.6
        assert all(np.isfinite(v) for v in generated.values())
    else:
        assert "Adversarial nets" in table and "one Gaussian" in table
        assert [r["model"] for r in raw["rows"]][0] == "minigan GAN samples"
        assert all(np.isfinite(r["mean"]) for r in raw["rows"])


def test_toy_learning_rate_schedule_holds_then_decays_geometrically():
    from minigan.reproduce import ToySettings, learning_rate

    s = ToySettings(steps=101, lr=1e-3, lr_end=1e-5, decay_start=0.5)
    rates = [learning_rate(k, s) for k in range(s.steps)]
    assert rates[0] == rates[50] == 1e-3  # held for the first half
    assert rates[-1] == pytest.approx(1e-5, rel=1e-12)  # reaches lr_end exactly at the last step
    assert rates[75] == pytest.approx(1e-4, rel=1e-12)  # halfway through the decay: the geometric mean
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    constant = ToySettings(steps=10, lr=2e-4, lr_end=2e-4)
    assert {learning_rate(k, constant) for k in range(10)} == {2e-4}


@pytest.mark.slow
def test_reproduce_study_and_time_quick(tmp_path):
    done = run("reproduce", "study", "--quick", "--variants", "article,all four", "--jobs", "2",
               "--out", str(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "study.md").read_text()
    raw = json.loads((tmp_path / "study.json").read_text())
    assert "| article |" in table and "| all four |" in table
    assert [r["variant"] for r in raw["runs"]] == ["article", "all four"]
    assert all(np.isfinite(r["frechet"]) and 1 <= r["classes_covered"] <= 10 for r in raw["runs"])
    assert all(r["frechet_strided"] > 0 for r in raw["runs"]) and "strided judge" in table
    assert set(raw["judges"]) == {"pooled", "strided"}
    assert raw["variants"]["all four"]["translate"] == 2 and raw["variants"]["article"]["real_label"] == 1.0
    assert (tmp_path / "study_all_four.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    done = run("reproduce", "time", "--quick", "--threshold", "1e9,1e-9", "--out", str(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    raw = json.loads((tmp_path / "time.json").read_text())
    # Every score is below 1e9, so that threshold is reached at the first check; none is below 1e-9.
    for runs in raw["runs"].values():
        for r in runs:
            assert r["reached"]["1000000000.0"]["step"] == raw["every"]
            assert r["reached"]["1e-09"] is None and r["curve"][-1][0] == raw["max_steps"]
            assert all(len(point) == 4 and point[3] > 0 for point in r["curve"])  # both judges at each step
    assert "not within" in (tmp_path / "time.md").read_text()
    assert "Fréchet (strided judge)" in (tmp_path / "time.md").read_text()
    assert (tmp_path / "time.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("reproduce", "study", "--variants", "best", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown recipe" in bad.stderr and "Traceback" not in bad.stderr
    bad = run("reproduce", "scores", "--baseline-steps", "10", "--baseline-variant", "best", "--out", str(tmp_path))
    assert bad.returncode == 2 and "--baseline-variant" in bad.stderr and "Traceback" not in bad.stderr
