"""The book's Sphinx extension that drops a line break between two Chinese characters
(book/_ext/cjk_linebreaks.py), on hand-built docutils trees."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from conftest import require

ROOT = Path(__file__).resolve().parents[1]


def extension():
    require("docutils", "the book's extension needs docutils: pip install -e '.[book]'")
    require("sphinx", "the book's extension needs Sphinx: pip install -e '.[book]'")
    spec = importlib.util.spec_from_file_location("cjk_linebreaks", ROOT / "book" / "_ext" / "cjk_linebreaks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cjk_linebreaks", module)
    spec.loader.exec_module(module)
    return module


def paragraph(*children):
    from docutils import nodes

    return nodes.paragraph("", "", *children)


def test_joins_chinese_lines_and_keeps_the_space_before_latin():
    ext = extension()
    from docutils import nodes

    p = paragraph(nodes.Text("本书逐节\n跟读文章，代码库\nminigan 内部"))
    ext.join_lines(p)
    assert p.astext() == "本书逐节跟读文章，代码库\nminigan 内部"


def test_the_newline_that_is_removed_is_the_one_between_chinese_characters():
    # Two Text nodes equal as strings ("\n"): the first sits after code (keep it), the
    # second between two bold Chinese words (drop it).  Replacing by equality dropped
    # the first and kept the second: "d_step()内部" and "粗 体".
    ext = extension()
    from docutils import nodes

    p = paragraph(nodes.literal("", "d_step()"), nodes.Text("\n"), nodes.strong("", "粗"), nodes.Text("\n"),
                  nodes.strong("", "体"))
    ext.join_lines(p)
    assert p.astext() == "d_step()\n粗体"
    assert all(child.parent is p for child in p.children)


def test_code_and_maths_are_never_changed():
    ext = extension()
    from docutils import nodes

    p = paragraph(nodes.Text("公式\n"), nodes.math("", "a\n中\n文"), nodes.Text("\n之后"))
    ext.join_lines(p)
    assert p.children[1].astext() == "a\n中\n文"


def test_a_number_and_its_percent_sign_never_part():
    ext = extension()
    from docutils import nodes

    p = paragraph(nodes.Text("高质量比例是 86 %–91 %，PacGAN 是 95 %"), nodes.literal("", "5 %"))
    ext.keep_units(p)
    assert p.astext() == "高质量比例是 86\u202f%–91\u202f%，PacGAN 是 95\u202f%5 %"  # code untouched
