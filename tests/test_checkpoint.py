"""Checkpoint files: exact round trips, no pickle, atomic writes, one-line errors for bad files."""

import json
import os
import zipfile

import numpy as np
import pytest

from minigan import StepStats, build_discriminator, build_generator
from minigan import checkpoint as ckpt
from minigan.errors import MiniganError
from minigan.optim import SGD, Adam
from minigan.train import METRIC_COLUMNS, TrainConfig, Trainer, load_dataset, with_data_defaults


def small_trainer(**kw):
    cfg = with_data_defaults(TrainConfig(dataset="ring", n=600, batch_size=32, hidden=(16, 16), z_dim=4, **kw))
    ds = load_dataset(cfg)
    return Trainer(cfg.resolve(ds), ds)


def test_rng_state_round_trip_is_exact():
    rng = np.random.default_rng(2**100 + 12345)
    rng.random(17)
    copy = ckpt.decode_rng(ckpt.encode_rng(rng))
    assert copy.bit_generator.state == rng.bit_generator.state
    assert np.array_equal(copy.random(1000), rng.random(1000))


def test_save_load_round_trip_without_pickle(tmp_path):
    arrays = {"a/x": np.arange(12, dtype=np.float32).reshape(3, 4), "b/t": np.array(7), "s": np.array("héllo")}
    path = ckpt.save(tmp_path / "c.npz", arrays, config={"k": [1, 2], "big": 2**127 + 1})
    with np.load(path, allow_pickle=False) as npz:  # a plain npz, readable without minigan
        assert set(npz.files) >= set(arrays)
    back = ckpt.load(path)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v)
    assert ckpt.load_config(back) == {"k": [1, 2], "big": 2**127 + 1}
    assert str(back["format"][()]) == ckpt.FORMAT


def test_save_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError):
        ckpt.save(tmp_path / "c.npz", {"bad": np.array([{"a": 1}], dtype=object)})
    assert not (tmp_path / "c.npz").exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_failure_leaves_old_file_and_no_temporaries(tmp_path):
    target = tmp_path / "f.bin"
    ckpt.atomic_write_bytes(target, b"old")

    def explode(f):
        f.write(b"partial new content")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        ckpt.atomic_write(target, explode)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_remove_stale_temporaries(tmp_path):
    (tmp_path / f"{ckpt.TEMP_PREFIX}checkpoint.npz.abc").write_bytes(b"x")
    (tmp_path / "keep.txt").write_text("x")
    removed = ckpt.remove_stale_temporaries(tmp_path)
    assert len(removed) == 1 and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.fixture
def good_file(tmp_path):
    t = small_trainer(steps=5)
    for _ in range(3):
        t.train_step()
    return ckpt.save(tmp_path / "checkpoint.npz", t.state_arrays(), config={"config": t.config.to_dict()})


def test_missing_file(tmp_path):
    with pytest.raises(MiniganError, match="not found"):
        ckpt.load(tmp_path / "nope.npz")


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(MiniganError) as info:
        ckpt.load(good_file)
    assert "\n" not in str(info.value) and str(good_file) in str(info.value)


def test_corrupt_bytes_are_detected(good_file):
    # Flip bytes inside the stored arrays: zip's CRC-32 must catch it.
    data = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as z:
        info = z.getinfo("G/0.W.npy")
    start = info.header_offset + 30 + len(info.filename) + 200
    for i in range(start, start + 16):
        data[i] ^= 0xFF
    good_file.write_bytes(bytes(data))
    with pytest.raises(MiniganError, match="corrupt"):
        ckpt.load(good_file)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "text.npz").write_text("hello, I am not a zip file\n")
    with pytest.raises(MiniganError):
        ckpt.load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(MiniganError, match="not a minigan checkpoint"):
        ckpt.load(tmp_path / "plain.npz")
    np.savez(tmp_path / "future.npz", format=np.array(ckpt.FORMAT), format_version=np.array(99))
    with pytest.raises(MiniganError, match="version 99"):
        ckpt.load(tmp_path / "future.npz")


