"""Write the chapter notebooks from ``notebooks/src/chNN.py`` and run them.

    python notebooks/build.py                 # all chapters, full run (outputs to commit)
    python notebooks/build.py 03 04           # some chapters
    python notebooks/build.py --fast 05       # MINIGAN_FAST=1 (what CI runs)
    python notebooks/build.py --no-run 02     # write without executing
    python notebooks/build.py --prose-only 04 # markdown edits only: keep code cells and outputs

``--prose-only`` rewrites the markdown cells of the committed notebook from the source and
keeps every code cell with its outputs.  It refuses (exit status 2) if any code cell's
source differs from the committed one or cells were added, removed or reordered: then the
notebook needs a full run.

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


def build(path: Path, out_dir: Path | None = None) -> tuple[nbformat.NotebookNode, Path]:
    source = load_source(path)
    nb = new_notebook(cells=list(source.CELLS))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem}-{i:03d}"  # stable ids: rebuilding gives small diffs
    return nb, (out_dir or HERE) / f"{source.TITLE}.ipynb"


class ProseOnlyError(Exception):
    """The source changed more than markdown: a full run is required."""


def update_prose(new: nbformat.NotebookNode, committed: nbformat.NotebookNode) -> int:
    """Copy the markdown cells of ``new`` into ``committed`` (in place), and the code
    cells' display tags (:data:`DISPLAY_TAGS`); return how many cells changed.

    Raises :class:`ProseOnlyError`, leaving ``committed`` untouched, if the cell types differ
    in number or order, or a code cell's source (or a tag that changes a run) differs.
    """
    old_cells, new_cells = committed.cells, new.cells
    if len(old_cells) != len(new_cells):
        raise ProseOnlyError(f"the source has {len(new_cells)} cells, the committed notebook "
                             f"{len(old_cells)}: cells were added or removed")
    for i, (old, cell) in enumerate(zip(old_cells, new_cells)):
        if old.cell_type != cell.cell_type:
            raise ProseOnlyError(f"cell {i} is {cell.cell_type} in the source but {old.cell_type} "
                                 "in the committed notebook: cells were added, removed or reordered")
        if cell.cell_type == "code" and (old.source != cell.source
                                         or _run_tags(old) != _run_tags(cell)):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            raise ProseOnlyError(f"code cell {i} ({first[:50]!r}) differs from the committed notebook")
    changed = 0
    for old, cell in zip(old_cells, new_cells):
        if cell.cell_type == "markdown" and old.source != cell.source:
            old.source = cell.source
            changed += 1
        if cell.cell_type == "code" and old.metadata.get("tags") != cell.metadata.get("tags"):
            if cell.metadata.get("tags"):
                old.metadata["tags"] = list(cell.metadata["tags"])
            else:
                old.metadata.pop("tags", None)
            changed += 1
    return changed


#: Cell tags that only change how the book shows a cell (Jupyter Book), not what it runs.
DISPLAY_TAGS = frozenset({"hide-input", "hide-output", "hide-cell", "remove-input", "remove-output"})


def _run_tags(cell) -> list:
    return [t for t in cell.metadata.get("tags", []) if t not in DISPLAY_TAGS]


def prose_only(path: Path, out_dir: Path | None = None) -> tuple[Path, int]:
    """Rewrite the markdown cells of the committed notebook for source ``path``."""
    nb, out = build(path, out_dir)
    if not out.exists():
        raise ProseOnlyError(f"{out.name} does not exist yet: a full run is required")
    committed = nbformat.read(out, as_version=4)
    changed = update_prose(nb, committed)
    if changed:
        nbformat.write(committed, out)
    return out, changed


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
    parser.add_argument("--prose-only", action="store_true",
                        help="update only the markdown cells of the committed notebooks, keeping code and outputs")
    args = parser.parse_args(argv)
    if args.prose_only and (args.no_run or args.fast):
        parser.error("--prose-only runs nothing: it cannot be combined with --fast or --no-run")
    sources = chapter_sources()
    wanted = args.chapters or list(sources)
    unknown = [c for c in wanted if c not in sources]
    if unknown:
        parser.error(f"no chapter source for {unknown}; have {list(sources)}")
    if args.prose_only:
        # A refused chapter is left exactly as it was; the other chapters are still updated.
        status = 0
        for chapter in wanted:
            try:
                out, changed = prose_only(sources[chapter])
            except ProseOnlyError as err:
                name = f"{load_source(sources[chapter]).TITLE}.ipynb"
                print(f"{name}: --prose-only refused: {err}; run `python notebooks/build.py {chapter}`",
                      file=sys.stderr, flush=True)
                status = 2
                continue
            print(f"{out.name}: {changed} cell(s) updated (markdown, display tags), code and outputs kept", flush=True)
        return status
    for chapter in wanted:
        nb, out = build(sources[chapter])
        if not args.no_run:
            seconds = execute(nb, out, fast=args.fast)
            print(f"{out.name}: {seconds:.1f} s ({'fast' if args.fast else 'full'} run)", flush=True)
        nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
