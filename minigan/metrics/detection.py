"""Detectability (the article's sections 5.2 item 5 and 6.3): how well does a *fresh*
classifier, trained on real vs generated samples, tell them apart on held-out ones?

Accuracy 0.5 means the fakes are indistinguishable to that classifier; 1.0 means every
fake is caught.  Both sets are split in half: one half trains the detector, the other
measures it.
"""

from __future__ import annotations

import numpy as np

from ..nn.init import as_rng
from .classifier import MLPClassifier


def detection_accuracy(real: np.ndarray, fake: np.ndarray, *, hidden=(64,), epochs: int = 10,
                       rng=0) -> float:
    """Held-out accuracy of an MLP trained to separate ``real`` (label 1) from ``fake`` (label 0)."""
    rng = as_rng(rng)
    n = min(len(real), len(fake))
    if n < 4:
        raise ValueError(f"detection_accuracy: need at least 4 samples of each kind, got {n}")
    real = np.asarray(real, np.float32)[rng.permutation(len(real))[:n]]
    fake = np.asarray(fake, np.float32)[rng.permutation(len(fake))[:n]]
    half = n // 2
    x_train = np.concatenate([real[:half], fake[:half]])
    y_train = np.concatenate([np.ones(half, np.int64), np.zeros(half, np.int64)])
    x_test = np.concatenate([real[half:], fake[half:]])
    y_test = np.concatenate([np.ones(n - half, np.int64), np.zeros(n - half, np.int64)])
    detector = MLPClassifier(real.shape[1], 2, hidden, rng=rng).fit(x_train, y_train, epochs=epochs)
    return detector.accuracy(x_test, y_test)
