"""Two judges, one verdict: whether a change of recipe is better, judged seed by seed by
both judges' Fréchet distances (``frechet``: the pooled judge, ``frechet_strided``: the
strided one, :mod:`minigan.metrics.judge`).

A recipe tuned with one judge can be tuned to that judge's blind spots, so a change
counts as an improvement only where both judges agree.  For each judge the change is
read on the seeds both sets of runs share, as the mean of the per-seed differences
``d = after - before`` and its standard error ``se``:

    lower   if mean(d) + 2 se < 0,    higher  if mean(d) - 2 se > 0,    else unclear

(with a single shared seed, the sign of d).  The verdict is "better (both judges)" only
when both read lower, "worse (both judges)" only when both read higher, and says which
judge moved otherwise ("judges disagree" when they point opposite ways).
"""

from __future__ import annotations

import math

import numpy as np

#: The score of each judge in a run's dict, first to second.
JUDGE_KEYS = {"pooled": "frechet", "strided": "frechet_strided"}


def paired_direction(before: list[dict], after: list[dict], key: str) -> str | None:
    """``"lower"``, ``"higher"`` or ``"unclear"`` for ``key`` from ``before`` to ``after``
    (runs as dicts with ``seed``), over their shared seeds; None if none is shared or a
    run lacks ``key``."""
    b = {r["seed"]: r.get(key) for r in before}
    pairs = [(b[r["seed"]], r.get(key)) for r in after if r["seed"] in b]
    if not pairs or any(x is None or y is None for x, y in pairs):
        return None
    d = np.array([y - x for x, y in pairs], dtype=np.float64)
    if len(d) == 1:
        return "lower" if d[0] < 0 else "higher" if d[0] > 0 else "unclear"
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))
    if mean + 2 * se < 0:
        return "lower"
    if mean - 2 * se > 0:
        return "higher"
    return "unclear"


def verdict(before: list[dict], after: list[dict], lang: str = "en") -> str:
    """One line for a table cell: what both judges say of ``after`` against ``before``
    (``lang`` "en" or "zh", :mod:`minigan.words`)."""
    from .words import translator

    t = translator(lang)
    got = {kind: paired_direction(before, after, key) for kind, key in JUDGE_KEYS.items()}
    if any(v is None for v in got.values()):
        return "—"
    pooled, strided = got["pooled"], got["strided"]
    if pooled == strided == "lower":
        return t("better (both judges)")
    if pooled == strided == "higher":
        return t("worse (both judges)")
    if pooled == strided == "unclear":
        return t("no clear difference")
    if {pooled, strided} == {"lower", "higher"}:
        return t("judges disagree (pooled {pooled}, strided {strided})", pooled=t(pooled), strided=t(strided))
    moved = "pooled" if pooled != "unclear" else "strided"
    if got[moved] == "lower":
        return t("better by the {moved} judge only", moved=t(moved))
    return t("worse by the {moved} judge only", moved=t(moved))
