"""A small MLP classifier trained with minigan's own engine.

Used twice by the metrics: as a *digit classifier* (10 classes, trained on the real
training digits) whose predictions and penultimate-layer features score generated
digits, and as a *detector* (2 classes, real vs generated) whose held-out accuracy says
how easy the fakes are to spot.  Numbers from it are comparable only within minigan.

Loss: softmax cross-entropy, mean over the batch.  For logits s (N, K) and labels y::

    p = softmax(s),   L = -mean_n log p[n, y_n],   dL/ds = (p - onehot(y)) / N
"""

from __future__ import annotations

import numpy as np

from ..nn import Dense, LeakyReLU, Sequential
from ..nn.dense import as_generator
from ..optim import Adam


def log_softmax(s: np.ndarray) -> np.ndarray:
    """``s - logsumexp(s)`` row-wise, shifted by the row maximum so nothing overflows."""
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer ``labels`` (N,) under ``softmax(logits)`` (N, K), and dL/dlogits."""
    n = logits.shape[0]
    logp = log_softmax(logits)
    loss = -float(logp[np.arange(n), labels].mean())
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    grad /= n
    return loss, grad


class MLPClassifier:
    """``in_dim -> hidden... -> n_classes`` with leaky ReLU, trained by Adam on softmax cross-entropy."""

    def __init__(self, in_dim: int, n_classes: int, hidden=(256,), *, rng=None):
        self.rng = as_generator(rng)
        sizes = (in_dim, *hidden)
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(a, b, rng=self.rng), LeakyReLU(0.2)]
        self.body = Sequential(*layers)
        self.head = Dense(sizes[-1], n_classes, rng=self.rng)
        self.n_classes = n_classes

    def fit(self, x: np.ndarray, y: np.ndarray, *, epochs: int = 10, batch_size: int = 64,
            lr: float = 1e-3) -> MLPClassifier:
        params = {**{f"body.{k}": v for k, v in self.body.params().items()},
                  **{f"head.{k}": v for k, v in self.head.params().items()}}
        opt = Adam(params, lr=lr, betas=(0.9, 0.999))
        y = np.asarray(y, dtype=np.int64)
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start:start + batch_size]
                h, body_cache = self.body.forward(x[idx])
                logits, head_cache = self.head.forward(h)
                _, d_logits = softmax_cross_entropy(logits, y[idx])
                dh, head_grads = self.head.backward(d_logits, head_cache)
                _, body_grads = self.body.backward(dh, body_cache)
                opt.step({**{f"body.{k}": v for k, v in body_grads.items()},
                          **{f"head.{k}": v for k, v in head_grads.items()}})
        return self

    def features(self, x: np.ndarray) -> np.ndarray:
        """Penultimate-layer activations (N, hidden[-1])."""
        return self.body(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.exp(log_softmax(self.head(self.body(x))))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.head(self.body(x)), axis=1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))
