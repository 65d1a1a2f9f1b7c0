"""Checker for the ``adam_step`` exercise: one bias-corrected Adam update.

The contract (the notebook ``07_adam_step.ipynb`` states it too)::

    my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8)
        -> (new_params, new_state)

``params`` and ``grads`` are dicts name -> floating array (same names and shapes);
``state = {"t": int, "m": {name: array}, "v": {name: array}}``, the layout of
:class:`minigan.optim.Adam`'s own ``t`` and ``state`` (``t = 0`` and zero moments before
the first step).  The function returns new dicts and leaves its inputs unchanged.  The
rule is minigan's, step counter incremented *before* it is used, ``eps`` added outside
the square root of the bias-corrected second moment::

    t <- t + 1
    m <- beta1 m + (1 - beta1) g
    v <- beta2 v + (1 - beta2) g**2
    p <- p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

The defaults are :class:`minigan.optim.Adam`'s (the DCGAN settings); float32 stays
float32.  The reference is minigan's Adam itself; each typical mistake is a probe (that
wrong rule, computed here) whose hint names it.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..optim import Adam
from ._kit import (
    ExerciseResult,
    Failure,
    Session,
    call_learner,
    changed,
    close,
    original,
    run_property,
    same,
    shape_str,
    snapshot,
)

NAME = "adam_step"
DESCRIPTION = "一步带偏差修正的 Adam 更新：(params, grads, state, *, lr, beta1, beta2, eps) -> (new_params, new_state)"

#: minigan.optim.Adam's defaults, read from its signature (lr, beta1, beta2, eps)
_SIG = inspect.signature(Adam.__init__).parameters
DEFAULTS = {"lr": _SIG["lr"].default, "beta1": _SIG["betas"].default[0], "beta2": _SIG["betas"].default[1],
            "eps": _SIG["eps"].default}

RULE = ("t = t + 1；m = beta1 * m + (1 - beta1) * g；v = beta2 * v + (1 - beta2) * g**2；"
        "m_hat = m / (1 - beta1**t)；v_hat = v / (1 - beta2**t)；p = p - lr * m_hat / (np.sqrt(v_hat) + eps)。")
STATE_LAYOUT = 'state = {"t": 整数, "m": {名字: 数组}, "v": {名字: 数组}}，m、v 的键与 params 相同'

HINTS = {
    "no_bias": ("缺少偏差修正：m、v 从 0 开始累积，前几步明显偏小，必须先除以 (1 - beta1**t)、(1 - beta2**t) "
                "得到 m_hat、v_hat，再用 p - lr * m_hat / (np.sqrt(v_hat) + eps) 更新。" + RULE),
    "only_m": ("只对 m 做了偏差修正，v 没有修正：v_hat = v / (1 - beta2**t) 也要算。" + RULE),
    "only_v": ("只对 v 做了偏差修正，m 没有修正：m_hat = m / (1 - beta1**t) 也要算。" + RULE),
    "old_t": ("偏差修正用了加 1 之前的 t：minigan 先执行 t = t + 1，再用新的 t 计算 1 - beta1**t 和 1 - beta2**t。"
              "第一步若用 t = 0，1 - beta**0 = 0，就会除以零（结果是 inf 或 nan）；之后每一步都差一步。"),
    "eps_inside": ("eps 放进了平方根里：minigan（和 PyTorch 一样）用 np.sqrt(v_hat) + eps，eps 加在平方根之外，"
                   "不是 np.sqrt(v_hat + eps)。"),
    "eps_uncorrected": ("eps 加在了未经修正的 np.sqrt(v) 上（Adam 论文里的\"高效写法\" lr * sqrt(1 - beta2**t) / "
                        "(1 - beta1**t) * m / (np.sqrt(v) + eps)）：minigan 的约定是先修正、再加 eps，"
                        "即 np.sqrt(v_hat) + eps，两者在 eps 不可忽略时结果不同。"),
    "swapped": ("beta1 和 beta2 用反了：一阶矩 m 用 beta1（默认 0.5），二阶矩 v 用 beta2（默认 0.999），"
                "偏差修正也一样：m_hat = m / (1 - beta1**t)，v_hat = v / (1 - beta2**t)。"),
    "swapped_correction": ("偏差修正里 beta1 与 beta2 对调了：m_hat = m / (1 - beta1**t)，v_hat = v / (1 - beta2**t)；"
                           "m、v 本身的更新是对的。"),
    "v_abs": ("v 累积的是梯度的绝对值 |g|，应该是梯度的平方："
              "v = beta2 * v + (1 - beta2) * g**2（逐元素平方，np.square(g) 或 g * g）。"),
    "v_lin": ("v 累积的是梯度 g 本身，应该是梯度的平方：v = beta2 * v + (1 - beta2) * g**2。"
              "累积 g 时 v 可能为负，np.sqrt 就会给出 nan。"),
    "recomputed": ("m、v 没有接着上一步累积：每一步都从 0 重新开始（m = (1 - beta1) * g）。"
                   "应从 state 里取出上一步的 m、v：m = beta1 * m + (1 - beta1) * g，v 同理。"),
    "sign": ("符号反了，这是梯度上升：Adam 沿梯度的反方向走，p = p - lr * m_hat / (np.sqrt(v_hat) + eps)，"
             "用的是减号。"),
}
NOT_CARRIED = ("m、v 没有写回新状态：new_state 里的 m、v 还是传入的旧值。返回更新后的 m、v（新数组），"
               "下一步要在它们的基础上继续累积；只在函数内部更新局部变量是不够的。")
T_NOT_INCREMENTED = ('步数没有加 1：new_state["t"] 应等于 state["t"] + 1。每调用一次就是一步，'
                     "下一步的偏差修正要用新的 t。")
IN_PLACE_PARAMS = ("参数被原地更新了（例如 p -= ...、params[k][...] = ...、params[k] = ... "
                   "或 np.subtract(..., out=p)）："
                   "本练习要求返回新的参数字典，传入的 params 必须保持不变。用 p - lr * ... 生成新数组。")
IN_PLACE_GRADS = "梯度 grads 被原地修改了（例如 g *= ... 或 g **= 2）：梯度只读不写，平方等运算请生成新数组。"
IN_PLACE_STATE = ("state 里的 m 或 v 数组被原地修改了（例如 m *= beta1、m += ... 或 out=m）：先算出新数组，"
                  "再放进新的 state 字典返回，传入的 state 必须保持不变。")
STATE_DICT_MUTATED = ('传入的 state 字典被改动了（例如 state["t"] += 1，或 state["m"][k] = ...）：'
                      '构造一个新的字典 {"t": ..., "m": {...}, "v": {...}} 返回。')
UPCAST = ("dtype 被提升了：float32 的参数、梯度和状态，返回的却是 float64。计算中混进了 float64 的数组或 "
          "np.float64 标量（例如 np.float64(lr)、np.array(beta1)、.astype(float)、np.zeros(p.shape)），"
          "NumPy 就把结果提升为 float64。超参数请当作普通的 Python 浮点数使用，新数组沿用原数组的 dtype "
          "（np.zeros_like(p)）。")
GENERIC = "与 minigan.optim.Adam 的结果不一致。按这个顺序计算：" + RULE

#: the fixed cases of the consecutive-steps check: hyper-parameters and parameter shapes
CASES = (
    ({"lr": 0.01, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8}, {"W": (3, 4), "b": (4,)}),
    ({"lr": 0.05, "beta1": 0.9, "beta2": 0.99, "eps": 1e-3}, {"0.W": (2, 3), "0.b": (3,), "2.W": (3, 1)}),
)
STEPS = 4


# --------------------------------------------------------------------------------------
# Reference and wrong rules.

def zero_state(params: dict) -> dict:
    """The state before the first step: t = 0, zero moments shaped like the parameters."""
    return {"t": 0, "m": {k: np.zeros_like(p) for k, p in params.items()},
            "v": {k: np.zeros_like(p) for k, p in params.items()}}


def reference(params: dict, grads: dict, state: dict, *, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[dict, dict]:
    """One step of :class:`minigan.optim.Adam` from ``state``, on copies (inputs untouched)."""
    new = {k: np.array(p, copy=True) for k, p in params.items()}
    opt = Adam(new, lr=lr, betas=(beta1, beta2), eps=eps)
    opt.t = int(state["t"])
    for b in ("m", "v"):
        for k in new:
            np.copyto(opt.state[b][k], state[b][k])
    opt.step({k: np.array(g, copy=True) for k, g in grads.items()})
    return new, {"t": opt.t, "m": {k: a.copy() for k, a in opt.state["m"].items()},
                 "v": {k: a.copy() for k, a in opt.state["v"].items()}}


def wrong_step(kind: str, params: dict, grads: dict, state: dict, *, lr: float, beta1: float, beta2: float,
               eps: float) -> tuple[dict, dict]:
    """One step of the wrong rule ``kind`` (a key of :data:`HINTS`), in float64."""
    t_old = int(state["t"])
    t = t_old + 1
    mb1, mb2 = (beta2, beta1) if kind == "swapped" else (beta1, beta2)
    cb1, cb2 = (beta2, beta1) if kind in ("swapped", "swapped_correction") else (beta1, beta2)
    tc = t_old if kind == "old_t" else t
    c1, c2 = 1.0 - cb1**tc, 1.0 - cb2**tc
    if kind in ("no_bias", "only_v"):
        c1 = 1.0
    if kind in ("no_bias", "only_m"):
        c2 = 1.0
    new_p, new_m, new_v = {}, {}, {}
    with np.errstate(all="ignore"):
        for k, p in params.items():
            p, g = np.asarray(p, np.float64), np.asarray(grads[k], np.float64)
            m, v = np.asarray(state["m"][k], np.float64), np.asarray(state["v"][k], np.float64)
            if kind == "recomputed":
                m, v = np.zeros_like(m), np.zeros_like(v)
            square = {"v_abs": np.abs(g), "v_lin": g}.get(kind, g * g)
            m = mb1 * m + (1 - mb1) * g
            v = mb2 * v + (1 - mb2) * square
            m_hat, v_hat = m / c1, v / c2
            if kind == "eps_inside":
                denom = np.sqrt(v_hat + eps)
            elif kind == "eps_uncorrected":
                denom = np.sqrt(v_hat) + eps / np.sqrt(c2)
            else:
                denom = np.sqrt(v_hat) + eps
            step = lr * m_hat / denom
            new_p[k] = p + step if kind == "sign" else p - step
            new_m[k], new_v[k] = m, v
    return new_p, {"t": t, "m": new_m, "v": new_v}


# --------------------------------------------------------------------------------------
# Calling the learner's function and validating what it returns.

def _explain(exc):
    exc = original(exc)
    if isinstance(exc, ZeroDivisionError):
        return HINTS["old_t"]
    if isinstance(exc, KeyError):
        return f"按约定取用 state 的内容：{STATE_LAYOUT}；params 和 grads 的键相同。"
    if isinstance(exc, TypeError) and "keyword" in str(exc):
        return ("函数签名应为 my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8)："
                "超参数按关键字传入，名字就是 lr、beta1、beta2、eps。")
    return ""


def _call(answer, params, grads, state, hp):
    out = call_learner("adam_step", answer, params, grads, state, **hp)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"返回了 {type(out).__name__}，不是 (new_params, new_state)",
                      "返回两个值：新的参数字典和新的状态字典，return new_params, new_state。")
    new_params, new_state = out
    if not isinstance(new_params, dict) or set(new_params) != set(params):
        got = sorted(new_params) if isinstance(new_params, dict) else type(new_params).__name__
        raise Failure(f"new_params 是 {got}，应是键为 {sorted(params)} 的字典",
                      "new_params 是一个字典，键与 params 相同，每个值是更新后的参数数组。")
    for k, p in params.items():
        _array(new_params[k], f"new_params[{k!r}]", p)
    if not isinstance(new_state, dict) or not {"t", "m", "v"} <= set(new_state):
        got = sorted(new_state) if isinstance(new_state, dict) else type(new_state).__name__
        raise Failure(f"new_state 是 {got}，缺少 t、m 或 v", f"new_state 的结构与 state 相同：{STATE_LAYOUT}。")
    t = new_state["t"]
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise Failure(f'new_state["t"] 是 {type(t).__name__}', 'new_state["t"] 是整数：已经走过的步数。')
    for b in ("m", "v"):
        moments = new_state[b]
        if not isinstance(moments, dict) or set(moments) != set(params):
            got = sorted(moments) if isinstance(moments, dict) else type(moments).__name__
            raise Failure(f'new_state["{b}"] 是 {got}', f"new_state 的结构与 state 相同：{STATE_LAYOUT}。")
        for k, p in params.items():
            _array(moments[k], f'new_state["{b}"][{k!r}]', p)
    return new_params, new_state


def _array(value, what, like):
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"dtype {value.dtype} 的数组"
        raise Failure(f"{what} 是 {kind}", f"{what} 应是浮点 NumPy 数组，形状与对应的参数相同。")
    if value.shape != like.shape:
        raise Failure(f"{what} 的形状是 {shape_str(value.shape)}，应为 {shape_str(like.shape)}",
                      f"{what} 的形状与对应的参数相同：Adam 对每个元素分别更新。")


# --------------------------------------------------------------------------------------
# Comparing one step against the reference and naming the mistake.

def _equal(a, b, dtype=np.float64) -> bool:
    """Same values (to float64 precision, or float32's for float32), NaN / inf in the same places."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    if not np.array_equal(a[~fa & ~np.isnan(a)], b[~fb & ~np.isnan(b)]):
        return False
    if not fa.any():
        return True
    return same(a[fa], b[fb], 1e-9) if np.dtype(dtype) == np.float64 else close(a[fa], b[fb], dtype)


def _tree_equal(a: dict, b: dict, dtype=np.float64) -> bool:
    return all(_equal(a[k], b[k], dtype) for k in b)


def _tree_close(a: dict, b: dict, dtype) -> bool:
    return all(close(a[k], b[k], dtype) for k in b)


def _step_mistake(inputs, out, ref, hp, dtype) -> Failure | None:
    """None if ``out`` (the learner's (new_params, new_state)) matches ``ref``, else the
    Failure naming the likely mistake."""
    params, grads, state = inputs
    (lp, ls), (rp, rs) = out, ref
    ok = {"params": _tree_close(lp, rp, dtype), "m": _tree_close(ls["m"], rs["m"], dtype),
          "v": _tree_close(ls["v"], rs["v"], dtype), "t": int(ls["t"]) == rs["t"]}
    if all(ok.values()):
        return None
    bad = [name for name, good in ok.items() if not good]
    where = "、".join({"params": "new_params", "m": "m", "v": "v", "t": "t"}[b] for b in bad)
    detail = f"{where} 与 minigan.optim.Adam 不一致"
    if not ok["t"]:
        detail += f'（new_state["t"] = {int(ls["t"])}，应为 {rs["t"]}）'
    variants = {kind: wrong_step(kind, params, grads, state, **hp) for kind in HINTS}
    # a wrong rule that gives the right answer on these inputs explains nothing
    variants = {kind: (vp, vs) for kind, (vp, vs) in variants.items()
                if not (_tree_close(vp, rp, dtype) and _tree_close(vs["m"], rs["m"], dtype)
                        and _tree_close(vs["v"], rs["v"], dtype))}
    def eq(a, b):
        return _tree_equal(a, b, dtype)

    # 1. a wrong rule that explains everything the learner returned
    for kind, (vp, vs) in variants.items():
        if eq(lp, vp) and eq(ls["m"], vs["m"]) and eq(ls["v"], vs["v"]):
            return Failure(detail, HINTS[kind])
    # 2. the state: unchanged moments, the step counter
    moved = not (eq(rs["m"], state["m"]) and eq(rs["v"], state["v"]))
    if moved and eq(ls["m"], state["m"]) and eq(ls["v"], state["v"]):
        return Failure(detail, NOT_CARRIED)
    if not ok["t"]:
        if int(ls["t"]) == int(state["t"]):
            return Failure(detail, T_NOT_INCREMENTED)
        return Failure(detail, 'new_state["t"] 应等于 state["t"] + 1：每调用一次走一步。')
    # 3. a wrong rule that explains the first part that differs
    for part in bad:
        for kind, (vp, vs) in variants.items():
            if (part == "params" and eq(lp, vp)) or (part in "mv" and eq(ls[part], vs[part])):
                return Failure(detail, HINTS[kind])
    if not all(np.all(np.isfinite(a)) for a in lp.values()):
        if int(state["t"]) == 0:
            return Failure(detail + "（含 inf 或 nan）", HINTS["old_t"])
        return Failure(detail + "（含 inf 或 nan）", "新参数里出现了 inf 或 nan：检查是否除以了零、"
                                                 "是否对负数开了平方根。" + RULE)
    return Failure(detail, GENERIC)


# --------------------------------------------------------------------------------------
# The checks.

def _grads_like(rng, shapes, dtype):
    """Gradients of mixed magnitudes (1e-3 .. 10) and both signs: eps matters for some."""
    return {k: (rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1, s)).astype(dtype) for k, s in shapes.items()}


