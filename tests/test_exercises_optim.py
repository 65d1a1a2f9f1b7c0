"""The ``adam_step`` and ``mode_coverage`` exercises: checkers and notebooks 07 and 09.

Each checker must accept minigan's own implementation and independently written correct
answers, reject every typical wrong answer in tests/exercise_answers_optim.py with a
(Chinese) hint naming that mistake, and report an untouched skeleton as not implemented.
The checkers' references are themselves checked against values computed by hand here.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import exercise_answers_optim as answers  # tests/ is on sys.path (pytest's default import mode)
import numpy as np
import pytest

import minigan
from minigan.exercises import EXERCISES, _adam, _coverage, _kit, check
from minigan.metrics import mode_coverage
from minigan.optim import Adam

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "exercises"
NOT_IMPLEMENTED = getattr(_kit, "NOT_IMPLEMENTED", "not implemented yet")


def library_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """A correct answer built on minigan: its Adam, restored from and saved to a state_dict."""
    new = {k: p.copy() for k, p in params.items()}
    opt = Adam(new, lr=lr, betas=(beta1, beta2), eps=eps)
    saved = {"t": state["t"], "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": 0.0, "l1": 0.0}
    saved.update({f"{b}.{k}": state[b][k] for b in ("m", "v") for k in params})
    opt.load_state_dict(saved)
    opt.step(grads)
    out = opt.state_dict()
    return new, {"t": out["t"], "m": {k: out[f"m.{k}"] for k in new}, "v": {k: out[f"v.{k}"] for k in new}}


CORRECT = [
    ("adam_step", library_adam_step), ("adam_step", answers.my_adam_step),
    ("adam_step", answers.my_adam_step_folded),
    ("mode_coverage", mode_coverage), ("mode_coverage", answers.my_mode_coverage),
    ("mode_coverage", answers.my_mode_coverage_loops),
]


def test_registered_in_the_order_of_the_notebooks():
    names = list(EXERCISES)
    assert names == ["dense", "leaky_relu", "tanh", "sigmoid", "bce_with_logits", "generator_gradient",
                     "discriminator_gradient", "minimax_gradient", "adam_step", "train_step", "mode_coverage",
                     "batchnorm_backward", "conv_backward"]
    for name in ("adam_step", "mode_coverage"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in EXERCISES[name]), "the description is in Chinese"
        assert f'"{name}"' in minigan.exercises.__doc__, "the contract is documented"


@pytest.mark.parametrize("name, answer", CORRECT, ids=[f"{n}:{a.__name__}" for n, a in CORRECT])
def test_correct_answers_pass(name, answer):
    result = check(name, answer)
    assert result, str(result)
    assert not result.failed and not result.hints
    names = " ".join(r.name for r in result.rows)
    words = {"adam_step": ("第一步", "连续", "float32", "输入保持不变", "默认", "hypothesis"),
             "mode_coverage": ("high_quality", "modes", "reverse_kl", "没有高质量样本", "输入保持不变", "hypothesis")}
    for word in words[name]:
        assert word in names, (word, names)
    assert all(r.passed for r in result.rows)


@pytest.mark.parametrize("wrong", answers.WRONG, ids=[w.id for w in answers.WRONG])
def test_wrong_answers_fail_with_a_hint_naming_the_mistake(wrong):
    result = check(wrong.exercise, wrong.answer)
    assert not result, str(result)
    hints = " ".join(result.hints)
    for word in wrong.words:
        assert word in hints, f"{word!r} not in the hints of\n{result}"


def test_every_listed_mistake_has_a_wrong_answer():
    """The brief's list of typical mistakes, each one answered by a wrong answer whose hint names it."""
    covered = {}
    for w in answers.WRONG:
        covered.setdefault(w.exercise, []).append(" ".join(w.words))
    expected = {
        "adam_step": ["缺少偏差修正", "加 1 之前的 t", "eps 放进了平方根里", "beta1 和 beta2 用反了", "绝对值 |g|",
                      "累积的是梯度 g 本身", "没有写回新状态", "参数被原地更新", "梯度上升", "dtype 被提升"],
        "mode_coverage": ["1σ", "3σ²", "至少有 1 个高质量样本", "KL 的方向反了", "直方图里算进了低质量样本", "L1 距离",
                          "以 2 为底", "个数而不是比例"],
    }
    for exercise, mistakes in expected.items():
        for mistake in mistakes:
            assert any(mistake in c for c in covered[exercise]), (exercise, mistake)
        assert len(covered[exercise]) >= 5


