"""The judges: two convolutional digit classifiers on minigan's engine, at least 97 % right
on mnist5k's 1,000 held-out digits, trained once and cached without pickle; the strided
one sees speckle more sharply than the pooled one."""

import time

import numpy as np
import pytest

from minigan import checkpoint as ckpt
from minigan.data import load
from minigan.metrics import class_scores, frechet_distance
from minigan.metrics.judge import JUDGE_KINDS, build_judge, held_out, judge_path, load_judge


@pytest.fixture(scope="module")
def judge():
    return load_judge("mnist5k")  # trains once per machine (a few minutes), then cached


@pytest.fixture(scope="module")
def strided():
    return load_judge("mnist5k", kind="strided")  # half a minute once, then cached


def speckled(x: np.ndarray, fraction: float = 0.03, seed: int = 1) -> np.ndarray:
    """``x`` with ``fraction`` of its pixels set to white (1.0)."""
    out = x.copy()
    out[np.random.default_rng(seed).random(out.shape) < fraction] = 1.0
    return out


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
    assert frechet_distance(model.features(held), model.features(speckled(train[:2000]))) > 2 * real.frechet


@pytest.mark.slow
def test_strided_judge_is_right_and_sees_speckle_more_sharply(judge, strided):
    held = held_out("mnist5k")
    model, recorded = strided
    assert model.accuracy(held.x, held.y) >= 0.96 and model.accuracy(held.x, held.y) == pytest.approx(recorded)
    train = load("mnist5k", "train").x[:2000]
    noise = np.clip(np.random.default_rng(0).normal(-0.7, 0.5, (2000, 784)), -1, 1).astype(np.float32)

    def ratio(m, fake):  # how many times farther than real digits ``fake`` is, for judge m
        return frechet_distance(m.features(held.x), m.features(fake)) / frechet_distance(
            m.features(held.x), m.features(train))

    assert ratio(model, noise) > 20
    # The point of a second judge: a feature space with other blind spots.  Without
    # pooling and with smaller shifts, speckle moves it relatively more than the first.
    assert ratio(model, speckled(train)) > 1.2 * ratio(judge[0], speckled(train))


def test_judges_differ_in_architecture_and_file():
    pooled, strided = (build_judge(kind=k) for k in JUDGE_KINDS)
    kinds = [[type(layer).__name__ for layer in judge.body.modules] for judge in (pooled, strided)]
    assert "MaxPool2d" in kinds[0] and "MaxPool2d" not in kinds[1]
    blank = np.zeros((2, 784), np.float32)
    assert pooled.features(blank).shape == strided.features(blank).shape == (2, 128)
    x = load("mnist5k", "train", seed=None).x
    assert judge_path("mnist5k", x, "/c", "pooled") != judge_path("mnist5k", x, "/c", "strided")
    with pytest.raises(ValueError, match="unknown kind"):
        build_judge(kind="resnet")


@pytest.mark.slow  # a long end-to-end run: CI and --run-slow
@pytest.mark.parametrize("kind", JUDGE_KINDS)
def test_judge_cache_round_trip(tmp_path, kind):
    model, accuracy = load_judge("mnist5k", kind=kind, root=tmp_path, epochs=1)
    path = judge_path("mnist5k", load("mnist5k", "train", seed=None).x, tmp_path, kind)
    assert path.exists() and path.parent == tmp_path / "judges"
    arrays = ckpt.load(path)  # a minigan checkpoint: np.load(allow_pickle=False) underneath
    assert all(a.dtype != object for a in arrays.values())
    started = time.perf_counter()
    again, accuracy2 = load_judge("mnist5k", kind=kind, root=tmp_path)
    assert time.perf_counter() - started < 10  # read, not trained
    x = held_out("mnist5k").x[:200]
    np.testing.assert_array_equal(model.logits(x), again.logits(x))
    assert accuracy2 == accuracy
