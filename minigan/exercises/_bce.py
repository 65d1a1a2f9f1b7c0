"""Checker for the ``bce_with_logits`` exercise: ``(logits, targets) -> (loss, dlogits)``.

Learner-facing text (check names, details, hints) is Simplified Chinese; identifiers,
code and formulas stay as code.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from .. import losses
from ..nn.activations import sigmoid
from ._modules import DOWNCAST, UPCAST
from ._report import (
    ExerciseResult,
    Failure,
    Probe,
    Session,
    as_float_array,
    call_learner,
    changed,
    close,
    diagnose_gradient,
    numeric_gradient,
    original,
    run_property,
    shape_str,
    worst_error,
)

NAME = "bce_with_logits"
DESCRIPTION = "从 logits 计算二元交叉熵（对所有元素取平均）：(logits, targets) -> (loss, dlogits)"

LOGITS_FORM = "max(z, 0) - z*y + log1p(exp(-|z|))"
STABLE_SIGMOID = "e = exp(-|z|)：z >= 0 时 sigmoid(z) = 1/(1+e)，z < 0 时 = e/(1+e)"

LOSS_FIX = (f"每个元素的损失写成 {LOGITS_FORM}，其中的 exp 只作用在 -|z| <= 0 上，"
            "对任何 z 都有限且精确（练习 3 的推导一）。")


def _loss_fix(where: str) -> str:
    """The fix for a loss that overflowed, naming what ``where`` (the observed operations) shows."""
    log, exp = "np.log(0)" in where, "np.exp 上溢" in where
    if log and not exp:
        return "不要对概率取对数：" + LOSS_FIX
    if exp and not log:
        return "不要对很大的正数取 exp：" + LOSS_FIX
    return "不要对概率取对数，也不要对很大的正数取 exp：" + LOSS_FIX
WARNED = ("结果虽然有限，但仍有某个 exp(...) 作用在很大的正数上，或者算了 log(0)：例如 z = -1e4 时的 np.exp(-z)，"
          "或者 np.where 的两个分支其实都被计算了（np.where 只挑选结果，不会跳过计算）。"
          f"改用永远不会上溢的 exp(-|z|)：loss = {LOGITS_FORM}。")
CLIPPED = ("|z| 很大时不精确：eps 或裁剪把损失截断了。log(p + eps)、np.clip(p, eps, 1 - eps)（或裁剪 logits）"
           "会把真实的损失 1e4（z = -1e4，y = 1）截成几十。用 logits 形式 " + LOGITS_FORM + " 就不需要 eps。")
PRECISION = ("只在 float32 的精度上正确（约 7 位有效数字）：float64 的输入在计算中被转成了 float32"
             "（例如 .astype(np.float32)、np.float32(...) 或 dtype=np.float32 新建的数组）。"
             "不要写死 dtype：中间结果沿用输入的 dtype（x.dtype、np.ones_like(x)）。")

CASES = (((6, 1), "hard", 3.0), ((5,), "soft", 2.0), ((4, 3), "hard", 3.0), ((2, 5), "soft", 1.0))


def _targets(rng, shape, kind, dtype):
    y = rng.integers(0, 2, shape).astype(np.float64) if kind == "hard" else rng.random(shape)
    return y.astype(dtype)


def _call(fn, z, y, *, keep_dtype: bool = True):
    """The learner's ``(loss, dlogits)`` as ``(float, ndarray)``, or :class:`Failure`.

    ``keep_dtype``: fail with the downcast hint when float64 logits give a float32 dlogits.
    """
    out = call_learner("bce_with_logits", fn, z, y)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"返回了 {type(out).__name__}，而不是二元组 (loss, dlogits)",
                      "要返回两样东西：loss（一个数，所有元素损失的平均值）和 dlogits（与 logits 同形状的数组）。")
    loss, dz = out
    if isinstance(loss, np.ndarray) and loss.ndim > 0:
        hint = ("loss 没有归约成一个数：现在每个 logit 各有一项。返回一个数——所有元素损失的平均值（np.mean），"
                "逐元素的梯度放在 dlogits 里。")
        raise Failure(f"loss 的形状是 {shape_str(loss.shape)}，应为一个数", hint)
    try:
        loss = float(loss)
    except (TypeError, ValueError) as exc:
        raise Failure(f"loss 是 {type(loss).__name__}，不是一个数",
                      "loss 是一个浮点数：逐元素损失的平均值。") from exc
    dz = as_float_array(dz, "dlogits")
    z_dtype = getattr(z, "dtype", None)
    if keep_dtype and z_dtype == np.float64 and dz.dtype.itemsize < z_dtype.itemsize:
        raise Failure(f"float64 的 logits 得到了 {dz.dtype} 的 dlogits", DOWNCAST)
    return loss, dz


def _explain(exc):
    exc = original(exc)
    if "could not be broadcast" in str(exc):
        return "targets 与 logits 形状相同；每一步运算都是逐元素的。"
    return ""


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    rng = np.random.default_rng(seed)

    def callable_check():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}，不是函数",
                          "传入函数本身：check('bce_with_logits', my_bce_with_logits)。")
        z = rng.standard_normal((3, 1))
        _call(answer, z, _targets(rng, z.shape, "hard", np.float64), keep_dtype=False)
        return "返回 (loss, dlogits)，loss 是一个数"

    if not s.run("返回 (loss, dlogits)", callable_check) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("loss：数值", lambda: _loss_values(answer, rng))
    s.run("dlogits（梯度检验）", lambda: _gradient(answer, rng))
    s.run("极端 logits：z = ±1e4、±800、±100（float64 与 float32）", lambda: _extremes(answer))
    s.run("输入保持不变", lambda: _no_mutation(answer, rng))
    s.run("dtype 保持：float32 进 float32 出，float64 进 float64 出", lambda: _dtype(answer, rng))
    s.run("性质测试（hypothesis）：形状、dtype、数值", lambda: _property(answer, max_examples))


def _label(shape, kind):
    return f"logits {shape_str(shape)}，{'硬' if kind == 'hard' else '软'}标签"


def _float32_precision_only(answer) -> bool:
    """True if the answer is exact (to float32 precision) where an eps or a clip is not:
    a loss that is off by ~1e-7 at moderate logits is then float32 arithmetic, not an eps."""
    z, y = np.array([[-30.0], [30.0], [-20.0]]), np.array([[1.0], [0.0], [1.0]])
    loss, _ = _call(answer, z.copy(), y.copy(), keep_dtype=False)
    ref, _ = losses.bce_with_logits(z, y)
    return bool(np.isfinite(loss) and abs(loss - ref) <= 1e-5 * abs(ref))


def _loss_values(answer, rng):
    worst = 0.0
    for shape, kind, scale in CASES:
        z = rng.standard_normal(shape) * scale
        y = _targets(rng, shape, kind, np.float64)
        loss, _ = _call(answer, z.copy(), y.copy())
        ref, _ = losses.bce_with_logits(z, y)
        err = abs(loss - ref) / max(abs(ref), 1e-12)
        if err > 1e-9:
            n, rows = z.size, z.shape[0]
            checks = [(n * ref, "loss 是所有元素损失的和，而不是平均值：漏了 1/N"
                                "（除以 N = logits.size，或者用 np.mean）。"),
                      (-ref, "符号反了：BCE = -[y log s + (1 - y) log(1 - s)] >= 0，漏了最前面的负号。"),
                      (losses.bce_with_logits(z, 1 - y)[0], "y 与 1 - y 对调了：y = 1 的那一项是 -log sigmoid(z)。"),
                      (ref * n / rows if rows != n else None,
                       "除以的是行数（len(logits) 或 logits.shape[0]），而不是元素个数 N = logits.size："
                       "平均是对所有元素取的。")]
            detail = f"{_label(shape, kind)}：loss {loss:.10g}，应为 {ref:.10g}（相对误差 {err:.1e}）"
            for value, hint in checks:
                if value is not None and abs(loss - value) <= 1e-9 * max(abs(value), 1e-12):
                    raise Failure(detail, hint)
            if err < 1e-3:
                if err < 1e-5 and _float32_precision_only(answer):
                    raise Failure(detail, PRECISION)
                raise Failure(detail, "接近但不精确：log 里加了 eps（log(p + eps)），或者裁剪了 p 或 z，"
                                      "每一项都被改动了一点。logits 形式 " + LOGITS_FORM + " 是精确的，不需要 eps。")
            raise Failure(detail,
                          f"每个元素的损失是 -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = {LOGITS_FORM}，"
                          "loss 是它们的平均值。")
        worst = max(worst, err)
    return f"{len(CASES)} 个用例与 minigan.losses 一致（最大相对误差 {worst:.1e}）"


def _gradient(answer, rng):
    details = []
    for shape, kind, scale in CASES:
        z = rng.standard_normal(shape) * scale
        y = _targets(rng, shape, kind, np.float64)
        _, dz = _call(answer, z.copy(), y.copy())
        num, noise = numeric_gradient(lambda z=z, y=y: _call(answer, z.copy(), y.copy())[0], z)
        _, ref = losses.bce_with_logits(z, y)
        s_ = sigmoid(z)
        n, rows = z.size, z.shape[0]
        probes = [Probe((s_ - y) * s_ * (1 - s_) / n,
                        "多乘了 s(1 - s)：损失直接写在 logits 上时，sigmoid 的导数已经被约掉了："
                        "dL/dz = (sigmoid(z) - y) / N。"),
                  Probe((s_ - (1 - y)) / n, "梯度里 y 与 1 - y 对调了：dL/dz = (sigmoid(z) - y) / N。"),
                  Probe((y - s_), "符号反了，而且漏了 1/N：dL/dz = (sigmoid(z) - y) / N。")]
        if rows != n:
            probes.insert(0, Probe((s_ - y) / rows,
                                   "除以的是行数（len(logits)），而不是元素个数 N = logits.size："
                                   "dL/dz = (sigmoid(z) - y) / N。"))
        try:
            details.append(diagnose_gradient("dlogits", dz, num, noise, ref, n=n, probes=probes, forward="loss"))
        except Failure as f:
            hint = f.hint
            if dz.shape == ref.shape and np.all(np.isfinite(dz)) and 1e-10 < _rel(dz, ref) < 1e-4:
                hint = PRECISION
            raise Failure(f"{_label(shape, kind)}：{f.detail}", hint) from None
    return f"{len(CASES)} 个用例，" + worst_error(details)


def _rel(a, ref) -> float:
    """Largest deviation of ``a`` from ``ref``, relative to ``ref``'s largest entry."""
    a, ref = np.asarray(a, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(a - ref)) / max(float(np.max(np.abs(ref))), 1e-300))


