"""The chapter notebooks: committed with the outputs of a full run, and runnable.

CI executes every chapter notebook top to bottom with ``MINIGAN_FAST=1`` (shorter
training, same cells); a failing cell fails the test.
"""

import json
import os
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))


def test_all_chapters_exist():
    # Chapters 1-6 follow the article's sections 1-6; chapters 7 (PyTorch) and 8 (structure) go beyond it.
    assert [p.name[:2] for p in CHAPTERS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_notebook_has_outputs_and_no_errors(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, "no code cells"
    for cell in code_cells:
        assert cell.get("execution_count") is not None, f"cell not executed: {''.join(cell['source'])[:60]!r}"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"error output in {path.name}: {out.get('ename')}"
    assert any(c.get("outputs") for c in code_cells)
    pictures = sum("image/png" in o.get("data", {}) for c in code_cells for o in c.get("outputs", []))
    assert pictures >= 1, "a chapter notebook shows at least one picture"


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_runs_in_fast_mode(path, tmp_path):
    why = "notebook tests need: pip install -e '.[dev]'"
    nbformat, nbclient = require("nbformat", why), require("nbclient", why)
    require("ipykernel", why)
    if path.name.startswith("07_"):
        require("torch", "chapter 7's notebook needs PyTorch: pip install -e '.[torch]'")
    nb = nbformat.read(path, as_version=4)
    os.environ["MINIGAN_FAST"] = "1"
    # Small matrix products run fastest on one BLAS thread, and two threads per kernel
    # on a 2-core machine that also runs pytest make every product wait for the other.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.pop("MINIGAN_FAST", None)


_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_space_between_two_chinese_characters_in_the_prose(path):
    # A line continuation in notebooks/src that kept the next line's indentation showed
    # as a gap in the middle of a Chinese sentence ("问题是它 只放到了").
    import re

    nb = json.loads(path.read_text(encoding="utf-8"))
    gaps = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", "X", "".join(cell["source"]), flags=re.S)
            gaps += re.findall(_CJK + r"[ \t]+" + _CJK, text)
    assert not gaps, f"{len(gaps)} spaces between Chinese characters in {path.name}: {gaps[:5]}"


def test_line_continuations_join_chinese_without_a_gap():
    import sys

    sys.path.insert(0, str(ROOT / "notebooks" / "src"))
    from _cells import join_continuations

    assert join_continuations("问题是它\\\n   只放到了") == "问题是它只放到了"
    assert join_continuations("代码库\\\n   minigan") == "代码库 minigan"
    assert join_continuations("glued\\\nhere") == "gluedhere"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_visible_bold_markers_in_the_prose(path):
    # CommonMark closes ** only where the run is right-flanking: "**打包（m = 2, 4）**捕获"
    # (punctuation before, a letter after) shows both pairs of stars to the reader.
    import re

    markdown_it = require("markdown_it", "the markdown check needs markdown-it-py: pip install -e '.[book]'")
    parser = markdown_it.MarkdownIt("commonmark").enable("table")
    nb = json.loads(path.read_text(encoding="utf-8"))
    visible = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", "M", "".join(cell["source"]), flags=re.S)
            visible += [child.content[:40] for token in parser.parse(text) for child in token.children or []
                        if child.type == "text" and "**" in child.content]
    assert not visible, f"visible ** in {path.name}: {visible}"


@pytest.mark.parametrize("path", CHAPTERS + sorted((ROOT / "notebooks" / "exercises").glob("*.ipynb")),
                         ids=lambda p: p.name)
def test_display_maths_stands_apart_from_the_paragraph(path):
    # "请利用\n$$ ... $$\n化简" is one paragraph to MyST: the book showed the raw LaTeX.
    nb = json.loads(path.read_text(encoding="utf-8"))
    glued = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        lines, inside = "".join(cell["source"]).split("\n"), False
        for k, line in enumerate(lines):
            if line != "$$":
                continue
            neighbour = lines[k - 1] if not inside and k > 0 else lines[k + 1] if inside and k + 1 < len(lines) else ""
            if neighbour.strip():
                glued.append(neighbour[:30])
            inside = not inside
    assert not glued, f"$$ blocks glued to text in {path.name}: {glued}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_setup_cell_is_folded_in_the_book(path):
    # The first code cell (fast-mode switch, imports, helpers) is infrastructure: the book
    # folds it away (Jupyter Book's hide-input tag); Jupyter still shows and runs it.
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "MINIGAN_FAST" in "".join(first["source"])
    assert "hide-input" in first["metadata"].get("tags", [])
