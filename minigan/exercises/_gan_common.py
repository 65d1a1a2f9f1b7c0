"""What the GAN-level exercises share (generator_gradient, minimax_gradient, discriminator_gradient; train_step imports
hints and :func:`saturate`).

Small minigan networks; a *saturated* discriminator (its last Dense layer rescaled so that its logits on a batch
spread over -2e3..-1e2 or 1e2..2e3: D(x) is exactly 0 or 1 in float32); the contract reader of a gradient dict; the
gradient part checked against finite differences; and the declaration of a generator exercise: for a loss L(l) of
D's logits l = D(G(z)) (N, 1) the answer returns dL/dθ_G = G.backward(D.backward(dL/dl)) as a dict keyed like
``G.params()``, with the mistakes both generator exercises share (:func:`g_mistakes`).
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..gan import build_discriminator, build_generator
from . import _kit
from ._kit import DOWNCAST, UPCAST, Case, Failure, FunctionExercise, Mistake, Part, Regime, shape_str

#: hint for NaN / inf that appears only when D is saturated (|logits| >= 1e2)
PROB_NAN = "在判别器饱和（logits 的绝对值达到 1e2 以上）时出现了 NaN 或 inf：你是通过 D 的概率 p = sigmoid(logits) 来计算的，例如 log(sigmoid(logits))、log(1 - p)，或 -1/(N p) * p(1-p) 这类先对概率求导再乘 sigmoid 导数的写法。float32 里 sigmoid(-200) 舍入为 0、sigmoid(20) 舍入为 1，于是 log(0) = -inf、0 * inf = NaN。请直接从 logits 计算：损失用 max(z,0) - z*y + log1p(exp(-|z|))（或 np.logaddexp），对 logits 的梯度直接写成 sigmoid(z) 的式子（例如 BCE 的 (sigmoid(z) - y) / N），sigmoid 用分段稳定的写法。"
#: hint for a loss that is finite but capped at saturation (eps inside a log, a clip)
CAPPED = "判别器饱和时损失值偏小：log(p + eps) 或 np.clip(p, eps, 1 - eps)（或截断 logits）把真实的损失（logit 为 -1e3 的真实样本，损失约 1e3）截成了几十。直接从 logits 计算损失就不需要 eps：max(z,0) - z*y + log1p(exp(-|z|))。"
STABLE = "e = exp(-|l|)：l >= 0 时 sigmoid(l) = 1/(1+e)，l < 0 时 = e/(1+e)"
PRECISION = "只在 float32 的精度上正确（约 7 位有效数字）：float64 的网络在计算中被转成了 float32（例如 logits.astype(np.float32)、np.float32(...) 或 dtype=np.float32 新建的数组），或者公式里加了一个很小的 eps。不要写死 dtype：沿用输入的 dtype。"
MEAN_COPIED = "每一行的 dlogits 都一样：你把逐样本梯度的平均值复制到了每一行（例如 np.full_like(logits, np.mean(...))）。每个样本都有它自己的 dL/dlogit_i = {f}（用第 i 个 logit 计算）；批平均是在损失里取的，体现为其中的 1/N，而不是再对逐样本的梯度取平均。"
#: the hint for each argument an answer must leave unchanged, by name
MUTATED = {"G": "你的函数改动了生成器的参数：只返回梯度，更新参数是优化器的事。", "D": "你的函数改动了判别器的参数：它只应计算梯度（和损失），不更新参数——更新参数是优化器的事（opt.step(grads)），训练生成器的那一步里 D 根本不更新。", "z": "你的函数原地修改了 z：保持这批噪声不变。", "x_real": "你的函数原地修改了输入的批：保持 x_real、x_fake 不变。", "x_fake": "你的函数原地修改了输入的批：保持 x_real、x_fake 不变。"}
UPCAST_GAN = UPCAST.format(culprits="np.float64(1 / N) 这样的系数、np.ones(logits.shape) 这类默认 float64 的数组、np.prod(logits.shape) 或 np.int64(len(x)) 这样的 np.int64 批大小")
SATURATED = (100.0, 2000.0)  # |logits| spread over this range in the saturated regime
CHAIN = "整条链：fake, g_cache = G.forward(z)；logits, d_cache = D.forward(fake)；dlogits = {f}；d_fake, _ = D.backward(dlogits, d_cache)；_, grads = G.backward(d_fake, g_cache)。"


def arrow(sizes) -> str:
    return "->".join(str(s) for s in sizes)


def last_layer(D) -> tuple[np.ndarray, np.ndarray]:
    """The live W and b of D's last Dense layer (the one that produces the logits)."""
    params = D.params()
    last = max((k for k in params if k.endswith(".W")), key=lambda k: int(k.split(".")[0]))
    return params[last], params[last[:-1] + "b"]


