"""Checker for the ``bce_with_logits`` exercise: ``(logits, targets) -> (loss, dlogits)``.

``loss`` is the mean over all N = logits.size elements of ``max(z, 0) - z*y + log1p(exp(-|z|))`` (= ``-y log
sigmoid(z) - (1 - y) log(1 - sigmoid(z))``), ``dlogits = (sigmoid(z) - y) / N`` with the logits' shape and dtype.
Declared as a :class:`~._kit.FunctionExercise`; the extreme logits (|z| up to 1e4, where overflow is named per side
from NumPy's warnings) are its own check.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from .. import losses
from ..nn.activations import sigmoid
from ._kit import (
    DOWNCAST,
    UPCAST,
    Case,
    Failure,
    FunctionExercise,
    Mistake,
    Part,
    as_float_array,
    call_learner,
    factor_hint,
    numeric_gradient,
    original,
    shape_str,
    tree_equal,
)

LOGITS_FORM = "max(z, 0) - z*y + log1p(exp(-|z|))"
STABLE_SIGMOID = "e = exp(-|z|)：z >= 0 时 sigmoid(z) = 1/(1+e)，z < 0 时 = e/(1+e)"
LOSS_FIX = f"每个元素的损失写成 {LOGITS_FORM}，其中的 exp 只作用在 -|z| <= 0 上，对任何 z 都有限且精确（练习 3 的推导一）。"
WARNED = f"结果虽然有限，但仍有某个 exp(...) 作用在很大的正数上，或者算了 log(0)：例如 z = -1e4 时的 np.exp(-z)，或者 np.where 的两个分支其实都被计算了（np.where 只挑选结果，不会跳过计算）。改用永远不会上溢的 exp(-|z|)：loss = {LOGITS_FORM}。"
CLIPPED = ("|z| 很大时不精确：eps 或裁剪把损失截断了。log(p + eps)、np.clip(p, eps, 1 - eps)（或裁剪 logits）会把真实的损失 1e4（z = -1e4，y = 1）截成几十。用 logits 形式 " + LOGITS_FORM + " 就不需要 eps。")
PRECISION = "只在 float32 的精度上正确（约 7 位有效数字）：float64 的输入在计算中被转成了 float32（例如 .astype(np.float32)、np.float32(...) 或 dtype=np.float32 新建的数组）。不要写死 dtype：中间结果沿用输入的 dtype（x.dtype、np.ones_like(x)）。"
NEAR = ("接近但不精确：log 里加了 eps（log(p + eps)），或者裁剪了 p 或 z，每一项都被改动了一点。logits 形式 " + LOGITS_FORM + " 是精确的，不需要 eps。")
BY_ROWS = "除以的是行数（len(logits) 或 logits.shape[0]），而不是元素个数 N = logits.size：平均是对所有元素取的。"


def _loss_fix(where: str) -> str:
    """The fix for a loss that overflowed, naming what ``where`` (the observed operations) shows."""
    log, exp = "np.log(0)" in where, "np.exp 上溢" in where
    return {(True, False): "不要对概率取对数：", (False, True): "不要对很大的正数取 exp："}.get((log, exp), "不要对概率取对数，也不要对很大的正数取 exp：") + LOSS_FIX


def _elementwise(z, y):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _wrong(loss_scale=1.0, grad=lambda z, y, s: (s - y) / z.size, per=_elementwise, n=lambda z: z.size):
    def answer(z, y):
        return float(per(z, y).sum() / n(z) * loss_scale), grad(z, y, sigmoid(z))
    return answer


def _in_float32(z, y):
    z32, y32 = z.astype(np.float32), y.astype(np.float32)
    return float(_elementwise(z32, y32).mean()), ((sigmoid(z32) - y32) / z.size).astype(z.dtype)


MISTAKES = [
    Mistake("sum", "loss 是所有元素损失的和，而不是平均值：漏了 1/N（除以 N = logits.size，或者用 np.mean）。", _wrong(grad=lambda z, y, s: s - y, n=lambda z: 1)),
    Mistake("grad_without_mean", "dlogits 漏了 1/N：损失是所有元素的平均值，dL/dz = (sigmoid(z) - y) / N，N = logits.size。", _wrong(grad=lambda z, y, s: s - y)),
    Mistake("sign", "符号反了：BCE = -[y log s + (1 - y) log(1 - s)] >= 0，漏了最前面的负号。", _wrong(loss_scale=-1.0, grad=lambda z, y, s: (y - s) / z.size)),
    Mistake("grad_sign", "dlogits 的符号反了：dL/dz = (sigmoid(z) - y) / N，不是 (y - sigmoid(z)) / N。", _wrong(grad=lambda z, y, s: (y - s) / z.size)),
    Mistake("swapped", "y 与 1 - y 对调了：y = 1 的那一项是 -log sigmoid(z)；dL/dz = (sigmoid(z) - y) / N。", _wrong(per=lambda z, y: _elementwise(z, 1 - y), grad=lambda z, y, s: (s - (1 - y)) / z.size)),
    Mistake("rows", BY_ROWS, _wrong(n=len, grad=lambda z, y, s: (s - y) / len(z))),
    Mistake("extra_derivative", "多乘了 s(1 - s)：损失直接写在 logits 上时，sigmoid 的导数已经被约掉了：dL/dz = (sigmoid(z) - y) / N。", _wrong(grad=lambda z, y, s: (s - y) * s * (1 - s) / z.size)),
    Mistake("flipped_no_mean", "dlogits 符号反了，而且漏了 1/N：dL/dz = (sigmoid(z) - y) / N。", _wrong(grad=lambda z, y, s: y - s)),
    Mistake("eps", NEAR, _wrong(per=lambda z, y: -(y * np.log(sigmoid(z) + 1e-7) + (1 - y) * np.log(1 - sigmoid(z) + 1e-7)))),
    Mistake("float32", PRECISION, _in_float32),
    Mistake("unreduced", "loss 没有归约成一个数", lambda z, y: (_elementwise(z, y), (sigmoid(z) - y) / z.size), check="form"),
    Mistake("naive_logs", "不要对概率取对数", _wrong(per=lambda z, y: -(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))), check="extremes"),
    Mistake("where_both", WARNED, _wrong(per=lambda z, y: np.where(z >= 0, z - z * y + np.log1p(np.exp(-z)), -z * y + np.log1p(np.exp(z)))), check="extremes"),
    Mistake("upcast", "dtype 被提升了", lambda z, y: _wrong()(z, np.asarray(y, dtype=float)), check="dtype"),
    Mistake("downcast", DOWNCAST, lambda z, y: _wrong()(z.astype(np.float32), y.astype(np.float32)), check="dtype"),
    Mistake("clip_in_place", "原地修改了传入的 logits", lambda z, y: _wrong()(np.clip(z, -50, 50, out=z), y), check="unchanged"),
]


def call(fn, z, y):
    """The answer's ``(loss, dlogits)`` as ``(float, ndarray)``, or :class:`Failure`."""
    out = call_learner("bce_with_logits", fn, z, y)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"返回了 {type(out).__name__}，而不是二元组 (loss, dlogits)", "要返回两样东西：loss（一个数，所有元素损失的平均值）和 dlogits（与 logits 同形状的数组）。")
    loss, dz = out
    if isinstance(loss, np.ndarray) and loss.ndim > 0:
        raise Failure(f"loss 的形状是 {shape_str(loss.shape)}，应为一个数", "loss 没有归约成一个数：现在每个 logit 各有一项。返回一个数——所有元素损失的平均值（np.mean），逐元素的梯度放在 dlogits 里。")
    try:
        loss = float(loss)
    except (TypeError, ValueError) as exc:
        raise Failure(f"loss 是 {type(loss).__name__}，不是一个数", "loss 是一个浮点数：逐元素损失的平均值。") from exc
    dz = as_float_array(dz, "dlogits")
    if z.dtype == np.float64 and dz.dtype.itemsize < 8:
        raise Failure(f"float64 的 logits 得到了 {dz.dtype} 的 dlogits", DOWNCAST)
    return loss, dz


