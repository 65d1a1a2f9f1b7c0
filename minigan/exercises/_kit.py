"""The checking kit: the graded result, the safe runner, and the declarative form of an exercise.

A check is a function that returns a short detail when it passes and raises :class:`Failure` (a detail and a hint
naming the likely mistake) when it does not; :class:`Session` runs checks, so anything the learner's code raises
becomes a failed row and ``check(...)`` never raises in a notebook.  An exercise is declared
(:class:`FunctionExercise`; layers: :class:`~._modules.LayerExercise`): the answer contract, fixed inputs, the
reference, regimes, and a table of :class:`Mistake` s -- executable wrong answers, each with its hint, matched
against the learner's output on the same inputs.
"""

from __future__ import annotations

import copy
import html
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import central_differences, gradient_error

PASS, FAIL, SKIP = "pass", "FAIL", "skip"

#: how each status is shown in a report (the learner reads Chinese; the statuses stay ASCII)
MARKS = {PASS: "[通过]", FAIL: "[失败]", SKIP: "[跳过]"}

#: the detail of a check that met an unfinished ``# TODO`` (``raise NotImplementedError``)
NOT_IMPLEMENTED = "尚未实现"

#: the first word of the verdict line of a report whose failures are all unfinished TODOs
NOT_DONE = "尚未完成"

#: hint shown once, for the first check that meets an unfinished ``# TODO``
TODO_HINT = "这一步还没有实现。把每个 # TODO 下面的 `raise NotImplementedError` 换成你的代码，然后重新运行这个单元格。"