def saturate(D, scale: float) -> None:
    """Multiply D's last layer (W and b) by ``scale``, in place: logits scale with it."""
    for p in last_layer(D):
        p *= scale


def spread(D, x, lo: float, hi: float) -> None:
    """Rescale D's last layer in place so that D's logits on the batch ``x`` run from ``lo`` to ``hi``."""
    W, b = last_layer(D)
    u = (D(x) - b).astype(np.float64).ravel()  # x's last hidden layer times W: what W's scale multiplies
    k = (hi - lo) / max(float(u.max() - u.min()), 1e-12)
    W *= W.dtype.type(k)
    b[...] = lo - k * float(u.min())


def saturated_cases(seed, make, inputs) -> list:
    """The saturated regime: a float64 case ``make(rng, dtype)`` as it is (so that an answer wrong everywhere is named
    by its mistake there), then for float64 and float32 and each sign one with D rescaled (:func:`spread`) so that
    its logits on its input batch (``inputs(*args) -> (D, x)``) run over -2e3..-1e2 (D confidently says "fake") or
    1e2..2e3 ("real")."""
    rng, (lo, hi) = np.random.default_rng(seed + 1), SATURATED
    out = [Case("float64，普通大小的 logits（对照）", make(rng, np.float64).args)]
    for dtype in (np.float64, np.float32):  # float64 first: there a mistake's output matches to 1e-9
        for sign in (-1, 1):
            args = make(rng, dtype).args
            D, x = inputs(*args)
            spread(D, x, *((-hi, -lo) if sign < 0 else (lo, hi)))
            logits = D(x)
            out.append(Case(f"{np.dtype(dtype).name}，D 很有把握地{'判为假' if sign < 0 else '判为真'}（logits 从 {float(logits.min()):.4g} 到 {float(logits.max()):.4g}）", args))
    return out


def tail(dtype, scale) -> str:
    return f" {np.dtype(dtype).name}" + (f"，D 最后一层放大 {scale:g} 倍" if scale != 1.0 else "")


def strategy(scales):
    """Hypothesis draws shared by the three: (z_dim, G's hidden, x_dim, D's hidden, n, m, dtype, D's scale, seed)."""
    def draw():
        from hypothesis import strategies as st
        sizes = st.lists(st.integers(1, 5), min_size=1, max_size=2)
        return st.tuples(st.integers(1, 4), sizes, st.integers(1, 3), sizes, st.integers(1, 6), st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.sampled_from(scales), st.integers(0, 2**16))
    return draw


def chain_through(G, D, z, dlogits_of) -> dict:
    """G's parameter gradients when ``dlogits_of(logits)`` is fed back through D and G (minigan's modules)."""
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    return G.backward(d_fake, g_cache)[1]


def via(dlogits_of):
    """The answer that feeds ``dlogits_of(logits)`` back through D and G."""
    return lambda G, D, z: chain_through(G, D, z, dlogits_of)


def flat(grads: dict) -> np.ndarray:
    return np.concatenate([np.ravel(v).astype(np.float64) for v in grads.values()])


def check_grads_dict(grads, model, who: str, other=None) -> dict:
    """``grads`` with exactly the keys, shapes and (float64) dtype of ``model.params()``, in its key order, or
    :class:`Failure`; ``who`` ("G", "D") names the network, ``other`` (D) the one whose gradients it must not be."""
    params = model.params()
    if isinstance(grads, tuple) and any(isinstance(g, dict) for g in grads):
        raise Failure(f"返回了含 {len(grads)} 个元素的元组", f"只返回 {who} 的梯度字典（键与 {who}.params() 相同），不要再附带别的值。")
    if not isinstance(grads, dict):
        raise Failure(f"返回的是 {type(grads).__name__}，不是字典", f"返回一个字典，键与 {who}.params() 相同（{{'0.W': ..., '0.b': ..., ...}}），即 {who}.backward 返回的那种。")
    o = other.params() if other is not None else {}
    if o and grads and all(k in o and np.shape(v) == o[k].shape for k, v in grads.items()) and \
            any(k not in o or params[k].shape != o[k].shape for k in params):
        raise Failure("返回的梯度形状与 D 的参数相同", "这是判别器的参数梯度，练习要的是 G 的：把 D.backward 返回的 dx（对 D 的输入、即生成样本的梯度）再交给 G.backward。")
    if set(grads) != set(params):
        raise Failure(f"键 {sorted(map(str, grads))} 与 {who}.params() 的键 {sorted(params)} 不同", f"{who} 的每个参数都要有一个梯度，键与 {who}.params() 相同。")
    for k, v in grads.items():
        if not isinstance(v, np.ndarray) or v.shape != params[k].shape:
            raise Failure(f"grads[{k!r}] 的形状是 {shape_str(np.shape(v))}，参数 {k!r} 的形状是 {shape_str(params[k].shape)}", "每个梯度的形状都与它对应的参数相同。")
        if params[k].dtype == np.float64 and v.dtype.kind == "f" and v.dtype.itemsize < 8:
            raise Failure(f"float64 的网络得到了 {v.dtype} 的 grads[{k!r}]", DOWNCAST)
    return {k: grads[k] for k in params}


