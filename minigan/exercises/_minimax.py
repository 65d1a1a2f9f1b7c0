"""Checker for the ``minimax_gradient`` exercise: ``(G, D, z) -> grads``.

The answer returns d L_G / d(G's parameters) for the *minimax* generator loss, the part
of the article's L_G (section 3.4) that depends on G::

    L_G = mean_n log(1 - D(G(z_n))) = -mean_n softplus(l_n),     l = D's logits on G(z), (N, 1)
    dL_G/dl = -sigmoid(l) / N

(:func:`minigan.losses.generator_loss` with ``kind="minimax"``), differentiated through
the discriminator: a dict keyed like ``G.params()``.  When D confidently rejects the
fakes (l very negative) this gradient vanishes like sigmoid(l) ~ exp(l), which is why
the article's code (section 4.3) trains with the non-saturating loss instead.
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..gan import build_discriminator, build_generator
from ..nn.activations import sigmoid
from ._gan_common import (
    PROB_NAN,
    UPCAST,
    arrow,
    chain_through,
    check_grads_dict,
    flat,
    generator_setups,
    grad_check,
    saturate,
)
from ._kit import (
    ExerciseResult,
    Failure,
    Probe,
    Session,
    call_learner,
    changed,
    close,
    numeric_gradient,
    original,
    run_property,
    snapshot,
)

NAME = "minimax_gradient"
DESCRIPTION = "minimax 生成器损失 mean log(1 - D(G(z))) 对 G 参数的梯度（穿过 D）：(G, D, z) -> grads"

CHAIN = ("正确的链：fake, g_cache = G.forward(z)；logits, d_cache = D.forward(fake)；"
         "dlogits = -sigmoid(logits) / N；d_fake, _ = D.backward(dlogits, d_cache)；"
         "_, grads = G.backward(d_fake, g_cache)。")

NON_SATURATING = ("这是非饱和损失 -mean log D(G(z))（第 4.3 节代码、练习 4）的梯度，dlogits = (sigmoid(l) - 1) / N。"
                  "本练习要的是 minimax 损失 mean log(1 - D(G(z)))（第 3.4 节 L_G 中与 G 有关的项）："
                  "dlogits = -sigmoid(l) / N。")
SIGN = ("符号反了：这是 -mean log(1 - D(G(z))) = BCE(logits, 0) 的梯度，也就是判别器对生成样本的那一项损失。"
        "生成器要最小化的是 mean log(1 - D(G(z)))，dlogits = -sigmoid(l) / N。")
MISSING_N = "漏了 1/N：损失是对批的平均，dlogits = -sigmoid(l) / N，N 是批大小（logits.size）。"
WRT_PROB = ("对概率 D = sigmoid(l) 求了导（-1/(N (1 - D))），但 D.backward 需要的是对 logits 的梯度："
            "还要乘上 sigmoid'(l) = D (1 - D)，结果是 -D / N = -sigmoid(l) / N。")
SKIPPED_D = ("跳过了判别器：把 dlogits (N, 1) 直接交给了 G.backward（NumPy 把它广播到了 G 的每个输出上）。"
             "G.backward 需要的是对 G 输出的梯度，也就是 D.backward 返回的 dx。" + CHAIN)
ZERO = "梯度全为 0：梯度没有传到 G 的参数。" + CHAIN
D_GRADS = "取 D.backward 返回的 dx（对 D 输入、即生成样本的梯度），再交给 G.backward。" + CHAIN




def reference(G, D, z):
    """minigan's minimax generator gradient (``GAN(loss="minimax").g_step``'s maths)."""
    return chain_through(G, D, z, lambda logits: losses.generator_loss(logits, "minimax")[1])


def _loss(G, D, z):
    return losses.generator_loss(D(G(z)), "minimax")[0]


def _explain(exc):
    text = str(original(exc))
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
        return ("链上的形状对不上：G.backward 需要对 G 输出的梯度，形状 (N, out_dim)，即 D.backward 返回的 dx，"
                "而不是 dlogits (N, 1)。" + CHAIN)
    return ""


MUTATED_D = "你的函数改动了判别器的参数：它只应计算 G 的梯度（训练生成器的那一步里，D 不更新）。"
MUTATED_G = "你的函数改动了生成器的参数：只返回梯度，更新留给优化器。"


def _call(answer, G, D, z):
    g0, d0 = snapshot(G.params()), snapshot(D.params())
    grads = call_learner("你的函数", answer, G, D, z)
    if changed(d0, D.params()):
        raise Failure("D 的参数被改动了", MUTATED_D)
    if changed(g0, G.params()):
        raise Failure("G 的参数被改动了", MUTATED_G)
    return check_grads_dict(grads, G, "生成器 G", D, "判别器 D", D_GRADS)


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    setups = generator_setups(seed)

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}",
                          "传入函数本身：check('minimax_gradient', my_minimax_gradient)。")
        _, G, D, z = setups[0]
        _call(answer, G, D, z)
        return "返回字典，键和形状与 G.params() 相同"

    if not s.run("返回 G 的梯度（键和形状同 G.params()）", first) and not s.todo_seen:
        return
    s.run("穿过 D 的梯度（梯度检验，float64 有限差分）", lambda: _gradient(answer, setups))
    s.run("饱和的判别器：logits 达 ±1e2 以上（float32）", lambda: _saturated(answer, seed))
    s.run("G、D、z 保持不变", lambda: _no_mutation(answer, seed))
    s.run("float32 输入，float32 输出", lambda: _dtype(answer, seed))
    s.run("性质测试（hypothesis）：随机网络、dtype、饱和程度", lambda: _property(answer, max_examples))


def _gradient(answer, setups):
    errors = []
    for label, G, D, z in setups:
        grads = _call(answer, G, D, z)
        params = G.params()
        keys = list(params)
        nums, noises = [], []
        for k in keys:
            num, noise = numeric_gradient(lambda G=G, D=D, z=z: _loss(G, D, z), params[k])
            nums.append(num.ravel())
            noises.append(noise.ravel())
        n = z.shape[0]

        def via(dlogits_of, G=G, D=D, z=z, keys=keys):
            return flat(chain_through(G, D, z, dlogits_of), keys)

        fake, g_cache = G.forward(z)
        dl = losses.generator_loss(D(fake), "minimax")[1]
        skipped = flat(G.backward(np.broadcast_to(dl, fake.shape).copy(), g_cache)[1], keys)
        probes = [
            Probe(via(lambda l: (sigmoid(l) - 1) / l.size), NON_SATURATING),
            Probe(via(lambda l: -1 / (l.size * (1 - sigmoid(l)))), WRT_PROB),
            Probe(skipped, SKIPPED_D),
        ]
        scale_hints = {-1.0: SIGN, 0.0: ZERO}
        if n > 1:
            scale_hints[float(n)] = MISSING_N
        try:
            errors.append(grad_check("G 的梯度", flat(grads, keys), np.concatenate(nums), np.concatenate(noises),
                                     flat(reference(G, D, z), keys), n=n, probes=probes, scale_hints=scale_hints))
        except Failure as f:
            raise Failure(f"{label}：{f.detail}", f.hint) from None
    return f"{len(setups)} 组网络，与有限差分的最大相对误差 {max(errors):.1e}"


def saturated_case(seed, dtype=np.float32):
    """A float32 (G, D, z) where D's logits on G(z) reach beyond +-100, with both signs."""
    rng = np.random.default_rng(seed + 202)
    G = build_generator(3, (5,), 2, dtype=dtype, rng=rng)
    D = build_discriminator(2, (6, 5), dtype=dtype, rng=rng)
    saturate(D, 1.0, centre=G(rng.standard_normal((64, 3)).astype(dtype)))
    scale = 500.0 / max(float(np.median(np.abs(D(G(rng.standard_normal((64, 3)).astype(dtype)))))), 1e-3)
    saturate(D, scale)
    for _ in range(200):
        z = rng.standard_normal((8, 3)).astype(dtype)
        logits = D(G(z)).ravel()
        if np.any(logits < -100) and np.any(logits > 100):
            return G, D, z
    raise RuntimeError("saturated_case: no batch with both signs")  # pragma: no cover