def _case(rng, shape, kind, scale, dtype=np.float64):
    z = (rng.standard_normal(shape) * scale).astype(dtype)
    y = (rng.integers(0, 2, shape).astype(np.float64) if kind == "hard" else rng.random(shape)).astype(dtype)
    return Case(f"logits {shape_str(shape)} {np.dtype(dtype).name}，{'硬' if kind == 'hard' else '软'}标签", (z, y))


def cases(seed):
    rng = np.random.default_rng(seed)
    return [_case(rng, *spec) for spec in (((6, 1), "hard", 3.0), ((5,), "soft", 2.0), ((4, 3), "hard", 3.0),
                                           ((2, 5), "soft", 1.0), ((5, 2), "soft", 60.0))]


def _loss_diagnosis(got, ref, case):
    """Off by float32 rounding (which this case shows): computed in float32; off by a little more: an eps or a clip."""
    err, (z, y) = abs(got - ref) / max(abs(ref), 1e-12), case.args
    if err < 1e-5 and float(losses.bce_with_logits(z.astype(np.float32), y.astype(np.float32))[0]) != float(losses.bce_with_logits(z, y)[0]):
        return PRECISION
    return NEAR if err < 1e-3 else ""


def _grad_diagnosis(got, ref, case):
    if got.shape == ref.shape and np.all(np.isfinite(got)) and 1e-10 < np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-300) < 1e-4:
        return PRECISION
    return factor_hint("dlogits", got, ref, n=case.args[0].size)