def _hp_text(hp):
    return ", ".join(f"{k}={v:g}" for k, v in hp.items())


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}",
                          "把函数本身交给评分器：check('adam_step', my_adam_step)。")
        rng = np.random.default_rng(seed)
        params = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}
        _call(answer, params, _grads_like(rng, {"W": (2, 3), "b": (3,)}, np.float64), zero_state(params),
              dict(CASES[0][0]))
        return "返回 (new_params, new_state)，键和形状都对"

    if not s.run("返回 (new_params, new_state)", first) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("第一步：每个坐标移动约 lr", lambda: _first_step(answer, seed))
    s.run(f"连续 {STEPS} 步与 minigan.optim.Adam 一致（float64）", lambda: _consecutive(answer, seed, np.float64))
    s.run("float32 进、float32 出（参数与 m、v）", lambda: _consecutive(answer, seed, np.float32))
    s.run("输入保持不变（params、grads、state）", lambda: _no_mutation(answer, seed))
    s.run("默认超参数与 minigan.optim.Adam 相同", lambda: _defaults(answer, seed))
    s.run("性质测试（hypothesis）：随机形状、超参数、步数与 dtype", lambda: _property(answer, max_examples))


def _first_step(answer, seed):
    rng = np.random.default_rng(seed + 1)
    shapes = {"W": (4, 5), "b": (5,)}
    params = {k: rng.standard_normal(sh) for k, sh in shapes.items()}
    grads = {k: rng.choice([-1.0, 1.0], sh) * 10.0 ** rng.uniform(-2, 2, sh) for k, sh in shapes.items()}
    hp = {"lr": 0.01, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8}
    state = zero_state(params)
    out = _call(answer, snapshot(params), snapshot(grads), snapshot(state), hp)
    worst = 0.0
    for k, p in params.items():
        moved = np.asarray(out[0][k], np.float64) - p
        expected = -hp["lr"] * np.sign(grads[k])  # m_hat = g, v_hat = g**2, |g| >> eps
        err = float(np.max(np.abs(moved - expected))) / hp["lr"] if np.all(np.isfinite(moved)) else np.inf
        if not err <= 1e-5:
            ratio = np.abs(moved) / hp["lr"]
            if not np.all(np.isfinite(moved)):
                detail = f"new_params[{k!r}] 含有 inf 或 nan"
            else:
                detail = (f"params[{k!r}] 每个坐标移动了 lr 的 {np.min(ratio):.4g} 到 {np.max(ratio):.4g} 倍，"
                          f"方向{'与 -g 相同' if np.all(moved * grads[k] < 0) else '并不都与 -g 相同'}；应约为 1 倍")
            mistake = _step_mistake((params, grads, state), out, reference(params, grads, state, **hp), hp,
                                    np.float64)
            hint = mistake.hint if mistake else GENERIC
            raise Failure(detail, "第一步 t = 1，m_hat = g、v_hat = g**2，所以每个坐标都移动约 lr（方向与梯度相反），"
                                  "与梯度大小无关。" + hint)
        worst = max(worst, err)
    return f"|Δp| = lr（相对误差 {worst:.1e}），方向与梯度相反"