@pytest.mark.parametrize("name, answer", [("adam_step", answers.adam_todo), ("mode_coverage", answers.coverage_todo)])
def test_unfinished_answers_report_not_implemented(name, answer):
    result = check(name, answer)
    assert not result
    assert result.failed and all(r.detail == NOT_IMPLEMENTED for r in result.failed)
    assert len(result.rows) >= 6  # every check is listed, each one not implemented
    assert len(result.hints) == 1 and "NotImplementedError" in result.hints[0]
    assert str(result).count(NOT_IMPLEMENTED) >= len(result.rows)


def returns_none(*args, **kwargs):
    return None


def returns_params_only(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    return answers.my_adam_step(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)[0]


def returns_two(samples, centres, std):
    return answers.my_mode_coverage(samples, centres, std)[:2]


@pytest.mark.parametrize("name, answer, words", [
    ("adam_step", None, ["check('adam_step', my_adam_step)"]),
    ("adam_step", returns_none, ["new_params, new_state"]),
    ("adam_step", returns_params_only, ["new_params, new_state"]),
    ("mode_coverage", 3, ["check('mode_coverage', my_mode_coverage)"]),
    ("mode_coverage", returns_none, ["modes, high_quality, reverse_kl"]),
    ("mode_coverage", returns_two, ["modes, high_quality, reverse_kl"]),
])
def test_check_never_raises_on_broken_answers(name, answer, words):
    result = check(name, answer)
    assert not result
    hints = " ".join(result.hints)
    for word in words:
        assert word in hints, str(result)


def test_checks_are_deterministic():
    for name, answer in (("adam_step", answers.adam_betas_swapped), ("mode_coverage", answers.coverage_l1)):
        assert str(check(name, answer)) == str(check(name, answer))


def test_learner_facing_text_is_chinese():
    for name, answer in (("adam_step", answers.adam_v_abs), ("mode_coverage", answers.coverage_log2)):
        result = check(name, answer)
        for row in result.rows:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in row.name), row.name
            # the return-form row's detail repeats the form given in its (Chinese) name
            assert any("\u4e00" <= ch <= "\u9fff" for ch in row.detail) or row.detail in row.name, row.detail
        for hint in result.hints:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in hint), hint
    for hint in (m.hint for module in (_adam, _coverage) for m in module.MISTAKES):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in hint), hint


def test_solutions_are_not_in_the_package():
    package = Path(minigan.__file__).parent / "exercises"
    text = "\n".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    for solution in ("def my_adam_step", "def my_mode_coverage"):
        assert solution not in text


# --------------------------------------------------------------------------------------
# The references, against hand computation.

def test_adam_reference_matches_a_step_computed_by_hand():
    # p = 1, g = 0.5 then -1, lr 0.1, beta1 0.5, beta2 0.999, eps 0
    state = {"t": 0, "m": {"w": np.zeros(1)}, "v": {"w": np.zeros(1)}}
    hp = {"lr": 0.1, "beta1": 0.5, "beta2": 0.999, "eps": 0.0}
    p1, s1 = _adam.reference({"w": np.array([1.0])}, {"w": np.array([0.5])}, state, **hp)
    # m = 0.25, v = 0.00025, m_hat = 0.5, v_hat = 0.25: the step is lr * 0.5 / 0.5
    assert s1["t"] == 1 and s1["m"]["w"][0] == pytest.approx(0.25) and s1["v"]["w"][0] == pytest.approx(0.00025)
    assert p1["w"][0] == pytest.approx(0.9, rel=1e-12)
    p2, s2 = _adam.reference(p1, {"w": np.array([-1.0])}, s1, **hp)
    m, v = 0.5 * 0.25 + 0.5 * -1.0, 0.999 * 0.00025 + 0.001 * 1.0
    expected = 0.9 - 0.1 * (m / (1 - 0.5**2)) / math.sqrt(v / (1 - 0.999**2))
    assert s2["t"] == 2 and s2["m"]["w"][0] == pytest.approx(m) and s2["v"]["w"][0] == pytest.approx(v)
    assert p2["w"][0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.9 + 0.1 * 0.5 / math.sqrt(0.00124975 / 0.001999), rel=1e-12)


