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


def test_spaces_around_a_link_between_chinese_characters_go_and_spaces_next_to_code_stay():
    """Issue 23: "见 第 5.2 节 与" — the spaces Markdown needs around a role showed in the page."""
    ext = extension()
    from docutils import nodes

    link = nodes.reference("", "", nodes.inline("", "", nodes.Text("第 5.2 节")))
    p = paragraph(nodes.Text("协议见 "), link, nodes.Text(" 与 "), nodes.literal("", "mode_coverage"),
                  nodes.Text(" 的定义，"), nodes.strong("", "", nodes.Text("粗体。")), nodes.Text(" 之后"))
    ext.join_lines(p)
    assert p.astext() == "协议见第 5.2 节与 mode_coverage 的定义，粗体。之后"
    code_first = paragraph(nodes.Text("用"), nodes.literal("", "张量"), nodes.Text(" 表示"))
    ext.join_lines(code_first)
    assert code_first.astext() == "用张量 表示"  # the space after code stays


def test_a_formula_keeps_the_punctuation_after_it():
    """Issue 23: a "，" started a line after "[−1,1]" in chapter 3."""
    ext = extension()
    from docutils import nodes

    maths = nodes.math("", "[-1, 1]")
    p = paragraph(nodes.Text("取值在 "), maths, nodes.Text("，与缩放后的像素一致"))
    ext.keep_punctuation_with_maths(p)
    group = p.children[1]
    assert isinstance(group, nodes.inline) and group["classes"] == ["nowrap"]
    assert group.children[0] is maths and str(group.children[1]) == "，"
    assert str(p.children[2]) == "与缩放后的像素一致" and p.children[2].parent is p
    assert p.astext() == "取值在 [-1, 1]，与缩放后的像素一致"
    before = p.deepcopy().pformat()
    ext.keep_punctuation_with_maths(p)  # a second pass (doctree-resolved) changes nothing
    assert p.pformat() == before
    plain = paragraph(nodes.Text("当 "), nodes.math("", "x"), nodes.Text(" 很大时"))
    ext.keep_punctuation_with_maths(plain)
    assert not list(plain.findall(nodes.inline))
