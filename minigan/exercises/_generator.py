"""Checker for the ``generator_gradient`` exercise: ``(G, D, z) -> grads``.

The answer returns d L_G / d(G's parameters) for the non-saturating generator loss
``L_G = -mean log D(G(z)) = BCE(D's logits on G(z), 1)`` (the article's code, section
4.3), differentiated *through* the discriminator: a dict keyed like ``G.params()``.

Besides the gradient check at ordinary logits, the answer is run on *saturated*
discriminators (logits of +-1e2 up to +-2e3, float32 and float64), the regime of a
discriminator that wins for thousands of steps in the chapter 4 run: an answer that goes
through the probability p = sigmoid(logit) (``-1/(N p) * p (1 - p)``) is exact at ordinary
logits but NaN there.  Learner-facing text is Simplified Chinese.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import losses
from ..gan import build_discriminator, build_generator
from ..nn.activations import sigmoid
from ._gan_common import chain_through, flat, generator_setups
from ._kit import (
    ExerciseResult,
    Failure,
    Probe,
    Session,
    call_learner,
    changed,
    close,
    diagnose_gradient,
    numeric_gradient,
    original,
    run_property,
    shape_str,
    snapshot,
    worst_error,
)
from ._modules import DOWNCAST, UPCAST

NAME = "generator_gradient"
DESCRIPTION = "非饱和生成器损失 -mean log D(G(z)) 对 G 参数的梯度（穿过判别器 D）"

CHAIN = ("整条链：fake, g_cache = G.forward(z)；logits, d_cache = D.forward(fake)；"
         "dlogits = (sigmoid(logits) - 1) / N；d_fake, _ = D.backward(dlogits, d_cache)；"
         "_, grads = G.backward(d_fake, g_cache)。")

STABLE_SIGMOID = "e = exp(-|l|)：l >= 0 时 sigmoid(l) = 1/(1+e)，l < 0 时 = e/(1+e)"

THROUGH_P = ("D 很有把握地判为假（logits <= -1e2）时，D(G(z)) = p = sigmoid(logit) 下溢为 0：你的梯度经过了概率 p"
             "（例如 -1/(N p) · p(1 - p)），1/p 上溢为 inf，0 · inf = NaN。数学上没错，数值上却会坏掉——"
             "第 4 章的训练中判别器占上风的几千步里正是这种情况。要对 logits 求导并先化简："
             f"dL/dlogit = (sigmoid(l) - 1)/N，sigmoid 用稳定的写法（{STABLE_SIGMOID}），不要先除以 p 再乘回来。")
EXP_OVERFLOW = ("D 很有把握地判为真（logits >= 1e2）时出现了 NaN/inf：多半是 sigmoid 写成了 exp(l) / (1 + exp(l))"
                "（exp(l) 上溢为 inf，inf / inf = NaN），或者除以了舍入成 0 的 1 - p。"
                f"用稳定的 sigmoid（{STABLE_SIGMOID}）：dL/dlogit = (sigmoid(l) - 1)/N。")
VANISHED = ("D 很有把握地判为假时，你的梯度几乎为零，而非饱和损失的梯度此时应当最大（dL/dlogit ≈ -1/N）："
            "很可能经过了概率 p 又加了 eps 或裁剪（p(1 - p) / (p + eps) 在 p 远小于 eps 时趋于 0），"
            "或者用的是会饱和的极小极大损失（文章 §3.4）。对 logits 求导：dL/dlogit = (sigmoid(l) - 1)/N。")
SATURATED_OFF = ("在饱和的 logits 上与精确梯度不一致：dL/dlogit = (sigmoid(l) - 1)/N 要直接从 logits 计算"
                 f"（稳定的 sigmoid：{STABLE_SIGMOID}），不要经过概率 p、log 或 eps。")
PRECISION = ("只在 float32 的精度上正确（约 7 位有效数字）：float64 的网络在计算中被转成了 float32"
             "（例如 logits.astype(np.float32)、np.float32(...) 或 dtype=np.float32 新建的数组），"
             "或者公式里加了一个很小的 eps。不要写死 dtype：沿用输入的 dtype。")




def _skip_d(G, z, logits):
    fake, g_cache = G.forward(z)
    _, grads = G.backward(np.broadcast_to(losses.generator_loss(logits)[1], fake.shape).copy(), g_cache)
    return grads


def reference(G, D, z):
    return chain_through(G, D, z, lambda logits: losses.generator_loss(logits, "non_saturating")[1])


def _loss(G, D, z):
    return losses.generator_loss(D(G(z)), "non_saturating")[0]


def _explain(exc):
    exc = original(exc)
    text = str(exc)
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
        return ("链条上的形状对不上：G.backward 需要的是对 G 输出的梯度，形状 (N, out_dim)，也就是 D.backward "
                "返回的 dx，而不是 dlogits (N, 1)。" + CHAIN)
    return ""


def _call(answer, G, D, z, *, keep_dtype: bool = True):
    grads = call_learner("你的函数", answer, G, D, z)
    params = G.params()
    if isinstance(grads, tuple) and any(isinstance(g, dict) for g in grads):
        raise Failure(f"返回了含 {len(grads)} 个元素的元组",
                      "只返回 G 的梯度字典，键与 G.params() 相同。")
    if not isinstance(grads, dict):
        raise Failure(f"返回了 {type(grads).__name__}，不是 dict",
                      "返回一个键与 G.params() 相同的字典（{'0.W': ..., '0.b': ..., ...}），"
                      "也就是 G.backward 返回的 grads。")
    d_params = D.params()
    if grads and all(k in d_params and np.shape(v) == d_params[k].shape for k, v in grads.items()) and \
            any(k not in d_params or params[k].shape != d_params[k].shape for k in params):
        raise Failure("返回的梯度的形状与 D 的参数相同",
                      "这是判别器的参数梯度。练习要的是 G 的：把 D.backward 返回的 dx（对 D 的输入，即生成批的梯度）"
                      "继续传给 G.backward。" + CHAIN)
    if set(grads) != set(params):
        raise Failure(f"键 {sorted(grads)} 与 G.params() 的键 {sorted(params)} 不同",
                      "每个生成器参数对应一个梯度，键与 G.params() 相同。")
    for k, v in grads.items():
        if not isinstance(v, np.ndarray) or v.shape != params[k].shape:
            raise Failure(f"grads[{k!r}] 的形状是 {shape_str(np.shape(v))}，G.params()[{k!r}] 是 "
                          f"{shape_str(params[k].shape)}", "每个梯度与它的参数形状相同。")
    if keep_dtype:
        for k, v in grads.items():
            if params[k].dtype == np.float64 and v.dtype.kind == "f" and v.dtype.itemsize < 8:
                raise Failure(f"float64 的网络得到了 {v.dtype} 的 grads[{k!r}]", DOWNCAST)
    return grads


def _unchanged(before, G, D, z) -> None:
    """:class:`Failure` if G's or D's parameters or z differ from ``before = (g0, d0, z0)``."""
    g0, d0, z0 = before
    if changed(d0, D.params()):
        raise Failure("D 的参数被改动了",
                      "你的函数改动了判别器的参数：它只应计算 G 的梯度（GAN 的生成器那一步里，D 不更新）。")
    if changed(g0, G.params()):
        raise Failure("G 的参数被改动了", "你的函数改动了生成器的参数：只返回梯度，更新参数是优化器的事。")
    if changed(z0, z):
        raise Failure("z 被修改了", "你的函数原地修改了 z：保持这批噪声不变。")


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    setups = generator_setups(seed)

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}，不是函数",
                          "传入函数本身：check('generator_gradient', my_generator_gradient)。")
        _, G, D, z = setups[0]
        _call(answer, G, D, z, keep_dtype=False)
        return "返回字典，键和形状与 G.params() 相同"

    if not s.run("返回 G 的梯度（键和形状与 G.params() 相同）", first) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("穿过 D 的梯度（梯度检验）", lambda: _gradient(answer, setups))
    s.run("饱和的判别器：logits 从 ±1e2 到 ±2e3（float32 与 float64）", lambda: _saturated(answer, seed))
    s.run("G、D 和 z 保持不变", lambda: _no_mutation(answer, seed))
    s.run("dtype 保持：float32 进 float32 出，float64 进 float64 出", lambda: _dtype(answer, seed))
    s.run("性质测试（hypothesis）：随机网络、dtype", lambda: _property(answer, max_examples))



def _rel(a, ref) -> float:
    """Largest deviation of ``a`` from ``ref``, relative to ``ref``'s largest entry."""
    return float(np.max(np.abs(a - ref)) / max(float(np.max(np.abs(ref))), 1e-300))


