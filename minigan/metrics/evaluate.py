"""Every metric that applies to a data set, computed for a batch of generated samples.

``evaluate(dataset, samples)`` returns a plain dict (JSON-ready):

* mixtures with known modes (``ring``, ``grid``, ``mixture1d``): PacGAN mode coverage;
* image sets: the digit classifier's accuracy on held-out digits, class histogram / KL
  to uniform / classes covered / confidence score / Fréchet distance (digit sets only,
  they have labels; 28 x 28 digits are scored by the two cached convolutional judges of
  :mod:`minigan.metrics.judge` against the validation + test digits (``class_scores``:
  the pooled judge, ``strided_judge``: the second judge's), others by a small
  MLP trained on the spot), memorisation against the training split with the test split as the
  held-out reference, detectability (real test images vs generated), and the Parzen
  log-likelihood (pixels mapped to [0, 1], sigma selected on a validation set, reported
  on the test split — the bundled variant of Goodfellow et al.'s protocol, not the
  paper's test set);
* every set: detectability.
"""

from __future__ import annotations

import time

import numpy as np

from ..data import load
from .classifier import MLPClassifier
from .coverage import mode_coverage
from .detection import detection_accuracy
from .judge import JUDGE_SHAPE, held_out, load_judges
from .memorisation import memorisation
from .parzen import parzen_evaluate
from .scores import class_scores


def validation_split(name: str, train):
    """The Parzen sigma-selection set: the ``validation`` split where a set has one,
    ``train[50000:51000]`` for full MNIST-like sets (the paper's choice), else the last
    10 % of the training split."""
    try:
        return load(name, "validation").x
    except ValueError:
        pass
    if len(train) >= 51000:
        return load(name, "train", seed=None).x[50000:51000]  # stored order, as the paper
    return train.x[-max(len(train) // 10, 1):]


def to_unit_interval(x: np.ndarray) -> np.ndarray:
    """Pixels from the tanh range [-1, 1] to [0, 1], as the Parzen protocol uses."""
    return (np.clip(x, -1, 1) + 1) / 2


def evaluate(dataset: str, samples: np.ndarray, *, seed: int = 0, quick: bool = False,
             log=lambda message: None) -> dict:
    """Metrics of ``samples`` (N, D) generated for ``dataset``; ``log`` receives progress lines."""
    train = load(dataset, "train", seed=seed)
    test = load(dataset, "test", seed=seed)
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 2 or samples.shape[1] != train.dim:
        raise ValueError(f"evaluate: samples of shape {samples.shape} do not match {dataset} rows of {train.dim}")
    out: dict = {"dataset": dataset, "samples": int(len(samples))}
    started = time.perf_counter()

    if train.centres is not None:
        log("mode coverage")
        out["mode_coverage"] = mode_coverage(samples, train.centres, train.std).as_dict()

    if train.image_shape is not None:
        if train.y is not None and tuple(train.image_shape) == JUDGE_SHAPE:
            judges = load_judges(dataset, log=log)
            held = held_out(dataset)
            clf, accuracy = judges["pooled"]
            out["classifier"] = "pooled judge (convolutional, max pooling; minigan.metrics.judge)"
            out["classifier_accuracy"] = accuracy
            out["class_scores"] = class_scores(clf, samples, held.x).as_dict()
            second, second_accuracy = judges["strided"]
            out["strided_judge"] = {"classifier_accuracy": second_accuracy,
                                    **class_scores(second, samples, held.x).as_dict()}
        elif train.y is not None:
            log("training the digit classifier")
            clf = MLPClassifier(train.dim, int(train.y.max()) + 1, rng=seed).fit(
                train.x, train.y, epochs=2 if quick else 8)
            out["classifier"] = "MLP 784-256-10"
            out["classifier_accuracy"] = clf.accuracy(test.x, test.y)
            out["class_scores"] = class_scores(clf, samples, test.x).as_dict()
        log("memorisation")
        out["memorisation"] = memorisation(samples, train.x, test.x).as_dict()
        log("Parzen log-likelihood")
        centres = to_unit_interval(samples)
        parzen = parzen_evaluate(centres, to_unit_interval(validation_split(dataset, train)),
                                 to_unit_interval(test.x))
        out["parzen"] = {"mean": parzen.mean, "stderr": parzen.stderr, "sigma": parzen.sigma,
                         "protocol": f"{len(samples)} generated centres, sigma from logspace(-1, 0, 10) on a "
                                     f"validation set, {len(test)} {dataset} test images"}

    log("detectability")
    out["detection_accuracy"] = detection_accuracy(test.x, samples, epochs=3 if quick else 10, rng=seed)
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out