@dataclass
class Row:
    """One graded check: its name, status (pass / FAIL / skip), what was measured, a hint on failure."""

    name: str
    status: str
    detail: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class ExerciseResult:
    """What :func:`minigan.exercises.check` returns: truthy iff every check passed; ``str(result)`` (or displaying
    it in a notebook) is the report; ``hints`` lists the failed checks' hints; ``rows`` holds every check."""

    exercise: str
    description: str
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and not any(r.status == FAIL for r in self.rows) and any(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == FAIL]

    @property
    def hints(self) -> list[str]:
        """The hints of the failed checks, in order (one per distinct hint)."""
        return list(dict.fromkeys(r.hint for r in self.failed if r.hint))

    def add(self, name: str, status: str, detail: str = "", hint: str = "") -> Row:
        self.rows.append(Row(name, status, detail, hint))
        return self.rows[-1]

    def verdict(self) -> str:
        n_pass, n_fail = sum(r.passed for r in self.rows), len(self.failed)
        if self.passed:
            return f"全部通过：{n_pass} 项检查都通过了。"
        if self.rows and all(r.detail.startswith(NOT_IMPLEMENTED) for r in self.failed):
            return f"{NOT_DONE}：{n_pass} 项通过，{n_fail} 项{NOT_IMPLEMENTED}。"
        return f"未通过：{n_pass + n_fail} 项检查中有 {n_fail} 项失败。"

    def __str__(self) -> str:
        lines = [f"check({self.exercise!r})：{self.description}"]
        width = max((_display_width(r.name) for r in self.rows), default=0)
        for r, detail, hint in self._display():
            pad = " " * (width - _display_width(r.name))
            lines.append(f"  {MARKS[r.status]} {r.name}{pad}  {detail}".rstrip())
            if hint:
                lines.append(f"         提示：{hint}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def _display(self):
        """(row, detail, hint) with repeats shortened: a detail or hint already shown for an earlier failed row (e.g.
        the same exception from forward) is not repeated."""
        details, hints = set(), set()
        for r in self.rows:
            if r.status != FAIL:
                yield r, r.detail, ""
                continue
            yield r, "同上" if r.detail in details and r.detail != NOT_IMPLEMENTED else r.detail, "" if r.hint in hints else r.hint
            details.add(r.detail)
            hints.add(r.hint)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = {PASS: "#1a7f37", FAIL: "#cf222e", SKIP: "#6e7781"}
        cells = []
        for r, detail, hint in self._display():
            hint = re.sub(r"`([^`]+)`", r"<code>\1</code>", f"<br><i>提示：{html.escape(hint)}</i>") if hint else ""
            cells.append(
                f"<tr><td style='color:{colour[r.status]};font-weight:bold;white-space:nowrap'>{MARKS[r.status]}</td>"
                f"<td style='text-align:left'>{html.escape(r.name)}</td>"
                f"<td style='text-align:left'>{html.escape(detail)}{hint}</td></tr>"
            )
        head = f"<b>check({html.escape(repr(self.exercise))})</b>：{html.escape(self.description)}"
        return f"<div>{head}<table>{''.join(cells)}</table><b>{html.escape(self.verdict())}</b></div>"


def _display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced report: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class Failure(Exception):
    """A check failed: ``detail`` says what was observed, ``hint`` the likely mistake."""

    def __init__(self, detail: str, hint: str = ""):
        super().__init__(detail)
        self.detail, self.hint = detail, hint


def describe(exc: BaseException) -> str:
    """``"ValueError: message"`` on one line, shortened (``"forward 抛出了 ..."`` for the learner's code)."""
    if isinstance(exc, _LearnerError):
        return f"{exc.what} 抛出了 {describe(exc.original)}"
    text = " ".join(f"{type(exc).__name__}: {exc}".strip().rstrip(":").split())
    return text if len(text) <= 300 else text[:297] + "..."


class Session:
    """Runs checks one by one into an :class:`ExerciseResult`; ``explain(exc)`` maps an exception the learner's code
    raised to a hint (the exercise's own diagnosis of, e.g., a matmul shape error)."""

    def __init__(self, result: ExerciseResult, explain: Callable[[BaseException], str] | None = None):
        self.result = result
        self.explain = explain or (lambda exc: "")
        self.todo_seen = False

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; record pass / FAIL / skip; return True if it passed."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                detail = check()
        except Failure as f:
            self.result.add(name, FAIL, f.detail, f.hint)
            return False
        except Exception as exc:  # the learner's code raised (or is unfinished): report it, never crash
            if isinstance(exc, ModuleNotFoundError) and exc.name == "hypothesis":  # a dev dependency only
                self.result.add(name, SKIP, "没有安装 hypothesis（pip install hypothesis）")
            elif _is_todo(exc):
                self._todo(name)
            else:
                detail = describe(exc) if isinstance(exc, _LearnerError) else f"抛出了 {describe(exc)}"
                self.result.add(name, FAIL, detail, self.explain(exc) or _generic_hint(original(exc)))
            return False
        self.result.add(name, PASS, detail or "")
        return True

    def _todo(self, name: str) -> None:
        self.result.add(name, FAIL, NOT_IMPLEMENTED, "" if self.todo_seen else TODO_HINT)
        self.todo_seen = True


def _is_todo(exc: BaseException) -> bool:
    """A NotImplementedError, possibly re-raised or wrapped (e.g. by hypothesis)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NotImplementedError):
            return True
        group = _group_members(exc)
        if group:
            return any(_is_todo(e) for e in group)
        exc = exc.__cause__ or exc.__context__
    return False


def _group_members(exc: BaseException) -> list:
    """The members of an exception group (Python 3.11+ or the ``exceptiongroup`` backport)."""
    members = getattr(exc, "exceptions", None)
    return list(members) if isinstance(members, (list, tuple)) and all(isinstance(e, BaseException) for e in members) else []


def _generic_hint(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and ("unpack" in text or "not iterable" in text):
        return "某个函数返回的值的个数不对：forward 返回 (y, cache)，backward 返回 (dx, grads)，损失函数返回 (loss, dlogits)。"
    if isinstance(exc, FloatingPointError):
        return "浮点溢出或无效运算：见极端输入那一项检查。"
    return "你的代码抛出了这个异常；上面的异常信息指出了该看哪里。"


def call_learner(what: str, fn: Callable, *args, **kwargs):
    """Call the learner's code, attaching ``what`` (e.g. "forward") to any exception."""
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, Failure):
        raise
    except Exception as exc:
        if _is_todo(exc):
            raise NotImplementedError(what) from exc
        raise _LearnerError(what, exc) from exc