def _saturated(answer, seed):
    rng = np.random.default_rng(seed + 7)
    G = build_generator(3, (5,), 2, dtype=np.float32, rng=rng)
    D = build_discriminator(2, (6, 5), dtype=np.float32, rng=rng)
    z = rng.standard_normal((8, 3)).astype(np.float32)
    grads, ref = _call(answer, G, D, z), reference(G, D, z)
    if not all(close(grads[k], ref[k], np.float32) for k in ref):
        raise Failure("在普通大小的 logits（float32）上已经与参考值不同", "先修好上面的梯度检验；这一项专门检查饱和的判别器。")
    G, D, z = saturated_case(seed)
    grads, ref = _call(answer, G, D, z), reference(G, D, z)
    logits = D(G(z)).ravel()
    where = f"D(G(z)) 的 logits 范围 [{logits.min():.3g}, {logits.max():.3g}]"
    bad = [k for k in ref if not np.all(np.isfinite(grads[k]))]
    if bad:
        raise Failure(f"{where}：grads[{bad[0]!r}] 含 NaN 或 inf", PROB_NAN)
    for k in ref:
        if not close(grads[k], ref[k], np.float32):
            raise Failure(f"{where}：grads[{k!r}] 与参考值不同",
                          "饱和时梯度不精确：dlogits = -sigmoid(l) / N，sigmoid 用分段稳定的写法"
                          "（e = exp(-|l|)：l >= 0 时 1/(1+e)，l < 0 时 e/(1+e)）。")
    return f"{where}：梯度有限且精确"


