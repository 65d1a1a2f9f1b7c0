"""Checker for the ``discriminator_gradient`` exercise: ``(D, x_real, x_fake) -> (loss, grads)``.

The answer returns D's loss and its gradient with respect to D's parameters::

    L_D = BCE(D(x_real), 1) + BCE(D(x_fake), 0)
        = mean_i softplus(-r_i) + mean_j softplus(f_j)          r = D's logits on x_real (N_r, 1)
                                                              f = D's logits on x_fake (N_f, 1)
    dL/dr = (sigmoid(r) - 1) / N_r,   dL/df = sigmoid(f) / N_f

each BCE a mean over its own batch, as in :func:`minigan.losses.discriminator_loss` and
:meth:`minigan.GAN.d_step` (real label 1, fake label 0; the article's code, section
4.3).  ``grads`` is a dict keyed like ``D.params()``: the sum of the two backward passes,
each with its own cache.
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..gan import build_discriminator
from ..nn.activations import sigmoid
from ._gan_common import (
    CAPPED,
    PROB_NAN,
    UPCAST,
    arrow,
    check_grads_dict,
    flat,
    grad_check,
    saturate,
    saturated_batches,
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
    shape_str,
    snapshot,
)

NAME = "discriminator_gradient"
DESCRIPTION = "判别器的损失 BCE(D(x), 1) + BCE(D(G(z)), 0) 及其对 D 参数的梯度：(D, x_real, x_fake) -> (loss, grads)"

CHAIN = ("正确的链：r, c_r = D.forward(x_real)；f, c_f = D.forward(x_fake)；"
         "d_r = (sigmoid(r) - 1) / N_real；d_f = sigmoid(f) / N_fake；"
         "_, g_r = D.backward(d_r, c_r)；_, g_f = D.backward(d_f, c_f)；grads[k] = g_r[k] + g_f[k]。")

FAKE_LABEL_1 = ("生成样本的标签写成了 1：判别器要把生成样本判为“假”，它的损失是 BCE(D(x_real), 1) + BCE(D(G(z)), 0)，"
                "生成样本的标签是 0（标签 1 是生成器的目标）。假样本那一项 dL/df = sigmoid(f) / N_fake。")
SWAPPED = ("真假标签对调了：真实样本的标签应是 1，生成样本的标签应是 0。"
           "dL/dr = (sigmoid(r) - 1) / N_real，dL/df = sigmoid(f) / N_fake。")
ONLY_REAL = ("只有真实样本那一项：漏掉了生成样本的损失 BCE(D(G(z)), 0) 及其梯度。两项的参数梯度要逐键相加。" + CHAIN)
ONLY_FAKE = ("只有生成样本那一项：漏掉了真实样本的损失 BCE(D(x), 1) 及其梯度。两项的参数梯度要逐键相加。" + CHAIN)
CONCAT_MEAN = ("把真实批和生成批拼在一起只取了一次平均（除以 N_real + N_fake）：minigan 和文章第 4.3 节的代码是"
               "两个 BCE 各自对自己的批取平均再相加（两次 tf.reduce_mean），所以 dL/dr 除以 N_real、dL/df 除以 N_fake。")
MISSING_N = ("漏了 1/N：每个 BCE 都是对各自批的平均，dL/dr = (sigmoid(r) - 1) / N_real，"
             "dL/df = sigmoid(f) / N_fake。")
SIGN = ("符号反了：这是第 3.4 节 L_D = E[log D(x)] + E[log(1 - D(G(z)))] 的梯度。它是判别器要**最大化**的价值函数；"
        "要最小化的损失是它的相反数 BCE(D(x), 1) + BCE(D(G(z)), 0)（第 4.3 节代码算的就是它）。")
WRT_PROB = ("对概率 D = sigmoid(logits) 求了导（-1/(N D) 和 1/(N (1 - D))），但 D.backward 需要的是对 logits 的梯度："
            "还要乘上 sigmoid'(logits) = D (1 - D)，得到 (D - 1) / N_real 和 D / N_fake。")
SAME_CACHE = ("两次反向用了同一个 cache：真实样本那一项的梯度是拿生成样本前向的 cache 算的（或反过来）。"
              "D 在一步里要前向两次，每次反向都要用**自己那次**前向返回的 cache。" + CHAIN)
ZERO = "梯度全为 0：没有任何梯度传回 D 的参数。" + CHAIN


def _setups(seed):
    """Two float64 (D, x_real, x_fake) triples; the first with equal batch sizes (a
    factor 1/2 or a shared cache is visible there), the second with N_real != N_fake."""
    rng = np.random.default_rng(seed)
    out = []
    for x_dim, hidden, nr, nf in ((3, (5, 4), 6, 6), (2, (4,), 5, 3)):
        D = build_discriminator(x_dim, hidden, dtype=np.float64, rng=rng)
        xr = rng.standard_normal((nr, x_dim)) * 0.8
        xf = rng.uniform(-1, 1, (nf, x_dim))
        out.append((f"D {arrow((x_dim, *hidden, 1))}，x_real {shape_str(xr.shape)}，x_fake {shape_str(xf.shape)}",
                    D, xr, xf))
    return out


def _backward_sum(D, xr, xf, dr_of, df_of, *, same_cache=False):
    """D's parameter gradients when ``dr_of(r)`` / ``df_of(f)`` are fed back (minigan's modules)."""
    r, cr = D.forward(xr)
    f, cf = D.forward(xf)
    _, gr = D.backward(dr_of(r), cf if same_cache else cr)
    _, gf = D.backward(df_of(f), cf)
    return {k: gr[k] + gf[k] for k in gr}


def reference(D, x_real, x_fake):
    """minigan's D loss and gradient (the same maths as ``GAN.d_step``), as (loss, grads)."""
    r, cr = D.forward(x_real)
    f, cf = D.forward(x_fake)
    loss, dr, df = losses.discriminator_loss(r, f)
    _, gr = D.backward(dr, cr)
    _, gf = D.backward(df, cf)
    return loss, {k: gr[k] + gf[k] for k in gr}


