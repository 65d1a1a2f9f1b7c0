"""minigan.notebook: the helpers the chapter notebooks share."""

from __future__ import annotations

import io

import numpy as np
import pytest

from minigan.metrics import mode_coverage
from minigan.notebook import coverage_text, fmt, pmap, print_table, text_width


def square(x):
    return x * x


def test_fmt_is_the_mean_and_standard_error():
    # values 1, 2, 3: mean 2, sample std 1, standard error 1/sqrt(3) = 0.577
    assert fmt([1, 2, 3]) == "2.0 ± 0.6"
    assert fmt([0.1, 0.2, 0.3], scale=100, digits=2) == "20.00 ± 5.77"
    assert fmt([7.0]) == "7.0 ± 0.0"


def test_a_chinese_character_is_two_columns_wide_and_tables_line_up():
    assert text_width("ab") == 2 and text_width("基线") == 4 and text_width("（1）") == 5
    out = io.StringIO()
    print_table(["设置", "值"], [["基线", "1.0"], ["(1) bigger", "12.5"]], file=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert len({text_width(line) for line in lines}) == 1  # every line as wide: the right column lines up
    assert lines[1].startswith("基线 ") and lines[2].endswith("12.5")


@pytest.mark.parametrize("workers", [1, 2])
def test_pmap_keeps_the_order_of_the_jobs(workers):
    assert pmap(square, [{"x": k} for k in range(5)], workers) == [0, 1, 4, 9, 16]


def test_coverage_text_says_the_coverage_in_chinese():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.repeat(centres[:1], 100, axis=0).astype(np.float32)
    text = coverage_text(mode_coverage(samples, centres, 1.0))
    assert text.startswith("模式 1/2，高质量 100.0 %，反向 KL ")