def _inputs(seed, shapes, dtype):
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(sh).astype(dtype) for k, sh in shapes.items()}
    grads = [_grads_like(rng, shapes, dtype) for _ in range(STEPS)]
    return params, grads


def _consecutive(answer, seed, dtype):
    dtype = np.dtype(dtype)
    cases = CASES if dtype == np.float64 else CASES[:1]
    for i, (hp, shapes) in enumerate(cases):
        params, grads_seq = _inputs(seed + 10 + i, shapes, dtype)
        state = zero_state(params)
        for step, grads in enumerate(grads_seq, start=1):
            ins = (snapshot(params), snapshot(grads), snapshot(state))
            out = _call(answer, *ins, hp)
            ref = reference(params, grads, state, **hp)
            label = f"{_hp_text(hp)}，{dtype.name}，第 {step} 步"
            if dtype == np.float32:
                bad = [(f"{where}[{k!r}]", a.dtype) for where, tree in (("new_params", out[0]),
                                                                      ('new_state["m"]', out[1]["m"]),
                                                                      ('new_state["v"]', out[1]["v"]))
                       for k, a in tree.items() if a.dtype != np.float32]
                if bad:
                    raise Failure(f"{label}：{bad[0][0]} 是 {bad[0][1]}", UPCAST)
            mistake = _step_mistake((params, grads, state), out, ref, hp, dtype)
            if mistake is not None:
                hint = mistake.hint
                if dtype == np.float32:
                    hint = "float32 下的结果与 minigan 不一致；先看上面 float64 那一项检查。" + hint
                raise Failure(f"{label}：{mistake.detail}", hint)
            params, state = out  # carry on from the learner's own output
    if dtype == np.float32:
        return f"{STEPS} 步，参数和 m、v 都保持 float32，数值与 minigan 一致"
    return f"{len(cases)} 组超参数 × {STEPS} 步，参数、m、v、t 都与 minigan.optim.Adam 一致"


