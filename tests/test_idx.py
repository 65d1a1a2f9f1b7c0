"""IDX reader: round trips for every type code (plain and gzip), malformed files, fuzzing."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigan.data.idx import IdxError, read_idx
from minigan.errors import MiniganError

# An independent writer: type code -> big-endian struct format character.
CODES = {0x08: ("B", np.uint8), 0x09: ("b", np.int8), 0x0B: ("h", np.int16), 0x0C: ("i", np.int32),
         0x0D: ("f", np.float32), 0x0E: ("d", np.float64)}  # fmt: skip


def write_idx(values, shape, code) -> bytes:
    """IDX bytes for a flat list of Python numbers, packed one by one with struct."""
    char = CODES[code][0]
    head = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    return head + b"".join(struct.pack(f">{char}", v) for v in values)


def sample_values(code, count, rng):
    kind = CODES[code][1]
    if np.dtype(kind).kind == "f":
        vals = rng.standard_normal(count) * 1e3
        return [float(np.asarray(v, dtype=kind)) for v in vals]  # representable exactly
    info = np.iinfo(kind)
    vals = rng.integers(info.min, int(info.max) + 1, size=count).tolist()
    return ([int(info.min), int(info.max)] + vals)[:count]


@pytest.mark.parametrize("code", sorted(CODES))
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0, 28, 28), (1, 1, 1, 2)])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_every_type(code, shape, compress, tmp_path):
    rng = np.random.default_rng(0)
    count = int(np.prod(shape))
    values = sample_values(code, count, rng)
    data = write_idx(values, shape, code)
    if compress:
        data = gzip.compress(data)
    for source in (data, tmp_path / "file.idx"):
        if not isinstance(source, bytes):
            source.write_bytes(data)
        array = read_idx(source)
        assert array.shape == shape
        assert array.dtype == np.dtype(CODES[code][1])  # native byte order
        assert array.dtype.isnative and array.flags.writeable
        assert array.ravel().tolist() == values


def test_mnist_like_header_values(tmp_path):
    shape = (3, 28, 28)
    data = write_idx(list(range(256)) * 9 + list(range(48)), shape, 0x08)
    assert data[:4] == bytes.fromhex("00000803")  # MNIST images: magic 2051
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data))  # gzip recognised by content
    assert read_idx(path)[0, 0, :3].tolist() == [0, 1, 2]


def one_line_error(source, *fragments):
    with pytest.raises(IdxError) as info:
        read_idx(source)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


GOOD = write_idx(list(range(12)), (3, 4), 0x08)


def test_idx_error_is_a_minigan_error():
    assert issubclass(IdxError, MiniganError) and issubclass(IdxError, ValueError)


@pytest.mark.parametrize("compress", [False, True])
def test_malformed_headers(compress):
    wrap = gzip.compress if compress else (lambda b: b)
    one_line_error(wrap(b"\x00\x00"), "4")
    one_line_error(wrap(b"\x01\x00" + GOOD[2:]), "bad magic")
    one_line_error(wrap(b"\x00\x07" + GOOD[2:]), "bad magic")
    one_line_error(wrap(GOOD[:2] + b"\x0a" + GOOD[3:]), "type code 0x0A")
    one_line_error(wrap(GOOD[:3] + b"\x00" + GOOD[4:]), "0 dimensions")
    many = struct.pack(">BBBB", 0, 0, 0x08, 40) + bytes(4 * 40)  # 40 zero dims: NumPy 1.x allows 32
    one_line_error(wrap(many), "40 dimensions")
    one_line_error(wrap(GOOD[:6]), "header")


@pytest.mark.parametrize("compress", [False, True])
def test_length_must_match_header(compress, tmp_path):
    wrap = gzip.compress if compress else (lambda b: b)
    one_line_error(wrap(GOOD[:-1]), "header claims 12 bytes of data but the file holds 11")
    one_line_error(wrap(GOOD + b"\x00"), "12 bytes")
    claim = write_idx([], (60000, 28, 28), 0x08) + bytes(1000)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(wrap(claim))
    one_line_error(path, "train-images-idx3-ubyte.gz", "header claims 47040000 bytes of data but the file holds 1000")
    wide = write_idx([], (2,), 0x0E) + bytes(15)  # two float64 need 16 bytes
    one_line_error(wrap(wide), "16 bytes")


def test_broken_gzip_streams(tmp_path):
    packed = gzip.compress(GOOD)
    one_line_error(packed[: len(packed) // 2], "gzip")  # truncated member
    bad_crc = packed[:-8] + bytes([packed[-8] ^ 0xFF]) + packed[-7:]
    one_line_error(bad_crc, "gzip")
    one_line_error(b"\x1f\x8b" + bytes(30), "gzip")


def test_missing_file_and_wrong_type(tmp_path):
    one_line_error(tmp_path / "nope.idx", "nope.idx")
    with pytest.raises(IdxError):
        read_idx(12345)


def test_size_limit_is_checked_before_reading():
    huge = write_idx([], (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), 0x0E)
    one_line_error(huge, "limit")
    one_line_error(gzip.compress(huge), "limit")
    empty_but_vast = write_idx([], (0, 0xFFFFFFFF, 0xFFFFFFFF), 0x08)  # no data, yet no NumPy shape
    one_line_error(empty_but_vast, "limit")
    assert read_idx(write_idx([], (0, 32, 0), 0x08)).shape == (0, 32, 0)
    assert read_idx(write_idx([0], (1,) * 32, 0x08)).ndim == 32


def peak_allocation(source) -> tuple[int, object]:
    """Peak bytes traced while reading ``source`` (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        try:
            result = read_idx(source)
        except IdxError as exc:
            result = exc
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_false_size_claims_do_not_allocate_the_claim():
    claim = write_idx([], (100, 1000, 1000), 0x08) + bytes(1000)  # claims 100 MB, holds 1 kB
    for source in (claim, gzip.compress(claim)):
        peak, result = peak_allocation(source)
        assert isinstance(result, IdxError)
        assert peak < 2_000_000, peak


def bound(data: bytes) -> int:
    """What a read may allocate: a few copies of what the input could hold, plus gzip's buffers."""
    return 8 * len(data) + 2_000_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), compress=st.booleans())
