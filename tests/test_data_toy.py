"""Toy distributions: protocol geometry, sample statistics, seeds and splits, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan.data import DATASETS, Dataset, catalogue, load
from minigan.errors import MiniganError

TOY = ["ring", "grid", "mixture1d", "moons", "spiral"]
N = 20_000


def pairwise(points: np.ndarray) -> np.ndarray:
    diff = points[:, None, :] - points[None, :, :]
    d = np.sqrt((diff.astype(np.float64) ** 2).sum(-1))
    return d[~np.eye(len(points), dtype=bool)]


def nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = ((x[:, None, :].astype(np.float64) - centres[None, :, :]) ** 2).sum(-1)
    return d2.argmin(1)


def test_catalogue_lists_every_set_with_one_line():
    cat = catalogue()
    assert list(cat) == list(DATASETS)
    for name in TOY + ["mnist5k", "digits", "mnist", "fashion-mnist"]:
        assert name in cat
        assert cat[name] and "\n" not in cat[name]


@pytest.mark.parametrize("name", TOY)
@pytest.mark.parametrize("split", ["train", "test"])
def test_shape_dtype_and_record(name, split):
    ds = load(name, split, n=N, seed=3)
    assert isinstance(ds, Dataset)
    assert (ds.name, ds.split) == (name, split)
    assert ds.x.dtype == np.float32 and ds.x.flags.c_contiguous
    assert ds.x.shape == (N, 1 if name == "mixture1d" else 2)
    assert len(ds) == N and ds.dim == ds.x.shape[1]
    assert np.isfinite(ds.x).all()
    assert ds.bounded is False and ds.image_shape is None
    assert ds.description == catalogue()[name]
    if name in ("moons", "spiral"):
        assert ds.centres is None and ds.std is None
    else:
        assert ds.centres.dtype == np.float32 and ds.centres.shape[1] == ds.dim
        assert ds.y.dtype == np.int64 and ds.y.shape == (N,)


def test_default_size_is_pacgan_training_set():
    assert len(load("ring")) == 100_000
    assert len(load("grid", "test")) == 100_000


def test_ring_protocol_geometry():
    ds = load("ring", n=10)
    c = ds.centres.astype(np.float64)
    assert c.shape == (8, 2) and ds.std == 0.01
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-6)
    d = pairwise(c)
    assert d.min() > 0.7  # linspace(0, 2pi, 8) would put two centres at distance 0
    np.testing.assert_allclose(d.min(), 2 * np.sin(np.pi / 8), atol=1e-6)
    angles = np.sort(np.degrees(np.arctan2(c[:, 1], c[:, 0])) % 360)
    np.testing.assert_allclose(angles, np.arange(0, 360, 45), atol=1e-4)


def test_grid_protocol_geometry():
    ds = load("grid", n=10)
    assert ds.centres.shape == (25, 2) and ds.std == 0.05
    got = {tuple(map(float, p)) for p in ds.centres}
    assert got == set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert pairwise(ds.centres).min() == pytest.approx(2.0)


@pytest.mark.parametrize("name, k, std", [("ring", 8, 0.01), ("grid", 25, 0.05), ("mixture1d", 3, 0.3)])
def test_mixture_samples_match_protocol(name, k, std):
    ds = load(name, n=100_000, seed=1)
    assert len(ds.centres) == k and ds.std == std
    assigned = nearest(ds.x, ds.centres.astype(np.float64))
    if name != "mixture1d":  # far-apart modes: every sample is nearest to its own centre
        np.testing.assert_array_equal(assigned, ds.y)
    counts = np.bincount(ds.y, minlength=k)
    expected = len(ds) / k
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # equal-probability modes
    resid = ds.x.astype(np.float64) - ds.centres.astype(np.float64)[ds.y]
    for j in range(k):
        per_mode = resid[ds.y == j]
        np.testing.assert_allclose(per_mode.std(axis=0), std, rtol=0.05)
        np.testing.assert_allclose(per_mode.mean(axis=0), 0.0, atol=5 * std / np.sqrt(len(per_mode)))


def test_moons_lie_on_two_half_circles():
    ds = load("moons", n=N, seed=2)
    x = ds.x.astype(np.float64)
    upper, lower = x[ds.y == 0], x[ds.y == 1]
    assert abs(len(upper) - len(lower)) < 5 * np.sqrt(N)
    r_upper = np.linalg.norm(upper, axis=1) - 1.0  # circle of radius 1 about (0, 0)
    r_lower = np.linalg.norm(lower - [1.0, 0.5], axis=1) - 1.0  # about (1, 0.5)
    for r in (r_upper, r_lower):
        assert abs(r.mean()) < 0.01 and 0.04 < r.std() < 0.06
    assert upper[:, 1].mean() > 0.5 and lower[:, 1].mean() < 0.0


def test_spiral_points_near_the_curve():
    ds = load("spiral", n=N, seed=2)
    assert ds.y is None
    x = ds.x.astype(np.float64)
    r = np.linalg.norm(x, axis=1)
    phi = np.arctan2(x[:, 1], x[:, 0]) % (2 * np.pi)
    far = r > 0.25  # away from the centre, where turns are 0.5 apart radially
    # the spiral r = theta / (4 pi) passes angle phi at radii (phi + 2 pi k) / (4 pi)
    candidates = (phi[far, None] + 2 * np.pi * np.arange(3)) / (4 * np.pi)
    resid = np.abs(r[far, None] - candidates).min(1)
    assert np.quantile(resid, 0.99) < 0.08
    assert r.max() < 1.1 and far.mean() > 0.8


@pytest.mark.parametrize("name", TOY)
def test_deterministic_and_seed_dependent(name):
    a, b = load(name, n=500, seed=7), load(name, n=500, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, load(name, n=500, seed=8).x)
    assert not np.array_equal(a.x, load(name, "test", n=500, seed=7).x)


@pytest.mark.parametrize("name", TOY)
def test_test_split_is_not_a_shifted_train_stream(name):
    train = load(name, n=2000, seed=0).x
    test = load(name, "test", n=2000, seed=0).x
    rows = {r.tobytes() for r in train}
    shared = sum(r.tobytes() in rows for r in test)
    assert shared < 10  # a chance float32 tie or two in 1-D; a reused stream would share ~all


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), m=st.integers(1, 300), extra=st.integers(0, 300), name=st.sampled_from(TOY))
def test_smaller_sample_is_a_prefix(seed, m, extra, name):
    small = load(name, n=m, seed=seed)
    large = load(name, n=m + extra, seed=seed)
    np.testing.assert_array_equal(small.x, large.x[:m])
    if small.y is not None:
        np.testing.assert_array_equal(small.y, large.y[:m])


def test_seed_none_gives_fresh_samples():
    assert not np.array_equal(load("ring", n=100, seed=None).x, load("ring", n=100, seed=None).x)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(name="rings"), "ring, grid"),
        (dict(name="ring", split="validation"), "train, test"),
        (dict(name="ring", n=0), "n must be"),
        (dict(name="ring", n=-5), "n must be"),
        (dict(name="ring", n=2.5), "n must be"),
        (dict(name="ring", n=True), "n must be"),
        (dict(name="ring", n=10**9), "n must be"),
        (dict(name="grid", seed=-1), "seed"),
        (dict(name="grid", seed=1.5), "seed"),
    ],
)
def test_bad_arguments_are_one_line_minigan_errors(kwargs, fragment):
    with pytest.raises(MiniganError) as info:
        load(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_names_are_forgiving_about_case_and_underscores():
    assert load("RING", n=3).name == "ring"
    assert DATASETS["fashion-mnist"].kind == "download"
    with pytest.raises(MiniganError, match="fashion-mnist"):
        load("fashion_mnist", data_dir="/nonexistent/minigan-test")


def test_dataset_record_rejects_wrong_arrays():
    with pytest.raises(TypeError):
        Dataset("t", "train", np.zeros((3, 2)), None, None, False, None, None, "")  # float64
    x = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError):
        Dataset("t", "train", x, np.zeros(3, np.int32), None, False, None, None, "")
    with pytest.raises(TypeError):
        Dataset("t", "train", x, None, (3, 3), True, None, None, "")
    assert "x=float32(3, 2)" in repr(Dataset("t", "train", x, None, None, False, None, None, ""))
