"""Both judges, one verdict: a change is better only where both judges' distances fall,
paired over seeds and beyond two standard errors (minigan.agreement)."""

import pytest

from minigan.agreement import paired_direction, verdict


def runs(pooled, strided, seeds=None):
    seeds = seeds or range(1, len(pooled) + 1)
    return [{"seed": s, "frechet": a, "frechet_strided": b} for s, a, b in zip(seeds, pooled, strided)]


BEFORE = runs([70, 75, 80, 72, 78], [30, 31, 29, 33, 32])


def test_both_lower_is_better_and_both_higher_is_worse():
    assert verdict(BEFORE, runs([40, 44, 47, 41, 45], [20, 22, 19, 23, 21])) == "better (both judges)"
    assert verdict(BEFORE, runs([90, 95, 99, 91, 97], [40, 41, 39, 44, 42])) == "worse (both judges)"


def test_judges_that_point_opposite_ways_disagree():
    assert verdict(BEFORE, runs([40, 44, 47, 41, 45], [40, 41, 39, 44, 42])) == \
        "judges disagree (pooled lower, strided higher)"


def test_one_judge_alone_is_not_an_improvement():
    # The strided distance moves both ways by seed: unclear, so the pooled judge is alone.
    after = runs([40, 44, 47, 41, 45], [20, 40, 18, 45, 30])
    assert paired_direction(BEFORE, after, "frechet_strided") == "unclear"
    assert verdict(BEFORE, after) == "better by the pooled judge only"


def test_pairs_by_seed_not_by_position():
    # The same runs listed in another order: the per-seed differences are what count.
    after = list(reversed(runs([69, 74, 79, 71, 77], [29, 30, 28, 32, 31])))
    assert paired_direction(BEFORE, after, "frechet") == "lower"  # every seed 1 lower: se = 0
    shifted = runs([69, 74, 79, 71, 77], [29, 30, 28, 32, 31], seeds=[2, 3, 4, 5, 6])
    assert paired_direction(BEFORE, shifted, "frechet") == "unclear"  # other seeds paired: mixed signs


@pytest.mark.parametrize("after", [runs([1], [1], seeds=[99]), [{"seed": 1, "frechet": 3.0}]])
def test_nothing_to_compare_gives_a_dash(after):
    assert verdict(BEFORE, after) == "—"
