"""Every line ``minigan.exercises.check`` prints for a learner is Simplified Chinese.

The learners read Chinese notebooks; the hint is the main teaching device, so an English
hint, check name or detail is a bug.  Code, identifiers and formulas inside a line stay as
code, so the rule is: every description, check name and hint contains Chinese characters,
and so does every detail that is prose (a detail that only lists values, such as
``lr=0.0002、beta1=0.5``, has no words to translate).  The answers come from every
``tests/exercise_answers*.py`` module (correct and wrong ones), so each new exercise is
covered as soon as its answers exist.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from conftest import fast_sample

from minigan.exercises import EXERCISES, check

HERE = Path(__file__).resolve().parent


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


#: three plain English words in a row: prose, not code or values
ENGLISH_PROSE = re.compile(r"(?<![\w.])[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}(?![\w(])")


def reads_chinese(text: str) -> bool:
    """Chinese, or no prose at all (values, code)."""
    return has_chinese(text) or not ENGLISH_PROSE.search(text)


def wrong_answers():
    """(exercise, answer) of every registered wrong answer, from all answer modules."""
    found = []
    for path in sorted(HERE.glob("exercise_answers*.py")):
        module = importlib.import_module(path.stem)
        for w in getattr(module, "WRONG", []):
            found.append((w.exercise, w.answer))
    return found


WRONG = wrong_answers()


def test_the_rule_can_fail():
    assert has_chinese("提示：符号反了") and not has_chinese("Sign flipped: dx is exactly minus the gradient")
    assert reads_chinese("lr=0.0002、beta1=0.5、eps=1e-08") and reads_chinese("modes = 0，reverse_kl = inf")
    assert not reads_chinese("max rel error 1e-3 vs finite differences")


def test_every_description_is_chinese():
    for name, description in EXERCISES.items():
        assert has_chinese(description), (name, description)


@pytest.mark.parametrize("exercise, answer", fast_sample(WRONG, lambda row: row[0],
                                                       [f"{e}:{getattr(a, '__name__', a)}" for e, a in WRONG], keep=2))
def test_every_line_of_a_failing_report_is_chinese(exercise, answer):
    result = check(exercise, answer, max_examples=10)
    for row in result.rows:
        assert has_chinese(row.name), (exercise, row.name)
        assert reads_chinese(row.detail), (exercise, row.name, row.detail)
        assert not row.hint or has_chinese(row.hint), (exercise, row.name, row.hint)
    assert has_chinese(result.verdict())
    for line in str(result).splitlines():
        assert reads_chinese(line), (exercise, line)


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_an_unanswered_exercise_reports_in_chinese(exercise):
    def not_yet(*args, **kwargs):
        raise NotImplementedError

    class NotYet:
        def __init__(self, *args, **kwargs):
            pass

        forward = backward = params = not_yet

    result = check(exercise, NotYet if exercise in ("dense", "leaky_relu", "tanh", "sigmoid") else not_yet)
    assert not result
    for line in str(result).splitlines():
        assert has_chinese(line), (exercise, line)
