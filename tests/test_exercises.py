"""minigan.exercises: the self-grading checkers and the exercise notebooks.

Each checker must accept minigan's own implementation and an independently written
correct answer, and reject every typical wrong answer in tests/exercise_answers.py with
a hint that names that mistake.  The notebooks must run headless as a learner first sees
them (nothing implemented, no error output) and contain no solutions.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import exercise_answers as answers  # tests/ is on sys.path (pytest's default import mode)
import numpy as np
import pytest
from conftest import require

import minigan
from minigan import exercises
from minigan.exercises import EXERCISES, check
from minigan.exercises._kit import FAIL, MARKS, NOT_DONE, NOT_IMPLEMENTED
from minigan.losses import bce_with_logits, generator_loss
from minigan.nn import Dense, LeakyReLU, Sigmoid, Tanh
from minigan.nn.module import backward
from minigan.selfcheck import generator_through_discriminator

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks" / "exercises"


def library_generator_gradient(G, D, z):
    """A correct answer built on minigan: the self-check's chain rule through D."""
    return generator_through_discriminator(G, D, z, "non_saturating")[1]


def library_generator_gradient_lean(G, D, z):
    """Also correct: minigan's loss, and the backward options the GAN step uses."""
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    _, dlogits = generator_loss(logits)
    d_fake, _ = backward(D, dlogits, d_cache, need_grads=False)
    return backward(G, d_fake, g_cache, need_dx=False)[1]


CORRECT = [
    ("dense", Dense), ("dense", answers.MyDense), ("dense", answers.MyDensePlainConstructor),
    ("leaky_relu", LeakyReLU), ("leaky_relu", answers.MyLeakyReLU),
    ("tanh", Tanh), ("tanh", answers.MyTanh),
    ("sigmoid", Sigmoid), ("sigmoid", answers.MySigmoid),
    # correct answers written differently: either subgradient at 0, other stable sigmoids
    ("leaky_relu", answers.LeakyReLUWithWhereOnOutput), ("leaky_relu", answers.LeakyReLUSlopeOneAtZero),
    ("leaky_relu", answers.LeakyReLUMidpointAtZero),
    ("sigmoid", answers.SigmoidFromTanh), ("sigmoid", answers.SigmoidFromLogaddexp),
    ("bce_with_logits", bce_with_logits), ("bce_with_logits", answers.my_bce_with_logits),
    ("generator_gradient", library_generator_gradient), ("generator_gradient", library_generator_gradient_lean),
    ("generator_gradient", answers.my_generator_gradient),
]


def test_exercise_listing():
    assert list(EXERCISES) == ["dense", "leaky_relu", "tanh", "sigmoid", "bce_with_logits", "generator_gradient",
                               "discriminator_gradient", "minimax_gradient", "adam_step", "train_step",
                               "mode_coverage", "batchnorm_backward", "conv_backward"]
    for name, description in EXERCISES.items():
        assert description and "\n" not in description, name
    assert exercises.__all__ and "check" in exercises.__all__


@pytest.mark.parametrize("name, answer", CORRECT, ids=[f"{n}:{getattr(a, '__name__', a)}" for n, a in CORRECT])
def test_correct_answers_pass(name, answer):
    result = check(name, answer)
    assert result, str(result)
    assert result.passed and not result.failed and not result.hints
    text = str(result)
    assert text.startswith(f"check({name!r})") and "全部通过" in text and MARKS[FAIL] not in text
    # every kind of check ran: gradients, protocol / unchanged inputs, dtype, hypothesis
    names = " ".join(r.name for r in result.rows)
    for word in ("梯度检验", "不变", "dtype", "hypothesis"):
        assert word in names, (word, names)


def test_the_checks_cover_the_brief():
    rows = {name: [r.name for r in check(name, answer).rows] for name, answer in CORRECT[::2]}
    for layer in ("dense", "leaky_relu", "tanh", "sigmoid"):
        assert any("可重入" in r and "推理前向" in r for r in rows[layer])
        assert any("forward：数值" in r for r in rows[layer])
        assert any("float32" in r and "float64" in r for r in rows[layer])
    for layer in ("leaky_relu", "tanh", "sigmoid"):
        assert any("x = ±0" in r for r in rows[layer]), layer
    for name in ("tanh", "sigmoid", "bce_with_logits"):
        assert any("1e4" in r for r in rows[name]), name
    assert {"backward：dW（梯度检验）", "backward：db（梯度检验）"} <= set(rows["dense"])


@pytest.mark.parametrize("wrong", answers.WRONG, ids=[w.id for w in answers.WRONG])
def test_wrong_answers_fail_with_a_hint_naming_the_mistake(wrong):
    result = check(wrong.exercise, wrong.answer)
    assert not result, str(result)
    assert not result.passed and result.failed
    hints = " ".join(result.hints).lower()
    for word in wrong.words:
        assert word.lower() in hints, f"{word!r} not in the hints of\n{result}"
    text = str(result)
    assert "未通过" in text and "提示：" in text


