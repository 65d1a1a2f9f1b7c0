"""The judge: a convolutional digit classifier on minigan's engine, at least 97 % right on
mnist5k's 1,000 held-out digits, trained once and cached without pickle."""

import time

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.data import load
from minigan.metrics import class_scores, frechet_distance
from minigan.metrics.judge import held_out, judge_path, load_judge


@pytest.fixture(scope="module")
def judge():
    return load_judge("mnist5k")  # trains once per machine (a few minutes), then cached


@pytest.mark.slow
def test_judge_is_at_least_97_percent_right_on_held_out_digits(judge):
    model, recorded = judge
    held = held_out("mnist5k")
    assert len(held.x) == 1000
    accuracy = model.accuracy(held.x, held.y)
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(recorded)


@pytest.mark.slow
def test_judge_scores_real_digits_as_real_and_noise_as_noise(judge):
    model, _ = judge
    held = held_out("mnist5k").x
    train = load("mnist5k", "train").x
    real = class_scores(model, train[:2000], held)
    assert real.classes_covered == 10 and real.kl_to_uniform < 0.02 and real.frechet < 5
    noise = np.clip(np.random.default_rng(0).normal(-0.7, 0.5, (2000, 784)), -1, 1).astype(np.float32)
    assert class_scores(model, noise, held).frechet > 20 * real.frechet
    # Speckle (3 % of pixels set bright) on real digits is seen, though weakly: the shifted
    # training and the max pooling make the judge robust to single pixels.
    speckled = train[:2000].copy()
    speckled[np.random.default_rng(1).random(speckled.shape) < 0.03] = 1.0
    assert frechet_distance(model.features(held), model.features(speckled)) > 2 * real.frechet


def test_judge_cache_round_trip(tmp_path):
    model, accuracy = load_judge("mnist5k", root=tmp_path, epochs=1)
    path = judge_path("mnist5k", load("mnist5k", "train", seed=None).x, tmp_path)
    assert path.exists() and path.parent == tmp_path / "judges"
    arrays = ckpt.load(path)  # a minigan checkpoint: np.load(allow_pickle=False) underneath
    assert all(a.dtype != object for a in arrays.values())
    started = time.perf_counter()
    again, accuracy2 = load_judge("mnist5k", root=tmp_path)
    assert time.perf_counter() - started < 10  # read, not trained
    x = held_out("mnist5k").x[:200]
    np.testing.assert_array_equal(model.logits(x), again.logits(x))
    assert accuracy2 == accuracy