def _explain(exc):
    return "targets 与 logits 形状相同；每一步运算都是逐元素的。" if "could not be broadcast" in str(original(exc)) else ""


def _strategy():
    from hypothesis import strategies as st

    return st.tuples(st.integers(1, 8), st.integers(0, 3), st.sampled_from(["float32", "float64"]),
                     st.sampled_from([0.1, 1.0, 10.0, 100.0]), st.sampled_from(["hard", "soft"]),
                     st.integers(0, 2**16))


def _example(drawn):
    n, cols, dtype, scale, kind, seed = drawn
    return _case(np.random.default_rng(seed), (n,) if cols == 0 else (n, cols), kind, scale, dtype)


def _numeric(answer, case):
    """Central differences of the answer's own loss with respect to the logits."""
    z, y = case.fresh()[0]
    return numeric_gradient(lambda: call(answer, z.copy(), y.copy())[0], z)


EXTREME_Z = np.array([1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 100.0, -100.0, 100.0, -100.0, 30.0, -30.0, 0.0])
EXTREME_Y = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5])
#: each side of the extremes, as a report names it
SIDES = {-1: "z = -1e4、-800、-100、-30", 1: "z = +1e4、+800、+100、+30"}

_WARNING = re.compile(r"(overflow|divide by zero|invalid value|underflow) encountered in (\w+)")
_NAN = {"multiply": "0 · inf", "subtract": "inf - inf", "add": "inf + (-inf)", "divide": "inf / inf 或 0 / 0"}


def _operation(message: str) -> str:
    """One NumPy RuntimeWarning in words, e.g. 'overflow encountered in exp' -> 'np.exp 上溢为 inf'."""
    kind, op = (_WARNING.search(message) or re.match("()()", "")).groups()
    return {"overflow": f"np.{op} 上溢为 inf", "invalid value": f"{_NAN.get(op, f'np.{op}')} = NaN", "divide by zero": "np.log(0) = -inf" if op.startswith("log") else f"{op} 中除以了 0（得到 inf）"}.get(kind, message)


def _watched(answer, z, y):
    """``(loss, dlogits, RuntimeWarning messages)`` of the answer on ``z, y``."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        loss, dz = call(answer, z.copy(), y.copy())
    return loss, dz, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def _by_side(answer, z, y, bad, what: str, default_neg: str, default_pos: str) -> str:
    """'在 z = -1e4、-800、-100、-30 处{what}：np.exp 上溢为 inf' for each side (its elements run as a batch of their own) on
    which ``bad(loss, dz, warnings)`` holds: the operations from its warnings, else the side's default."""
    parts = []
    for sign, default in ((-1, default_neg), (1, default_pos)):
        half = np.sign(z.ravel()) == sign
        out = _watched(answer, z[half], y[half])
        ops = "、".join(dict.fromkeys(map(_operation, out[2])))
        parts += [f"在 {SIDES[sign]} 处{what}：{ops or default}"] * bool(bad(*out))
    return "；".join(parts)


