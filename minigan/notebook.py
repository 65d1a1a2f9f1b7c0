"""Helpers the chapter notebooks share, so that a chapter's first cell is about the chapter:
experiments run over seeds in parallel processes, results printed as ``mean ± s.e.`` in
tables whose Chinese headers line up.

- :func:`pmap`: ``[fn(**kw) for kw in jobs]`` on forked worker processes (a function
  defined in a notebook cannot be sent to a spawned process; a forked one inherits it);
- :func:`fmt`: ``"m ± s"``, the mean and standard error of a list of values;
- :func:`print_table`: rows printed in aligned columns, counting a Chinese character as
  two columns wide, as a terminal or a notebook's monospace font draws it;
- :func:`coverage_text`: a :class:`~minigan.metrics.ModeCoverage` in Chinese.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import unicodedata

import numpy as np

from .reproduce import mean_se

__all__ = ["coverage_text", "fmt", "mean_se", "pmap", "print_table", "text_width"]


def _call(job):
    fn, kwargs = job
    return fn(**kwargs)


def pmap(fn, jobs: list[dict], workers: int = 1) -> list:
    """``[fn(**kw) for kw in jobs]`` on ``workers`` forked processes, results in the order
    of ``jobs`` (one process: in this one)."""
    if workers <= 1 or len(jobs) <= 1 or sys.platform == "win32":
        return [fn(**kw) for kw in jobs]
    with mp.get_context("fork").Pool(workers) as pool:
        return pool.map(_call, [(fn, kw) for kw in jobs], chunksize=1)


def fmt(values, scale: float = 1.0, digits: int = 1) -> str:
    """``"m ± s"``: the mean and standard error of ``values * scale`` to ``digits`` decimals."""
    m, s = mean_se(np.asarray(values, dtype=np.float64) * scale)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def text_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font: 2 for a wide (Chinese) character, else 1."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def print_table(headers: list[str], rows: list[list], *, left: int = 1, file=None) -> None:
    """Print ``rows`` under ``headers`` in columns two spaces apart; the first ``left``
    columns flush left (names), the others flush right (numbers)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(text_width(row[k]) for row in cells if k < len(row)) for k in range(len(headers))]
    for row in cells:
        parts = []
        for k, cell in enumerate(row):
            pad = " " * (widths[k] - text_width(cell))
            parts.append(cell + pad if k < left else pad + cell)
        print("  ".join(parts).rstrip(), file=file)


def coverage_text(coverage) -> str:
    """``"模式 7/8，高质量 95.6 %，反向 KL 0.070"`` for a :class:`~minigan.metrics.ModeCoverage`."""
    return (f"模式 {coverage.modes}/{coverage.total_modes}，高质量 {100 * coverage.high_quality:.1f} %，"
            f"反向 KL {coverage.reverse_kl:.3f}")
