"""The judges: two small convolutional digit classifiers whose predictions and 128
features score generated digits (class histogram, Fréchet distance, confidence score).

A weak classifier makes a weak score: an MLP that is right on 89 % of held-out digits
barely separates a speckled blob from a clean digit.  One judge is not enough either: a
recipe tuned to one feature space can be tuned to its blind spots, so there are two,
built on minigan's own engine (:class:`~minigan.nn.conv.Conv2d`,
:class:`~minigan.nn.conv.MaxPool2d`) with different architectures and augmentation:

``pooled`` (the first judge; ``frechet`` in every table)::

    x (N, 784) -> Conv 5x5, 32 -> MaxPool 2 -> ReLU -> Conv 5x5, 64 -> MaxPool 2 -> ReLU
              -> Dense 1024 -> 128 -> ReLU  (features)  -> Dense 128 -> 10  (logits)

  trained with every digit shifted by up to 2 pixels in each direction.  Max pooling and
  the shifts make it forgiving of single pixels: speckle on real digits moves its
  Fréchet distance only about threefold.

``strided`` (the second judge; ``frechet_strided``)::

    x (N, 784) -> Conv 3x3/2, 32 -> ReLU -> Conv 3x3/2, 64 -> ReLU -> Conv 3x3/2, 128 -> ReLU
              -> Dense 2048 -> 128 -> ReLU  (features)  -> Dense 128 -> 10  (logits)

  strided convolutions and no pooling (28 -> 14 -> 7 -> 4 pixels), shifts of at most
  1 pixel: it keeps more of where each stroke is and sees speckle more sharply.

Both train on the training split (a fresh shift per epoch), Adam 1e-3 decaying to 1e-4,
15 epochs.  On mnist5k the pooled judge is right on about 98 % of the 1,000 held-out
digits (validation + test), the strided one on about 97 %; each cached file records it.

Training takes a minute or two (pooled) or half a minute (strided), so each judge is
trained once per data set and kept in ``<cache>/judges/`` (``$MINIGAN_DATA``, else
``~/.cache/minigan``) as a minigan checkpoint (``.npz``, no pickle, written
atomically), named after the data set, the judge, its version and a hash of the
training data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt
from ..errors import MiniganError
from ..nn import Dense, ReLU, Sequential
from ..nn.conv import Conv2d, MaxPool2d
from ..nn.translate import shift_images
from .classifier import Classifier

#: The judges, first to second (see the module docstring).
JUDGE_KINDS = ("pooled", "strided")
#: Bump a judge's version when its architecture or training recipe changes: old cache
#: files are ignored.
JUDGE_VERSIONS = {"pooled": 1, "strided": 1}
#: The largest shift, in pixels, of each judge's training digits.
MAX_SHIFTS = {"pooled": 2, "strided": 1}
MAX_SHIFT = MAX_SHIFTS["pooled"]
#: The image size the judge's two 5 x 5 convolutions and poolings are built for.
JUDGE_SHAPE = (28, 28)


def random_shifts(x: np.ndarray, rng: np.random.Generator, image_shape=(28, 28), max_shift: int = MAX_SHIFT):
    """Every image of ``x`` (N, H W) shifted by its own random offset in [-max_shift, max_shift]^2."""
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))
    return shift_images(x, image_shape, shifts, fill=-1.0)


def check_kind(kind: str) -> str:
    if kind not in JUDGE_KINDS:
        raise ValueError(f"judge: unknown kind {kind!r}; expected one of {JUDGE_KINDS}")
    return kind


def _pooled_body(image_shape, rng) -> Sequential:
    H, W = image_shape
    c1 = Conv2d((H, W, 1), 32, 5, rng=rng)
    p1 = MaxPool2d(c1.out_shape)
    c2 = Conv2d(p1.out_shape, 64, 5, rng=rng)
    p2 = MaxPool2d(c2.out_shape)
    return Sequential(c1, p1, ReLU(), c2, p2, ReLU(), Dense(int(np.prod(p2.out_shape)), 128, rng=rng), ReLU())


def _strided_body(image_shape, rng) -> Sequential:
    shape, layers = (*image_shape, 1), []
    for channels in (32, 64, 128):
        conv = Conv2d(shape, channels, 3, stride=2, padding=1, rng=rng)
        layers += [conv, ReLU()]
        shape = conv.out_shape
    return Sequential(*layers, Dense(int(np.prod(shape)), 128, rng=rng), ReLU())


def build_judge(n_classes: int = 10, image_shape=(28, 28), *, kind: str = "pooled", rng=0) -> Classifier:
    """An untrained judge of ``kind`` (``"pooled"`` or ``"strided"``, see the module
    docstring) for single-channel images of ``image_shape``; 128 features."""
    body = (_pooled_body if check_kind(kind) == "pooled" else _strided_body)(image_shape, rng)
    shift = MAX_SHIFTS[kind]
    return Classifier(body, Dense(128, n_classes, rng=rng), n_classes, rng=rng,
                      augment=lambda x, g: random_shifts(x, g, image_shape, shift))


def train_judge(train, held_out, *, kind: str = "pooled", epochs: int = 15, rng=0,
                log=lambda message: None) -> tuple[Classifier, float]:
    """Train a judge of ``kind`` on ``train`` (a digit Dataset) and return it with its
    accuracy on ``held_out`` (x, y)."""
    judge = build_judge(int(train.y.max()) + 1, train.image_shape, kind=kind, rng=rng)
    judge.fit(train.x, train.y, epochs=epochs, lr=1e-3, lr_end=1e-4,
              progress=lambda e: log(f"{kind} judge: epoch {e}/{epochs}"))
    return judge, judge.accuracy(*held_out)


def judge_path(dataset: str, train_x: np.ndarray, root=None, kind: str = "pooled") -> Path:
    """``<root>/judges/<dataset>[-<kind>]-v<version>-<hash of train_x>.npz``; the pooled
    judge keeps the file name it had before the strided one existed, so caches stay valid."""
    from ..data.download import cache_root

    digest = hashlib.sha256(np.ascontiguousarray(train_x).tobytes()).hexdigest()[:12]
    tag = "" if check_kind(kind) == "pooled" else f"-{kind}"
    name = f"{dataset}{tag}-v{JUDGE_VERSIONS[kind]}-{digest}.npz"
    return Path(root if root is not None else cache_root()) / "judges" / name


def load_judge(dataset: str = "mnist5k", *, kind: str = "pooled", root=None, epochs: int = 15,
               log=lambda message: None) -> tuple[Classifier, float]:
    """The judge of ``kind`` for ``dataset`` and its held-out accuracy: from the cache
    (``root``, default the data cache), or trained for ``epochs`` and cached on the first
    call.  The held-out digits are the validation and test splits."""
    from ..data import load

    train = load(dataset, "train", seed=None)
    if train.y is None or train.image_shape is None:
        raise MiniganError(f"the judge needs labelled images; {dataset} has none")
    path = judge_path(dataset, train.x, root, kind)
    judge = build_judge(int(train.y.max()) + 1, train.image_shape, kind=kind)
    if path.exists():
        arrays = ckpt.load(path)
        ckpt.load_model("judge", _Params(judge), arrays)
        return judge, float(ckpt.load_config(arrays)["accuracy"])
    held = held_out(dataset)
    log(f"training the {kind} judge for {dataset} once (cached in {path.parent})")
    judge, accuracy = train_judge(train, (held.x, held.y), kind=kind, epochs=epochs, log=log)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ckpt.save(path, ckpt.model_arrays("judge", _Params(judge)),
                  config={"dataset": dataset, "kind": kind, "accuracy": accuracy, "version": JUDGE_VERSIONS[kind],
                          "held_out": len(held.x)})
    except OSError as exc:  # a read-only cache costs time, not correctness
        log(f"judge not cached ({exc})")
    return judge, accuracy


def load_judges(dataset: str = "mnist5k", *, root=None, log=lambda message: None) -> dict:
    """Both judges of ``dataset``: ``{kind: (classifier, held-out accuracy)}`` in
    :data:`JUDGE_KINDS` order (each trained and cached on its first use)."""
    return {kind: load_judge(dataset, kind=kind, root=root, log=log) for kind in JUDGE_KINDS}


class _Params:
    """Adapter: a classifier's weights as one ``params()`` mapping for checkpoints."""

    def __init__(self, classifier: Classifier):
        self.classifier = classifier

    def params(self):
        return self.classifier.params()


def held_out(dataset: str):
    """The digits no model trains on: validation + test where the set has a validation
    split, else test.  Returns an object with ``x`` and ``y``."""
    from types import SimpleNamespace

    from ..data import load

    test = load(dataset, "test", seed=None)
    try:
        val = load(dataset, "validation", seed=None)
    except ValueError:
        return SimpleNamespace(x=test.x, y=test.y)
    return SimpleNamespace(x=np.concatenate([val.x, test.x]), y=np.concatenate([val.y, test.y]))