def grads_part(who: str, get, loss, row: str, hint: str) -> Part:
    """The gradient dict of ``who``'s parameters, checked against float64 central differences of ``loss(*args)`` with
    respect to the parameters of the case's first argument."""
    def numeric(answer, case):
        args, _ = case.fresh()
        pairs = [_kit.numeric_gradient(lambda: loss(*args), p) for p in args[0].params().values()]
        return tuple(np.concatenate([q[i].ravel() for q in pairs]) for i in (0, 1))

    def diagnose(got, ref, case):
        a, r = flat(got), flat(ref)
        if np.all(np.isfinite(a)) and 1e-10 < np.max(np.abs(a - r)) / max(np.max(np.abs(r)), 1e-300) < 1e-4:
            return PRECISION
        return _kit.factor_hint(f"{who} 的梯度", a, r, n=len(case.args[-1]))

    def show(got, ref):
        return "与参考梯度不同的参数：" + "、".join(k for k in ref if not _kit.tree_equal(got[k], ref[k]))

    return Part(f"{who} 的梯度", get, row=row, hint=hint, numeric=numeric, diagnose=diagnose, show=show)


def d_case(rng, x_dim, hidden, n_real, n_fake, dtype=np.float64, scale=1.0) -> Case:
    D = build_discriminator(x_dim, tuple(hidden), dtype=dtype, rng=rng)
    if scale != 1.0:
        saturate(D, scale)
    xr = (rng.standard_normal((n_real, x_dim)) * 0.8).astype(dtype)
    xf = rng.uniform(-1, 1, (n_fake, x_dim)).astype(dtype)
    return Case(f"D {arrow((x_dim, *hidden, 1))}，x_real {shape_str(xr.shape)}，x_fake {shape_str(xf.shape)}"
                + tail(dtype, scale), (D, xr, xf))


def make_pair(rng, z_dim, g_hidden, x_dim, d_hidden, dtype=np.float64):
    """A generator z_dim -> g_hidden -> x_dim (tanh) and a discriminator x_dim -> d_hidden -> 1."""
    return (build_generator(z_dim, tuple(g_hidden), x_dim, dtype=dtype, rng=rng),
            build_discriminator(x_dim, tuple(d_hidden), dtype=dtype, rng=rng))


def g_case(rng, z_dim, g_hidden, x_dim, d_hidden, n, dtype=np.float64, scale=1.0) -> Case:
    G, D = make_pair(rng, z_dim, g_hidden, x_dim, d_hidden, dtype)
    if scale != 1.0:
        saturate(D, scale)
    z = rng.standard_normal((n, z_dim)).astype(dtype)
    return Case(f"G {arrow((z_dim, *g_hidden, x_dim))}，D {arrow((x_dim, *d_hidden, 1))}，z {shape_str(z.shape)}"
                + tail(dtype, scale), (G, D, z))


def g_cases(seed) -> list:
    """Two float64 cases whose G and D parameter shapes differ (so D's gradients are told apart from G's)."""
    rng = np.random.default_rng(seed)
    return [g_case(rng, *spec) for spec in ((3, (5, 4), 2, (6,), 7), (2, (3,), 3, (4, 4), 4))]


def g_call(fn, G, D, z) -> dict:
    """The answer's G-gradient dict, in ``G.params()``' key order, or :class:`Failure`."""
    return check_grads_dict(_kit.call_learner("你的函数", fn, G, D, z), G, "G", D)


