"""Sphinx extension: a line break or a space between two Chinese characters is not a space.

The chapters are Markdown wrapped at about 100 columns, so a Chinese paragraph has
newlines in the middle of sentences.  Browsers turn every newline into a space, which
in Chinese text shows as a stray gap ("损失函数 （3.4）").  After each page is read,
this removes newlines and spaces inside running text when the characters on both sides
are CJK characters or full-width punctuation, including across inline markup: a newline
right after ``**粗体**`` looks at the bold text's last character, and the spaces Markdown
needs around a role (``见 {ref}`第 5.2 节 <ch5-2>` 与``) look at the link text's first
and last characters ("见第 5.2 节与").  A newline or space next to Latin text, a digit,
code or maths stays, which is the usual spacing between Chinese and them.
A number and its unit stay on one line: the space in "95 %" becomes a narrow
no-break space (U+202F), which a browser never breaks ("95 / %" split over two lines).
A formula keeps the full-width punctuation that follows it on its line: the two are
wrapped in ``<span class="nowrap">`` (book.css), so "，" never starts a line after
"$[-1, 1]$".  Code, literals and maths are never changed.  It runs when a page is read and again when
its cross-references are resolved (a link's text may be known only then).
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


#: A run of spaces and newlines between two CJK characters (the padded text's first and
#: last characters are its neighbours' in the paragraph).
_CJK_GAP = re.compile(rf"(?<={_CJK.pattern})[ \n]+(?={_CJK.pattern})")


def join_lines(block: nodes.TextElement) -> None:
    """Remove CJK-CJK newlines and spaces from the text of one paragraph-like element."""
    texts = list(block.findall(nodes.Text))
    for k, text in enumerate(texts):
        s = str(text)
        if not (" " in s or "\n" in s) or _verbatim(text.parent):
            continue
        prev_ch, next_ch = _neighbour(reversed(texts[:k]), -1), _neighbour(texts[k + 1:], 0)
        padded = (prev_ch or "\0") + s + (next_ch or "\0")
        joined = _CJK_GAP.sub("", padded)[1:-1]
        if joined != s:
            new = nodes.Text(joined)
            replace_node(text, new)
            texts[k] = new  # later nodes read this one's last character


def _neighbour(texts, end: int) -> str:
    """The character next to a text node: the first (``end`` 0) or last (-1) character of
    the nearest non-empty text in ``texts``, or "" when that text is code or maths (a space
    next to code stays, whatever the code's characters)."""
    following = next((t for t in texts if str(t)), None)
    if following is None or _verbatim(following.parent):
        return ""
    return str(following)[end]


def replace_node(old: nodes.Text, new: nodes.Text) -> None:
    """Put ``new`` where ``old`` is in its parent.  By identity: docutils'
    ``Element.replace`` finds the child by equality, and Text nodes equal as strings (two
    ``"\n"`` between inline elements) would swap the wrong one."""
    parent = old.parent
    index = next(i for i, child in enumerate(parent.children) if child is old)
    parent.children[index] = new
    new.parent = parent


#: Full-width punctuation that must not start a line.
_CLOSING = "，。；：、）！？」』”’"


def keep_punctuation_with_maths(block: nodes.Element) -> None:
    """Wrap each inline formula and the full-width punctuation right after it in one
    ``inline`` node of class ``nowrap``."""
    for maths in list(block.findall(nodes.math)):
        parent = maths.parent
        if parent is None or (isinstance(parent, nodes.inline) and "nowrap" in parent["classes"]):
            continue
        index = next(i for i, child in enumerate(parent.children) if child is maths)
        after = parent.children[index + 1] if index + 1 < len(parent.children) else None
        if not isinstance(after, nodes.Text) or not str(after) or str(after)[0] not in _CLOSING:
            continue
        text = str(after)
        group = nodes.inline("", "", classes=["nowrap"])
        parent.children[index:index + 2] = [group] + ([nodes.Text(text[1:])] if len(text) > 1 else [])
        group.parent = parent
        for child in (maths, nodes.Text(text[0])):
            group.append(child)
        for child in parent.children[index + 1:index + 2]:
            child.parent = parent


def process(app: Sphinx, doctree: nodes.document) -> None:
    for block in list(doctree.findall(nodes.TextElement)):
        # Outermost text elements only (a paragraph, a title, a caption...): nested
        # inline elements are handled with their paragraph.
        if isinstance(block, nodes.Inline) or isinstance(block, _VERBATIM):
            continue
        join_lines(block)
        keep_units(block)
        keep_punctuation_with_maths(block)


def process_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    process(app, doctree)


def setup(app: Sphinx) -> dict:
    # Once when a page is read, and again once cross-references have their text (a
    # ``{doc}`` link shows the chapter's title only after it is resolved).
    app.connect("doctree-read", process)
    app.connect("doctree-resolved", process_resolved)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
