"""Every exercise's table of mistakes: each registered mistake, run as an answer, fails and
comes back with its own hint, and no mistake is shadowed by another (issue 22, point 1).

The tables live beside the checkers (``minigan/exercises/_*.py``: ``MISTAKES``); the
independently written wrong answers in tests/exercise_answers*.py are graded by the
other exercise tests.
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import fast_sample

from minigan.exercises import EXERCISES, check, mistakes

TABLES = [(name, m) for name in EXERCISES for m in mistakes(name)]


def test_every_exercise_has_a_table_of_mistakes():
    assert {name for name, _ in TABLES} == set(EXERCISES)
    for name in EXERCISES:
        keys = [m.key for m in mistakes(name)]
        hints = [m.hint for m in mistakes(name)]
        assert len(keys) == len(set(keys)), (name, keys)
        assert len(hints) == len(set(hints)), f"{name}: two mistakes share a hint, so neither can be named"
        assert len(keys) >= 6, (name, keys)


@pytest.mark.parametrize("name, mistake", fast_sample(TABLES, lambda row: row[0], [f"{n}:{m.key}" for n, m in TABLES]))
def test_each_mistake_gets_its_own_hint(name, mistake):
    result = check(name, mistake.answer)
    assert not result, f"{name}:{mistake.key} passed\n{result}"
    hints = result.hints
    assert any(mistake.hint in h for h in hints), f"{mistake.hint!r} not among the hints of\n{result}"
    others = [m.hint for m in mistakes(name) if m is not mistake]
    first = next(h for h in hints if mistake.hint in h or any(o in h for o in others))
    assert mistake.hint in first, f"shadowed: {name}:{mistake.key} first gets another mistake's hint\n{result}"
    assert not MARKDOWN.search(str(result)), f"Markdown in a plain-text report:\n{result}"


#: emphasis markers next to Chinese text (``x**2`` in a formula is fine)
MARKDOWN = re.compile(r"\*\*(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\*\*|__(?=[\u4e00-\u9fff])")


def test_the_markdown_detector_finds_emphasis():
    assert MARKDOWN.search("最后一次 D 更新**之前**") and not MARKDOWN.search("g**2 与 std**2")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXERCISES))
def test_no_check_takes_seconds(name):
    """A guard against a gross slowdown (a bound three times the 0.5 s target, since CI machines are shared); the
    target itself is measured by ``python tests/time_checks.py``, which prints every check's time."""
    worst = 0.0
    for m in mistakes(name):
        t = time.perf_counter()
        check(name, m.answer)
        worst = max(worst, time.perf_counter() - t)
    assert worst < 1.5, (name, worst)
