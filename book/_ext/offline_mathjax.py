"""Sphinx extension: serve MathJax 3 from the built book itself (no CDN, works from file://).

Sphinx's ``sphinx.ext.mathjax`` only writes a ``<script>`` tag for ``mathjax_path``; by
default that path is a CDN URL.  ``_config.yml`` sets it to ``mathjax/tex-chtml-full.js``
(relative paths are relative to ``_static/``) and this extension copies the files there
when the HTML build finishes:

* ``es5/tex-chtml-full.js``           -> ``_static/mathjax/tex-chtml-full.js``
* ``es5/output/chtml/fonts/woff-v2/`` -> ``_static/mathjax/output/chtml/fonts/woff-v2/``

MathJax finds its fonts relative to the script's own URL, so nothing else is needed.

The files are *not* put in a folder of ``html_static_path``: Jupyter Book 1.x adds every
``.js`` file it finds under those folders as a ``<script>`` to every page (when the book
has a ``_static/`` folder), which would load MathJax a second time without its
configuration.

Where MathJax comes from: the npm package ``mathjax`` (major version 3), installed by
``scripts/build_book.sh`` with ``npm install --prefix book/_vendor mathjax@3``; the
environment variable ``MATHJAX_ES5_DIR`` may point at another copy of its ``es5/`` folder.
A build without it stops at once with a message that says how to get it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

SCRIPT = "tex-chtml-full.js"
FONTS = Path("output", "chtml", "fonts", "woff-v2")
TARGET = "mathjax"  # under _static/


def find_es5(confdir: Path) -> Path:
    """The ``es5/`` folder of an installed MathJax 3, or raise with instructions."""
    given = os.environ.get("MATHJAX_ES5_DIR")
    es5 = Path(given) if given else confdir / "_vendor" / "node_modules" / "mathjax" / "es5"
    if not (es5 / SCRIPT).is_file() or not (es5 / FONTS).is_dir():
        raise ExtensionError(
            f"offline_mathjax: MathJax 3 not found at {es5} (need {SCRIPT} and {FONTS.as_posix()}/). "
            "Run scripts/build_book.sh, which installs it with "
            "'npm install --prefix book/_vendor mathjax@3', or set MATHJAX_ES5_DIR to an es5/ folder."
        )
    package = es5.parent / "package.json"
    if package.is_file():
        version = json.loads(package.read_text(encoding="utf-8")).get("version", "")
        if not version.startswith("3."):
            raise ExtensionError(f"offline_mathjax: need MathJax 3.x, found {version} at {es5.parent}")
    return es5


def check_config(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    path = app.config.mathjax_path
    if "://" in path or path.startswith("//"):
        raise ExtensionError(f"offline_mathjax: mathjax_path is a URL ({path}); set it to {TARGET}/{SCRIPT}")
    if path != f"{TARGET}/{SCRIPT}":
        raise ExtensionError(f"offline_mathjax: mathjax_path is {path!r}; this extension serves {TARGET}/{SCRIPT}")
    find_es5(Path(app.confdir))  # fail early, before reading any source


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    es5 = find_es5(Path(app.confdir))
    target = Path(app.outdir, "_static", TARGET)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / SCRIPT, target / SCRIPT)
    shutil.copytree(es5 / FONTS, target / FONTS, dirs_exist_ok=True)
    logger.info("offline_mathjax: copied MathJax from %s to %s", es5, target)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", check_config)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
