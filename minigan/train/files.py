"""The files of a run directory: where it goes, the metrics file, the picture frames."""

from __future__ import annotations

import csv
import os
import re
import time
from pathlib import Path

from .. import checkpoint as ckpt
from ..errors import MiniganError
from .config import CHECKPOINT_NAME, METRIC_COLUMNS


def default_out_dir(dataset: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<dataset>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``, ... if that exists."""
    base = Path(root) / f"{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def check_new_run_dir(path: Path) -> None:
    """Refuse a directory that already holds a run (or anything else)."""
    if path.exists() and not path.is_dir():
        raise MiniganError(f"--out {path} exists and is not a directory")
    if path.is_dir():
        if (path / CHECKPOINT_NAME).exists() or (path / "config.json").exists():
            raise MiniganError(
                f"{path} already holds a run; continue it with --resume {path}, or choose another --out"
            )
        if any(path.iterdir()):
            raise MiniganError(f"--out {path} is not empty; choose a new or empty directory")


def make_writable_dir(path: Path) -> None:
    """Create ``path`` (and parents) and check a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        ckpt.atomic_write_bytes(path / ".write-test", b"")
        (path / ".write-test").unlink()
        (path / "samples").mkdir(exist_ok=True)
    except OSError as exc:
        raise MiniganError(f"cannot write to output directory {path}: {exc.strerror or exc}") from None


def _fmt(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.9g}"


def write_metrics_csv(path: Path, metrics: dict[str, list]) -> None:
    """(Re)write the whole metrics file atomically."""
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(METRIC_COLUMNS)
    for row in zip(*(metrics[c] for c in METRIC_COLUMNS)):
        w.writerow([_fmt(int(v)) if c in ("step", "epoch") else _fmt(float(v)) for c, v in zip(METRIC_COLUMNS, row)])
    ckpt.atomic_write_bytes(path, buf.getvalue().encode())


_FRAME = re.compile(r"^(epoch|step)_(\d+)\.png$")


def list_frames(samples_dir: Path, spe: int) -> list[tuple[int, Path, str]]:
    """The pictures in ``samples/`` in training order: (step, path, caption)."""
    frames = []
    for p in samples_dir.glob("*.png"):
        m = _FRAME.match(p.name)
        if m:
            n = int(m.group(2))
            step = n * spe if m.group(1) == "epoch" else n
            caption = f"epoch {n}" if m.group(1) == "epoch" else f"step {n}"
            frames.append((step, p, caption))
    return sorted(frames, key=lambda f: (f[0], f[1].name))