def test_fuzz_random_bytes(data, compress):
    if compress:
        data = gzip.compress(data)
    peak, result = peak_allocation(data)
    assert isinstance(result, (np.ndarray, IdxError))
    assert peak <= bound(data)
    if isinstance(result, np.ndarray):
        assert result.nbytes <= len(data)


@st.composite
def mutated_files(draw):
    code = draw(st.sampled_from(sorted(CODES)))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = bytearray(write_idx(sample_values(code, int(np.prod(shape)), rng), shape, code))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["set", "truncate", "extend"]))
        if kind == "set" and data:
            i = draw(st.integers(0, min(len(data) - 1, 20)))  # mostly the header
            data[i] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[draw(st.integers(0, len(data))) :]
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    packed = bytes(data)
    mode = draw(st.sampled_from(["plain", "gzip", "gzip-then-corrupt"]))
    if mode != "plain":
        packed = gzip.compress(packed)
    if mode == "gzip-then-corrupt":
        corrupt = bytearray(packed)
        corrupt[draw(st.integers(0, len(corrupt) - 1))] ^= draw(st.integers(1, 255))
        packed = bytes(corrupt)
    return packed


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_files())
def test_fuzz_mutated_valid_files(data, tmp_path_factory):
    peak, result = peak_allocation(data)
    assert isinstance(result, (np.ndarray, IdxError)), repr(result)
    assert peak <= bound(data)
    path = tmp_path_factory.mktemp("fuzz") / "f.idx"
    path.write_bytes(data)
    again = read_idx(path) if isinstance(result, np.ndarray) else None
    if again is not None:
        np.testing.assert_array_equal(again, result)
    else:
        with pytest.raises(IdxError):
            read_idx(path)


@st.composite
def forged_headers(draw):
    """Headers with any type byte, 0..40 dimensions drawn from small, zero and huge sizes, any body."""
    code = draw(st.sampled_from([*CODES, 0x00, 0x0A, 0xFF]))
    ndim = draw(st.integers(0, 40))
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, 7, 2**16, 2**31, 2**32 - 1]), min_size=ndim, max_size=ndim))
    head = struct.pack(">BBBB", 0, 0, code, ndim) + struct.pack(f">{ndim}I", *dims)
    body = draw(st.binary(max_size=64))
    return gzip.compress(head + body) if draw(st.booleans()) else head + body


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=forged_headers())
def test_fuzz_forged_headers(data):
    peak, result = peak_allocation(data)
    assert isinstance(result, (np.ndarray, IdxError)), repr(result)
    assert peak <= bound(data)