def _gradient(answer, setups):
    details = []
    for label, G, D, z in setups:
        before = (snapshot(G.params()), snapshot(D.params()), z.copy())
        grads = _call(answer, G, D, z)
        _unchanged(before, G, D, z)  # else the finite differences below see other networks
        params = G.params()
        keys = list(params)
        nums, noises = [], []
        for k in keys:
            num, noise = numeric_gradient(lambda G=G, D=D, z=z: _loss(G, D, z), params[k])
            nums.append(num.ravel())
            noises.append(noise.ravel())
        n = z.shape[0]
        ref = flat(reference(G, D, z), keys)

        def via(dlogits_of, G=G, D=D, z=z, keys=keys):
            return flat(chain_through(G, D, z, dlogits_of), keys)

        probes = [
            Probe(via(lambda l: losses.generator_loss(l, "minimax")[1]),
                  "这是极小极大损失 mean log(1 - D(G(z)))（文章 §3.4 的公式）的梯度，而不是文章代码（§4.3）"
                  "最小化的非饱和损失 -mean log D(G(z))，即 BCE(logits, 1)，dlogits = (sigmoid(logits) - 1) / N。"
                  "D 很有把握地判为假时，极小极大损失的梯度几乎为零（饱和），非饱和损失的梯度却仍然明显。"),
            Probe(via(lambda l: losses.bce_with_logits(l, 0.0)[1]),
                  "标签写成了 0：这是 BCE(D(G(z)), 0)，是判别器给生成样本的标签。生成器希望 D 判为“真”："
                  "它的损失是 BCE(logits, 1)，dlogits = (sigmoid(logits) - 1) / N。"),
            Probe(via(lambda l: -1.0 / (l.size * sigmoid(l))),
                  "dL/dD = -1 / (N D(G(z))) 是对概率 D = sigmoid(logits) 的导数，但 D.backward 需要的是对 logits "
                  "的梯度：还要乘上 sigmoid'(logits) = D (1 - D)，化简得 (D - 1) / N。直接从 logits 计算 "
                  "(sigmoid(logits) - 1) / N，不要先除以 D 再乘回来（D 下溢为 0 时会得到 0 · inf = NaN）。"),
            Probe(flat(_skip_d(G, z, D(G(z))), keys),
                  "跳过了 D：dlogits（形状 (N, 1)）被直接送进了 G.backward（NumPy 把它广播到了 G 的所有输出上）。"
                  "G.backward 需要的是对 G 输出的梯度，也就是 D.backward 返回的 dx。" + CHAIN),
        ]
        scale_hints = {
            -1.0: "符号反了：这是 +mean log D(G(z)) 的梯度，沿它做梯度下降只会让 G 变差。"
                  "dlogits = (sigmoid(logits) - 1) / N。",
            0.0: "全为零：梯度没有传到 G 的参数。" + CHAIN,
        }
        if n > 1:
            scale_hints[float(n)] = (f"漏了 1/N：梯度是正确值的 N = {n} 倍。损失是批内的平均值，"
                                     "所以 dlogits = (sigmoid(logits) - 1) / N。")
        analytic = flat(grads, keys)
        try:
            details.append(diagnose_gradient("G 的梯度", analytic, np.concatenate(nums),
                                             np.concatenate(noises), ref, n=n, probes=probes,
                                             scale_hints=scale_hints))
        except Failure as f:
            hint = f.hint
            if np.all(np.isfinite(analytic)) and 1e-10 < _rel(analytic, ref) < 1e-4:
                hint = PRECISION
            raise Failure(f"{label}：{f.detail}", hint) from None
    return f"{len(setups)} 个网络，" + worst_error(details)