def test_load_model_refuses_other_architecture_and_changes_nothing():
    G = build_generator(4, (16, 16), 2, output="linear", rng=0)
    other = build_generator(4, (8, 8), 2, output="linear", rng=1)
    arrays = ckpt.model_arrays("G", other)
    before = {k: v.copy() for k, v in G.params().items()}
    with pytest.raises(MiniganError, match="different architecture"):
        ckpt.load_model("G", G, arrays)
    deeper = build_generator(4, (16, 16, 16), 2, output="linear", rng=1)
    with pytest.raises(MiniganError, match="does not match"):
        ckpt.load_model("G", G, ckpt.model_arrays("G", deeper))
    assert all(np.array_equal(before[k], v) for k, v in G.params().items())


def test_load_model_round_trip():
    D1 = build_discriminator(2, (16, 16), rng=0)
    D2 = build_discriminator(2, (16, 16), rng=1)
    ckpt.load_model("D", D2, ckpt.model_arrays("D", D1))
    for k, v in D1.params().items():
        assert np.array_equal(v, D2.params()[k])


@pytest.mark.parametrize("make", [lambda p: Adam(p, lr=1e-3), lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True)])
def test_optimizer_state_round_trip(make):
    D = build_discriminator(3, (5,), rng=0)
    opt = make(D.params())
    rng = np.random.default_rng(0)
    for _ in range(3):
        opt.step({k: rng.standard_normal(v.shape).astype(np.float32) for k, v in D.params().items()})
    arrays = ckpt.flatten("o", opt.state_dict())
    D2 = build_discriminator(3, (5,), rng=0)
    opt2 = make(D2.params())
    ckpt.load_optimizer("o", opt2, arrays)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        assert np.array_equal(np.asarray(s1[k]), np.asarray(s2[k])), k


def test_trainer_state_round_trip_through_a_file(tmp_path):
    t = small_trainer(steps=100, optimizer="sgd", lr=0.01, momentum=0.5)
    for _ in range(7):  # mid-epoch (600 // 32 = 18 steps per epoch)
        t.train_step()
        t.record(StepStats(1.0, 2.0, 0.5, 0.5), 0.1)
    path = ckpt.save(tmp_path / "checkpoint.npz", t.state_arrays(), config={"config": t.config.to_dict()})
    arrays = ckpt.load(path)
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
    assert {"G/0.W", "D/0.W", "g_opt/t", "d_opt/velocity.0.W", "rng/noise", "rng/shuffle", "loop/step",
            "loop/perm", "config"} <= keys
    assert {f"metrics/{c}" for c in METRIC_COLUMNS} <= keys
    t2 = small_trainer(steps=100, optimizer="sgd", lr=0.01, momentum=0.5)
    for p in [*t2.gan.G.params().values(), *t2.gan.D.params().values()]:
        p[...] = 0.5  # anything but the saved weights
    t2.gan.rng.random(3)
    t2.load_state(arrays)
    a, b = t.state_arrays(), t2.state_arrays()
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    # and they go on identically
    for _ in range(15):
        s1, s2 = t.train_step(), t2.train_step()
        assert s1 == s2
    assert json.loads(str(arrays["config"][()]))["config"]["optimizer"] == "sgd"


def test_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = ckpt.save(tmp_path / "c.npz", {"a": np.zeros(2)})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


class _Payload:
    """Unpickling this object would create ``path``: the side effect a malicious
    checkpoint would have."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_object_array_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pickle-ran"
    arrays = {"format": np.array(ckpt.FORMAT), "format_version": np.array(ckpt.FORMAT_VERSION),
              "G/0.W": np.zeros((2, 2), np.float32), "evil": np.array([_Payload(marker)], dtype=object)}
    path = tmp_path / "evil.npz"
    np.savez(path, **arrays)  # a valid .npz: numpy pickles the object array inside it
    with zipfile.ZipFile(path) as z:
        assert "evil.npy" in z.namelist()
    with pytest.raises(MiniganError, match="cannot read checkpoint"):
        ckpt.load(path)
    assert not marker.exists()
    # The file really does carry a pickle: loading it the unsafe way runs the payload.
    with np.load(path, allow_pickle=True) as npz:
        npz["evil"]
    assert marker.exists()