def g_mistakes(formula: str, dlogits, dprob, dprob_text: str) -> list:
    """The mistakes both generator exercises share, for the loss whose dL/dlogits is ``dlogits(l)`` (``formula`` in
    words); ``dprob(l)`` is its derivative with respect to the probability D = sigmoid(l) (``dprob_text``)."""
    def skipped_d(G, D, z):  # dlogits (N, 1) straight into G.backward: NumPy broadcasts it over G's outputs
        fake, g_cache = G.forward(z)
        return G.backward(dlogits(D(fake)), g_cache)[1]

    def d_grads(G, D, z):
        logits, d_cache = D.forward(G(z))
        return D.backward(dlogits(logits), d_cache)[1]

    def divided(n_of):  # the chain without 1/N, each gradient divided by n_of(N) afterwards
        return lambda G, D, z: {k: v / n_of(len(z)) for k, v in via(lambda l: dlogits(l) * l.size)(G, D, z).items()}

    def updates_d(G, D, z):
        grads = via(dlogits)(G, D, z)
        for p in D.params().values():
            p *= 0.99
        return grads

    chain = CHAIN.format(f=formula)
    return [
        Mistake("missing_mean", f"漏了 1/N：梯度是正确值的 N 倍。损失是批内的平均值，所以 dlogits = {formula}，N 是批大小（logits.size）。", via(lambda l: dlogits(l) * l.size)),
        Mistake("probability", f"对概率 D = sigmoid(logits) 求了导（dL/dD = {dprob_text}），但 D.backward 需要的是对 logits 的梯度：还要乘上 sigmoid'(logits) = D (1 - D)，化简得 {formula}。直接从 logits 计算，不要先除以 D 再乘回来（D 舍入成 0 或 1 时会得到 0 · inf = NaN）。", via(dprob)),
        Mistake("skipped_d", "跳过了 D：dlogits（形状 (N, 1)）被直接送进了 G.backward，跳过了判别器的反向（NumPy 把它广播到了 G 的所有输出上）。G.backward 需要的是对 G 输出的梯度，也就是 D.backward 返回的 dx。" + chain, skipped_d),
        Mistake("nothing_flows", "梯度全为 0：梯度没有传到 G 的参数。" + chain, via(np.zeros_like)),
        Mistake("mean_copied", MEAN_COPIED.format(f=formula), via(lambda l: np.full_like(l, np.mean(dlogits(l))))),
        Mistake("float32_logits", PRECISION, via(lambda l: dlogits(l.astype(np.float32)))),
        Mistake("d_grads", "这是判别器的参数梯度", d_grads, check="form"),
        Mistake("updates_d", MUTATED["D"], updates_d, check="unchanged"),
        Mistake("returns_float32", DOWNCAST, lambda *a: {k: v.astype(np.float32) for k, v in via(dlogits)(*a).items()}, check="form"),
        Mistake("upcast", "dtype 被提升了", divided(np.float64), check="dtype"),
        Mistake("int64_size", "除以一个 np.int64 整数标量", divided(np.int64), check="dtype"),
    ]


def g_explain(formula: str):
    def explain(exc):
        text = str(_kit.original(exc))
        if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
            return "链条上的形状对不上：G.backward 需要的是对 G 输出的梯度，形状 (N, out_dim)，也就是 D.backward 返回的 dx，而不是 dlogits (N, 1)。" + CHAIN.format(f=formula)
        return ""
    return explain


def generator_exercise(name, description, kind, formula, mistakes, saturated_hint=None, scales=(1.0,)):
    """The declaration of a generator exercise whose loss is ``losses.generator_loss(l, kind)``; at saturation
    ``saturated_hint(got, ref, case)`` names a failure ("" for none; default: NaN/inf is :data:`PROB_NAN`)."""
    def loss(G, D, z):
        return losses.generator_loss(D(G(z)), kind)[0]

    return FunctionExercise(
        name=name, description=description, form="G 的梯度字典（键和形状同 G.params()）", call=g_call,
        reference=lambda G, D, z: chain_through(G, D, z, lambda l: losses.generator_loss(l, kind)[1]),
        cases=g_cases, mistakes=mistakes, explain=g_explain(formula), usage=f"my_{name}", upcast=UPCAST_GAN,
        parts=[grads_part("G", lambda out: out, loss, "穿过 D 的梯度（梯度检验，float64 有限差分）",
                          f"G 的梯度与有限差分不一致：dL/dlogits = {formula}，再依次经过 D.backward 和 G.backward。" + CHAIN.format(f=formula))],
        regimes=[Regime("饱和的判别器：logits 从 ±1e2 到 ±2e3（float32 与 float64）",
                        lambda seed: saturated_cases(seed, lambda rng, dtype: g_case(rng, 3, (5,), 2, (6,), 8, dtype),
                                                     lambda G, D, z: (D, G(z))),
                        f"在饱和的 logits 上与精确梯度不一致：dlogits = {formula} 要直接从 logits 计算（稳定的 sigmoid：{STABLE}），不要经过概率 p、log 或 eps。",
                        saturated_hint or (lambda got, ref, case: "" if _kit.finite(got) else PROB_NAN))],
        float32=lambda seed: g_case(np.random.default_rng(seed), 3, (4,), 2, (3,), 5, np.float32),
        unchanged={i: MUTATED[n] for i, n in enumerate("GDz")}, strategy=strategy(scales),
        example=lambda d: g_case(np.random.default_rng(d[-1]), *d[:5], d[6], d[7]))