# --------------------------------------------------------------------------------------
# Saturated discriminators.

SATURATED = (100.0, 2000.0)  # |logits| spread over this range


def _saturate(G, D, z, sign):
    """Rescale D's last Dense layer in place so that its logits on G(z) spread over
    ``sign * SATURATED`` (both ends reached)."""
    names = [k for k in D.params() if k.endswith(".W")]
    last = max(names, key=lambda k: int(k.split(".")[0]))
    W, b = D.params()[last], D.params()[last[:-1] + "b"]
    u = (D(G(z)) - b).astype(np.float64).ravel()  # h @ W, the part the weights scale
    lo, hi = SATURATED
    k = (hi - lo) / max(float(u.max() - u.min()), 1e-12)
    if sign < 0:
        offset = -hi - k * float(u.min())
    else:
        offset = lo - k * float(u.min())
    W *= W.dtype.type(k)
    b[...] = offset


def _saturated_setups(seed):
    rng = np.random.default_rng(seed + 1)
    out = []
    for dtype in (np.float32, np.float64):
        for sign in (-1, 1):
            G = build_generator(3, (5,), 2, dtype=dtype, rng=rng)
            D = build_discriminator(2, (6,), dtype=dtype, rng=rng)
            z = rng.standard_normal((8, 3)).astype(dtype)
            _saturate(G, D, z, sign)
            out.append((dtype, sign, G, D, z))
    return out