# --------------------------------------------------------------------------------------
# Extreme logits: the loss and dlogits must be finite, exact and quiet at |z| up to 1e4.
# When they are not, each element is recomputed on its own to say at which z (and, from
# NumPy's RuntimeWarnings, in which operation) it breaks.

EXTREME_Z = np.array([1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 100.0, -100.0, 100.0, -100.0, 30.0, -30.0, 0.0])
EXTREME_Y = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5])

_WARNING = re.compile(r"(overflow|divide by zero|invalid value|underflow) encountered in (\w+)")


def _z_text(values) -> str:
    """``z = -1e4、-800、+100`` (each value once, in the order given; the sign always shown)."""
    out = []
    for v in values:
        v = float(v)
        a = abs(v)
        sign = "-" if v < 0 else ("+" if v > 0 else "")
        text = sign + (f"1e{int(round(np.log10(a)))}" if a >= 1e3 and a == 10 ** round(np.log10(a)) else f"{a:g}")
        if text not in out:
            out.append(text)
    return "z = " + "、".join(out)


def _operation(message: str) -> str:
    """One NumPy RuntimeWarning in words, e.g. 'overflow encountered in exp' -> 'np.exp 上溢为 inf'."""
    m = _WARNING.search(message)
    if not m:
        return message
    kind, op = m.groups()
    if kind == "overflow":
        return f"np.{op} 上溢为 inf"
    if kind == "divide by zero":
        return "np.log(0) = -inf" if op.startswith("log") else f"{op} 中除以了 0（得到 inf）"
    if kind == "invalid value":
        what = {"multiply": "0 · inf", "subtract": "inf - inf", "add": "inf + (-inf)",
                "divide": "inf / inf 或 0 / 0"}.get(op, f"np.{op}")
        return f"{what} = NaN"
    return message


