"""Sphinx extension: each script and stylesheet appears once per page.

With Jupyter Book 1.0.4, sphinx-thebe and sphinx-togglebutton register their inline
configuration scripts twice, so every page declares ``const THEBE_JS_URL`` twice, which
is a SyntaxError in the browser console of every page.  Duplicates (same file or same inline
body, same attributes) are dropped here, keeping the first.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _key(item) -> tuple:
    # An inline script is registered with filename None by one extension and "" by
    # another: the same script either way.
    attributes = getattr(item, "attributes", {}) or {}
    return (getattr(item, "filename", item) or "", getattr(item, "priority", 0), tuple(sorted(attributes.items())))


def _unique(items: list) -> list:
    seen, out = set(), []
    for item in items:
        key = _key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def dedupe(app: Sphinx, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if isinstance(files, list):
            files[:] = _unique(files)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", dedupe, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