def _loss(D, xr, xf):
    return losses.discriminator_loss(D(xr), D(xf))[0]


def _explain(exc):
    text = str(original(exc))
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text or "shape" in text:
        return ("形状对不上：每次 D.backward 的 dy 要与那次前向的 logits 形状相同 (N, 1)，并配上那次前向自己的 cache"
                "（常见原因：两次反向用了同一个 cache）。"
                "真实批和生成批的大小可以不同。" + CHAIN)
    return ""


MUTATED_D = "你的函数改动了判别器的参数：它只应计算损失和梯度，参数的更新留给优化器（opt_D.step(grads)）。"


def _call(answer, D, xr, xf):
    before = snapshot(D.params())
    out = call_learner("你的函数", answer, D, xr, xf)
    if changed(before, D.params()):
        raise Failure("D 的参数被改动了", MUTATED_D)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"返回的是 {type(out).__name__}，不是 (loss, grads) 二元组",
                      "返回两样东西：损失（一个数）和 D 的参数梯度字典（键与 D.params() 相同）。")
    loss, grads = out
    if isinstance(loss, dict) and not isinstance(grads, dict):
        raise Failure("返回值的顺序反了", "先返回损失，再返回梯度字典：return loss, grads。")
    if isinstance(loss, np.ndarray) and loss.ndim > 0 and loss.size > 1:
        raise Failure(f"loss 的形状是 {shape_str(loss.shape)}，应是一个数",
                      "损失没有约简成一个数：两个 BCE 各自对批取平均（np.mean）再相加。")
    try:
        loss = float(np.asarray(loss).reshape(()))
    except (TypeError, ValueError) as exc:
        raise Failure(f"loss 是 {type(loss).__name__}，不是数", "损失是一个数：两个批平均 BCE 之和。") from exc
    check_grads_dict(grads, D, "判别器 D")
    return loss, grads


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    setups = _setups(seed)

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}",
                          "传入函数本身：check('discriminator_gradient', my_discriminator_gradient)。")
        _, D, xr, xf = setups[0]
        _call(answer, D, xr, xf)
        return "返回 (loss, grads)，grads 的键和形状与 D.params() 相同"

    if not s.run("返回 (loss, grads)（键和形状同 D.params()）", first) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("损失值（与 minigan.losses.discriminator_loss 比较）", lambda: _loss_values(answer, setups))
    s.run("D 参数的梯度（梯度检验，float64 有限差分）", lambda: _gradient(answer, setups))
    s.run("饱和的判别器：logits 达 ±1e2 以上（float32）", lambda: _saturated(answer, seed))
    s.run("D、x_real、x_fake 保持不变", lambda: _no_mutation(answer, seed))
    s.run("float32 输入，float32 输出", lambda: _dtype(answer, seed))
    s.run("性质测试（hypothesis）：随机网络、批大小、dtype、饱和程度", lambda: _property(answer, max_examples))


