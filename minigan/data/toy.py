"""Toy distributions for the chapters before images: 2-D mixtures, a 1-D mixture, shapes.

Mixtures (``ring``, ``grid``, ``mixture1d``)::

    k ~ Uniform{0, ..., K-1}            (equal-probability modes)
    x = centres[k] + std * eps,  eps ~ N(0, I_D)

- ``ring``: K = 8 centres ``(cos 2*pi*k/8, sin 2*pi*k/8)``, k = 0..7, std 0.01 (PacGAN).
  ``linspace(0, 2*pi, 8)`` would be wrong: its first and last angle are the same point.
- ``grid``: K = 25 centres ``{-4, -2, 0, 2, 4}^2``, std 0.05 (PacGAN).
- ``mixture1d``: K = 3 centres -2, 0, 2 on a line (D = 1), std 0.3.

Shapes without modes (``centres`` is None):

- ``moons``: component c ~ Uniform{0, 1}, t ~ U(0, pi); c = 0 gives
  ``(cos t, sin t)``, c = 1 gives ``(1 - cos t, 1/2 - sin t)``; plus N(0, 0.05^2 I) noise.
- ``spiral``: u ~ U(0, 1), theta = 4*pi*sqrt(u), r = sqrt(u) (two turns, radius 0 to 1);
  ``x = r (cos theta, sin theta)`` plus N(0, 0.02^2 I) noise.  Since ds ~ r dtheta ~ du,
  points are (nearly) uniform along the curve.

Samples stay in these coordinates (``bounded=False``): the PacGAN metrics measure
distances in units of ``std`` around the protocol's centres.

Seeds and splits: every random draw for split ``s`` (train: 0, test: 1) comes from its
own generator ``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(s, j)))``,
with stream j = 0 for the component labels, 1 for positions along a shape, 2 for the
Gaussian noise.  So train and test never share a stream, and because each stream is
consumed front to back, the first m of n samples equal the m samples drawn with n = m.
"""

from __future__ import annotations

import numpy as np

from ._check import check_n, check_seed, check_split
from .dataset import Dataset

SPLITS = ("train", "test")
SPLIT_KEYS = {"train": 0, "test": 1}
DEFAULT_N = 100_000  # PacGAN's fixed training set
MAX_N = 10_000_000

LABEL_STREAM, POSITION_STREAM, NOISE_STREAM = 0, 1, 2


def ring_centres(k: int = 8, radius: float = 1.0) -> np.ndarray:
    """(k, 2) centres ``radius * (cos 2*pi*i/k, sin 2*pi*i/k)``, i = 0..k-1 (all distinct)."""
    angles = 2.0 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centres(values=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> np.ndarray:
    """(len(values)**2, 2) centres of the grid ``values x values``, row by row."""
    a, b = np.meshgrid(np.asarray(values, dtype=np.float64), np.asarray(values, dtype=np.float64), indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


MIXTURES = {
    # name: (centres (K, D) float64, std, description)
    "ring": (ring_centres(), 0.01, "8 Gaussians on the unit circle, std 0.01 (PacGAN's ring); 2-D"),
    "grid": (grid_centres(), 0.05, "25 Gaussians on the grid {-4,-2,0,2,4}^2, std 0.05 (PacGAN's grid); 2-D"),
    "mixture1d": (np.array([[-2.0], [0.0], [2.0]]), 0.3, "3 Gaussians at -2, 0, 2 on a line, std 0.3; 1-D"),
}
MOONS_NOISE = 0.05
SPIRAL_NOISE = 0.02
SHAPES = {
    "moons": "two interleaving half circles with Gaussian noise, std 0.05 (no modes); 2-D",
    "spiral": "a two-turn spiral of radius 1 with Gaussian noise, std 0.02 (no modes); 2-D",
}
NAMES = tuple(MIXTURES) + tuple(SHAPES)


def streams(seed: int | None, split: str, count: int) -> list[np.random.Generator]:
    """``count`` independent generators for ``split``: stream j is
    ``default_rng(SeedSequence(seed, spawn_key=(SPLIT_KEYS[split], j)))``."""
    key = SPLIT_KEYS[split]
    return [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, j))) for j in range(count)]


def sample_mixture(centres: np.ndarray, std: float, n: int, rngs) -> tuple[np.ndarray, np.ndarray]:
    """n samples of the equal-weight mixture ``sum_k 1/K N(centres[k], std^2 I)``.

    Returns ``x`` (n, D) float64 and the component labels ``y`` (n,) int64.
    """
    labels = rngs[LABEL_STREAM].integers(0, len(centres), size=n, dtype=np.int64)
    noise = rngs[NOISE_STREAM].standard_normal((n, centres.shape[1]))
    return centres[labels] + std * noise, labels


def sample_moons(n: int, noise: float, rngs) -> tuple[np.ndarray, np.ndarray]:
    """n points on two interleaving half circles (see the module docstring); x (n, 2), y (n,)."""
    which = rngs[LABEL_STREAM].integers(0, 2, size=n, dtype=np.int64)
    t = np.pi * rngs[POSITION_STREAM].random(n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    clean = np.where(which[:, None] == 0, upper, lower)
    return clean + noise * rngs[NOISE_STREAM].standard_normal((n, 2)), which


def spiral_curve(u: np.ndarray) -> np.ndarray:
    """Points of the noiseless spiral at parameters ``u`` in [0, 1]: (len(u), 2)."""
    r = np.sqrt(u)
    theta = 4.0 * np.pi * r
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def sample_spiral(n: int, noise: float, rngs) -> np.ndarray:
    """n points near the two-turn spiral (see the module docstring); (n, 2) float64."""
    return spiral_curve(rngs[POSITION_STREAM].random(n)) + noise * rngs[NOISE_STREAM].standard_normal((n, 2))


def load_toy(name: str, split: str = "train", *, n: int | None = None, seed: int | None = 0) -> Dataset:
    """Draw ``n`` samples (default 100,000) of toy set ``name`` for ``split``.

    ``seed=None`` draws from fresh OS entropy (not reproducible).
    """
    if name not in NAMES:
        raise ValueError(f"not a toy set: {name!r}")
    split = check_split(name, split, SPLITS)
    n = check_n(name, n, DEFAULT_N, MAX_N)
    seed = check_seed(name, seed)
    rngs = streams(seed, split, 3)
    centres = std = y = None
    if name in MIXTURES:
        centres, std, description = MIXTURES[name]
        x, y = sample_mixture(centres, std, n, rngs)
        centres = centres.astype(np.float32)
    elif name == "moons":
        x, y = sample_moons(n, MOONS_NOISE, rngs)
        description = SHAPES[name]
    else:
        x = sample_spiral(n, SPIRAL_NOISE, rngs)
        description = SHAPES[name]
    return Dataset(
        name=name,
        split=split,
        x=np.ascontiguousarray(x, dtype=np.float32),
        y=y,
        image_shape=None,
        bounded=False,
        centres=centres,
        std=std,
        description=description,
    )
