"""The book as a reader sees it (issue 23's reader test): what is wrong on a built page that
the build itself does not catch.

Text checks (:func:`text_defects`, :func:`header_defects`) read a page's HTML without a
browser: the text of the article outside code and maths must show no raw TeX (``$...$``,
``\\command``), no visible ``**``, no space between two Chinese characters, and a Chinese
page's tables no header that is English only (the glossary's "English" column excepted).
Layout checks (:data:`LAYOUT_JS`) run in Chromium at a 1280-px window: no table or
picture wider than the text column (a table may scroll inside its container if that keeps
the first column in view), and no training viewer narrower than 640 px.

``tests/test_book_reader.py`` shows every check failing on the defect it guards against;
``tests/test_book.py`` runs them over every page of the built book.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Chinese characters and full-width punctuation.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
#: Chinese characters (ideographs) only.
HANZI = "\u3400-\u4dbf\u4e00-\u9fff"
#: What stands in for a skipped element (code, a formula): not Chinese, not a space.
HOLE = "\u2b1a"
_SKIPPED_TAGS = {"pre", "code", "script", "style", "kbd", "samp", "tt", "mjx-container", "svg", "math"}
_SKIPPED_CLASSES = {"math", "highlight", "headerlink", "cell_input", "MathJax", "pre"}
_BLOCK_TAGS = {"p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "dt", "dd",
               "section", "table", "ul", "ol", "figcaption", "caption", "blockquote"}
_VOID_TAGS = {"br", "img", "input", "hr", "meta", "link", "source", "wbr", "col", "area", "base", "embed"}


class _ArticleText(HTMLParser):
    """The text of ``<article class="bd-article">`` with skipped elements as :data:`HOLE`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0          # inside the article: > 0
        self.skip_depth = 0     # inside a skipped element: > 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID_TAGS:
            if self.depth and not self.skip_depth and tag == "br":
                self.parts.append("\n")
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.depth == 0:
            if tag == "article" and "bd-article" in classes:
                self.depth = 1
            return
        self.depth += 1
        if self.skip_depth:
            self.skip_depth += 1
        elif tag in _SKIPPED_TAGS or classes & _SKIPPED_CLASSES:
            self.skip_depth = 1
            self.parts.append(HOLE)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.depth == 0 or tag in _VOID_TAGS:
            return
        self.depth -= 1
        if self.skip_depth:
            self.skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.depth and not self.skip_depth:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The article's text outside code and maths (each such element one :data:`HOLE`)."""
    parser = _ArticleText()
    parser.feed(html)
    return "".join(parser.parts).replace("\xa0", " ").replace("\u202f", " ")


_CHECKS = [
    ("raw TeX", re.compile(r"\$\$|\$[^\s$][^$\n]*\$|\\[A-Za-z]+\b")),
    ("visible **", re.compile(r"\*\*")),
    ("space between Chinese characters", re.compile(rf"[{HANZI}][ \t]+[{HANZI}]")),
]


def text_defects(text: str) -> list[tuple[str, str]]:
    """``(kind, excerpt)`` for every raw TeX, visible ``**`` and space between two Chinese
    characters in ``text`` (from :func:`page_text`)."""
    found = []
    for kind, pattern in _CHECKS:
        for m in pattern.finditer(text):
            excerpt = text[max(0, m.start() - 12):m.end() + 12].replace("\n", " ")
            found.append((kind, excerpt))
    return found


def is_chinese(text: str) -> bool:
    """A page written in Chinese: at least a third as many Chinese characters as Latin
    letters (a Chinese page quotes code and English names; the API reference, English
    docstrings, has one Chinese character in thirty)."""
    return 3 * len(re.findall(rf"[{CJK}]", text)) >= len(re.findall(r"[A-Za-z]", text))


class _Headers(HTMLParser):
    """The text of every ``<th>`` in a ``<thead>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_head = self.in_th = False
        self.cells: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "thead":
            self.in_head = True
        elif tag == "th" and self.in_head:
            self.in_th = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        elif tag == "th":
            self.in_th = False

    def handle_data(self, data):
        if self.in_th:
            self.cells[-1] += data


#: Header cells that may stay English on a Chinese page (the glossary's English column).
ENGLISH_HEADERS_ALLOWED = {"English"}


def header_defects(html: str) -> list[tuple[str, str]]:
    """``("English-only table header", cell)`` for each table header cell of a Chinese
    page that is English words (two or more) and no Chinese; a name alone ("PyTorch",
    "minigan") is not English prose."""
    if not is_chinese(page_text(html)):
        return []
    parser = _Headers()
    parser.feed(html)
    return [("English-only table header", cell.strip()) for cell in parser.cells
            if len(re.findall(r"[A-Za-z]{2,}", cell)) >= 2 and not re.search(rf"[{CJK}]", cell)
            and cell.strip() not in ENGLISH_HEADERS_ALLOWED]


def page_defects(html: str) -> list[tuple[str, str]]:
    return text_defects(page_text(html)) + header_defects(html)


# Run in the browser (Selenium's execute_async_script) once the page and MathJax are done:
# reports what is wider than the text column and training viewers narrower than 640 px.
LAYOUT_JS = r"""
const done = arguments[arguments.length - 1];
function report() {
  const article = document.querySelector('article.bd-article') || document.body;
  const column = article.getBoundingClientRect();
  const right = column.right + 1;
  const name = e => (e.closest('[id]') || {id: '?'}).id + ': ' + (e.alt || e.textContent || '').trim().slice(0, 50);
  const wide = [];
  for (const table of article.querySelectorAll('table')) {
    if (table.closest('.cell_output pre')) continue;
    const box = table.parentElement.classList.contains('pst-scrollable-table-container') ? table.parentElement : table;
    const scrolls = box !== table && table.scrollWidth > box.clientWidth + 1;
    if (box.getBoundingClientRect().right > right) { wide.push('table ' + name(table)); continue; }
    if (scrolls) {
      const first = table.querySelector('tbody tr td, tbody tr th');
      if (!first || getComputedStyle(first).position !== 'sticky')
        wide.push('table scrolls, first column not kept: ' + name(table));
    }
  }
  for (const img of article.querySelectorAll('img')) {
    if (img.getBoundingClientRect().right > right) wide.push('picture ' + name(img));
  }
  const viewers = [...article.querySelectorAll('.animation img')].map(i => Math.round(i.getBoundingClientRect().width));
  done({wide: wide, viewers: viewers, column: Math.round(column.width)});
}
function wait() {
  if (document.readyState !== 'complete') return setTimeout(wait, 50);
  const mj = window.MathJax && MathJax.startup && MathJax.startup.promise;
  (mj ? MathJax.startup.promise : Promise.resolve()).then(() => document.fonts.ready).then(report);
}
wait();
"""

#: The narrowest a training viewer may be drawn (px).
MIN_VIEWER_WIDTH = 640