def _no_mutation(answer, seed):
    rng = np.random.default_rng(seed + 2)
    shapes = {"W": (3, 2), "b": (2,)}
    params = {k: rng.standard_normal(sh) for k, sh in shapes.items()}
    grads = _grads_like(rng, shapes, np.float64)
    state = {"t": 3, "m": {k: 0.1 * rng.standard_normal(sh) for k, sh in shapes.items()},
             "v": {k: 0.01 * rng.random(sh) for k, sh in shapes.items()}}
    p0, g0, s0 = snapshot(params), snapshot(grads), snapshot(state)
    m_dict, v_dict = state["m"], state["v"]
    arrays = {"m": dict(m_dict), "v": dict(v_dict)}
    _call(answer, params, grads, state, dict(CASES[0][0]))
    if changed(p0, params):
        raise Failure("传入的 params 被修改了", IN_PLACE_PARAMS)
    if changed(g0, grads):
        raise Failure("传入的 grads 被修改了", IN_PLACE_GRADS)
    if any(changed(s0[b][k], a) for b in arrays for k, a in arrays[b].items()):
        raise Failure("传入的 state 里的 m 或 v 数组被原地修改了", IN_PLACE_STATE)
    replaced = any(set(d) != set(arrays[b]) or any(d[k] is not a for k, a in arrays[b].items())
                   for b, d in (("m", m_dict), ("v", v_dict)))
    if replaced or set(state) != {"t", "m", "v"} or state["m"] is not m_dict or state["v"] is not v_dict:
        raise Failure("传入的 state 字典的内容被换掉了", STATE_DICT_MUTATED)
    if state["t"] != 3:
        raise Failure(f'传入的 state 被修改了：state["t"] 变成了 {state["t"]!r}（原来是 3）', STATE_DICT_MUTATED)
    return "params、grads、state（包括 t 和 m、v）都没有变"