def _loss_values(answer, setups):
    worst = 0.0
    for label, D, xr, xf in setups:
        loss, _ = _call(answer, D, xr, xf)
        ref = _loss(D, xr, xf)
        err = abs(loss - ref) / max(abs(ref), 1e-12)
        if err <= 1e-9:
            worst = max(worst, err)
            continue
        r, f = D(xr), D(xf)
        lr, lf = losses.bce_with_logits(r, 1.0)[0], losses.bce_with_logits(f, 0.0)[0]
        nr, nf = len(r), len(f)
        candidates = [
            (lr + losses.bce_with_logits(f, 1.0)[0], FAKE_LABEL_1),
            (losses.bce_with_logits(r, 0.0)[0] + losses.bce_with_logits(f, 1.0)[0], SWAPPED),
            (-ref, SIGN),
            ((lr * nr + lf * nf) / (nr + nf), CONCAT_MEAN),
            (lr * nr + lf * nf, MISSING_N),
            (lr, ONLY_REAL),
            (lf, ONLY_FAKE),
        ]
        detail = f"{label}：损失 {loss:.10g}，应为 {ref:.10g}（相对误差 {err:.1e}）"
        for value, hint in candidates:
            if abs(loss - value) <= 1e-9 * max(abs(value), 1e-12):
                raise Failure(detail, hint)
        if err < 1e-3:
            raise Failure(detail, "很接近但不精确：log 里加了 eps，或截断了概率 / logits。从 logits 计算的 "
                                  "max(z,0) - z*y + log1p(exp(-|z|)) 是精确的，不需要 eps。")
        raise Failure(detail, "损失应为 BCE(D(x_real), 1) + BCE(D(x_fake), 0)，两个 BCE 各自对自己的批取平均。")
    return f"{len(setups)} 组网络与 minigan 一致（最大相对误差 {worst:.1e}）"


