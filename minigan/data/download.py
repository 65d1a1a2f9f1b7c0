"""Download full MNIST and Fashion-MNIST into a local cache, verified by SHA-256.

Cache directory: ``$MINIGAN_DATA`` if set, else ``$XDG_CACHE_HOME/minigan``, else
``~/.cache/minigan``; each data set lives in its own sub-directory (``<cache>/mnist``).

Each file is streamed from the first mirror that works into a temporary file in the
destination directory, hashed on the way, checked against its length (the published
size, and the server's Content-Length) and its published SHA-256, ``fsync``-ed and only
then renamed into place with :func:`os.replace` (atomic).  On any failure the temporary
file is deleted, so the cache only ever holds verified files.  When every mirror fails
(an offline machine), :class:`~minigan.errors.MiniganError` says which files are needed
and the exact directory to put them in by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checkpoint import fsync_dir
from ..errors import MiniganError


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name, SHA-256 (hex) and size in bytes (None if unknown)."""

    name: str
    sha256: str
    size: int | None = None


# SHA-256 digests and sizes as published in TensorFlow Datasets' checksum files,
# tensorflow/datasets: tensorflow_datasets/url_checksums/mnist.txt and
# tensorflow_datasets/url_checksums/fashion_mnist.txt (the same digests appear in
# torchvision-style loaders and many download scripts).
_PUBLISHED = {
    # data set: (file name, SHA-256, bytes)
    "mnist": (
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    ),
    "fashion-mnist": (
        ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    ),
}
#: data set -> {file name: RemoteFile}
FILES: dict[str, dict[str, RemoteFile]] = {
    name: {row[0]: RemoteFile(*row) for row in rows} for name, rows in _PUBLISHED.items()
}

# Tried in order; a file's URL is mirror + file name.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    ),
    "fashion-mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the authors' S3 bucket (HTTP only)
    ),
}

TIMEOUT = 30.0  # seconds per connection attempt / read
_CHUNK = 1 << 16