class _LearnerError(Exception):
    def __init__(self, what: str, exc: BaseException):
        super().__init__(f"{what} 抛出了 {describe(exc)}")
        self.what, self.original = what, exc

    def __str__(self) -> str:
        return f"在 {self.what} 中：{describe(self.original)}"


def original(exc: BaseException) -> BaseException:
    return exc.original if isinstance(exc, _LearnerError) else exc


# --------------------------------------------------------------------------------------
# Arrays: snapshots (for "no mutation"), comparisons, formatting.

def snapshot(obj):
    """Deep copy of every ndarray inside ``obj`` (tuples, lists, dicts of arrays)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, (list, tuple)):
        return [snapshot(o) for o in obj] if isinstance(obj, list) else tuple(snapshot(o) for o in obj)
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    return obj


def changed(before, after) -> bool:
    """True if some array in ``after`` no longer equals its copy in ``before``."""
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, (tuple, list)):
        return len(before) != len(after) or any(changed(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return any(changed(v, after.get(k)) for k, v in before.items())
    return False


def as_float_array(value, what: str) -> np.ndarray:
    """``value`` as an ndarray, or :class:`Failure` if it is not a floating array."""
    if value is None:
        raise Failure(f"{what} 是 None", f"把 {what} 作为 NumPy 数组返回；现在它缺失了（None）。")
    if not isinstance(value, np.ndarray):
        raise Failure(f"{what} 是 {type(value).__name__}，不是 NumPy 数组", f"把 {what} 作为 NumPy 数组返回（现在是 {type(value).__name__}）。")
    if value.dtype.kind != "f":
        raise Failure(f"{what} 的 dtype 是 {value.dtype}", f"{what} 必须是浮点数组。")
    return value


def same(a, b, rtol: float = 1e-7) -> bool:
    """Equal up to rounding (float64 checks): relative to the larger array's scale (no floor at 1)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    return bool(np.max(np.abs(a - b), initial=0.0) <= rtol * max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0)))


def shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# --------------------------------------------------------------------------------------
# Gradients: finite differences and the diagnosis of a mismatch.

TOL = 1e-7


def numeric_gradient(f: Callable[[], np.ndarray | float], array: np.ndarray, df: np.ndarray | None = None):
    """``(grad, noise)`` of ``sum(f() * df)`` (or scalar ``f()``) w.r.t. the live ``array``: the stencil of
    :func:`minigan.gradcheck.check_module` (fourth order, steps ``1e-4 max(1, |x_i|)``); noise bounds rounding."""
    grad, noise = central_differences(lambda _: f(), array, 1e-4, df, relative_step=True, order=4)
    return grad.reshape(array.shape), noise.reshape(array.shape)


FORWARD_FIRST = "对于本应实现的前向，{what} 是对的；但你的前向算的是别的东西，所以对它做有限差分得到的结果不同：先修正前向（见它那一项检查）。"


def gradient_verdict(what: str, analytic, numeric: np.ndarray, noise: np.ndarray, reference, *, n=None) -> float:
    """The largest relative error of ``analytic`` against the finite differences ``numeric`` (what decides), or
    :class:`Failure` with a hint found against the exact ``reference``: the forward is what is wrong, a constant
    factor (:func:`factor_hint`), or re-derive."""
    analytic = as_float_array(analytic, what)
    if analytic.shape != numeric.shape:
        raise Failure(f"{what} 的形状是 {shape_str(analytic.shape)}，应为 {shape_str(numeric.shape)}", f"梯度 {what} 的形状必须与求导对象的形状相同，即 {shape_str(numeric.shape)}。")
    if not np.all(np.isfinite(analytic)):
        raise Failure(f"{what} 含有 NaN 或 inf", f"{what} 不是有限值：某一步运算溢出了，或者除以了零。")
    error = gradient_error(analytic, numeric, noise, TOL)
    if error < TOL:
        return error
    hint = FORWARD_FIRST.format(what=what) if same(analytic, reference) else factor_hint(what, analytic, reference, n=n)
    raise Failure(f"与有限差分相比，最大相对误差 {error:.1e}", hint or f"{what} 与有限差分不一致：从前向公式重新推导一遍（数值梯度就是你的前向传播所蕴含的梯度）。")