def _defaults(answer, seed):
    try:
        signature = inspect.signature(answer)
    except (TypeError, ValueError):
        signature = None
    wanted = f"lr={DEFAULTS['lr']:g}、beta1={DEFAULTS['beta1']:g}、beta2={DEFAULTS['beta2']:g}、eps={DEFAULTS['eps']:g}"
    if signature is not None and not any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        missing, wrong = [], []
        for name, expected in DEFAULTS.items():
            param = signature.parameters.get(name)
            if param is None or param.default is inspect.Parameter.empty:
                missing.append(name)
            elif param.default != expected:
                wrong.append(f"{name} 的默认值应为 {expected:g}（现在是 {param.default!r}）")
        if missing:
            raise Failure(f"{'、'.join(missing)} 没有默认值",
                          f"给 lr、beta1、beta2、eps 都加上默认值，与 minigan.optim.Adam 相同：{wanted}。")
        if wrong:
            why = ("minigan 沿用 DCGAN 的设置 beta1 = 0.5，0.9 是 PyTorch 等库的通用默认值，"
                   "GAN 训练一般用更小的 beta1。"
                   if any(w.startswith("beta1") for w in wrong) else "")
            raise Failure("；".join(wrong), f"默认值与 minigan.optim.Adam 不同：{'；'.join(wrong)}。{why}")
    # the defaults in effect: the answer without keywords against itself with minigan's defaults
    rng = np.random.default_rng(seed + 3)
    params = {"W": rng.standard_normal((2, 2))}
    grads = _grads_like(rng, {"W": (2, 2)}, np.float64)
    state = zero_state(params)
    plain = _call(answer, snapshot(params), snapshot(grads), snapshot(state), {})
    explicit = _call(answer, snapshot(params), snapshot(grads), snapshot(state), dict(DEFAULTS))
    if not (_tree_equal(plain[0], explicit[0]) and _tree_equal(plain[1]["m"], explicit[1]["m"])
            and _tree_equal(plain[1]["v"], explicit[1]["v"])):
        raise Failure("不传超参数时的结果，与显式传入 minigan.optim.Adam 的默认值时不同",
                      f"不传关键字参数时应使用与 minigan.optim.Adam 相同的默认值：{wanted}。")
    return f"默认值与 minigan 相同：{wanted}"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    shapes = st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=3)
    strategy = st.tuples(shapes, st.sampled_from(["float32", "float64"]),
                         st.sampled_from([1e-4, 2e-4, 1e-3, 1e-2, 0.1]), st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.95]),
                         st.sampled_from([0.9, 0.99, 0.999, 0.9999]), st.sampled_from([1e-8, 1e-6, 1e-3]),
                         st.integers(0, 1000), st.integers(1, 3), st.integers(0, 2**16))

    def describe(example):
        shape_list, dtype, lr, b1, b2, eps, t0, steps, _ = example
        return (f"参数形状 {[tuple(s) for s in shape_list]} {dtype}，lr={lr:g}, beta1={b1:g}, beta2={b2:g}, "
                f"eps={eps:g}，从 t={t0} 起走 {steps} 步")

    def prop(example):
        shape_list, dtype, lr, b1, b2, eps, t0, steps, seed = example
        rng = np.random.default_rng(seed)
        dtype = np.dtype(dtype)
        hp = {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}
        params = {f"p{i}": rng.standard_normal(tuple(s)).astype(dtype) for i, s in enumerate(shape_list)}
        if t0 == 0:
            state = zero_state(params)
        else:
            state = {"t": t0, "m": {k: (0.1 * rng.standard_normal(p.shape)).astype(dtype) for k, p in params.items()},
                     "v": {k: (0.01 * rng.random(p.shape)).astype(dtype) for k, p in params.items()}}
        for _ in range(steps):
            grads = {k: (rng.standard_normal(p.shape) * 10.0 ** rng.uniform(-3, 1, p.shape)).astype(dtype)
                     for k, p in params.items()}
            before = snapshot((params, grads, state))
            out = _call(answer, params, grads, state, hp)
            if changed(before, (params, grads, state)) or state["t"] != before[2]["t"]:
                raise Failure("输入被修改了", "见上面\"输入保持不变\"那一项检查：不要原地修改 params、grads、state。")
            if any(a.dtype != dtype for a in (*out[0].values(), *out[1]["m"].values(), *out[1]["v"].values())):
                raise Failure("dtype 变了", UPCAST)
            ref = reference(params, grads, state, **hp)
            mistake = _step_mistake((params, grads, state), out, ref, hp, dtype)
            if mistake is not None:
                raise mistake
            params, state = out

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="参数、m、v、t 与 minigan.optim.Adam 一致，dtype 不变，输入不变")
