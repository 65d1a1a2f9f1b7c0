"""The structure study's machinery and ``minigan bench --arch dcgan``: FLOP counts of the
convolution layers by hand, the floor computes every product, the study's budgets turn
into steps, and both commands run end to end (quick)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from minigan.bench.dcgan import build, dcgan_products, layer_products, make_floor_step
from minigan.bench.flops import flops
from minigan.nn import Conv2d, ConvTranspose2d, Dense, Sequential
from minigan.structure import ROWS, budgets


def test_convolution_products_by_hand():
    net = Sequential(Conv2d((28, 28, 1), 32, 4, stride=2, padding=1), ConvTranspose2d((7, 7, 64), 32, 4, stride=2,
                                                                                      padding=1), Dense(10, 3))
    # Conv2d: 14 x 14 positions per image, patches of 4 x 4 x 1, 32 filters.
    # ConvTranspose2d: 7 x 7 input pixels per image, 64 channels in, each stamps 4 x 4 x 32.
    assert layer_products(net, 2) == [(2 * 196, 16, 32), (2 * 49, 64, 512), (2, 10, 3)]
    assert layer_products(net, 2, forward=False, param_grads=True, input_grad=True) == [
        (16, 392, 32), (392, 32, 16), (64, 98, 512), (98, 512, 64), (10, 2, 3), (2, 3, 10)]


def test_dcgan_step_flops_add_up_by_hand():
    G, D = build(batchnorm=True)
    per_sample = {k: flops(v) for k, v in dcgan_products(G, D, 1).items()}
    # G forward: Dense 100 -> 3136, ConvT 7x7x64 -> 14x14x32 (49 pixels x 64 x 512), ConvT 14x14x32 -> 28x28x1.
    g_forward = 2 * (100 * 3136 + 49 * 64 * 512 + 196 * 32 * 16)
    # D forward: Conv 28x28x1 -> 14x14x32 (196 x 16 x 32), Conv -> 7x7x64 (49 x 512 x 64), Dense 3136 -> 1.
    d_forward = 2 * (196 * 16 * 32 + 49 * 512 * 64 + 3136)
    assert per_sample["d_step/G forward (N)"] == per_sample["g_step/G forward (N)"] == g_forward
    assert per_sample["d_step/D forward (N real, then N fake)"] == 2 * d_forward
    # D's backward in its own step: dW of all three layers, dx of the last two, twice.
    assert per_sample["d_step/D backward (2 x N; dW, dx but the first)"] == 2 * (2 * d_forward - 2 * 196 * 16 * 32)
    assert per_sample["g_step/D backward (N; dx only)"] == d_forward


def test_the_floor_step_runs_exactly_the_listed_products(monkeypatch):
    G, D = build(batchnorm=True)
    seen = []
    real_matmul = np.matmul

    def spy(a, b, out=None):
        seen.append((a.shape[0], a.shape[1], b.shape[1]))
        return real_matmul(a, b, out=out)

    step = make_floor_step(G, D, 4)
    monkeypatch.setattr(np, "matmul", spy)
    step()
    listed = [p for products in dcgan_products(G, D, 4).values() for p in products if p[1] != 1]
    assert sorted(seen) == sorted(listed)


def test_budgets_are_the_default_runs_training_times():
    b = budgets({"mlp": 0.004, "dcgan no bn": 0.05, "dcgan": 0.06})  # the default DCGAN has no batch norm
    assert b["mlp default"] == pytest.approx(18_600 * 0.004)  # 300 epochs of 62 steps
    assert b["dcgan default"] == pytest.approx(4_960 * 0.05)  # 80 epochs of 62 steps
    assert [r.name for r in ROWS] == ["mlp", "mlp wide", "dcgan_g", "dcgan no bn", "dcgan"]


@pytest.mark.slow
def test_reproduce_structure_quick(tmp_path):
    done = subprocess.run([sys.executable, "-m", "minigan", "reproduce", "structure", "--quick", "--variants",
                           "mlp,dcgan", "--out", str(tmp_path), "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    raw = json.loads((tmp_path / "structure.json").read_text())
    assert {(r["budget"], r["row"]) for r in raw["runs"]} == {
        (b, n) for b in ("mlp default", "dcgan default") for n in ("mlp", "dcgan")}
    for r in raw["runs"]:
        # steps = budget / time per step of that row
        assert r["steps"] == max(1, round(raw["budgets"][r["budget"]] / raw["step_seconds"][r["row"]]))
        assert 1 <= r["classes_covered"] <= 10
    table = (tmp_path / "structure.md").read_text()
    assert "At the mlp default run's wall time" in table and "| dcgan |" in table
    assert (tmp_path / "structure_dcgan_dcgan.png").exists()


@pytest.mark.slow
def test_bench_dcgan_quick_json():
    done = subprocess.run([sys.executable, "-m", "minigan", "bench", "--arch", "dcgan", "--quick", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    (row,) = result["rows"]
    G, D = build()
    assert row["batch"] == 64 and row["flops"] == sum(flops(p) for p in dcgan_products(G, D, 64).values())
    assert row["minigan_ms"] > 0 and row["floor_ms"] > 0
    assert result["minigan_threads"] == 1
    assert result["params"] == {"G": G.num_params(), "D": D.num_params()}
    parts = result["breakdown_ms"]
    # the default --arch dcgan has no batch norm (results/dcgan_recipe/); --batchnorm times it too
    assert parts["total"] > 0 and "Conv2d forward" in parts and not any("BatchNorm" in k for k in parts)
    assert result["batchnorm"] is False
    if result["pytorch_threads"] is not None:
        assert row["ratio"] == pytest.approx(row["minigan_ms"] / row["pytorch_ms"])