def test_every_listed_mistake_has_a_wrong_answer():
    """The issue's list of typical mistakes, each caught for at least one exercise."""
    covered = {}
    for w in answers.WRONG:
        covered.setdefault(w.exercise, []).append(" ".join(w.words).lower())
    expected = {
        "dense": ["转置", "dx = dy @ w.t", "没有对批求和", "多除了 1/n", "符号反了", "不可重入", "float64",
                  "队列"],
        "leaky_relu": ["负半轴写成了 0", "float64", "不可重入", "alpha = 0", "原地修改", "队列", "y / x"],
        "tanh": ["1 - x**2", "溢出", "不可重入", "float64", "队列", "输出却是 float32",
                 "cache 被下一次 forward 覆盖了"],
        "sigmoid": ["s(1 - s)", "x = -1e4 处溢出", "x = +1e4 处溢出", "不可重入", "float64", "队列"],
        "bce_with_logits": ["漏了 1/n", "符号反了", "处溢出", "eps", "dtype 被提升了", "dtype 被降低了",
                            "只在 float32 的精度上正确"],
        "generator_gradient": ["漏了 1/n", "符号反了", "极小极大", "没有传到 g 的参数", "经过了概率 p",
                               "dtype 被降低了"],
    }
    for exercise, mistakes in expected.items():
        for mistake in mistakes:
            assert any(mistake in c for c in covered[exercise]), (exercise, mistake)


@pytest.mark.parametrize("name, answer", [
    ("dense", answers.TodoDense), ("leaky_relu", answers.TodoLeakyReLU), ("tanh", answers.TodoLayer),
    ("sigmoid", answers.TodoLayer), ("bce_with_logits", answers.todo_function),
    ("generator_gradient", answers.todo_function),
])
def test_unfinished_answers_report_not_implemented(name, answer):
    result = check(name, answer)
    assert not result
    text = str(result)
    assert NOT_IMPLEMENTED in text and NOT_DONE in text
    assert text.count("提示：") == 1  # said once, not under every check
    assert "NotImplementedError" in result.hints[0]


def test_a_half_finished_layer_reports_what_passed():
    class ForwardOnly(answers.TodoLayer):
        def forward(self, x):
            return np.tanh(x), x

    result = check("tanh", ForwardOnly)
    assert not result
    status = {r.name: r.status for r in result.rows}
    assert status["forward：数值"] == "pass"
    assert status["backward：dx（梯度检验）"] == "FAIL"


class ReturnsOnlyY(answers.MyTanh):
    def forward(self, x):
        return np.tanh(x)


def raises_zero_division(logits, targets):
    return 1 / 0


def returns_a_tuple(G, D, z):
    return None, {}


@pytest.mark.parametrize("name, answer, words", [
    ("dense", None, ["类"]),
    ("dense", answers.MyDense(3, 2), ["类本身"]),
    ("tanh", ReturnsOnlyY, ["return y, cache"]),
    ("leaky_relu", type("NoDefault", (answers.MyLeakyReLU,), {"__init__": lambda self, alpha: None}), ["0.2"]),
    ("bce_with_logits", raises_zero_division, []),
    ("bce_with_logits", 42, ["传入函数本身"]),
    ("generator_gradient", returns_a_tuple, ["只返回 G 的梯度字典"]),
])
def test_check_never_raises_on_broken_answers(name, answer, words):
    result = check(name, answer)
    assert not result
    hints = " ".join(result.hints)
    for word in words:
        assert word in hints, str(result)


def test_learner_exceptions_are_reported_with_their_message():
    result = check("bce_with_logits", raises_zero_division)
    assert "ZeroDivisionError" in str(result) and "division by zero" in str(result)


def test_unknown_exercise_is_a_value_error():
    with pytest.raises(ValueError, match="dense"):
        check("densee", answers.MyDense)


def test_result_displays_in_notebooks():
    good, bad = check("tanh", answers.MyTanh), check("tanh", answers.TanhDerivativeOfInput)
    assert repr(good) == str(good)
    html = bad._repr_html_()
    assert "<table>" in html and "1 - x**2" in html and MARKS[FAIL] in html
    printed = []

    class Printer:
        def text(self, s):
            printed.append(s)

    bad._repr_pretty_(Printer(), False)
    assert printed == [str(bad)]


class UnfinishedDense(answers.MyDense):
    """The notebook's template: forward and backward still raise."""

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, cache):
        raise NotImplementedError


def test_unfinished_exercise_report_reads_cleanly_on_the_page():
    html = check("dense", UnfinishedDense)._repr_html_()
    assert "<code>raise NotImplementedError</code>" in html and "`" not in html  # code, not raw backticks
    assert "提示：还没有实现：" not in html and "提示：这一步还没有实现。" in html  # one colon, not two
    assert "white-space:nowrap'>" + MARKS[FAIL] in html  # the status mark never wraps