def _gradient(answer, setups):
    errors = []
    for label, D, xr, xf in setups:
        _, grads = _call(answer, D, xr, xf)
        params = D.params()
        keys = list(params)
        nums, noises = [], []
        for k in keys:
            num, noise = numeric_gradient(lambda D=D, xr=xr, xf=xf: _loss(D, xr, xf), params[k])
            nums.append(num.ravel())
            noises.append(noise.ravel())
        nr, nf = len(xr), len(xf)

        def via(dr_of, df_of, same_cache=False, D=D, xr=xr, xf=xf, keys=keys):
            return flat(_backward_sum(D, xr, xf, dr_of, df_of, same_cache=same_cache), keys)

        ref = flat(reference(D, xr, xf)[1], keys)
        both = nr + nf
        probes = [
            Probe(via(lambda r: (sigmoid(r) - 1) / len(r), lambda f: (sigmoid(f) - 1) / len(f)), FAKE_LABEL_1),
            Probe(via(lambda r: sigmoid(r) / len(r), lambda f: (sigmoid(f) - 1) / len(f)), SWAPPED),
            Probe(via(lambda r: (sigmoid(r) - 1) / len(r), lambda f: 0 * f), ONLY_REAL),
            Probe(via(lambda r: 0 * r, lambda f: sigmoid(f) / len(f)), ONLY_FAKE),
            Probe(via(lambda r, m=both: (sigmoid(r) - 1) / m, lambda f, m=both: sigmoid(f) / m), CONCAT_MEAN),
            Probe(via(lambda r: sigmoid(r) - 1, lambda f: sigmoid(f)), MISSING_N),
            Probe(via(lambda r: -1 / (len(r) * sigmoid(r)), lambda f: 1 / (len(f) * (1 - sigmoid(f)))), WRT_PROB),
        ]
        if nr == nf:
            probes.append(Probe(via(lambda r: (sigmoid(r) - 1) / len(r), lambda f: sigmoid(f) / len(f), True),
                                SAME_CACHE))
        scale_hints = {-1.0: SIGN, 0.0: ZERO, 0.5: CONCAT_MEAN}
        if nr == nf and nr > 1:
            scale_hints[float(nr)] = MISSING_N
        try:
            errors.append(grad_check("D 的梯度", flat(grads, keys), np.concatenate(nums), np.concatenate(noises),
                                     ref, probes=probes, scale_hints=scale_hints))
        except Failure as f:
            raise Failure(f"{label}：{f.detail}", f.hint) from None
    return f"{len(setups)} 组网络，与有限差分的最大相对误差 {max(errors):.1e}"


def _saturated_case(seed):
    rng = np.random.default_rng(seed + 101)
    D = build_discriminator(3, (6, 5), dtype=np.float32, rng=rng)
    xr, xf = saturated_batches(rng, D, 3, 7, 5, np.float32)
    return D, xr, xf


def _saturated(answer, seed):
    # First at moderate logits: an answer that is wrong everywhere is not a saturation
    # problem, and its hint belongs to the checks above.
    rng = np.random.default_rng(seed + 7)
    D = build_discriminator(3, (6, 5), dtype=np.float32, rng=rng)
    xr, xf = rng.uniform(-1, 1, (7, 3)).astype(np.float32), rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    loss, grads = _call(answer, D, xr, xf)
    ref_loss, ref = reference(D, xr, xf)
    if not (abs(loss - ref_loss) <= 1e-5 * max(1.0, abs(ref_loss)) and
            all(close(grads[k], ref[k], np.float32) for k in ref)):
        raise Failure("在普通大小的 logits（float32）上已经与参考值不同", "先修好上面的损失值和梯度检验；这一项专门检查饱和的判别器。")
    D, xr, xf = _saturated_case(seed)
    loss, grads = _call(answer, D, xr, xf)
    ref_loss, ref = reference(D, xr, xf)
    r, f = D(xr).ravel(), D(xf).ravel()
    where = f"logits 范围：真实批 [{r.min():.3g}, {r.max():.3g}]，生成批 [{f.min():.3g}, {f.max():.3g}]"
    if not np.isfinite(loss):
        raise Failure(f"{where}：损失为 {loss}（精确值 {ref_loss:.6g}）", PROB_NAN)
    bad = [k for k in ref if not np.all(np.isfinite(grads[k]))]
    if bad:
        raise Failure(f"{where}：grads[{bad[0]!r}] 含 NaN 或 inf", PROB_NAN)
    if abs(loss - ref_loss) > 1e-5 * abs(ref_loss):
        hint = CAPPED if loss < ref_loss else "饱和时损失不精确：请从 logits 计算，max(z,0) - z*y + log1p(exp(-|z|))。"
        raise Failure(f"{where}：损失 {loss:.6g}，精确值 {ref_loss:.6g}", hint)
    for k in ref:
        if not close(grads[k], ref[k], np.float32):
            raise Failure(f"{where}：grads[{k!r}] 与参考值不同",
                          "饱和时梯度不精确：对 logits 的梯度用 (sigmoid(z) - y) / N，sigmoid 用分段稳定的写法"
                          "（e = exp(-|z|)：z >= 0 时 1/(1+e)，z < 0 时 e/(1+e)）。")
    return f"{where}：损失 {ref_loss:.6g} 与梯度都有限且精确"


