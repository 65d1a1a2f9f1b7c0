"""The reader test's checks (tests/book_reader.py) each fail on the defect they guard
against: pages made by hand with one defect each.  (tests/test_book.py runs the same
checks over every page of the built book, and the layout checks in Chromium.)"""

from __future__ import annotations

import pytest
from book_reader import header_defects, page_defects, page_text, text_defects


def article(body: str) -> str:
    return (f'<html lang="zh-CN"><body><nav>导航 菜单 **</nav><article class="bd-article">{body}</article>'
            "<footer>页脚 文字</footer></body></html>")


CLEAN = article('<p>判别器的损失是 <span class="math notranslate nohighlight">\\(\\log D(x)\\)</span>，'
                "见第 5.2 节与 <code>mode_coverage</code>；<strong>粗体。</strong>之后 95\u202f% 的样本。</p>"
                "<pre>print(**kwargs)  # 代码 里 的 空格</pre>")


def test_a_clean_page_has_no_defects_and_skips_code_maths_and_the_page_frame():
    assert page_defects(CLEAN) == []
    text = page_text(CLEAN)
    assert "导航" not in text and "页脚" not in text and "kwargs" not in text and "\\log" not in text


@pytest.mark.parametrize("defect,kind", [
    ("<p>推导见 $\\log \\sigma(z)$ 的稳定形式</p>", "raw TeX"),
    ("<p>公式 $$ z \\ge 0 $$ 之后</p>", "raw TeX"),
    ("<p>当 \\ell 很大时</p>", "raw TeX"),
    ("<p>**打包（m = 2, 4）**捕获的模式</p>", "visible **"),
    ("<p>本书逐节 跟读文章</p>", "space between Chinese characters"),
    ("<p>见 <a href='#x'>第 5.2 节</a> 与</p>", "space between Chinese characters"),
])
def test_each_text_check_fails_on_its_defect(defect, kind):
    found = page_defects(article(defect))
    assert found and {k for k, _ in found} == {kind}, found


def test_a_space_next_to_latin_text_digits_or_code_is_not_a_defect():
    assert text_defects("代码库 minigan 在批量 256 时，用 \u2b1a 表示") == []


TABLE = "<table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
PROSE = "<p>" + "这是一段中文说明文字。" * 20 + "</p>"


def test_english_only_headers_fail_on_chinese_pages_only():
    english = article(PROSE + TABLE.format("recipe", "Fréchet distance"))
    assert header_defects(english) == [("English-only table header", "Fréchet distance")]
    assert header_defects(article(PROSE + TABLE.format("配方", "Fréchet 距离"))) == []
    # A name is not English prose; the glossary's English column is allowed.
    assert header_defects(article(PROSE + TABLE.format("PyTorch", "English"))) == []
    # A page in English (the API reference) may have English headers.
    assert header_defects(article("<p>" + "An English docstring. " * 40 + "</p>" +
                                  TABLE.format("Parameter name", "Default value"))) == []