def test_checks_are_deterministic():
    a = str(check("sigmoid", answers.SigmoidDerivativeIsS))
    b = str(check("sigmoid", answers.SigmoidDerivativeIsS))
    assert a == b


def test_checker_does_not_touch_global_numpy_state():
    errors = np.geterr()
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    check("sigmoid", answers.SigmoidNaive)  # runs the extreme-input check, under its own errstate
    assert np.random.random() == before
    assert np.geterr() == errors


def test_solutions_are_not_in_the_package():
    package = Path(minigan.__file__).parent / "exercises"
    text = "\n".join(p.read_text() for p in package.glob("*.py"))
    for solution in ("class MyDense", "def my_bce_with_logits", "def my_generator_gradient"):
        assert solution not in text


# --------------------------------------------------------------------------------------
# Notebooks.

def exercise_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def cells(path: Path, tag: str | None = None) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if tag is None or tag in c.get("metadata", {}).get("tags", [])]


def source(cell: dict) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def test_there_are_exercise_notebooks_for_every_exercise():
    paths = exercise_notebooks()
    assert len(paths) >= 4
    graded = " ".join(source(c) for p in paths for c in cells(p, "grade"))
    for name in EXERCISES:
        assert f'check("{name}"' in graded, name


@pytest.mark.parametrize("path", exercise_notebooks(), ids=lambda p: p.name)
def test_notebook_has_no_solutions_and_grades_with_check(path):
    answer_cells, grade_cells = cells(path, "answer"), cells(path, "grade")
    assert answer_cells and grade_cells
    for cell in answer_cells:
        text = source(cell)
        assert "NotImplementedError" in text and "TODO" in text
        # every function to be written is still only a TODO: (docstring,) raise NotImplementedError
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name not in ("__init__", "params"):
                body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
                assert len(body) == 1 and isinstance(body[0], ast.Raise), (path.name, node.name)
                assert "NotImplementedError" in ast.unparse(body[0])
    for cell in grade_cells:
        assert cell["cell_type"] == "code" and "check(" in source(cell)
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in source(cell)), "notebook prose is in Chinese"


@pytest.mark.parametrize("path", exercise_notebooks(), ids=lambda p: p.name)
def test_committed_notebook_outputs_show_an_unanswered_exercise(path):
    for cell in cells(path):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", (path.name, source(cell)[:80])
    for cell in cells(path, "grade"):
        text = json.dumps(cell.get("outputs", []), ensure_ascii=False)
        assert NOT_DONE in text and NOT_IMPLEMENTED in text, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", exercise_notebooks(), ids=lambda p: p.name)
def test_notebook_runs_headless_without_errors(path):
    why = "notebook tests need: pip install -e '.[dev]'"
    nbformat, nbclient = require("nbformat", why), require("nbclient", why)
    require("ipykernel", why)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on any error
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error"
    graded = [c for c in nb.cells if "grade" in c.metadata.get("tags", [])]
    for cell in graded:
        text = json.dumps(cell.outputs, ensure_ascii=False)
        assert NOT_IMPLEMENTED in text


@pytest.mark.parametrize("chapter", ["03", "04", "05", "06"])
def test_chapters_three_to_six_point_to_their_exercises(chapter):
    """Each of chapters 3-6, notebook and book page, names an exercise (练习) with a link
    into notebooks/exercises/ that exists."""
    import re

    root = NOTEBOOKS.parent.parent
    notebook = json.loads(next((root / "notebooks").glob(f"{chapter}_*.ipynb")).read_text())
    notebook_text = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    page_text = next((root / "book" / "chapters").glob(f"{chapter}_*.md")).read_text()
    for where, text in (("notebook", notebook_text), ("book page", page_text)):
        linked = set(re.findall(r"exercises/(\d\d_[a-z_]+)\.ipynb", text))
        assert linked, f"chapter {chapter} {where} links no exercise"
        assert "练习" in text
        for name in linked:
            assert (NOTEBOOKS / f"{name}.ipynb").is_file(), (chapter, where, name)


def test_without_hypothesis_the_property_row_is_skipped_and_says_why(monkeypatch):
    """hypothesis is a dev dependency: a learner without it gets every other check and one skipped row."""
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # `import hypothesis` now raises ModuleNotFoundError
    for name, answer in (("dense", answers.MyDense), ("bce_with_logits", answers.my_bce_with_logits)):
        result = check(name, answer)
        skipped = [r for r in result.rows if r.status == "skip"]
        assert [r.detail for r in skipped] == ["没有安装 hypothesis（pip install hypothesis）"], str(result)
        assert "hypothesis" in skipped[0].name and not result.failed, str(result)