def test_adam_defaults_are_minigans():
    assert _adam.DEFAULTS == {"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8}


def test_coverage_sets_give_the_values_their_construction_implies():
    ring, edge, collapsed, grid = (mode_coverage(*c.args) for c in _coverage.cases(0))
    # ring: 100 high-quality samples over 6 modes, 10 low-quality ones, 5 outliers
    q = np.array([40, 25, 15, 10, 6, 4]) / 100
    assert ring.counts == (40, 25, 15, 10, 6, 4, 0, 0) and ring.high_quality == pytest.approx(100 / 115)
    assert ring.reverse_kl == pytest.approx(float(np.sum(q * np.log(8 * q))), rel=1e-12)
    # edge: the three samples exactly 3 std away count; the tie (2.125, 0) goes to the first centre
    assert edge.counts == (3, 1, 2, 0) and edge.high_quality == 6 / 8
    assert grid.counts == tuple(1 + (3 * np.arange(25)) % 7) and 0 < grid.reverse_kl < math.log(25)
    assert (collapsed.modes, collapsed.high_quality) == (1, pytest.approx(20 / 22))
    assert collapsed.reverse_kl == pytest.approx(math.log(8))
    empty = _coverage.EXERCISE.regimes[0].cases(0)[0]
    assert _coverage.call(mode_coverage, *empty.args) == (0, 0.0, math.inf)


def test_coverage_sets_are_built_as_specified():
    """High-quality offsets are within 3 std (some 2.5-std diagonals beyond it by L1),
    low-quality ones beyond it (one inside the 3-std square)."""
    assert all(r < 3 for r, _ in _coverage.HQ_OFFSETS) and all(r > 3 for r, _ in _coverage.LQ_OFFSETS)
    l1 = [r * (abs(math.cos(math.radians(a))) + abs(math.sin(math.radians(a)))) for r, a in _coverage.HQ_OFFSETS]
    assert any(d > 3 for d in l1)
    assert any(1 < r for r, _ in _coverage.HQ_OFFSETS)  # a 1-std threshold drops some
    assert any(r * max(abs(math.cos(math.radians(a))), abs(math.sin(math.radians(a)))) < 3
               for r, a in _coverage.LQ_OFFSETS)


@pytest.mark.parametrize("module", [_adam, _coverage], ids=["adam_step", "mode_coverage"])
def test_every_mistake_differs_from_the_reference_on_the_fixed_cases(module):
    """A mistake that equals the right answer could never be named."""
    ex = module.EXERCISE
    for m in module.MISTAKES:
        if m.check is None:
            with np.errstate(all="ignore"):
                assert any(not _kit.tree_equal(ex.output(m.answer, c), ex.expected(c)) for c in ex.cases(0)), m.key


# --------------------------------------------------------------------------------------
# Notebooks 07 and 09 (tests/test_exercises.py runs every exercise notebook headless).

MINE = {"07_adam_step.ipynb": "adam_step", "09_mode_coverage.ipynb": "mode_coverage"}


def _cells(path: Path, tag: str | None = None) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if tag is None or tag in c.get("metadata", {}).get("tags", [])]


def _source(cell: dict) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


@pytest.mark.parametrize("name", MINE)
def test_notebook_is_blank_and_grades_its_exercise(name):
    path = NOTEBOOKS / name
    answer_cells, grade_cells = _cells(path, "answer"), _cells(path, "grade")
    assert len(answer_cells) == 1 and len(grade_cells) == 1
    for node in ast.walk(ast.parse(_source(answer_cells[0]))):
        if isinstance(node, ast.FunctionDef):
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
            assert len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])
    assert f'check("{MINE[name]}"' in _source(grade_cells[0])
    for cell in _cells(path):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", _source(cell)[:80]
        if cell["cell_type"] == "markdown":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in _source(cell))
    shown = json.dumps(grade_cells[0].get("outputs", []), ensure_ascii=False)
    assert NOT_IMPLEMENTED in shown and "NotImplementedError" in shown
    assert f"check('{MINE[name]}')" in shown


def test_notebooks_are_built_from_their_cell_module():
    nbformat = pytest.importorskip("nbformat")
    import importlib.util
    import sys

    sys.path.insert(0, str(NOTEBOOKS))
    try:
        spec = importlib.util.spec_from_file_location("build_notebooks_under_test", NOTEBOOKS / "build_notebooks.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(NOTEBOOKS))
    for name in MINE:
        built = module.build(name, module.NOTEBOOKS[name])
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in built.cells] == [c.source for c in committed.cells], name
