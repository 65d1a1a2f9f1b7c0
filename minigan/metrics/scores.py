"""Scores of generated digits from a digit classifier (comparable only within minigan).

* class histogram of the predicted labels, its KL to uniform ``sum_k q_k log(q_k K)``
  and the number of classes that received at least one sample;
* a confidence score in the spirit of the Inception Score (Salimans et al. 2016)::

      IS = exp( mean_x KL( p(y|x) || p(y) ) ),   p(y) = mean_x p(y|x)

  between 1 (every sample equally unsure, or all samples the same class) and K
  (every sample confidently one class, classes equally used);
* Fréchet distance between real and generated penultimate-layer features.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .frechet import frechet_distance


@dataclass(frozen=True)
class ClassScores:
    histogram: tuple[int, ...]
    kl_to_uniform: float
    classes_covered: int
    confidence_score: float
    frechet: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def histogram_kl(labels: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Counts per class and ``KL(q || uniform)`` of the label histogram q (0 log 0 = 0)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=k)
    q = counts / max(counts.sum(), 1)
    nz = q > 0
    return counts, float(np.sum(q[nz] * np.log(q[nz] * k)))


def confidence_score(probs: np.ndarray) -> float:
    """``exp(mean KL(p(y|x) || p(y)))`` for class probabilities (N, K)."""
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(math.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def class_scores(classifier, generated: np.ndarray, real: np.ndarray | None = None) -> ClassScores:
    """All of the above for ``generated`` images (N, D); Fréchet only when ``real`` is given."""
    probs = classifier.predict_proba(generated)
    counts, kl = histogram_kl(probs.argmax(axis=1), classifier.n_classes)
    fd = None
    if real is not None:
        fd = frechet_distance(classifier.features(real), classifier.features(generated))
    return ClassScores(tuple(int(c) for c in counts), kl, int(np.count_nonzero(counts)), confidence_score(probs), fd)
