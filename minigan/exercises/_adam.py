"""Checker for the ``adam_step`` exercise: one bias-corrected step of :class:`minigan.optim.Adam`.

``(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8) -> (new_params, new_state)``, dicts name ->
floating array, ``state = {"t": int, "m": {...}, "v": {...}}`` (t = 0, zero moments at first)::

    t <- t + 1;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g**2  (the state keeps m, v)
    p <- p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

New dicts, inputs unchanged, float32 kept.  A case is consecutive steps, each from the answer's own output.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..optim import Adam
from . import _kit
from ._kit import UPCAST, Case, Failure, FunctionExercise, Mistake, Part, Regime, call_learner, snapshot, tree_equal

_SIG = {k: p.default for k, p in inspect.signature(Adam.__init__).parameters.items()}
DEFAULTS = {"lr": _SIG["lr"], "beta1": _SIG["betas"][0], "beta2": _SIG["betas"][1], "eps": _SIG["eps"]}
WANTED = "、".join(f"{k}={v:g}" for k, v in DEFAULTS.items())

RULE = ("t = t + 1；m = beta1 * m + (1 - beta1) * g；v = beta2 * v + (1 - beta2) * g**2；"
        "m_hat = m / (1 - beta1**t)；v_hat = v / (1 - beta2**t)；p = p - lr * m_hat / (np.sqrt(v_hat) + eps)。")
STATE_LAYOUT = 'state = {"t": 整数, "m": {名字: 数组}, "v": {名字: 数组}}，m、v 的键与 params 相同'
GENERIC = "与 minigan.optim.Adam 的结果不一致。按这个顺序计算：" + RULE
OLD_T = "偏差修正用了加 1 之前的 t：minigan 先执行 t = t + 1，再用新的 t 计算 1 - beta1**t 和 1 - beta2**t。第一步若用 t = 0，1 - beta**0 = 0，就会除以零（结果是 inf 或 nan）；之后每一步都差一步。"
IN_PLACE_PARAMS = "参数被原地更新了（例如 p -= ...、params[k][...] = ... 或 np.subtract(..., out=p)）：本练习要求返回新的参数字典，传入的 params 必须保持不变。用 p - lr * ... 生成新数组。"
IN_PLACE_GRADS = "梯度 grads 被原地修改了（例如 g *= ... 或 g **= 2）：梯度只读不写，平方等运算请生成新数组。"
IN_PLACE_STATE = 'state 里的 m 或 v 数组被原地修改了（例如 m *= beta1、m += ...、out=m），或被换成了新数组（state["m"][k] = ...）：先算出新数组，再放进新的 state 字典返回，传入的 state 必须保持不变。'
STATE_DICT_MUTATED = '传入的 state 字典被改动了（例如 state["t"] += 1）：构造一个新的字典 {"t": ..., "m": {...}, "v": {...}} 返回，传入的 state 保持原样。'


def _step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8, swap=(False, False),
          bias=(True, True), t_of=lambda t: t + 1, t_kept=lambda t: t + 1, square=np.square,
          moment=lambda old, b, x: b * old + (1 - b) * x, denom=lambda v_hat, eps, c2: np.sqrt(v_hat) + eps,
          update=lambda p, step: p - step, keep=False, hats=False):
    """One Adam step, or (with one keyword changed) a typical wrong version of it; ``swap``: beta1 and beta2 exchanged
    in (the moments, the bias correction)."""
    mb, cb = ((beta2, beta1) if s else (beta1, beta2) for s in swap)
    tc = t_of(state["t"])
    c1, c2 = (1 - b**tc if on else 1.0 for b, on in zip(cb, bias))
    new, m, v = {}, {}, {}
    for k, p in params.items():
        m[k] = moment(state["m"][k], mb[0], grads[k])
        v[k] = moment(state["v"][k], mb[1], square(grads[k]))
        new[k] = update(p, lr * (m[k] / c1) / denom(v[k] / c2, eps, c2))
        if hats:
            m[k], v[k] = m[k] / c1, v[k] / c2
    return new, (state if keep else {"t": t_kept(state["t"]), "m": m, "v": v})


def _w(**options):
    return lambda params, grads, state, **hp: _step(params, grads, state, **hp, **options)


MISTAKES = [
    Mistake("no_bias", answer=_w(bias=(False, False)), hint="缺少偏差修正：m、v 从 0 开始累积，前几步明显偏小，必须先除以 (1 - beta1**t)、(1 - beta2**t) 得到 m_hat、v_hat，再用 p - lr * m_hat / (np.sqrt(v_hat) + eps) 更新。" + RULE),
    Mistake("only_m", answer=_w(bias=(True, False)), hint="只对 m 做了偏差修正，v 没有修正：v_hat = v / (1 - beta2**t) 也要算。" + RULE),
    Mistake("only_v", answer=_w(bias=(False, True)), hint="只对 v 做了偏差修正，m 没有修正：m_hat = m / (1 - beta1**t) 也要算。" + RULE),
    Mistake("old_t", answer=_w(t_of=lambda t: t), hint=OLD_T),
    Mistake("t_not_incremented", answer=_w(t_kept=lambda t: t), hint='步数没有加 1：new_state["t"] 应等于 state["t"] + 1。每调用一次就是一步，下一步的偏差修正要用新的 t。'),
    Mistake("eps_inside", answer=_w(denom=lambda v_hat, eps, c2: np.sqrt(v_hat + eps)), hint="eps 放进了平方根里：minigan（和 PyTorch 一样）用 np.sqrt(v_hat) + eps，eps 加在平方根之外，不是 np.sqrt(v_hat + eps)。"),
    Mistake("eps_uncorrected", answer=_w(denom=lambda v_hat, eps, c2: np.sqrt(v_hat) + eps / c2**0.5), hint="eps 加在了未经修正的 np.sqrt(v) 上（Adam 论文里的\"高效写法\" lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)）：minigan 的约定是先修正、再加 eps，即 np.sqrt(v_hat) + eps，两者在 eps 不可忽略时结果不同。"),
    Mistake("swapped", answer=_w(swap=(True, True)), hint="beta1 和 beta2 用反了：一阶矩 m 用 beta1（默认 0.5），二阶矩 v 用 beta2（默认 0.999），偏差修正也一样：m_hat = m / (1 - beta1**t)，v_hat = v / (1 - beta2**t)。"),
    Mistake("swapped_correction", answer=_w(swap=(False, True)), hint="偏差修正里 beta1 与 beta2 对调了：m_hat = m / (1 - beta1**t)，v_hat = v / (1 - beta2**t)；m、v 本身的更新是对的。"),
    Mistake("v_abs", answer=_w(square=np.abs), hint="v 累积的是梯度的绝对值 |g|，应该是梯度的平方：v = beta2 * v + (1 - beta2) * g**2（逐元素平方，np.square(g) 或 g * g）。"),
    Mistake("v_lin", answer=_w(square=lambda g: g), hint="v 累积的是梯度 g 本身，应该是梯度的平方：v = beta2 * v + (1 - beta2) * g**2。累积 g 时 v 可能为负，np.sqrt 就会给出 nan。"),
    Mistake("recomputed", answer=_w(moment=lambda old, b, x: (1 - b) * x), hint="m、v 没有接着上一步累积：每一步都从 0 重新开始（m = (1 - beta1) * g）。应从 state 里取出上一步的 m、v：m = beta1 * m + (1 - beta1) * g，v 同理。"),
    Mistake("not_carried", answer=_w(keep=True), hint="m、v 没有写回新状态：new_state 里的 m、v 还是传入的旧值。返回更新后的 m、v（新数组），下一步要在它们的基础上继续累积；只在函数内部更新局部变量是不够的。"),
    Mistake("corrected_state", answer=_w(hats=True), hint="new_state 里存的是偏差修正后的 m_hat、v_hat：state 保存未修正的原始矩 m、v，下一步在它们上面继续累积；m_hat = m / (1 - beta1**t)、v_hat = v / (1 - beta2**t) 只在更新参数时临时使用，不要写回 state。"),
    Mistake("sign", answer=_w(update=lambda p, step: p + step), hint="符号反了，这是梯度上升：Adam 沿梯度的反方向走，p = p - lr * m_hat / (np.sqrt(v_hat) + eps)，用的是减号。"),
    Mistake("upcast", "dtype 被提升了", _w(moment=lambda old, b, x: b * old.astype(float) + (1 - b) * x), check="dtype"),
    Mistake("params_in_place", IN_PLACE_PARAMS, _w(update=lambda p, d: np.subtract(p, d, out=p)), check="unchanged"),
    Mistake("grads_in_place", IN_PLACE_GRADS, _w(square=lambda g: np.multiply(g, g, out=g)), check="unchanged"),
    Mistake("moments_in_place", IN_PLACE_STATE, check="unchanged", answer=_w(moment=lambda old, b, x: np.add(np.multiply(old, b, out=old), (1 - b) * x, out=old))),
    Mistake("state_dict", STATE_DICT_MUTATED, check="state", answer=lambda p, g, state, **hp: (_step(p, g, state, **hp), state.update(t=state["t"] + 1))[0]),
    Mistake("pytorch_defaults", "beta1 的默认值应为 0.5", check="defaults", answer=lambda p, g, s, *, lr=1e-3, beta1=0.9, **hp: _step(p, g, s, lr=lr, beta1=beta1, **hp)),
    Mistake("no_defaults", "都加上默认值", check="defaults", answer=lambda p, g, s, *, lr, beta1, beta2, eps: _step(p, g, s, lr=lr, beta1=beta1, beta2=beta2, eps=eps)),
]


def reference(params, grads, state, *, lr, beta1, beta2, eps):
    """One step of :class:`minigan.optim.Adam` from ``state``, on copies (inputs untouched)."""
    opt = Adam(snapshot(params), lr=lr, betas=(beta1, beta2), eps=eps)
    opt.t, opt.state = int(state["t"]), snapshot({b: state[b] for b in ("m", "v")})
    opt.step(snapshot(grads))
    return opt.params, {"t": opt.t, **snapshot(opt.state)}


def _arrays(value, what, like):
    if not (isinstance(value, dict) and set(value) == set(like) and all(
            isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.shape == like[k].shape for k, a in value.items())):
        raise Failure(f"{what} 不是键为 {sorted(like)}、值为同形状浮点数组的字典", f"{what} 是一个字典，键与 params 相同，每个值是与对应参数同形状的浮点 NumPy 数组（Adam 对每个元素分别更新）；{STATE_LAYOUT}。")
    return dict(value)


def call(fn, params, grads, state, **hp):
    """``[(new_params, new_state), ...]``, one per step of ``grads`` (a dict, or a list of dicts: each step from the
    answer's own previous output), validated and copied; or :class:`Failure` for a wrong form."""
    out = []
    for g in grads if isinstance(grads, list) else [grads]:
        got = call_learner("adam_step", fn, params, g, state, **hp)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise Failure(f"返回了 {type(got).__name__}，不是 (new_params, new_state)", "返回两个值：新的参数字典和新的状态字典，return new_params, new_state。")
        t = got[1].get("t") if isinstance(got[1], dict) else None
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise Failure(f'new_state["t"] 是 {type(t).__name__}', f'new_state 的结构与 state 相同：{STATE_LAYOUT}；new_state["t"] 是整数：已经走过的步数。')
        params = _arrays(got[0], "new_params", params)
        state = {"t": int(t), **{b: _arrays(got[1].get(b), f'new_state["{b}"]', params) for b in ("m", "v")}}
        out.append(snapshot((params, state)))  # a later step may change the answer's arrays in place
    return out


def _explain(exc):
    if isinstance(exc := _kit.original(exc), TypeError) and "keyword" in str(exc):
        return "函数签名应为 my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8)：超参数按关键字传入，名字就是 lr、beta1、beta2、eps。"
    return OLD_T if isinstance(exc, ZeroDivisionError) else ""


def _case(seed, shapes, hp, steps=4, scale=(-3, 1), t0=0, dtype=np.float64):
    """``steps`` gradients of mixed magnitudes (10**scale: eps matters for some) and both signs, from step ``t0`` (zero
    moments at 0, else random ones)."""
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    m, v = ({k: (f * (t0 > 0) * rng.standard_normal(s) ** e).astype(dtype) for k, s in shapes.items()}
            for f, e in ((0.1, 1), (0.01, 2)))  # zero moments before the first step
    grads = [{k: (rng.standard_normal(s) * 10.0 ** rng.uniform(*scale, s)).astype(dtype) for k, s in shapes.items()}
             for _ in range(steps)]
    label = "、".join(f"{k}={v:g}" for k, v in hp.items()) + f"，{np.dtype(dtype).name}，从 t = {t0} 起连续 {steps} 步"
    return Case(label, (params, grads, {"t": t0, "m": m, "v": v}), dict(hp))


SETTINGS = ({"lr": 0.01, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8}, {"lr": 0.05, "beta1": 0.9, "beta2": 0.99, "eps": 1e-3})


def cases(seed):
    return [_case(seed + 10, {"W": (3, 4), "b": (4,)}, SETTINGS[0]),
            _case(seed + 11, {"0.W": (2, 3), "0.b": (3,), "2.W": (3, 1)}, SETTINGS[1]),
            _case(seed + 12, {"W": (3, 2), "b": (2,)}, SETTINGS[0], steps=2, t0=3)]


def _state_kept(answer, seed):
    params, grads, state = cases(seed)[-1].fresh()[0]
    call(answer, params, grads, state)
    if state.get("t") != 3 or set(state) != {"t", "m", "v"}:
        raise Failure(f'传入的 state 被改动了：state["t"] 由 3 变成了 {state.get("t")!r}，或者键变了', STATE_DICT_MUTATED)
    return 'state["t"] 和 state 的键都没有变'


def _defaults(answer, seed):
    try:
        said = {k: p.default for k, p in inspect.signature(answer).parameters.items() if k in DEFAULTS}
    except (TypeError, ValueError):
        said = {}
    if any(d is inspect.Parameter.empty for d in said.values()):
        raise Failure("有的超参数没有默认值", f"给 lr、beta1、beta2、eps 都加上默认值，与 minigan.optim.Adam 相同：{WANTED}。")
    wrong = "；".join(f"{k} 的默认值应为 {DEFAULTS[k]:g}（现在是 {d!r}）" for k, d in said.items() if d != DEFAULTS[k])
    if wrong:
        why = "minigan 沿用 DCGAN 的设置 beta1 = 0.5；0.9 是 PyTorch 等库的通用默认值，GAN 训练一般用更小的 beta1。" if "beta1" in wrong else ""
        raise Failure(wrong, f"默认值与 minigan.optim.Adam 不同：{wrong}。{why}")
    args = cases(seed)[0].fresh()[0]
    if not tree_equal(call(answer, *snapshot(args)), call(answer, *args, **DEFAULTS)):
        raise Failure("不传超参数时的结果，与显式传入 minigan.optim.Adam 的默认值时不同", f"不传关键字参数时应使用与 minigan.optim.Adam 相同的默认值：{WANTED}。")
    return f"默认值与 minigan 相同：{WANTED}"


def _strategy():
    from hypothesis import strategies as st

    return st.tuples(st.sampled_from(["float32", "float64"]), st.sampled_from([1e-4, 2e-4, 1e-3, 1e-2, 0.1]),
                     st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.95]), st.sampled_from([0.9, 0.99, 0.999, 0.9999]),
                     st.sampled_from([1e-8, 1e-6, 1e-3]), st.integers(0, 1000), st.integers(1, 3),
                     st.integers(0, 2**16))


