"""Classifier-based metrics, memorisation and detectability on cases with known answers."""

import math

import numpy as np
import pytest

from minigan.data import load
from minigan.gradcheck import check_loss
from minigan.metrics import (
    MLPClassifier,
    class_scores,
    confidence_score,
    detection_accuracy,
    histogram_kl,
    memorisation,
    nearest_distances,
    softmax_cross_entropy,
)


def test_softmax_cross_entropy_gradient_and_value():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    report = check_loss(lambda s: softmax_cross_entropy(s, labels), logits)
    assert report.passed, str(report)
    loss, _ = softmax_cross_entropy(logits, labels)
    expected = -np.mean([row[k] - math.log(sum(math.exp(v) for v in row)) for row, k in zip(logits, labels)])
    assert loss == pytest.approx(expected, rel=1e-12)
    big = np.array([[1e4, -1e4]])
    assert softmax_cross_entropy(big, np.array([1]))[0] == pytest.approx(2e4)


def test_histogram_kl_and_confidence_score():
    counts, kl = histogram_kl(np.repeat(np.arange(10), 3), 10)
    assert list(counts) == [3] * 10 and kl == pytest.approx(0.0, abs=1e-12)
    assert histogram_kl(np.zeros(7, int), 10)[1] == pytest.approx(math.log(10))
    assert confidence_score(np.eye(10)[np.arange(100) % 10]) == pytest.approx(10, rel=1e-6)
    assert confidence_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert confidence_score(np.eye(10)[np.zeros(40, int)]) == pytest.approx(1.0, rel=1e-6)


@pytest.fixture(scope="module")
def digits():
    return load("mnist5k", "train"), load("mnist5k", "validation"), load("mnist5k", "test")


@pytest.fixture(scope="module")
def classifier(digits):
    train, _, _ = digits
    return MLPClassifier(784, 10, rng=0).fit(train.x, train.y, epochs=8)


def test_digit_classifier_recognises_held_out_digits(classifier, digits):
    _, _, test = digits
    assert classifier.accuracy(test.x, test.y) > 0.85


def test_class_scores_of_real_test_digits(classifier, digits):
    train, _, test = digits
    scores = class_scores(classifier, test.x, train.x[:500])
    assert scores.classes_covered == 10 and scores.kl_to_uniform < 0.05
    assert scores.confidence_score > 6
    collapsed = class_scores(classifier, np.repeat(test.x[test.y == 3][:1], 100, axis=0), train.x[:500])
    assert collapsed.classes_covered == 1 and collapsed.confidence_score < 1.01
    assert collapsed.frechet > 5 * scores.frechet


def test_memorisation_flags_copies_and_not_new_images(digits):
    train, val, test = digits
    copies = memorisation(train.x[:100], train.x, val.x)
    assert copies.near_copy_fraction == 1.0 and copies.generated_median == pytest.approx(0.0, abs=1e-4)
    fresh = memorisation(test.x, train.x, val.x)
    assert fresh.near_copy_fraction < 0.05
    assert fresh.generated_median == pytest.approx(fresh.heldout_median, rel=0.1)


def test_nearest_distances_against_brute_force():
    rng = np.random.default_rng(0)
    q, r = rng.standard_normal((30, 5)), rng.standard_normal((40, 5))
    brute = np.array([min(np.linalg.norm(a - b) for b in r) for a in q])
    np.testing.assert_allclose(nearest_distances(q, r, chunk=7), brute, rtol=1e-9)


def test_detector_near_chance_for_one_distribution_and_near_one_for_two():
    rng = np.random.default_rng(0)
    same = detection_accuracy(rng.standard_normal((600, 10)), rng.standard_normal((600, 10)), rng=1)
    assert abs(same - 0.5) < 0.1
    different = detection_accuracy(rng.standard_normal((600, 10)), rng.standard_normal((600, 10)) + 1.5, rng=1)
    assert different > 0.95