def _no_mutation(answer, seed):
    _, D, xr, xf = _setups(seed)[1]
    d0, r0, f0 = snapshot(D.params()), xr.copy(), xf.copy()
    _call(answer, D, xr, xf)
    if changed(d0, D.params()):
        raise Failure("D 的参数被改动了", MUTATED_D)
    if changed(r0, xr) or changed(f0, xf):
        raise Failure("x_real 或 x_fake 被改动了", "你的函数原地修改了输入的批：保持 x_real、x_fake 不变。")
    return "D 的参数、x_real、x_fake 都没有被改动"


def _dtype(answer, seed):
    rng = np.random.default_rng(seed + 3)
    D = build_discriminator(2, (3,), dtype=np.float32, rng=rng)
    xr = rng.standard_normal((4, 2), dtype=np.float32)
    xf = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
    _, grads = _call(answer, D, xr, xf)
    bad = {k: v.dtype for k, v in grads.items() if v.dtype != np.float32}
    if bad:
        k = next(iter(bad))
        raise Failure(f"float32 的网络得到 {bad[k]} 的 grads[{k!r}]",
                      UPCAST.format(culprits="用 np.ones(logits.shape) 之类的 float64 数组作标签，或 np.float64(1 / N)"))
    return "所有梯度都保持 float32"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    sizes = st.lists(st.integers(1, 5), min_size=1, max_size=2)
    strategy = st.tuples(st.integers(1, 4), sizes, st.integers(1, 6), st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.sampled_from([1.0, 1e3]), st.integers(0, 2**16))

    def describe(example):
        x_dim, hidden, nr, nf, dtype, scale, _ = example
        return (f"D {arrow((x_dim, *hidden, 1))}，x_real ({nr}, {x_dim})，x_fake ({nf}, {x_dim})，{dtype}，"
                f"最后一层放大 {scale:g} 倍")

    def prop(example):
        x_dim, hidden, nr, nf, dtype, scale, seed = example
        rng = np.random.default_rng(seed)
        D = build_discriminator(x_dim, tuple(hidden), dtype=dtype, rng=rng)
        if scale != 1.0:
            saturate(D, scale)
        xr = rng.standard_normal((nr, x_dim)).astype(dtype)
        xf = rng.uniform(-1, 1, (nf, x_dim)).astype(dtype)
        d0, r0, f0 = snapshot(D.params()), xr.copy(), xf.copy()
        loss, grads = _call(answer, D, xr, xf)
        if changed(d0, D.params()) or changed(r0, xr) or changed(f0, xf):
            raise Failure("D、x_real 或 x_fake 被改动了", "保持 D、x_real、x_fake 不变：只计算损失和梯度。")
        ref_loss, ref = reference(D, xr, xf)
        if not np.isfinite(loss) or any(not np.all(np.isfinite(g)) for g in grads.values()):
            raise Failure("损失或梯度含 NaN / inf", PROB_NAN)
        rtol = 1e-5 if dtype == "float32" else 1e-9
        if abs(loss - ref_loss) > rtol * max(1.0, abs(ref_loss)):
            raise Failure(f"损失 {loss:.6g}，应为 {ref_loss:.6g}", "见上面的损失值检查和饱和检查。")
        for k, g in ref.items():
            if grads[k].dtype != np.dtype(dtype):
                raise Failure(f"grads[{k!r}] 是 {grads[k].dtype}", "dtype 被提升：见上面的 float32 检查。")
            if not close(grads[k], g, dtype):
                raise Failure(f"grads[{k!r}] 与参考值不同", "见上面的梯度检验。")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="损失、梯度的键、形状、dtype 和数值都正确；D 与输入未被改动")
