"""Write the chapter notebooks from ``notebooks/src/chNN.py`` and run them.

    python notebooks/build.py                 # all chapters, full run (outputs to commit)
    python notebooks/build.py 03 04           # some chapters
    python notebooks/build.py --fast 05       # MINIGAN_FAST=1 (what CI runs)
    python notebooks/build.py --no-run 02     # write without executing

Needs nbformat, nbclient and ipykernel (``pip install -e '.[dev]'``).  Each notebook is
executed with its own folder as the working directory; run directories go under
``notebooks/_runs/`` (git-ignored).  Prints each notebook's wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"


def chapter_sources() -> dict[str, Path]:
    return {p.stem[2:]: p for p in sorted(SOURCES.glob("ch[0-9][0-9].py"))}


def load_source(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SOURCES))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SOURCES))
    return module


def build(path: Path) -> tuple[nbformat.NotebookNode, Path]:
    source = load_source(path)
    nb = new_notebook(cells=list(source.CELLS))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem}-{i:03d}"  # stable ids: rebuilding gives small diffs
    return nb, HERE / f"{source.TITLE}.ipynb"


def execute(nb: nbformat.NotebookNode, out: Path, *, fast: bool, timeout: int = 1800) -> float:
    env_before = os.environ.get("MINIGAN_FAST")
    os.environ["MINIGAN_FAST"] = "1" if fast else "0"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the kernel inherits it: small products, one thread
    started = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(out.parent)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("MINIGAN_FAST", None)
        else:
            os.environ["MINIGAN_FAST"] = env_before
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="two-digit chapter numbers (default: all)")
    parser.add_argument("--fast", action="store_true", help="run with MINIGAN_FAST=1")
    parser.add_argument("--no-run", action="store_true", help="write the notebooks without executing them")
    args = parser.parse_args(argv)
    sources = chapter_sources()
    wanted = args.chapters or list(sources)
    unknown = [c for c in wanted if c not in sources]
    if unknown:
        parser.error(f"no chapter source for {unknown}; have {list(sources)}")
    for chapter in wanted:
        nb, out = build(sources[chapter])
        if not args.no_run:
            seconds = execute(nb, out, fast=args.fast)
            print(f"{out.name}: {seconds:.1f} s ({'fast' if args.fast else 'full'} run)", flush=True)
        nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
