"""Bundled image sets: recorded digests, layout, splits, and that the images are digits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from minigan.data import load
from minigan.data.bundled import BUNDLED_DIR, DIGESTS
from minigan.errors import MiniganError

README = Path(__file__).resolve().parents[1] / "minigan" / "data" / "README.md"
SPLITS = {"mnist5k": ("train", "validation", "test"), "digits": ("train", "test")}


def unit(ds) -> np.ndarray:
    """Pixels back in [0, 1] as images (N, h, w), float64."""
    return ((ds.x.astype(np.float64) + 1.0) / 2.0).reshape(-1, *ds.image_shape)


def spreads(mean_image: np.ndarray) -> tuple[float, float, float, float]:
    """Centre of mass (row, col) and ink spread (std of row, std of col) of an image."""
    rows, cols = np.mgrid[0 : mean_image.shape[0], 0 : mean_image.shape[1]]
    m = mean_image.sum()
    cr, cc = (mean_image * rows).sum() / m, (mean_image * cols).sum() / m
    sr = np.sqrt((mean_image * (rows - cr) ** 2).sum() / m)
    sc = np.sqrt((mean_image * (cols - cc) ** 2).sum() / m)
    return cr, cc, sr, sc


@pytest.mark.parametrize("file", sorted(DIGESTS))
def test_bundled_file_matches_recorded_digest(file):
    assert hashlib.sha256((BUNDLED_DIR / file).read_bytes()).hexdigest() == DIGESTS[file]
    assert DIGESTS[file] in README.read_text(encoding="utf-8")  # the README records the same digest


@pytest.mark.parametrize("file", sorted(DIGESTS))
def test_npz_layout_without_pickle(file):
    with np.load(BUNDLED_DIR / file, allow_pickle=False) as npz:
        assert set(npz.files) == {"images", "labels", "split", "split_names", "source_row"}
        assert npz["images"].dtype == np.uint8 and npz["images"].ndim == 3
        assert npz["labels"].dtype == np.uint8 and npz["split"].dtype == np.uint8
        n = len(npz["images"])
        assert npz["labels"].shape == npz["split"].shape == npz["source_row"].shape == (n,)
        assert sorted(npz["source_row"].tolist()) == list(range(n))  # each source row exactly once


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_every_split_is_bounded_float32(name):
    for split in SPLITS[name]:
        ds = load(name, split)
        assert ds.x.dtype == np.float32 and ds.x.flags.c_contiguous
        assert ds.bounded is True and ds.centres is None and ds.std is None
        assert ds.x.shape == (len(ds), int(np.prod(ds.image_shape)))
        assert ds.x.min() == -1.0 and ds.x.max() == 1.0
        assert ds.y.dtype == np.int64 and set(np.unique(ds.y)) == set(range(10))


def test_mnist5k_counts_and_stratified_splits():
    parts = {s: load("mnist5k", s, seed=None) for s in SPLITS["mnist5k"]}
    assert {s: len(ds) for s, ds in parts.items()} == {"train": 4000, "validation": 500, "test": 500}
    assert parts["train"].image_shape == (28, 28)
    assert np.array_equal(np.bincount(parts["train"].y), [400] * 10)
    for s in ("validation", "test"):
        assert np.array_equal(np.bincount(parts[s].y), [50] * 10)
    total = np.bincount(np.concatenate([ds.y for ds in parts.values()]))
    assert np.array_equal(total, [500] * 10)


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_splits_are_disjoint(name):
    seen: dict[bytes, str] = {}
    duplicates_within = 0
    for split in SPLITS[name]:
        for row in load(name, split).x:
            key = row.tobytes()
            if key in seen:
                assert seen[key] == split, f"an image of {seen[key]} is also in {split}"
                duplicates_within += 1
            seen[key] = split
    assert duplicates_within <= 2  # the source files hold (almost) no repeated image


def test_mnist5k_pixels_are_bytes_scaled_to_unit_range():
    p = (load("mnist5k", "test").x.astype(np.float64) + 1.0) * 127.5
    np.testing.assert_allclose(p, np.round(p), atol=1e-4)


def test_mnist5k_looks_like_mnist():
    ds = load("mnist5k", "train")
    images = unit(ds)
    # 0.1307 is the well-known mean MNIST pixel intensity in [0, 1] (the usual
    # normalisation constant); a class-balanced subset sits close to it.
    assert images.mean() == pytest.approx(0.1307, abs=0.005)
    mean_image = images.mean(0)
    # MNIST digits are centred by their centre of mass in the 28x28 field, and the outer
    # frame is blank.
    cr, cc, _, _ = spreads(mean_image)
    assert abs(cr - 14) < 1 and abs(cc - 14) < 1
    frame = np.concatenate([mean_image[0], mean_image[-1], mean_image[:, 0], mean_image[:, -1]])
    assert frame.max() < 0.01
    # The ones are upright strokes: tall, not wide (a transposed layout would flip this).
    _, _, sr, sc = spreads(images[ds.y == 1].mean(0))
    assert sr > 1.5 * sc
    # Zeros are rings with a hole: the centre pixel has less ink than the mean stroke.
    zeros = images[ds.y == 0].mean(0)
    assert zeros[14, 14] < 0.5 * zeros.max()


def test_digits_counts_layout_and_pixels():
    train, test = load("digits", "train", seed=None), load("digits", "test", seed=None)
    assert len(train) + len(test) == 1797  # UCI optdigits as shipped by scikit-learn
    assert len(test) == 360 and np.array_equal(np.bincount(test.y), [36] * 10)
    assert train.image_shape == (8, 8) and train.dim == 64
    p = (np.concatenate([train.x, test.x]).astype(np.float64) + 1.0) * 8.0  # counts of 0..16 on-pixels
    np.testing.assert_allclose(p, np.round(p), atol=1e-5)
    assert p.min() == 0 and p.max() == 16
    _, _, sr, sc = spreads(unit(train)[train.y == 1].mean(0))
    assert sr > 1.5 * sc


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_seed_orders_rows_and_n_takes_a_prefix(name):
    a, b, c = load(name, seed=5), load(name, seed=5), load(name, seed=6)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    key = lambda ds: sorted(r.tobytes() for r in ds.x)  # noqa: E731
    assert key(a) == key(c)  # same rows, different order
    small = load(name, n=100, seed=5)
    np.testing.assert_array_equal(small.x, a.x[:100])
    assert not np.array_equal(small.x, load(name, n=100, seed=6).x)
    stored = load(name, seed=None)
    np.testing.assert_array_equal(load(name, n=10, seed=None).x, stored.x[:10])


def test_val_alias_and_errors():
    assert load("mnist5k", "val").split == "validation"
    with pytest.raises(MiniganError, match="train, test"):
        load("digits", "validation")
    with pytest.raises(MiniganError, match="1 to 500"):
        load("mnist5k", "test", n=501)
    with pytest.raises(MiniganError, match="n must be"):
        load("mnist5k", n=0)
