"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a header followed by the data, every number big-endian::

    bytes 0-1   0x00 0x00                   (magic)
    byte  2     type code                   0x08 uint8, 0x09 int8, 0x0B int16,
                                            0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim                        number of dimensions (1..32 accepted)
    4 * ndim    dims                        one uint32 per dimension
    ...         prod(dims) * itemsize bytes of data, C order (last index fastest)

:func:`read_idx` checks all of that *before* it allocates the array: the magic, the
type code, and that the data length is exactly ``prod(dims) * itemsize``.  A gzip file
is decompressed as a stream: the header is read first, then at most the declared
number of bytes, in chunks, so a header that claims 47 MB on a 1 kB file costs 1 kB,
not 47 MB.  One more byte is then requested to detect trailing data (which also
makes gzip check its CRC).  Every problem raises :class:`IdxError` with one line.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import MiniganError

TYPE_CODES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 2**31  # refuse headers that declare more than 2 GiB of data
MAX_NDIM = 32  # NumPy 1.x's limit (2.x allows 64); real IDX files have 1 to 4
_CHUNK = 1 << 20


class IdxError(MiniganError):
    """A file that is not a well-formed IDX file (one-line message naming the file)."""


def _header(stream, label: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Read and check the header from ``stream``; return (big-endian dtype, dims, header bytes)."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise IdxError(f"{label}: file is {len(magic)} bytes long; an IDX header needs at least 4")
    if magic[0] != 0 or magic[1] != 0:
        raise IdxError(
            f"{label}: bad magic number 0x{magic.hex()}: an IDX file starts with two zero bytes, "
            "a type code and the number of dimensions"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in TYPE_CODES)
        raise IdxError(f"{label}: unknown IDX type code 0x{code:02X}; expected one of {known}")
    if not 1 <= ndim <= MAX_NDIM:
        raise IdxError(f"{label}: header declares {ndim} dimensions; expected 1 to {MAX_NDIM}")
    raw = stream.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise IdxError(f"{label}: header declares {ndim} dimensions but the file ends inside the header")
    dims = struct.unpack(f">{ndim}I", raw)
    return TYPE_CODES[code], dims, 4 + 4 * ndim


def _payload_size(dtype: np.dtype, dims: tuple[int, ...], label: str, max_bytes: int) -> int:
    """Bytes of data the header declares, after checking it against ``max_bytes``.

    The product of the *non-zero* dimensions is checked too: NumPy refuses a shape such
    as (0, 2**32-1, 2**32-1) even though it holds no data.
    """
    size = math.prod(dims) * dtype.itemsize
    extent = math.prod(d for d in dims if d) * dtype.itemsize
    if max(size, extent) > max_bytes:
        raise IdxError(f"{label}: header declares shape {dims}, more than the limit of {max_bytes} bytes")
    return size


def _to_array(buffer: bytearray, dtype: np.dtype, dims: tuple[int, ...]) -> np.ndarray:
    """Wrap ``buffer`` (exactly the data) as a writable native-endian array, without a copy."""
    array = np.frombuffer(buffer, dtype=dtype)
    if not array.dtype.isnative:
        array.byteswap(inplace=True)
        array = array.view(array.dtype.newbyteorder("="))
    return array.reshape(dims)


def _read_plain(stream, total: int, label: str, max_bytes: int) -> np.ndarray:
    """``stream`` is seekable and holds ``total`` bytes in all."""
    dtype, dims, head = _header(stream, label)
    size = _payload_size(dtype, dims, label, max_bytes)
    held = total - head
    if held < size:
        raise IdxError(f"{label}: header claims {size} bytes of data but the file holds {held}")
    if held > size:
        raise IdxError(f"{label}: header declares {size} bytes of data but {held - size} trailing bytes follow")
    buffer = bytearray(size)  # safe: the file really holds this many bytes
    if stream.readinto(buffer) != size:
        raise IdxError(f"{label}: file changed while it was being read")
    return _to_array(buffer, dtype, dims)


def _read_gzip(raw, label: str, max_bytes: int) -> np.ndarray:
    """Decompress ``raw`` (a binary file object) as a stream, never past the declared size."""
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            dtype, dims, _ = _header(stream, label)
            size = _payload_size(dtype, dims, label, max_bytes)
            buffer = bytearray()
            while len(buffer) < size:  # grows only as real data arrives
                chunk = stream.read(min(_CHUNK, size - len(buffer)))
                if not chunk:
                    raise IdxError(f"{label}: header claims {size} bytes of data but the file holds {len(buffer)}")
                buffer += chunk
            if stream.read(1):
                raise IdxError(f"{label}: header declares {size} bytes of data but more data follows")
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxError(f"{label}: broken gzip stream ({exc})") from None
    return _to_array(buffer, dtype, dims)


def read_idx(source, *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX array from a path (``str`` / ``PathLike``) or from ``bytes``.

    gzip input is recognised by its magic bytes (1f 8b), not by the file name.

    Returns:
        array of shape ``dims`` with the declared element type in native byte order
        (uint8, int8, int16, int32, float32 or float64), writable.

    Raises:
        IdxError: missing file, bad magic, unknown type code, zero dimensions, a data
            length other than ``prod(dims) * itemsize``, more than ``max_bytes`` of
            declared data, or a broken gzip stream.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<bytes>"
        if data[:2] == GZIP_MAGIC:
            return _read_gzip(io.BytesIO(data), label, max_bytes)
        return _read_plain(io.BytesIO(data), len(data), label, max_bytes)
    if not isinstance(source, (str, os.PathLike)):
        raise IdxError(f"read_idx: expected a path or bytes, got {type(source).__name__}")
    path = Path(source)
    label = path.name
    try:
        with open(path, "rb") as f:
            if f.read(2) == GZIP_MAGIC:
                f.seek(0)
                return _read_gzip(f, label, max_bytes)
            f.seek(0)
            return _read_plain(f, os.fstat(f.fileno()).st_size, label, max_bytes)
    except IdxError:
        raise
    except OSError as exc:
        raise IdxError(f"{label}: cannot read {path} ({exc.strerror or exc})") from None
