"""Sphinx extension: keep the API appendix buildable with ``-W -n`` whatever the docstrings hold.

minigan's docstrings are written for people reading the source: plain text with some
reStructuredText (``literals``, ``::`` blocks, ``:func:`` roles, Google-style sections).
A stray ``|x|`` (an undefined substitution to docutils), an indented line where RST
expects none, or a ``:meth:`` reference to an undocumented private name would fail the
strict book build, although the docstring reads perfectly well as text.  The book's own
chapters stay strict; for the docstrings this extension does three things:

1. Each docstring (after napoleon has turned Google sections into RST) is parsed once
   by plain docutils, with every role and interpreted text replaced by a literal of the
   same length.  If docutils reports anything, the docstring is tried again with every
   ``|...|`` in running text escaped (``|z|`` means an absolute value to a reader and an
   undefined substitution to docutils); if that is still not clean RST, the docstring is
   shown verbatim, as a preformatted block.
2. A cross-reference that Sphinx cannot resolve is tolerated (no warning) when it comes
   from a docstring or from a signature in the API appendix, i.e. from code the book
   does not own.  Unresolved references in the chapters still fail the build.
3. Napoleon reads the ``#:`` comment of a module constant as ``type: description`` when
   it contains a colon; such docstrings are given back unchanged.

At the end the number of docstrings shown verbatim and of tolerated references is
logged, and with ``sphinx-build -v`` (``jupyter-book build -v``) each one is listed.  Set
``BOOK_STRICT_DOCSTRINGS=1`` to switch all of this off and see every problem as a
warning (to fix the docstrings at their source).
"""

from __future__ import annotations

import io
import os
import re

from docutils.core import publish_doctree
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

API_DOCNAMES = ("appendix/api",)

# :role:`text`, ``literal``, `interpreted`, `link`_ : everything whose meaning needs Sphinx.
_INLINE = re.compile(r"(?::[\w.:+-]+:)?``.+?``|(?::[\w.:+-]+:)?`[^`]+`_{0,2}")


def _placeholder(match: re.Match) -> str:
    n = len(match.group(0))
    return "``" + "x" * max(n - 4, 1) + "``"


def docutils_problems(lines: list[str]) -> str:
    """What plain docutils reports for these RST lines (roles neutralised); '' if nothing."""
    text = _INLINE.sub(_placeholder, "\n".join(lines))
    stream = io.StringIO()
    try:
        publish_doctree(text, settings_overrides={
            "report_level": 2, "halt_level": 5, "warning_stream": stream,
            "file_insertion_enabled": False, "raw_enabled": False,
        })
    except Exception as exc:  # a directive that only Sphinx knows, etc.: let Sphinx judge
        logger.debug("lenient_docstrings: could not pre-check a docstring (%s)", exc)
        return ""
    return stream.getvalue().strip()


_BARS = re.compile(r"\|(?=\S)([^|`\n]*?\S)\|")
_LITERAL = re.compile(r"``.+?``")


def escape_bars(lines: list[str]) -> list[str]:
    """``|x|`` -> ``\\|x\\|`` outside ``::`` blocks and inline literals."""
    out, block_indent = [], None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and (not line.strip() or indent > block_indent):
            out.append(line)
            continue
        block_indent = None
        pieces = _LITERAL.split(line)
        literals = _LITERAL.findall(line)
        fixed = _BARS.sub(r"\\|\1\\|", pieces[0])
        for lit, piece in zip(literals, pieces[1:]):
            fixed += lit + _BARS.sub(r"\\|\1\\|", piece)
        out.append(fixed)
        if line.rstrip().endswith("::"):
            block_indent = indent
    return out


def _strict(app: Sphinx) -> bool:
    return os.environ.get("BOOK_STRICT_DOCSTRINGS", "") not in ("", "0")


def stash(app, what, name, obj, options, lines):
    """Runs before napoleon: keep the original text of constants' docstrings."""
    if what in ("data", "attribute"):
        app.env.temp_data.setdefault("lenient_stash", {})[name] = list(lines)


def check(app, what, name, obj, options, lines):
    """Runs after napoleon: fall back to a verbatim block if docutils would complain."""
    original = app.env.temp_data.get("lenient_stash", {}).pop(name, None)
    if original is not None and what in ("data", "attribute"):
        lines[:] = original
    if not lines or _strict(app):
        return
    problems = docutils_problems(lines)
    if not problems:
        return
    escaped = escape_bars(lines)
    if escaped != lines and not docutils_problems(escaped):
        lines[:] = escaped
        return
    logger.verbose("lenient_docstrings: %s shown verbatim: %s", name, problems.replace("\n", " | "))
    app.env.lenient_verbatim = getattr(app.env, "lenient_verbatim", set()) | {name}
    lines[:] = ["::", ""] + [("    " + line) if line.strip() else "" for line in lines] + [""]


def tolerate(app: Sphinx, domain, node) -> bool | None:
    """``warn-missing-reference``: True (handled, no warning) for references owned by the code."""
    if _strict(app):
        return None
    source = node.source or ""
    docname = node.get("refdoc", "")
    if "docstring of" in source or docname in API_DOCNAMES:
        target = node.get("reftarget", "?")
        logger.verbose("lenient_docstrings: unresolved %s:%s %s in %s", node.get("refdomain", ""),
                       node.get("reftype", ""), target, source or docname)
        app.env.lenient_refs = getattr(app.env, "lenient_refs", 0) + 1
        return True
    return None


def merge(app, env, docnames, other):
    env.lenient_verbatim = getattr(env, "lenient_verbatim", set()) | getattr(other, "lenient_verbatim", set())


def summary(app: Sphinx, exception) -> None:
    if exception is not None or _strict(app):
        return
    verbatim = sorted(getattr(app.env, "lenient_verbatim", set()))
    refs = getattr(app.env, "lenient_refs", 0)
    if verbatim or refs:
        logger.info("lenient_docstrings: %d docstring(s) shown verbatim (%s); %d unresolved reference(s) in "
                    "docstrings tolerated (BOOK_STRICT_DOCSTRINGS=1 shows them all)",
                    len(verbatim), ", ".join(verbatim) or "none", refs)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", stash, priority=100)
    app.connect("autodoc-process-docstring", check, priority=900)
    app.connect("warn-missing-reference", tolerate)
    app.connect("env-merge-info", merge)
    app.connect("build-finished", summary)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