def _per_element(answer, z, y):
    """``[(z_i, y_i, loss_i, dz_i, [warning messages])]``: the answer on each element alone."""
    out = []
    for zi, yi in zip(z.ravel(), y.ravel()):
        zz, yy = np.full((1, 1), zi, dtype=z.dtype), np.full((1, 1), yi, dtype=y.dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                try:
                    loss, dz = _call(answer, zz, yy, keep_dtype=False)
                except Exception:  # noqa: BLE001 - a single element that raises is reported as non-finite
                    loss, dz = float("nan"), np.full((1, 1), np.nan)
        msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        out.append((float(zi), float(yi), loss, np.asarray(dz, dtype=np.float64).ravel(), msgs))
    return out


def _by_sign(rows, what: str, default_neg: str, default_pos: str) -> str:
    """'在 z = -1e4、-800 处{what}：np.exp 上溢为 inf；在 z = +1e4 处{what}：np.log(0) = -inf' for the
    given element rows (the operations from their RuntimeWarnings, else the default for that sign)."""
    parts = []
    for sign, default in ((-1, default_neg), (1, default_pos)):
        picked = [r for r in rows if np.sign(r[0]) == sign]
        if not picked:
            continue
        ops = []
        for r in picked:
            for m in r[4]:
                op = _operation(m)
                if op not in ops:
                    ops.append(op)
        parts.append(f"在 {_z_text(r[0] for r in picked)} 处{what}：" + ("、".join(ops) if ops else default))
    return "；".join(parts)


def _extremes(answer):
    # First the same call at moderate logits: a loss that is wrong everywhere is not an
    # extreme-value problem, and its hint belongs to the checks above.
    z, y = (EXTREME_Z / 1e4 * 3).reshape(-1, 1), EXTREME_Y.reshape(-1, 1)
    loss, dz = _call(answer, z.copy(), y.copy())
    ref, ref_dz = losses.bce_with_logits(z, y)
    if not (np.isfinite(loss) and abs(loss - ref) <= 1e-6 * abs(ref) and close(dz, ref_dz, np.float64)):
        raise Failure("在普通大小的 logits（|z| <= 3）上 loss 或 dlogits 就已经不对了",
                      "先修正上面 loss 和 dlogits 的检查；这一项检查的是 |z| 很大的情况。")
    for dtype in (np.float64, np.float32):
        z, y = EXTREME_Z.astype(dtype).reshape(-1, 1), EXTREME_Y.astype(dtype).reshape(-1, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                loss, dz = _call(answer, z.copy(), y.copy())
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        ref, ref_dz = losses.bce_with_logits(z, y)
        name = np.dtype(dtype).name
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        atol = 1e-12 if dtype == np.float64 else 1e-7
        dz_ok = dz.shape == ref_dz.shape and bool(np.all(np.isfinite(dz)))
        if np.isfinite(loss) and dz_ok and abs(loss - ref) <= rtol * abs(ref) and \
                np.allclose(dz, ref_dz, rtol=1e-5, atol=atol) and not runtime:
            continue
        if dz.shape != ref_dz.shape:
            raise Failure(f"{name}：dlogits 的形状是 {shape_str(dz.shape)}，应为 {shape_str(ref_dz.shape)}",
                          "dlogits 与 logits 形状相同。")
        rows = _per_element(answer, z, y)
        if not np.isfinite(loss):
            bad = [r for r in rows if not np.isfinite(r[2])]
            where = _by_sign(bad, "溢出", "sigmoid(z) 下溢为 0，log(sigmoid(z)) = log(0) = -inf",
                             "sigmoid(z) 舍入为 1，log(1 - sigmoid(z)) = log(0) = -inf")
            detail = f"{name}：loss = {loss}（精确值 {ref:.6g}）"
            if bad:
                detail += f"；单独计算时 loss 为 NaN/inf 的元素：{_z_text(r[0] for r in bad)}"
                raise Failure(detail, f"{where}。" + _loss_fix(where))
            raise Failure(detail, "|z| 很大时 loss 溢出了（0 · inf = NaN，log(0) = -inf）。" + _loss_fix(""))
        if not dz_ok:
            bad = [r for r in rows if not np.all(np.isfinite(r[3]))]
            where = _by_sign(bad, "得到 NaN/inf", "exp(-z) 上溢为 inf", "exp(z) 上溢为 inf，inf / inf = NaN")
            raise Failure(f"{name}：dlogits 在 {_z_text(z.ravel()[~np.isfinite(dz.ravel())])} 处为 NaN/inf",
                          (f"{where}。" if where else "") + "|z| 很大时 dlogits 也必须是有限值：用稳定的写法计算 "
                          f"sigmoid（{STABLE_SIGMOID}），dlogits = (sigmoid(z) - y) / N。")
        if abs(loss - ref) > rtol * abs(ref):
            exact = [losses.bce_with_logits(np.full((1, 1), r[0], dtype=dtype), np.full((1, 1), r[1], dtype=dtype))[0]
                     for r in rows]
            off = [r for r, e in zip(rows, exact) if not abs(r[2] - e) <= max(rtol * abs(e), 1e-6)]
            at = f"（偏差在 {_z_text(r[0] for r in off)}）" if off else ""
            hint = CLIPPED if loss < ref else f"|z| 很大时不精确：用 logits 形式 {LOGITS_FORM}。"
            raise Failure(f"{name}：loss {loss:.6g}，精确值 {ref:.6g}{at}", hint)
        if not np.allclose(dz, ref_dz, rtol=1e-5, atol=atol):
            off = z.ravel()[~np.isclose(dz.ravel(), ref_dz.ravel(), rtol=1e-5, atol=atol)]
            raise Failure(f"{name}：dlogits 在 {_z_text(off)} 处与 (sigmoid(z) - y) / N 不同",
                          "z = ±1e4 时 sigmoid 恰好是 0 或 1，所以 dlogits = (sigmoid(z) - y) / N 是 0 或 ±1/N："
                          f"用稳定的分段写法计算 sigmoid（{STABLE_SIGMOID}）。")
        noisy = [r for r in rows if r[4]]
        where = _by_sign(noisy, "有 RuntimeWarning", "", "")
        detail = f"{name}：RuntimeWarning：{runtime[0].message}"
        if noisy:
            detail += f"（单独计算时在 {_z_text(r[0] for r in noisy)} 处出现）"
            raise Failure(detail, f"{where}。" + WARNED)
        raise Failure(detail, WARNED)
    return f"有限、精确（loss {ref:.6g}），没有警告"


def _no_mutation(answer, rng):
    z = rng.standard_normal((5, 2)) * 60  # large enough to tempt an in-place clip
    y = _targets(rng, z.shape, "soft", np.float64)
    z0, y0 = z.copy(), y.copy()
    _call(answer, z, y, keep_dtype=False)
    if changed(z0, z):
        raise Failure("logits 被修改了",
                      "bce_with_logits 原地修改了传入的 logits（例如 np.clip(z, ..., out=z)、z -= ...、"
                      "z[z < 0] = ...）：把结果算到新数组里，调用者之后还要用这些 logits。")
    if changed(y0, y):
        raise Failure("targets 被修改了", "bce_with_logits 原地修改了 targets：保持传入的样子，不要改动。")
    return "logits 和 targets 都没有改变"


def _dtype(answer, rng):
    z = (rng.standard_normal((6, 1)) * 3).astype(np.float32)
    y = _targets(rng, z.shape, "hard", np.float32)
    _, dz = _call(answer, z, y)
    if dz.dtype != np.float32:
        raise Failure(f"float32 的 logits 和 targets 得到了 {dz.dtype} 的 dlogits",
                      UPCAST.format(culprits="np.float64(...) 系数、np.asarray(targets, dtype=float)、"
                                             "np.ones(shape) / np.zeros(shape)（默认是 float64）"))
    z64, y64 = z.astype(np.float64), y.astype(np.float64)
    _, dz = _call(answer, z64, y64, keep_dtype=False)
    if dz.dtype != np.float64:
        raise Failure(f"float64 的 logits 和 targets 得到了 {dz.dtype} 的 dlogits", DOWNCAST)
    return "dlogits 与 logits 的 dtype 相同（float32 与 float64）"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    strategy = st.tuples(st.integers(1, 8), st.integers(0, 3), st.sampled_from(["float32", "float64"]),
                         st.sampled_from([0.1, 1.0, 10.0, 100.0]), st.sampled_from(["hard", "soft"]),
                         st.integers(0, 2**16))

    def describe(example):
        n, cols, dtype, scale, kind, seed = example
        shape = (n,) if cols == 0 else (n, cols)
        return f"logits {shape_str(shape)} {dtype}，尺度 {scale:g}，{'硬' if kind == 'hard' else '软'}标签"

    def prop(example):
        n, cols, dtype, scale, kind, seed = example
        rng = np.random.default_rng(seed)
        shape = (n,) if cols == 0 else (n, cols)
        z = (rng.standard_normal(shape) * scale).astype(dtype)
        y = _targets(rng, shape, kind, dtype)
        z0, y0 = z.copy(), y.copy()
        loss, dz = _call(answer, z, y)
        ref, ref_dz = losses.bce_with_logits(z.astype(np.float64), y.astype(np.float64))
        if not np.isfinite(loss) or not close(loss, ref, dtype):
            raise Failure(f"loss {loss:.6g}，应为 {ref:.6g}", "见上面 loss 和极端 logits 的检查。")
        if dz.shape != z.shape:
            raise Failure(f"dlogits 的形状是 {shape_str(dz.shape)}", "dlogits 与 logits 形状相同。")
        if dz.dtype != z.dtype:
            raise Failure(f"dlogits 是 {dz.dtype}", "dtype 被提升了：见上面的 dtype 检查。")
        if not close(dz, ref_dz, dtype):
            raise Failure("dlogits 与 (sigmoid(z) - y) / N 不同", "见上面 dlogits 的梯度检验。")
        if changed(z0, z) or changed(y0, y):
            raise Failure("输入被修改了", "不要修改 logits 和 targets（不要原地运算）。")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="loss 与 dlogits 一致，形状和 dtype 保持，输入不变")