def _no_mutation(answer, seed):
    _, G, D, z = generator_setups(seed)[0]
    g0, d0, z0 = snapshot(G.params()), snapshot(D.params()), z.copy()
    _call(answer, G, D, z)
    if changed(d0, D.params()):
        raise Failure("D 的参数被改动了", MUTATED_D)
    if changed(g0, G.params()):
        raise Failure("G 的参数被改动了", MUTATED_G)
    if changed(z0, z):
        raise Failure("z 被改动了", "你的函数原地修改了噪声 z：保持它不变。")
    return "G、D 的参数和 z 都没有被改动"


def _dtype(answer, seed):
    rng = np.random.default_rng(seed)
    G = build_generator(3, (4,), 2, dtype=np.float32, rng=rng)
    D = build_discriminator(2, (3,), dtype=np.float32, rng=rng)
    z = rng.standard_normal((5, 3), dtype=np.float32)
    grads = _call(answer, G, D, z)
    bad = {k: v.dtype for k, v in grads.items() if v.dtype != np.float32}
    if bad:
        k = next(iter(bad))
        raise Failure(f"float32 的网络得到 {bad[k]} 的 grads[{k!r}]",
                      UPCAST.format(culprits="np.float64(1 / N)，或用 np.ones(logits.shape) 之类的 float64 数组参与计算"))
    return "所有梯度都保持 float32"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    sizes = st.lists(st.integers(1, 5), min_size=1, max_size=2)
    strategy = st.tuples(st.integers(1, 4), sizes, st.integers(1, 3), sizes, st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.sampled_from([1.0, 1e3]), st.integers(0, 2**16))

    def describe(example):
        z_dim, gh, x_dim, dh, n, dtype, scale, _ = example
        return (f"G {arrow((z_dim, *gh, x_dim))}，D {arrow((x_dim, *dh, 1))}，z ({n}, {z_dim})，{dtype}，"
                f"D 最后一层放大 {scale:g} 倍")

    def prop(example):
        z_dim, gh, x_dim, dh, n, dtype, scale, seed = example
        rng = np.random.default_rng(seed)
        G = build_generator(z_dim, tuple(gh), x_dim, dtype=dtype, rng=rng)
        D = build_discriminator(x_dim, tuple(dh), dtype=dtype, rng=rng)
        if scale != 1.0:
            saturate(D, scale)
        z = rng.standard_normal((n, z_dim)).astype(dtype)
        g0, d0, z0 = snapshot(G.params()), snapshot(D.params()), z.copy()
        grads = _call(answer, G, D, z)
        if changed(g0, G.params()) or changed(d0, D.params()) or changed(z0, z):
            raise Failure("G、D 或 z 被改动了", "保持 G、D、z 不变：只计算梯度。")
        for k, g in reference(G, D, z).items():
            if not np.all(np.isfinite(grads[k])):
                raise Failure(f"grads[{k!r}] 含 NaN 或 inf", PROB_NAN)
            if grads[k].dtype != np.dtype(dtype):
                raise Failure(f"grads[{k!r}] 是 {grads[k].dtype}", "dtype 被提升：见上面的 float32 检查。")
            if not close(grads[k], g, dtype):
                raise Failure(f"grads[{k!r}] 与参考值不同", "见上面的梯度检验。")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="梯度的键、形状、dtype 和数值都正确；G、D、z 未被改动")