def factor_hint(what: str, got, ref, *, n: int | None = None) -> str:
    """The hint when ``got`` is a constant times ``ref``: -1 (sign), ``n`` (a missing 1/N), ``1/n`` (a spurious 1/N), 0
    (nothing flows back), any other constant; else ``""``."""
    a, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if a.shape != ref.shape or not np.all(np.isfinite(a)):
        return ""
    hints = {-1.0: f"符号反了：{what} 恰好是正确梯度的相反数（检查每一项的正负号）。", 0.0: f"{what} 全为零：没有梯度传回来（乘上 dy 了吗？返回的是正确的数组吗？）。"}
    if n is not None and n > 1:
        hints[float(n)] = f"漏了 1/N：{what} 是数值梯度的 N = {n} 倍。损失是批内的平均值，所以它的梯度要除以 N。"
        hints[1.0 / n] = f"多除了 1/N：{what} 是数值梯度除以 N = {n}。只有损失函数对批取平均，层的 backward 从不除以 N。"
    denom = float(np.sum(ref * ref))
    if denom > 0:
        c = float(np.sum(a * ref)) / denom
        if same(a, c * ref, 1e-6):
            for factor, hint in hints.items():
                if abs(c - factor) <= 1e-6 * max(1.0, abs(factor)):
                    return hint
            return f"{what} 等于正确梯度乘以常数 {c:.6g}：找一找多出来的系数。"
    if not np.any(a) and np.any(ref):
        return hints[0.0]
    return ""


# --------------------------------------------------------------------------------------
# Property tests with hypothesis, run inside a check.

def run_property(strategy, prop: Callable, describe_example: Callable, explain: Callable, *,
                 max_examples: int, what: str, shrink: bool = True) -> str:
    """Run ``prop(example)`` on up to ``max_examples`` examples from ``strategy`` (derandomised, no database, no
    deadline, quiet); the smallest failing example, shrunk by hypothesis, becomes a :class:`Failure`.  ``shrink``
    False: the first failing example (when an earlier check already failed, the learner has a hint to work on, and
    shrinking would double the time a wrong answer's check takes)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    last: dict = {}

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if shrink else ())))
    @given(strategy)
    def property_test(example):
        last["example"] = example
        prop(example)

    try:
        property_test()
    except Exception as exc:
        group = _group_members(exc)  # e.g. hypothesis' FlakyFailure wraps the learner's exception
        exc = group[0] if group else exc
        if _is_todo(exc):
            raise NotImplementedError from exc
        label = describe_example(last.get("example"))
        if isinstance(exc, Failure):
            raise Failure(f"{label}：{exc.detail}", exc.hint) from None
        raise Failure(f"{label}：{describe(exc)}", explain(original(exc)) or _generic_hint(original(exc))) from None
    return f"{max_examples} 个随机用例：{what}"


# --------------------------------------------------------------------------------------
# The declarative form: a table of mistakes and a function exercise built from a spec.

#: the one hint for a float32 input that comes back float64 ({culprits}: the exercise's usual suspects)
UPCAST = "dtype 被提升了：输入 float32，输出却是 float64。计算中混进了一个 float64 数组或 np.float64 标量，NumPy 就把整个结果提升为 float64。常见的原因：{culprits}；除以一个 np.int64 整数标量（例如 np.sum(mask)、np.count_nonzero(...) 的结果）也会得到 float64。常数请用普通的 Python 数（float(n)、int(n)），新建数组时沿用输入的 dtype（np.ones_like(x)、.astype(x.dtype)）。"
#: the one hint for a float64 input that comes back float32
DOWNCAST = "dtype 被降低了：输入 float64，输出却是 float32。代码里把数组转成了 float32（例如 .astype(np.float32)、np.float32(...) 或 dtype=np.float32），float64 的精度就丢了，梯度检验也会因此不准。不要写死 dtype：输出沿用输入的 dtype（x.dtype、np.ones_like(x)）。"


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: an executable wrong answer (same contract as the learner's) and its hint; ``key`` names it
    in tests; ``check`` the row that finds it (``None``: the rows that compare values, matching its output)."""

    key: str
    hint: str
    answer: object
    check: str | None = None


