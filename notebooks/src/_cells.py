"""Cell helpers shared by the chapter sources (``notebooks/src/chNN.py``).

A chapter source defines ``TITLE`` (the notebook's file stem, e.g. ``"01_background"``)
and ``CELLS``, a list built with :func:`md` and :func:`code`.  ``notebooks/build.py``
turns it into ``notebooks/<TITLE>.ipynb`` and runs it.
"""

# ruff: noqa: E501

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell

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


def md(text: str) -> dict:
    """A markdown cell.  A backslash at a line end joins it with the next line."""
    return new_markdown_cell(text.strip("\n").replace("\\\n", ""))


def code(text: str, tag: str | None = None) -> dict:
    """A code cell, optionally tagged (e.g. ``"parameters"``)."""
    cell = new_code_cell(text.strip("\n"))
    if tag:
        cell.metadata["tags"] = [tag]
    return cell