def _example(drawn):
    """1-3 parameters of random shapes (1-3 dimensions of 1-4) from ``seed``, ``steps`` steps from step ``t0``."""
    dtype, lr, b1, b2, eps, t0, steps, seed = drawn
    sizes = np.random.default_rng(seed).integers(1, 5, (3, 3))
    shapes = {f"p{i}": tuple(sizes[i, : 1 + (seed + i) % 3]) for i in range(1 + seed % 3)}
    return _case(seed, shapes, {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}, steps, t0=t0, dtype=np.dtype(dtype))


def _part(name, row, **more):
    """``name`` at each step, compared to its own dtype's precision; the detail says at which step it is off."""
    i = ("new_params", "new_state").index(name)
    return Part(name, lambda out: [o[i] for o in out], row=row, hint=GENERIC, **more, equal=lambda got, ref, dtype: tree_equal(got, ref, _kit.tolerance(_kit.tree_arrays(ref)[0].dtype)), show=lambda got, ref: f"第 {_first_off(got, ref)} 步的 {name} 与 minigan.optim.Adam 不同")


def _first_off(got, ref):
    return 1 + next((j for j, (g, r) in enumerate(zip(got, ref)) if not tree_equal(g, r)), len(ref) - 1)


EXERCISE = FunctionExercise(
    name="adam_step",
    description="一步带偏差修正的 Adam 更新：(params, grads, state, *, lr, beta1, beta2, eps) -> (new_params, new_state)",
    form="(new_params, new_state)", call=call, reference=reference, cases=cases, mistakes=MISTAKES,
    parts=[_part("new_params", "new_params：连续 4 步与 minigan.optim.Adam 一致（float64）"),
           _part("new_state", "new_state：t、m、v 与 minigan.optim.Adam 一致", diagnose=lambda got, ref, case: "" if
                 [s["t"] for s in got] == [s["t"] for s in ref] else 'new_state["t"] 应等于 state["t"] + 1：每调用一次走一步。')],
    regimes=[Regime("第一步：每个坐标移动约 lr", lambda seed: [_case(seed + 1, {"W": (4, 5), "b": (5,)}, SETTINGS[0], 1, (-2, 2))],
                    "第一步 t = 1，m_hat = g、v_hat = g**2，所以每个坐标都移动约 lr（方向与梯度相反），与梯度大小无关。" + GENERIC)],
    extra=[('传入的 state["t"] 保持不变', _state_kept), ("默认超参数与 minigan.optim.Adam 相同", _defaults)],
    unchanged={0: IN_PLACE_PARAMS, 1: IN_PLACE_GRADS, 2: IN_PLACE_STATE},
    float32=lambda seed: _case(seed + 10, {"W": (3, 4), "b": (4,)}, SETTINGS[0], dtype=np.float32),
    upcast=UPCAST.format(culprits="np.float64(lr)、np.array(beta1)、.astype(float)、np.zeros(p.shape)（默认 float64）"),
    strategy=_strategy, example=_example, explain=_explain, usage="my_adam_step",
)
