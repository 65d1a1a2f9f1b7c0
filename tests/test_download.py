"""Downloader against a local HTTP server: success, bad checksum, truncation, offline, fallback."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import struct
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from minigan.data import download, load
from minigan.errors import MiniganError

FILE = "train-images-idx3-ubyte.gz"


def idx_gz(array: np.ndarray, code: int) -> bytes:
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(head + array.tobytes(), mtime=0)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """``http.server`` on 127.0.0.1, port 0, in a thread.

    ``routes[path] = (body, mode)``; mode "ok", or "short" (Content-Length larger than the
    body, then the connection closes).  Unknown paths get 404.  ``hits`` counts requests.
    """

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                if self.path not in owner.routes:
                    self.send_error(404)
                    return
                body, mode = owner.routes[self.path]
                self.send_response(200)
                claimed = len(body) + 5000 if mode == "short" else len(body)
                self.send_header("Content-Length", str(claimed))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if mode == "short" else body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connection refused
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def payload():
    images = np.arange(5 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(5, 28, 28)
    return idx_gz(images, 0x08)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_success_puts_verified_file_in_cache(server, payload, tmp_path):
    server.routes["/m/" + FILE] = (payload, "ok")
    target = download.fetch("toyset", tmp_path, [server.url + "/m/"], digests={FILE: sha(payload)}, timeout=5)
    assert target == tmp_path / "toyset"
    assert leftovers(target) == [FILE]
    assert download.sha256_of(target / FILE) == sha(payload)
    # a second fetch finds the verified file and does not download again
    download.fetch("toyset", tmp_path, [server.url + "/m/"], digests={FILE: sha(payload)}, timeout=5)
    assert server.hits["/m/" + FILE] == 1


def test_checksum_mismatch_leaves_nothing(server, payload, tmp_path):
    server.routes["/m/" + FILE] = (payload, "ok")
    with pytest.raises(MiniganError) as info:
        download.fetch("toyset", tmp_path, [server.url + "/m"], digests={FILE: "0" * 64}, timeout=5)
    assert "checksum mismatch" in str(info.value) and "\n" not in str(info.value)
    assert leftovers(tmp_path / "toyset") == []


def test_truncated_body_leaves_nothing(server, payload, tmp_path):
    server.routes["/m/" + FILE] = (payload, "short")
    with pytest.raises(MiniganError, match="truncated"):
        download.fetch("toyset", tmp_path, [server.url + "/m"], digests={FILE: sha(payload)}, timeout=5)
    assert leftovers(tmp_path / "toyset") == []


def test_published_size_catches_a_short_body_without_content_length(server, payload, tmp_path, monkeypatch):
    remote = download.RemoteFile(FILE, sha(payload), len(payload) + 1)
    monkeypatch.setitem(download.FILES, "toyset", {FILE: remote})
    server.routes["/m/" + FILE] = (payload, "ok")
    with pytest.raises(MiniganError, match="published size"):
        download.fetch("toyset", tmp_path, [server.url + "/m"], timeout=5)
    assert leftovers(tmp_path / "toyset") == []


def test_offline_message_names_files_and_directory(closed_port_url, tmp_path):
    digests = {FILE: "a" * 64, "train-labels-idx1-ubyte.gz": "b" * 64}
    with pytest.raises(MiniganError) as info:
        download.fetch("toyset", tmp_path, [closed_port_url + "/m"], digests=digests, timeout=5)
    message = str(info.value)
    assert "\n" not in message
    assert f"into {tmp_path / 'toyset'} by hand" in message
    assert f"Put {FILE}, train-labels-idx1-ubyte.gz into" in message
    assert leftovers(tmp_path / "toyset") == []


def test_second_mirror_used_when_first_fails(server, closed_port_url, payload, tmp_path):
    server.routes["/good/" + FILE] = (payload, "ok")
    mirrors = [closed_port_url + "/m", server.url + "/missing", server.url + "/good"]
    target = download.fetch("toyset", tmp_path, mirrors, digests={FILE: sha(payload)}, timeout=5)
    assert leftovers(target) == [FILE]
    assert server.hits == {"/missing/" + FILE: 1, "/good/" + FILE: 1}


def test_bad_file_in_cache_is_replaced(server, payload, tmp_path):
    (tmp_path / "toyset").mkdir()
    (tmp_path / "toyset" / FILE).write_bytes(b"not the file")
    server.routes["/m/" + FILE] = (payload, "ok")
    download.fetch("toyset", tmp_path, [server.url + "/m"], digests={FILE: sha(payload)}, timeout=5)
    assert (tmp_path / "toyset" / FILE).read_bytes() == payload


def test_progress_bar_on_a_terminal(server, payload, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    server.routes["/m/" + FILE] = (payload, "ok")
    download.fetch("toyset", tmp_path, [server.url + "/m"], digests={FILE: sha(payload)}, timeout=5)
    assert FILE in capsys.readouterr().err


def test_unknown_name_and_no_mirrors(tmp_path):
    with pytest.raises(MiniganError, match="mnist, fashion-mnist"):
        download.fetch("cifar10", tmp_path)
    with pytest.raises(MiniganError, match="mirror"):
        download.fetch("toyset", tmp_path, [], digests={FILE: "a" * 64})


def test_cache_root_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("MINIGAN_DATA")
    assert download.cache_root() == tmp_path / "xdg" / "minigan"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.cache_root() == tmp_path / "home" / ".cache" / "minigan"
    assert download.dataset_dir("mnist") == tmp_path / "home" / ".cache" / "minigan" / "mnist"


def test_published_table_is_well_formed():
    for name in ("mnist", "fashion-mnist"):
        assert set(download.FILES[name]) == {
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
        }  # fmt: skip
        for remote in download.FILES[name].values():
            assert len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0 and remote.size > 0
        assert len(download.MIRRORS[name]) >= 2


@pytest.fixture
def fake_mnist(server, monkeypatch):
    """Serve a tiny MNIST look-alike (train 12, test 4 images) in place of the real files."""
    rng = np.random.default_rng(0)
    files = {}
    for prefix, count in (("train", 12), ("t10k", 4)):
        files[f"{prefix}-images-idx3-ubyte.gz"] = idx_gz(rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), 0x08)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = idx_gz(np.arange(count, dtype=np.uint8) % 10, 0x08)
    for fname, body in files.items():
        server.routes["/mnist/" + fname] = (body, "ok")
    table = {f: download.RemoteFile(f, sha(b), len(b)) for f, b in files.items()}
    monkeypatch.setitem(download.FILES, "mnist", table)
    monkeypatch.setitem(download.MIRRORS, "mnist", (server.url + "/mnist/",))
    return files


def test_load_mnist_needs_download_then_reads_cache(fake_mnist, tmp_path):
    with pytest.raises(MiniganError) as info:
        load("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert "minigan data download mnist" in message and str(tmp_path / "mnist") in message
    ds = load("mnist", "train", data_dir=tmp_path, download=True, seed=None)
    assert ds.x.shape == (12, 784) and ds.x.dtype == np.float32 and ds.image_shape == (28, 28)
    assert ds.bounded and ds.x.min() >= -1 and ds.x.max() <= 1
    np.testing.assert_array_equal(ds.y, np.arange(12) % 10)
    test = load("mnist", "test", data_dir=tmp_path)  # now offline from the cache
    assert len(test) == 4 and sorted(test.y.tolist()) == [0, 1, 2, 3]
    assert len(load("mnist", data_dir=tmp_path, n=5, seed=1)) == 5


def test_load_mnist_rejects_a_wrong_file_placed_by_hand(fake_mnist, tmp_path):
    directory = tmp_path / "mnist"
    directory.mkdir()
    for fname, body in fake_mnist.items():
        (directory / fname).write_bytes(body)
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(fake_mnist["t10k-labels-idx1-ubyte.gz"])
    assert len(load("mnist", "test", data_dir=tmp_path)) == 4
    with pytest.raises(MiniganError, match="SHA-256"):
        load("mnist", "train", data_dir=tmp_path)


def test_silent_server_times_out(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts connections in the kernel, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/m"
        with pytest.raises(MiniganError, match="by hand"):
            download.fetch("toyset", tmp_path, [url], digests={FILE: "a" * 64, "b.gz": "b" * 64}, timeout=0.3)
    finally:
        listener.close()
    assert leftovers(tmp_path / "toyset") == []
