"""Classifiers trained with minigan's own engine: a generic ``body -> head`` classifier and
a small MLP.

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
from ..nn.init import as_rng
from ..nn.module import backward
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


class Classifier:
    """``head(body(x))``: a feature extractor ``body`` and a Dense ``head`` to ``n_classes``
    logits, trained by Adam on softmax cross-entropy.

    ``augment(x, rng)`` (optional) is applied to each training batch (e.g. random shifts
    of the digits); it must return a new array of the same shape.
    """

    def __init__(self, body, head, n_classes: int, *, rng=None, augment=None):
        self.body, self.head, self.n_classes = body, head, int(n_classes)
        self.rng = as_rng(rng)
        self.augment = augment

    def params(self) -> dict[str, np.ndarray]:
        """Every weight, named ``body.<name>`` and ``head.<name>``."""
        return {**{f"body.{k}": v for k, v in self.body.params().items()},
                **{f"head.{k}": v for k, v in self.head.params().items()}}

    def fit(self, x: np.ndarray, y: np.ndarray, *, epochs: int = 10, batch_size: int = 64,
            lr: float = 1e-3, lr_end: float | None = None, progress=None):
        """Minibatch Adam over ``epochs`` passes; with ``lr_end`` the rate decays
        geometrically from ``lr`` to ``lr_end`` over the epochs.  ``progress(epoch)`` is
        called after each epoch."""
        opt = Adam(self.params(), lr=lr, betas=(0.9, 0.999))
        y = np.asarray(y, dtype=np.int64)
        for epoch in range(epochs):
            if lr_end is not None and epochs > 1:
                opt.lr = lr * (lr_end / lr) ** (epoch / (epochs - 1))
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start:start + batch_size]
                batch = x[idx] if self.augment is None else self.augment(x[idx], self.rng)
                h, body_cache = self.body.forward(batch)
                logits, head_cache = self.head.forward(h)
                _, d_logits = softmax_cross_entropy(logits, y[idx])
                dh, head_grads = self.head.backward(d_logits, head_cache)
                _, body_grads = backward(self.body, dh, body_cache, need_dx=False)
                opt.step({**{f"body.{k}": v for k, v in body_grads.items()},
                          **{f"head.{k}": v for k, v in head_grads.items()}})
            if progress is not None:
                progress(epoch + 1)
        return self

    def _batched(self, f, x: np.ndarray, batch: int = 1000) -> np.ndarray:
        return np.concatenate([f(x[i:i + batch]) for i in range(0, len(x), batch)]) if len(x) else f(x)

    def features(self, x: np.ndarray) -> np.ndarray:
        """Penultimate-layer activations (N, features)."""
        return self._batched(self.body, x)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self._batched(lambda b: self.head(self.body(b)), x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.exp(log_softmax(self.logits(x)))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(x), axis=1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))


class MLPClassifier(Classifier):
    """``in_dim -> hidden... -> n_classes`` with leaky ReLU, trained by Adam on softmax cross-entropy."""

    def __init__(self, in_dim: int, n_classes: int, hidden=(256,), *, rng=None):
        rng = as_rng(rng)
        sizes = (in_dim, *hidden)
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(a, b, rng=rng), LeakyReLU(0.2)]
        super().__init__(Sequential(*layers), Dense(sizes[-1], n_classes, rng=rng), n_classes, rng=rng)
