"""The dotted reference lines of ``losses.png`` sit at the equilibrium of the recipe that was
trained, not at D = 1/2 whatever the labels.

Expected values are worked out here by hand from BCE(p; t) = -t log p - (1 - t) log(1 - p):
at p_g = p_data the best D for targets a (real) and 0 (fake) is D* = a/2 everywhere, D's loss
is BCE(a/2; a) + BCE(a/2; 0) and the non-saturating G loss is -log(a/2).

* a = 1:   D* = 0.5,  D loss = -log 0.5 - log 0.5 = 2 log 2 = 1.386294...,
           G loss = -log 0.5 = log 2 = 0.693147...
* a = 0.9: D* = 0.45, D loss = -0.9 log 0.45 - 0.1 log 0.55 - log 0.55
           = 0.718657 + 0.059784 + 0.597837 = 1.376278...,  G loss = -log 0.45 = 0.798508...
  minimax G loss (minigan's sign, mean log(1 - D(G(z)))) = log 0.55 = -0.597837...
"""

import math

import numpy as np
import pytest

from minigan import viz
from minigan.losses import bce_with_logits, equilibrium

HAND = {
    1.0: (0.5, 2 * math.log(2), math.log(2)),
    0.9: (0.45, -0.9 * math.log(0.45) - 0.1 * math.log(0.55) - math.log(0.55), -math.log(0.45)),
}


def test_hand_values_are_the_numbers_quoted_in_the_course():
    assert HAND[1.0][1] == pytest.approx(1.386294, abs=1e-6) and HAND[1.0][2] == pytest.approx(0.693147, abs=1e-6)
    assert HAND[0.9][1] == pytest.approx(1.376278, abs=1e-6) and HAND[0.9][2] == pytest.approx(0.798508, abs=1e-6)


@pytest.mark.parametrize("a", sorted(HAND))
def test_equilibrium_matches_the_hand_derivation(a):
    d, d_loss, g_loss = HAND[a]
    eq = equilibrium(a)
    assert eq.d_star == pytest.approx(d, abs=1e-15)
    assert eq.d_loss == pytest.approx(d_loss, abs=1e-12)
    assert eq.g_loss == pytest.approx(g_loss, abs=1e-12)
    assert equilibrium(a, "minimax").g_loss == pytest.approx(math.log(1 - a / 2), abs=1e-12)


def test_equilibrium_agrees_with_minigans_own_losses():
    """D* is where D's loss is smallest for equal real and fake batches, and the value there
    is what discriminator_loss reports (computed from the logit of D*)."""
    for a in (1.0, 0.9, 0.8):
        eq = equilibrium(a)
        logit = np.array([[math.log(eq.d_star / (1 - eq.d_star))]])
        loss = bce_with_logits(logit, a)[0] + bce_with_logits(logit, 0.0)[0]
        assert loss == pytest.approx(eq.d_loss, abs=1e-12)
        grad = bce_with_logits(logit, a)[1] + bce_with_logits(logit, 0.0)[1]
        assert abs(grad[0, 0]) < 1e-12                       # stationary: the minimum over D
        assert bce_with_logits(logit, 1.0)[0] == pytest.approx(eq.g_loss, abs=1e-12)


def test_two_sided_targets_use_the_general_formula():
    eq = equilibrium(0.9, fake_label=0.1)
    assert eq.d_star == pytest.approx(0.5)
    assert eq.d_loss == pytest.approx(2 * (-0.9 * math.log(0.5) - 0.1 * math.log(0.5)))


def test_bad_labels_are_refused():
    with pytest.raises(ValueError):
        equilibrium(0.0)
    with pytest.raises(ValueError):
        equilibrium(0.9, "mse")


def drawn_lines(monkeypatch, tmp_path, **kwargs):
    """The dotted horizontal lines of plot_losses, as (panel, y, legend label)."""
    figures = []
    monkeypatch.setattr(viz, "_save", lambda fig, path, dpi=90: figures.append(fig) or path)
    steps = np.arange(1, 201)
    rng = np.random.default_rng(0)
    metrics = {"step": steps, "d_loss": 1.3 + 0.1 * rng.standard_normal(200), "g_loss": 0.8 + rng.random(200),
               "d_real": np.full(200, 0.5), "d_fake": np.full(200, 0.4)}
    viz.plot_losses(metrics, tmp_path / "losses.png", **kwargs)
    (fig,) = figures
    lines = []
    for panel, ax in enumerate(fig.axes):
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if line.get_linestyle() == ":" and np.all(y == y[0]):
                lines.append((panel, float(y[0]), line.get_label()))
    return lines


@pytest.mark.parametrize("a", sorted(HAND))
def test_losses_png_lines_sit_at_the_equilibrium_of_the_real_label(monkeypatch, tmp_path, a):
    d, d_loss, g_loss = HAND[a]
    lines = drawn_lines(monkeypatch, tmp_path, real_label=a)
    loss_lines = sorted(y for panel, y, _ in lines if panel == 0)
    d_lines = [y for panel, y, _ in lines if panel == 1]
    assert loss_lines == pytest.approx(sorted([d_loss, g_loss]), abs=1e-12)
    assert d_lines == pytest.approx([d], abs=1e-15)
    if a == 0.9:   # not at the labels-1/0 values
        assert all(abs(y - 0.5) > 0.04 for y in d_lines)
        assert all(abs(y - 2 * math.log(2)) > 0.005 and abs(y - math.log(2)) > 0.05 for y in loss_lines)
    labels = " ".join(label for *_, label in lines)
    for value in (d_loss, g_loss):
        assert f"{value:.3f}" in labels               # the legend states the values
    assert f"{d:g}" in labels


def test_losses_png_minimax_line(monkeypatch, tmp_path):
    lines = drawn_lines(monkeypatch, tmp_path, real_label=0.9, loss="minimax")
    assert sorted(y for panel, y, _ in lines if panel == 0) == pytest.approx(
        sorted([HAND[0.9][1], math.log(0.55)]), abs=1e-12)


@pytest.mark.parametrize("real_label, loss", [(0.9, "non_saturating"), (1.0, "minimax")])
def test_a_training_run_draws_the_lines_of_its_own_recipe(monkeypatch, tmp_path, real_label, loss):
    from minigan.train import TrainConfig, train

    calls = []
    real_plot = viz.plot_losses
    monkeypatch.setattr(viz, "plot_losses", lambda *a, **k: calls.append(k) or real_plot(*a, **k))
    cfg = TrainConfig(dataset="ring", n=512, steps=20, hidden=(8, 8), z_dim=2, real_label=real_label, loss=loss)
    train(cfg, tmp_path / "run", progress="none")
    assert len(calls) == 1
    assert calls[0]["real_label"] == real_label and calls[0]["loss"] == loss
    assert (tmp_path / "run" / "losses.png").stat().st_size > 0