def _saturated(answer, seed):
    # First at ordinary logits: an answer that is wrong everywhere is not a saturation
    # problem, and its hint belongs to the gradient check above.
    _, G, D, z = generator_setups(seed)[0]
    before = (snapshot(G.params()), snapshot(D.params()), z.copy())
    grads = _call(answer, G, D, z)
    _unchanged(before, G, D, z)
    ref = reference(G, D, z)
    if not all(close(grads[k], g, np.float32) for k, g in ref.items()):
        raise Failure("在普通大小的 logits 上梯度就已经与参考值不同",
                      "先修正上面的梯度检验；这一项检查的是判别器饱和（logits 很大）的情况。")
    for dtype, sign, G, D, z in _saturated_setups(seed):
        logits = D(G(z))
        before = (snapshot(G.params()), snapshot(D.params()), z.copy())
        name = np.dtype(dtype).name
        verdict = "判为假" if sign < 0 else "判为真"
        label = (f"{name}，D 很有把握地{verdict}（logits 从 {float(logits.min()):.4g} "
                 f"到 {float(logits.max()):.4g}）")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                grads = _call(answer, G, D, z)
        _unchanged(before, G, D, z)
        runtime = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)))
        ref = reference(G, D, z)
        keys = list(ref)
        a, r = flat(grads, keys), flat(ref, keys)
        if not np.all(np.isfinite(a)):
            bad = [k for k in keys if not np.all(np.isfinite(grads[k]))]
            detail = f"{label}：grads[{bad[0]!r}] 含有 NaN 或 inf"
            if runtime:
                detail += "（" + "；".join(runtime[:3]) + "）"
            raise Failure(detail, THROUGH_P if sign < 0 else EXP_OVERFLOW)
        if all(close(grads[k], ref[k], dtype) for k in keys):
            continue
        detail = f"{label}：与精确梯度相差 {_rel(a, r):.1e}（相对于最大的元素）"
        if sign < 0 and np.linalg.norm(a) < 1e-3 * np.linalg.norm(r):
            raise Failure(detail, VANISHED)
        raise Failure(detail, SATURATED_OFF)
    lo, hi = SATURATED
    return f"4 个饱和的网络（logits 从 ±{lo:.0e} 到 ±{hi:.0e}）：梯度有限，与精确值一致"


def _no_mutation(answer, seed):
    _, G, D, z = generator_setups(seed)[0]
    before = (snapshot(G.params()), snapshot(D.params()), z.copy())
    _call(answer, G, D, z, keep_dtype=False)
    _unchanged(before, G, D, z)
    return "G 和 D 的参数、z 都没有改变"


def _dtype(answer, seed):
    rng = np.random.default_rng(seed)
    for dtype in (np.float32, np.float64):
        G = build_generator(3, (4,), 2, dtype=dtype, rng=rng)
        D = build_discriminator(2, (3,), dtype=dtype, rng=rng)
        z = rng.standard_normal((5, 3)).astype(dtype)
        grads = _call(answer, G, D, z, keep_dtype=False)
        bad = {k: v.dtype for k, v in grads.items() if v.dtype != dtype}
        if bad:
            k = next(iter(bad))
            detail = f"{np.dtype(dtype).name} 的网络得到了 {bad[k]} 的 grads[{k!r}]"
            if dtype == np.float64:
                raise Failure(detail, DOWNCAST)
            raise Failure(detail, UPCAST.format(culprits="用 Python/NumPy 的 float64 数组构造损失的梯度，例如用 "
                                                          "np.ones(logits.shape) 当标签，或者 np.float64(1 / N)"))
    return "每个梯度的 dtype 都与网络相同（float32 与 float64）"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    sizes = st.lists(st.integers(1, 5), min_size=1, max_size=2)
    strategy = st.tuples(st.integers(1, 4), sizes, st.integers(1, 3), sizes, st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.integers(0, 2**16))

    def describe(example):
        z_dim, gh, x_dim, dh, n, dtype, seed = example
        return (f"G {z_dim}->{'->'.join(map(str, gh))}->{x_dim}，D {x_dim}->{'->'.join(map(str, dh))}->1，"
                f"z ({n}, {z_dim}) {dtype}")

    def prop(example):
        z_dim, gh, x_dim, dh, n, dtype, seed = example
        rng = np.random.default_rng(seed)
        G = build_generator(z_dim, tuple(gh), x_dim, dtype=dtype, rng=rng)
        D = build_discriminator(x_dim, tuple(dh), dtype=dtype, rng=rng)
        z = rng.standard_normal((n, z_dim)).astype(dtype)
        g0, d0, z0 = snapshot(G.params()), snapshot(D.params()), z.copy()
        grads = _call(answer, G, D, z)
        if changed(g0, G.params()) or changed(d0, D.params()) or changed(z0, z):
            raise Failure("G、D 或 z 被改动了", "不要改动 G、D 和 z：只计算梯度。")
        ref = reference(G, D, z)
        for k, g in ref.items():
            if grads[k].dtype != np.dtype(dtype):
                raise Failure(f"grads[{k!r}] 是 {grads[k].dtype}", "dtype 被提升了：见上面的 dtype 检查。")
            if not close(grads[k], g, dtype):
                raise Failure(f"grads[{k!r}] 与参考值不同", "见上面的梯度检验。")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="键、形状、dtype 和数值一致；G、D、z 不变")
