"""Sphinx extension: a line break between two Chinese characters is not a space.

The chapters are Markdown wrapped at about 100 columns, so a Chinese paragraph has
newlines in the middle of sentences.  Browsers turn every newline into a space, which
in Chinese text shows as a stray gap ("损失函数 （3.4）").  After each page is read,
this removes a newline inside running text when the characters on both sides of it are
CJK characters or full-width punctuation, including across inline markup (a newline right
after ``**粗体**`` looks at the bold text's last character).  A newline next to Latin
text, code or maths stays a space, which is the usual spacing between Chinese and them.
A number and its unit stay on one line: the space in "95 %" becomes a narrow
no-break space (U+202F), which a browser never breaks ("95 / %" split over two lines).
Code, literals and maths are never changed.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx

# CJK ideographs, CJK and full-width punctuation, and the quotes, dashes and ellipsis
# that Chinese text uses.
_CJK = re.compile(r"[\u2014\u2018-\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A digit, a plain space, then a percent or per-mille sign.
_NUMBER_UNIT = re.compile(r"(?<=\d) (?=[%‰])")
_VERBATIM = (nodes.literal_block, nodes.literal, nodes.math, nodes.math_block, nodes.raw, nodes.comment,
             nodes.doctest_block)


def _verbatim(node: nodes.Node) -> bool:
    while node is not None:
        if isinstance(node, _VERBATIM):
            return True
        node = node.parent
    return False


def _is_cjk(ch: str) -> bool:
    return bool(ch) and _CJK.match(ch) is not None


def keep_units(block: nodes.TextElement) -> None:
    """Narrow no-break spaces between numbers and ``%`` in one paragraph-like element."""
    for text in list(block.findall(nodes.Text)):
        if _verbatim(text.parent):
            continue
        kept = _NUMBER_UNIT.sub("\u202f", str(text))
        if kept != str(text):
            replace_node(text, nodes.Text(kept))


def join_lines(block: nodes.TextElement) -> None:
    """Remove CJK-CJK newlines from the text of one paragraph-like element."""
    texts = list(block.findall(nodes.Text))
    for k, text in enumerate(texts):
        if "\n" not in text or _verbatim(text.parent):
            continue
        s = str(text)
        prev_ch = next((str(t)[-1] for t in reversed(texts[:k]) if str(t)), "")
        next_ch = next((str(t)[0] for t in texts[k + 1:] if str(t)), "")
        out = []
        for i, ch in enumerate(s):
            if ch == "\n":
                left = s[i - 1] if i > 0 else prev_ch
                right = s[i + 1] if i + 1 < len(s) else next_ch
                if _is_cjk(left) and _is_cjk(right):
                    continue
            out.append(ch)
        joined = "".join(out)
        if joined != s:
            new = nodes.Text(joined)
            replace_node(text, new)
            texts[k] = new  # later nodes read this one's last character


def replace_node(old: nodes.Text, new: nodes.Text) -> None:
    """Put ``new`` where ``old`` is in its parent.  By identity: docutils'
    ``Element.replace`` finds the child by equality, and Text nodes equal as strings (two
    ``"\n"`` between inline elements) would swap the wrong one."""
    parent = old.parent
    index = next(i for i, child in enumerate(parent.children) if child is old)
    parent.children[index] = new
    new.parent = parent


def process(app: Sphinx, doctree: nodes.document) -> None:
    for block in list(doctree.findall(nodes.TextElement)):
        # Outermost text elements only (a paragraph, a title, a caption...): nested
        # inline elements are handled with their paragraph.
        if isinstance(block, nodes.Inline) or isinstance(block, _VERBATIM):
            continue
        join_lines(block)
        keep_units(block)


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", process)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