def _extremes(answer):
    """Logits up to |z| = 1e4 (float64, float32): loss and dlogits finite, exact and without RuntimeWarnings."""
    # First moderate logits: a loss wrong everywhere is not an extreme-value problem (the checks above say it).
    z, y = (EXTREME_Z / 1e4 * 3).reshape(-1, 1), EXTREME_Y.reshape(-1, 1)
    loss, dz = call(answer, z.copy(), y.copy())
    ref, ref_dz = losses.bce_with_logits(z, y)
    if not (np.isfinite(loss) and abs(loss - ref) <= 1e-6 * abs(ref) and tree_equal(dz, ref_dz)):
        raise Failure("在普通大小的 logits（|z| <= 3）上 loss 或 dlogits 就已经不对了", "先修正上面 loss 和 dlogits 的检查；这一项检查的是 |z| 很大的情况。")
    for dtype in (np.float64, np.float32):
        z, y = EXTREME_Z.astype(dtype).reshape(-1, 1), EXTREME_Y.astype(dtype).reshape(-1, 1)
        (loss, dz, runtime), (ref, ref_dz) = _watched(answer, z, y), losses.bce_with_logits(z, y)
        name, rtol, atol = np.dtype(dtype).name, (1e-12 if dtype == np.float64 else 1e-5), (1e-12 if dtype == np.float64 else 1e-7)
        if dz.shape != ref_dz.shape:
            raise Failure(f"{name}：dlogits 的形状是 {shape_str(dz.shape)}，应为 {shape_str(ref_dz.shape)}", "dlogits 与 logits 形状相同。")
        if not np.isfinite(loss):
            where = _by_side(answer, z, y, lambda l, d, w: not np.isfinite(l), "溢出", "sigmoid(z) 下溢为 0，log(sigmoid(z)) = log(0) = -inf", "sigmoid(z) 舍入为 1，log(1 - sigmoid(z)) = log(0) = -inf")
            raise Failure(f"{name}：loss = {loss}（精确值 {ref:.6g}）", f"{where}。" + _loss_fix(where) if where else "|z| 很大时 loss 溢出了（0 · inf = NaN，log(0) = -inf）。" + _loss_fix(""))
        if not np.all(np.isfinite(dz)):
            where = _by_side(answer, z, y, lambda l, d, w: not np.all(np.isfinite(d)), "得到 NaN/inf", "exp(-z) 上溢为 inf", "exp(z) 上溢为 inf，inf / inf = NaN")
            raise Failure(f"{name}：dlogits 中有 NaN/inf", (f"{where}。" if where else "") + f"|z| 很大时 dlogits 也必须是有限值：用稳定的写法计算 sigmoid（{STABLE_SIGMOID}），dlogits = (sigmoid(z) - y) / N。")
        if abs(loss - ref) > rtol * abs(ref):
            raise Failure(f"{name}：loss {loss:.6g}，精确值 {ref:.6g}", CLIPPED if loss < ref else f"|z| 很大时不精确：用 logits 形式 {LOGITS_FORM}。")
        if not np.allclose(dz, ref_dz, rtol=1e-5, atol=atol):
            raise Failure(f"{name}：dlogits 与 (sigmoid(z) - y) / N 不同", f"z = ±1e4 时 sigmoid 恰好是 0 或 1，所以 dlogits = (sigmoid(z) - y) / N 是 0 或 ±1/N：用稳定的分段写法计算 sigmoid（{STABLE_SIGMOID}）。")
        if runtime:
            where = _by_side(answer, z, y, lambda l, d, w: bool(w), "有 RuntimeWarning", "", "")
            raise Failure(f"{name}：计算中出现了 RuntimeWarning（{_operation(runtime[0])}）", f"{where}。" * bool(where) + WARNED)
    return f"有限、精确（loss {ref:.6g}），没有警告"


PARTS = [
    Part("loss", lambda out: out[0], row="loss：数值",
         hint=f"每个元素的损失是 -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = {LOGITS_FORM}，loss 是它们的平均值。",
         show=lambda got, ref: f"loss {got:.10g}，应为 {ref:.10g}", diagnose=_loss_diagnosis),
    Part("dlogits", lambda out: out[1], row="dlogits（梯度检验）", numeric=_numeric, hint="dlogits = (sigmoid(z) - y) / N，N = logits.size。",
         show=lambda got, ref: "dlogits 与 (sigmoid(z) - y) / N 不同", diagnose=_grad_diagnosis),
]

EXERCISE = FunctionExercise(
    name="bce_with_logits",
    description="从 logits 计算二元交叉熵（对所有元素取平均）：(logits, targets) -> (loss, dlogits)",
    form="(loss, dlogits)", call=call, reference=losses.bce_with_logits, cases=cases, parts=PARTS,
    mistakes=MISTAKES, explain=_explain, strategy=_strategy, example=_example,
    extra=[("极端 logits：z = ±1e4、±800、±100（float64 与 float32）", lambda answer, seed: _extremes(answer))],
    unchanged={0: "bce_with_logits 原地修改了传入的 logits（例如 np.clip(z, ..., out=z)、z -= ...、z[z < 0] = ...）："
                  "把结果算到新数组里，调用者之后还要用这些 logits。",
               1: "bce_with_logits 原地修改了 targets：保持传入的样子，不要改动。"},
    float32=lambda seed: _case(np.random.default_rng(seed), (6, 1), "hard", 3.0, np.float32),
    upcast=UPCAST.format(culprits="np.float64(...) 系数、np.asarray(targets, dtype=float)、"
                                  "np.ones(shape) / np.zeros(shape)（默认是 float64）"),
)