@dataclass
class Case:
    """One fixed input of a function exercise: a label the learner reads and the arguments."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def fresh(self) -> tuple[tuple, dict]:
        """Deep copies of the arguments: every call gets its own (networks included)."""
        return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)

    @property
    def dtype(self):
        """The first floating array argument's dtype (float64 if none)."""
        return next((a.dtype for a in self.args if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.dtype(np.float64))


@dataclass
class Part:
    """One graded part of an answer's output (a loss, a gradient dict, a count ...): ``get(out)`` takes it from the
    normalised output; ``equal(got, ref, dtype)`` decides; ``show(got, ref)`` writes the detail; ``hint`` is said
    when no mistake explains the difference (``diagnose(got, ref, case)`` may say something more specific first,
    e.g. a constant factor); ``numeric(answer, case)`` the finite differences it is checked against; ``row`` the
    name of its check (``None``: compared only inside other checks)."""

    name: str
    get: Callable
    row: str | None = None
    hint: str = ""
    equal: Callable | None = None
    show: Callable | None = None
    diagnose: Callable | None = None
    numeric: Callable | None = None


@dataclass
class Regime:
    """Inputs where a formula right on ordinary inputs breaks (saturated logits, an empty set ...): its row, its cases,
    the hint for a failure no mistake explains (``explain(got, ref, case)`` may refine it)."""

    row: str
    cases: Callable  # seed -> list[Case]
    hint: str
    explain: Callable | None = None


def tree_arrays(obj) -> list:
    """Every ndarray inside ``obj`` (dicts, tuples, lists), in order."""
    if isinstance(obj, (dict, tuple, list)):
        return [a for v in (obj.values() if isinstance(obj, dict) else obj) for a in tree_arrays(v)]
    return [obj] if isinstance(obj, np.ndarray) else []


def tree_equal(a, b, rtol: float = 1e-9) -> bool:
    """Same structure and equal numbers (relative ``rtol``; inf and nan must match exactly)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(tree_equal(a[k], b[k], rtol) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(tree_equal(x, y, rtol) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return a == b
    if x.shape != y.shape:
        return False
    fin = np.isfinite(x) & np.isfinite(y)
    if not np.array_equal(x[~fin], y[~fin], equal_nan=True):
        return False
    scale = max(1.0, float(np.max(np.abs(y[fin]), initial=0.0)))
    return bool(np.all(np.abs(x[fin] - y[fin]) <= rtol * scale))


def tolerance(dtype) -> float:
    return 1e-9 if np.dtype(dtype) == np.float64 else 2e-5


@dataclass
class FunctionExercise:
    """An exercise whose answer is a function, declared once; :meth:`run` grades an answer.

    ``call(answer, *args, **kwargs)`` calls an answer and returns its output normalised (raising :class:`Failure`
    with a hint for a wrong return form); ``reference`` is the correct answer; ``cases(seed)`` the fixed float64
    inputs; ``parts`` what is compared; ``mistakes`` the table of typical mistakes; ``regimes`` the hard inputs;
    ``float32(seed)`` a float32 case for the dtype check; ``unchanged`` names the arguments that must come back
    unchanged (with the hint for each); ``extra`` further checks ``(row, fn(answer, seed))`` run after the regimes;
    ``strategy`` and ``example`` the hypothesis property (``example(drawn) -> Case``)."""

    name: str
    description: str
    form: str
    call: Callable
    reference: Callable
    cases: Callable
    parts: list
    mistakes: list
    regimes: list = field(default_factory=list)
    float32: Callable | None = None
    unchanged: dict = field(default_factory=dict)
    extra: list = field(default_factory=list)
    strategy: Callable | None = None
    example: Callable | None = None
    explain: Callable = lambda exc: ""
    usage: str = ""

    # -- grading -------------------------------------------------------------------
    def run(self, answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
        s = Session(result, self.explain)
        cases = self.cases(seed)
        outputs: dict = {}

        def output(case):  # each fixed case's output computed once
            return outputs[id(case)] if id(case) in outputs else outputs.setdefault(id(case), self.output(answer, case))

        def form():
            if not callable(answer):
                raise Failure(f"答案是 {type(answer).__name__}，不是函数", f"传入函数本身：check({self.name!r}, {self.usage or 'my_' + self.name})。")
            output(cases[0])
            return self.form

        if not s.run(f"返回 {self.form}", form) and not s.todo_seen:
            return  # nothing else can run (an unfinished answer still lists every check)
        for part in self.parts:
            if part.row:
                s.run(part.row, lambda part=part: self.compare(part, cases, output, answer))
        for regime in self.regimes:
            s.run(regime.row, lambda regime=regime: self.compare_regime(answer, regime, seed))
        for row, fn in self.extra:
            s.run(row, lambda fn=fn: fn(answer, seed))
        if self.unchanged:
            s.run("输入保持不变", lambda: self.inputs_unchanged(answer, cases[-1]))
        if self.float32 is not None:
            s.run("float32 进、float32 出", lambda: self.dtype_kept(answer, seed))
        if self.strategy is not None:
            s.run("性质测试（hypothesis）：随机输入与 dtype",
                  lambda: self.property(answer, max_examples, shrink=not result.failed))

    def output(self, answer, case: Case):
        args, kwargs = case.fresh()
        return self.call(answer, *args, **kwargs)

    def expected(self, case: Case):
        args, kwargs = case.fresh()
        return self.call(self.reference, *args, **kwargs)

    def variants(self, case: Case) -> list:
        """``(mistake, its output)`` on ``case`` for the mistakes matched by output; kept for the case's lifetime."""
        if not hasattr(case, "variants"):
            case.variants = []
            for m in (m for m in self.mistakes if m.check is None):
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        case.variants.append((m, self.output(m.answer, case)))
                except Exception:  # noqa: BLE001 - a wrong answer that fails on these inputs matches nothing
                    continue
        return case.variants

    def equal(self, part: Part, got, ref, dtype) -> bool:
        return part.equal(got, ref, dtype) if part.equal else tree_equal(got, ref, tolerance(dtype))

    def explain_difference(self, part: Part, got_out, case: Case, fallback: str) -> str:
        """The hint for ``got_out`` differing from the reference in ``part``: the mistake whose whole output equals it,
        then one whose ``part`` equals it, then ``part.diagnose``."""
        ref_out, variants = self.expected(case), self.variants(case)
        for m, out in variants:
            if all(tree_equal(p.get(got_out), p.get(out)) for p in self.parts):
                return m.hint
        got = part.get(got_out)
        for m, out in variants:
            if tree_equal(got, part.get(out)) and not tree_equal(part.get(out), part.get(ref_out)):
                return m.hint
        return (part.diagnose and part.diagnose(got, part.get(ref_out), case)) or fallback or part.hint

    def failure(self, part: Part, got_out, case: Case, hint: str = "") -> Failure:
        """The failed comparison of ``part`` on ``case`` (``hint``: given, else found)."""
        got, ref = part.get(got_out), part.get(self.expected(case))
        shown = part.show(got, ref) if part.show else f"{part.name} 与参考答案不同"
        return Failure(f"{case.label}：{shown}", hint or self.explain_difference(part, got_out, case, ""))

    def compare(self, part: Part, cases, output, answer=None) -> str:
        worst = 0.0
        for case in cases:
            got_out = output(case)
            got, ref = part.get(got_out), part.get(self.expected(case))
            if part.numeric is None:
                if not self.equal(part, got, ref, case.dtype):
                    raise self.failure(part, got_out, case)
                continue
            num, noise = (np.ravel(a) for a in part.numeric(answer, case))
            flat = np.concatenate([np.ravel(a) for a in tree_arrays(got)]) if tree_arrays(got) else np.zeros(0)
            error = gradient_error(flat.astype(np.float64), num, noise, TOL) \
                if flat.shape == num.shape and finite(flat) else np.inf
            if error < TOL:
                worst = max(worst, error)
                continue
            if self.equal(part, got, ref, case.dtype):
                raise Failure(f"{case.label}：与有限差分相比，最大相对误差 {error:.1e}", FORWARD_FIRST.format(what=part.name))
            raise self.failure(part, got_out, case)
        if part.numeric is not None:
            return f"{len(cases)} 组输入，与有限差分相比最大相对误差 {worst:.1e}"
        return f"{len(cases)} 组输入与参考答案一致"

    def compare_regime(self, answer, regime: Regime, seed: int) -> str:
        cases = regime.cases(seed)
        for case in cases:
            got_out = self.output(answer, case)
            for part in self.parts:
                got, ref = part.get(got_out), part.get(self.expected(case))
                if self.equal(part, got, ref, case.dtype):
                    continue
                hint = regime.explain(got, ref, case) if regime.explain else ""
                if not finite(got):
                    raise Failure(f"{case.label}：{part.name} 含有 NaN 或 inf", hint or regime.hint)
                raise self.failure(part, got_out, case, hint or self.explain_difference(part, got_out, case,
                                                                                        regime.hint))
        return f"{len(cases)} 组输入：有限且与参考答案一致"

    def inputs_unchanged(self, answer, case: Case) -> str:
        args, kwargs = case.fresh()
        before = [snapshot_state(a) for a in args]
        self.call(answer, *args, **kwargs)
        for i, hint in self.unchanged.items():
            if changed(before[i], snapshot_state(args[i])):
                raise Failure(f"第 {i + 1} 个参数被修改了", hint)
        return "没有修改任何输入"

    def dtype_kept(self, answer, seed: int) -> str:
        case = self.float32(seed)
        out = self.output(answer, case)
        for array in tree_arrays(out):
            if array.dtype.kind == "f" and array.dtype != np.float32:
                raise Failure(f"{case.label}：float32 的输入得到了 {array.dtype} 的结果", self.upcast)
        for part in self.parts:
            if not self.equal(part, part.get(out), part.get(self.expected(case)), np.float32):
                raise self.failure(part, out, case)
        return "结果是 float32，数值在 float32 精度内正确"

    upcast: str = UPCAST.format(culprits="np.float64(...) 系数、np.zeros(shape) / np.ones(shape)（默认 float64）")

    def property(self, answer, max_examples: int, shrink: bool = True) -> str:
        def prop(drawn):
            case = self.example(drawn)
            got_out = self.output(answer, case)
            for part in self.parts:
                if not self.equal(part, part.get(got_out), part.get(self.expected(case)), case.dtype):
                    raise Failure(f"{part.name} 与参考答案不同", self.explain_difference(part, got_out, case, f"见上面 {part.name} 那一项检查。"))

        return run_property(self.strategy(), prop, lambda drawn: self.example(drawn).label, self.explain, max_examples=max_examples, what="与参考答案一致",
                            shrink=shrink)


def snapshot_state(obj):
    """A copy of ``obj``'s numbers: arrays, containers of them, and modules' ``params()``."""
    return snapshot(obj.params() if callable(getattr(obj, "params", None)) else obj)


def finite(obj) -> bool:
    """True if every number in ``obj`` (arrays, numbers, containers) is finite."""
    if isinstance(obj, dict):
        return all(finite(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return all(finite(v) for v in obj)
    try:
        return bool(np.all(np.isfinite(np.asarray(obj, dtype=np.float64))))
    except (TypeError, ValueError):
        return True
