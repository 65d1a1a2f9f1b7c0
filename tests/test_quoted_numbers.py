"""Numbers quoted in prose come from one place (issue 23, item 10): the default training
length and the seed ranges the chapters, notebooks and README quote are the code's and
the committed results', so that a changed default cannot leave a chapter behind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from minigan.train.config import DEFAULT_STEPS_CONV, DEFAULT_STEPS_IMAGES

ROOT = Path(__file__).resolve().parents[1]
PROSE = sorted([*ROOT.glob("book/chapters/*.md"), *ROOT.glob("book/appendix/*.md"), ROOT / "book/intro.md",
                *ROOT.glob("notebooks/src/ch*.py"), ROOT / "README.md"])
#: "默认 … N 步": a default length quoted within a clause.
DEFAULT_LENGTH = re.compile(r"默认[^。；\n]{0,24}?(\d{1,2}[,\u202f ]?\d{3}) ?步")
#: Words that make a quoted length a past one ("当时 15,996 步").
PAST = ("当时", "此前", "之前", "以前", "改动前", "旧")
SEED_RANGE = re.compile(r"种子[^0-9。]{0,4}?(\d+) ?[–-] ?(\d+)")


def quoted_lengths(text: str):
    for m in DEFAULT_LENGTH.finditer(text):
        before, after = text[max(0, m.start() - 24):m.end()], text[m.end():m.end() + 12]
        if not any(word in before for word in PAST) and "达到" not in after:  # "…（6,500 步）达到 100": a time
            yield int(re.sub(r"\D", "", m.group(1))), text[max(0, m.start() - 10):m.end() + 5]


def results_seed_ranges() -> set[tuple[int, int]]:
    ranges = set()
    for path in ROOT.glob("results/**/*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        runs = raw.get("runs") if isinstance(raw, dict) else None
        runs = runs if runs is not None else raw.get("rows") if isinstance(raw, dict) else None
        if isinstance(runs, dict):
            runs = [r for v in runs.values() for r in (v if isinstance(v, list) else [])]
        seeds = {r["seed"] for r in runs or [] if isinstance(r, dict) and "seed" in r}
        if seeds:
            ranges.add((min(seeds), max(seeds)))
    return ranges


#: Seed ranges quoted that no single results file holds: the recipe was chosen on seed 0
#: (trial runs) and seeds 1-5 (the study), said as "种子 0–5".
EXTRA_RANGES = {(0, 5)}


@pytest.mark.parametrize("path", PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_quoted_default_lengths_are_the_codes(path):
    allowed = {DEFAULT_STEPS_IMAGES, *DEFAULT_STEPS_CONV.values()}
    wrong = [(n, where) for n, where in quoted_lengths(path.read_text(encoding="utf-8")) if n not in allowed]
    assert not wrong, f"default lengths quoted that the code does not have ({sorted(allowed)}): {wrong}"


@pytest.mark.parametrize("path", PROSE, ids=lambda p: str(p.relative_to(ROOT)))
def test_quoted_seed_ranges_are_the_results(path):
    allowed = results_seed_ranges() | EXTRA_RANGES
    quoted = {(int(a), int(b)) for a, b in SEED_RANGE.findall(path.read_text(encoding="utf-8"))}
    assert quoted <= allowed, f"seed ranges quoted that no results file holds: {sorted(quoted - allowed)}"


def test_the_checks_catch_a_stale_length_and_a_wrong_range():
    stale = "`minigan train` 默认训练 16,000 步，约两分钟。"
    assert [n for n, _ in quoted_lengths(stale)] == [16000]
    assert not list(quoted_lengths("默认运行（当时 15,996 步，现在更长）"))
    assert (20, 29) in results_seed_ranges() and (1, 5) in results_seed_ranges()
    assert (0, 99) not in results_seed_ranges() | EXTRA_RANGES