def cache_root() -> Path:
    """``$MINIGAN_DATA``, else ``$XDG_CACHE_HOME/minigan``, else ``~/.cache/minigan``."""
    if os.environ.get("MINIGAN_DATA"):
        return Path(os.environ["MINIGAN_DATA"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "minigan"
    return Path.home() / ".cache" / "minigan"


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Directory that holds ``name``'s files: ``<data_dir or cache_root()>/<name>``."""
    root = Path(data_dir).expanduser() if data_dir is not None else cache_root()
    return root / name


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Failed(Exception):
    """One mirror failed for one file (the message says why).

    ``unreachable`` marks a failure to reach the server at all (refused, no route, DNS,
    timeout): such a mirror is not tried again for the remaining files.
    """

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


def _remote_files(name: str, digests: Mapping[str, str] | None) -> list[RemoteFile]:
    if digests is not None:
        return [RemoteFile(fname, sha.lower()) for fname, sha in digests.items()]
    if name not in FILES:
        raise MiniganError(f"no download for {name!r}; downloadable data sets: {', '.join(FILES)}")
    return list(FILES[name].values())


def _progress_bar(enabled: bool, total: int | None, desc: str):
    if not (enabled and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, file=sys.stderr, leave=False)


def _download_one(url: str, remote: RemoteFile, dest_dir: Path, timeout: float, progress: bool) -> None:
    """Stream ``url`` to ``dest_dir/remote.name``, verified; raise :class:`_Failed` on any problem."""
    request = urllib.request.Request(url, headers={"User-Agent": "minigan (python urllib)"})
    fd, tmp_name = tempfile.mkstemp(prefix=f".{remote.name}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            received, length, got = _stream(request, out, remote, timeout, progress)
            out.flush()
            os.fsync(out.fileno())
        for what, want in (("Content-Length", length), ("published size", remote.size)):
            if want is not None and received != want:
                raise _Failed(f"truncated download: {received} bytes received, {what} is {want}")
        if got != remote.sha256:
            raise _Failed(f"checksum mismatch: SHA-256 {got}, expected {remote.sha256}")
        os.replace(tmp, dest_dir / remote.name)
        fsync_dir(dest_dir)
    finally:
        tmp.unlink(missing_ok=True)  # after a successful replace the temporary name is gone already


def _stream(request, out, remote: RemoteFile, timeout: float, progress: bool) -> tuple[int, int | None, str]:
    """Copy the response body to ``out``; return (bytes received, Content-Length or None, hex SHA-256)."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            header = response.headers.get("Content-Length")
            length = int(header) if header and header.strip().isdigit() else None
            expected = remote.size if remote.size is not None else length
            digest = hashlib.sha256()
            received = 0
            bar = _progress_bar(progress, expected, remote.name)
            try:
                while block := response.read(_CHUNK):
                    received += len(block)
                    if expected is not None and received > expected:
                        raise _Failed(f"server sent more than the expected {expected} bytes")
                    out.write(block)
                    digest.update(block)
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
            return received, length, digest.hexdigest()
    except http.client.IncompleteRead as exc:
        raise _Failed(f"truncated download: the connection closed with {exc.expected} bytes still to come") from None
    except urllib.error.HTTPError as exc:
        raise _Failed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _Failed(str(exc.reason), unreachable=True) from None
    except TimeoutError:
        raise _Failed(f"no answer within {timeout:g} s", unreachable=True) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _Failed(f"{type(exc).__name__}: {exc}") from None


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    *,
    progress: bool = True,
    digests: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> Path:
    """Make sure every file of data set ``name`` is in its cache directory; return that directory.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"`` (any name when ``digests`` is given).
        data_dir: cache root (default :func:`cache_root`); files go to ``data_dir/name``.
        mirrors: base URLs to try in order (default ``MIRRORS[name]``).
        progress: show a tqdm bar per file when stderr is a terminal.
        digests: ``{file name: sha256 hex}`` to fetch instead of the published list (tests).
        timeout: seconds before a silent connection is given up.

    Files already present with the right SHA-256 are not downloaded again; a present
    file with a wrong digest is replaced.

    Raises:
        MiniganError: unknown name, an unwritable cache, or a file no mirror could
            deliver intact (the message names the files and the directory to put them in).
    """
    remotes = _remote_files(name, digests)
    if mirrors is None:
        mirrors = MIRRORS.get(name, ())
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    if not mirrors:
        raise MiniganError(f"no mirror given for {name!r}; pass mirrors=[base URL, ...]")
    target = dataset_dir(name, data_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MiniganError(
            f"cannot create the data directory {target} ({exc.strerror or exc}); "
            "set MINIGAN_DATA to a writable directory"
        ) from None
    unreachable: dict[str, str] = {}  # mirror -> why it could not be reached
    notes: list[str] = []  # why the other attempts failed, one entry per (mirror, file)
    missing: list[str] = []
    for remote in remotes:
        path = target / remote.name
        if path.is_file() and sha256_of(path) == remote.sha256:
            continue
        for mirror in mirrors:
            if mirror in unreachable:
                continue
            url = mirror.rstrip("/") + "/" + remote.name
            try:
                _download_one(url, remote, target, timeout, progress)
                break
            except _Failed as exc:
                if exc.unreachable:
                    unreachable[mirror] = str(exc)
                else:
                    notes.append(f"{url}: {exc}")
        else:
            missing.append(remote.name)
    if missing:
        why = "; ".join([f"{m}: {reason}" for m, reason in unreachable.items()] + notes)
        why = " ".join(why.split())  # one line, whatever the exceptions said
        raise MiniganError(
            f"could not download {name} ({why}). Put {', '.join(missing)} into {target} by hand "
            f"(from any of the mirrors above; the SHA-256 must match), then retry"
        )
    return target
