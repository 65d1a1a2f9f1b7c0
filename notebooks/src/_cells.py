"""Cell helpers shared by the chapter sources (``notebooks/src/chNN.py``).

A chapter source defines ``TITLE`` (the notebook's file stem, e.g. ``"01_background"``)
and ``CELLS``, a list built with :func:`md` and :func:`code`.  ``notebooks/build.py``
turns it into ``notebooks/<TITLE>.ipynb`` and runs it.
"""

# ruff: noqa: E501

from __future__ import annotations

import re

from nbformat.v4 import new_code_cell, new_markdown_cell

# CJK ideographs and full-width punctuation: no space between them when lines are joined.
_CJK = re.compile(r"[\u2014\u2018-\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A single backslash at a line end; LaTeX's line break (two backslashes) at a line end is kept.
_CONTINUATION = re.compile(r"(?<!\\)\\\n([ \t]*)")

#: The first code cell of every chapter: fast mode for CI, fixed seeds, quiet plots.
SETUP = '''\
import os

import matplotlib.pyplot as plt
import numpy as np

# CI runs every notebook with MINIGAN_FAST=1: the same cells with much shorter training,
# so a broken cell is caught in seconds.  The committed outputs come from a full run.
FAST = os.environ.get("MINIGAN_FAST") == "1"
plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (6, 4)})  # figure labels are in English
'''


def join_continuations(text: str) -> str:
    """Join each line that ends in a backslash with the next one.  The next line's
    indentation (a list item's continuation) becomes nothing between two Chinese
    characters, where a space would show as a gap, and one space elsewhere (before
    Latin text, code or a formula); without indentation the lines are glued."""

    def join(m: re.Match) -> str:
        left = text[m.start() - 1] if m.start() else ""
        right = text[m.end()] if m.end() < len(text) else ""
        if not m.group(1) or (_CJK.match(left) and _CJK.match(right)):
            return ""
        return " "

    return _CONTINUATION.sub(join, text)


def separate_display_maths(text: str) -> str:
    """Blank lines around every ``$$`` block whose fences stand on lines of their own: a
    ``$$`` block inside a paragraph is not display maths to MyST, and the book showed it
    as raw LaTeX."""
    lines, out, inside = text.split("\n"), [], False
    for k, line in enumerate(lines):
        if line == "$$" and not inside and out and out[-1].strip():
            out.append("")
        out.append(line)
        if line == "$$":
            inside = not inside
            if not inside and k + 1 < len(lines) and lines[k + 1].strip():
                out.append("")
    return "\n".join(out)


def md(text: str) -> dict:
    """A markdown cell: backslash continuations joined (:func:`join_continuations`),
    display maths set apart (:func:`separate_display_maths`)."""
    return new_markdown_cell(separate_display_maths(join_continuations(text.strip("\n"))))


def code(text: str, tag: str | None = None) -> dict:
    """A code cell, optionally tagged (e.g. ``"parameters"``)."""
    cell = new_code_cell(text.strip("\n"))
    if tag:
        cell.metadata["tags"] = [tag]
    return cell


def setup(text: str) -> dict:
    """A chapter's first code cell: :data:`SETUP` and the chapter's imports and helpers,
    tagged ``hide-input`` so the book folds it away (Jupyter shows and runs it as usual)."""
    return code(SETUP + text, tag="hide-input")
