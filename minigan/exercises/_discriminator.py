"""Checker for the ``discriminator_gradient`` exercise: ``(D, x_real, x_fake) -> (loss, grads)``.

The answer returns D's loss and its gradient with respect to D's parameters::

    L_D = BCE(r, 1) + BCE(f, 0) = mean_i softplus(-r_i) + mean_j softplus(f_j)
    dL/dr = (sigmoid(r) - 1) / N_r,   dL/df = sigmoid(f) / N_f

with r = D's logits on x_real (N_r, 1), f on x_fake (N_f, 1), each BCE a mean over its own batch, as in
:func:`minigan.losses.discriminator_loss` and :meth:`minigan.GAN.d_step` (the article's code, section 4.3).
``grads`` is a dict keyed like ``D.params()``: the sum of the two backward passes, each with its own cache.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import losses
from ..nn.activations import sigmoid
from . import _gan_common as gan
from ._kit import Failure, FunctionExercise, Mistake, Part, Regime, call_learner, finite, original, shape_str

DESCRIPTION = "判别器的损失 BCE(D(x), 1) + BCE(D(G(z)), 0) 及其对 D 参数的梯度：(D, x_real, x_fake) -> (loss, grads)"
CHAIN = "正确的链：r, c_r = D.forward(x_real)；f, c_f = D.forward(x_fake)；d_r = (sigmoid(r) - 1) / N_real；d_f = sigmoid(f) / N_fake；_, g_r = D.backward(d_r, c_r)；_, g_f = D.backward(d_f, c_f)；grads[k] = g_r[k] + g_f[k]。"
NEAR = "很接近但不精确：log 里加了 eps，或截断了概率 / logits。从 logits 计算的 max(z,0) - z*y + log1p(exp(-|z|)) 是精确的，不需要 eps。"
LOG1P_EXP = "np.exp 上溢了：logits 很大时（float32 里超过约 88，float64 里超过约 709），log1p(np.exp(x)) 里的 exp(x) 上溢为 inf，损失也就成了 inf——问题不在概率，而在 exp 作用在了很大的正数上。softplus 要写成不会上溢的形式：np.logaddexp(0, x)，或 np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))；真实样本那一项是 softplus(-r)，生成样本那一项是 softplus(f)。"


def _bce(z, y):
    return losses.bce_with_logits(z, y)[0]


def _naive(z):
    return 1 / (1 + np.exp(-z))


def _wrong(d=lambda r, f: losses.discriminator_loss(r, f)[1:], loss=lambda r, f: losses.discriminator_loss(r, f)[0],
           same_cache=False, merge=False):
    """An answer: ``d(r, f) -> (dL/dr, dL/df)`` fed back through D (the real term with the fake batch's cache if
    ``same_cache``), loss ``loss(r, f)``, the two gradient dicts merged (``{**g_r, **g_f}``) if ``merge``. With the
    defaults it is minigan's own (the reference)."""
    def answer(D, xr, xf):
        (r, cr), (f, cf) = D.forward(xr), D.forward(xf)
        dr, df = d(r, f)
        gr, gf = D.backward(dr, cf if same_cache else cr)[1], D.backward(df, cf)[1]
        return loss(r, f), ({**gr, **gf} if merge else {k: gr[k] + gf[k] for k in gr})
    return answer


def _updates_d(D, xr, xf):
    loss, grads = _wrong()(D, xr, xf)
    for p in D.params().values():
        p *= 0.99
    return loss, grads


MISTAKES = [
    Mistake("fake_label_1", "生成样本的标签写成了 1：判别器要把生成样本判为“假”，它的损失是 BCE(D(x_real), 1) + BCE(D(G(z)), 0)，生成样本的标签是 0（标签 1 是生成器的目标）。假样本那一项 dL/df = sigmoid(f) / N_fake。", _wrong(lambda r, f: ((sigmoid(r) - 1) / len(r), (sigmoid(f) - 1) / len(f)), lambda r, f: _bce(r, 1.0) + _bce(f, 1.0))),
    Mistake("swapped", "真假标签对调了：真实样本的标签应是 1，生成样本的标签应是 0。dL/dr = (sigmoid(r) - 1) / N_real，dL/df = sigmoid(f) / N_fake。", _wrong(lambda r, f: (sigmoid(r) / len(r), (sigmoid(f) - 1) / len(f)), lambda r, f: _bce(r, 0.0) + _bce(f, 1.0))),
    Mistake("sign", "符号反了：这是第 3.4 节 L_D = E[log D(x)] + E[log(1 - D(G(z)))] 的梯度。它是判别器要最大化的价值函数；要最小化的损失是它的相反数 BCE(D(x), 1) + BCE(D(G(z)), 0)（第 4.3 节代码算的就是它）。", _wrong(lambda r, f: ((1 - sigmoid(r)) / len(r), -sigmoid(f) / len(f)), lambda r, f: -_bce(r, 1.0) - _bce(f, 0.0))),
    Mistake("merged", "两个梯度字典被合并了（{**g_r, **g_f} 或 dict.update）：同名的键上，生成样本那一项的梯度替换了真实样本那一项的，真实样本那一项的梯度就丢了（损失是对的）。两项的参数梯度要逐键相加：grads = {k: g_r[k] + g_f[k] for k in g_r}。", _wrong(merge=True)),
    Mistake("only_real", "只有真实样本那一项：漏掉了生成样本的损失 BCE(D(G(z)), 0) 及其梯度。两项的参数梯度要逐键相加。" + CHAIN, _wrong(lambda r, f: ((sigmoid(r) - 1) / len(r), 0 * f), lambda r, f: _bce(r, 1.0))),
    Mistake("only_fake", "只有生成样本那一项：漏掉了真实样本的损失 BCE(D(x), 1) 及其梯度。两项的参数梯度要逐键相加。" + CHAIN, _wrong(lambda r, f: (0 * r, sigmoid(f) / len(f)), lambda r, f: _bce(f, 0.0))),
    Mistake("one_mean", "把真实批和生成批拼在一起只取了一次平均（除以 N_real + N_fake）：minigan 和文章第 4.3 节的代码是两个 BCE 各自对自己的批取平均再相加（两次 tf.reduce_mean），所以 dL/dr 除以 N_real、dL/df 除以 N_fake。", _wrong(lambda r, f: ((sigmoid(r) - 1) / (len(r) + len(f)), sigmoid(f) / (len(r) + len(f))), lambda r, f: (_bce(r, 1.0) * len(r) + _bce(f, 0.0) * len(f)) / (len(r) + len(f)))),
    Mistake("missing_mean", "漏了 1/N：每个 BCE 都是对各自批的平均，dL/dr = (sigmoid(r) - 1) / N_real，dL/df = sigmoid(f) / N_fake。", _wrong(lambda r, f: (sigmoid(r) - 1, sigmoid(f)))),
    Mistake("probability", "对概率 D = sigmoid(logits) 求了导（-1/(N D) 和 1/(N (1 - D))），但 D.backward 需要的是对 logits 的梯度：还要乘上 sigmoid'(logits) = D (1 - D)，得到 (D - 1) / N_real 和 D / N_fake。", _wrong(lambda r, f: (-1 / (len(r) * sigmoid(r)), 1 / (len(f) * (1 - sigmoid(f)))))),
    Mistake("same_cache", "两次反向用了同一个 cache：真实样本那一项的梯度是拿生成样本前向的 cache 算的（或反过来）。D 在一步里要前向两次，每次反向都要用自己那次前向返回的 cache。" + CHAIN, _wrong(same_cache=True)),
    Mistake("eps", NEAR, _wrong(loss=lambda r, f: -np.mean(np.log(sigmoid(r) + 1e-7)) - np.mean(np.log(1 - sigmoid(f) + 1e-7)))),
    # caught at saturation: through the probability (one hint, PROB_NAN, quoted by two of its phrases), exp overflow
    Mistake("log_of_probability", "例如 log(sigmoid(logits))、log(1 - p)", _wrong(loss=lambda r, f: -np.mean(np.log(_naive(r))) - np.mean(np.log(1 - _naive(f)))), check="saturated"),
    Mistake("through_probability", "或 -1/(N p) * p(1-p) 这类先对概率求导再乘 sigmoid 导数的写法", _wrong(lambda r, f: (-sigmoid(r) * (1 - sigmoid(r)) / (len(r) * sigmoid(r)), sigmoid(f) * (1 - sigmoid(f)) / (len(f) * (1 - sigmoid(f))))), check="saturated"),
    Mistake("log1p_exp", LOG1P_EXP, _wrong(loss=lambda r, f: np.mean(np.log1p(np.exp(-r))) + np.mean(np.log1p(np.exp(f)))), check="saturated"),
    Mistake("updates_d", gan.MUTATED["D"], _updates_d, check="unchanged"),
    Mistake("upcast", "dtype 被提升了", _wrong(lambda r, f: ((sigmoid(r) - np.ones(r.shape)) / len(r), sigmoid(f) / len(f))), check="dtype"),
    Mistake("int64_size", "除以一个 np.int64 整数标量", _wrong(lambda r, f: ((sigmoid(r) - 1) / np.int64(len(r)), sigmoid(f) / np.int64(len(f)))), check="dtype"),
]


def call(fn, D, xr, xf):
    """The answer's ``(loss, grads)`` as ``(float, dict in D.params()' order)``, or :class:`Failure` (also for a loss
    that is inf because np.exp overflowed with no log(0) taken: softplus written as log1p(exp(x)))."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn", invalid="warn"):
        warnings.simplefilter("always")
        out = call_learner("你的函数", fn, D, xr, xf)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"返回的是 {type(out).__name__}，不是 (loss, grads) 二元组", "返回两样东西：损失（一个数）和 D 的参数梯度字典（键与 D.params() 相同）。")
    loss, grads = out
    if isinstance(loss, dict) and not isinstance(grads, dict):
        raise Failure("返回值的顺序反了", "先返回损失，再返回梯度字典：return loss, grads。")
    if isinstance(loss, np.ndarray) and loss.size > 1:
        raise Failure(f"loss 的形状是 {shape_str(loss.shape)}，应是一个数", "损失没有约简成一个数：两个 BCE 各自对批取平均（np.mean）再相加。")
    try:
        loss = float(np.asarray(loss).reshape(()))
    except (TypeError, ValueError) as exc:
        raise Failure(f"loss 是 {type(loss).__name__}，不是数", "损失是一个数：两个批平均 BCE 之和。") from exc
    said = " ".join(str(w.message) for w in caught)
    if np.isinf(loss) and "overflow encountered in exp" in said and "divide by zero" not in said:
        raise Failure(f"loss = {loss}：计算中 np.exp 上溢为 inf", LOG1P_EXP)
    return loss, gan.check_grads_dict(grads, D, "D")


def _explain(exc):
    text = str(original(exc))
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text or "shape" in text:
        return "形状对不上：每次 D.backward 的 dy 要与那次前向的 logits 形状相同 (N, 1)，并配上那次前向自己的 cache（常见原因：两次反向用了同一个 cache）。真实批和生成批的大小可以不同。" + CHAIN
    return ""


def _cases(seed) -> list:
    rng = np.random.default_rng(seed)  # equal batch sizes first (a shared cache is visible there), then N_r != N_f
    return [gan.d_case(rng, 3, (5, 4), 6, 6), gan.d_case(rng, 2, (4,), 5, 3)]


def _saturated(got, ref, case) -> str:
    """NaN / inf: through the probability; a finite loss well below the exact one: capped by an eps or a clip."""
    if not finite(got):
        return gan.PROB_NAN
    return gan.CAPPED if isinstance(got, float) and 1.0 < got < ref else ""


EXERCISE = FunctionExercise(
    name="discriminator_gradient", description=DESCRIPTION, form="(loss, grads)（grads 的键和形状同 D.params()）",
    call=call, reference=_wrong(), mistakes=MISTAKES, explain=_explain, usage="my_discriminator_gradient",
    cases=_cases,
    parts=[Part("损失", lambda out: out[0], row="损失值（与 minigan.losses.discriminator_loss 比较）",
                hint="损失应为 BCE(D(x_real), 1) + BCE(D(x_fake), 0)，两个 BCE 各自对自己的批取平均。",
                show=lambda got, ref: f"损失 {got:.10g}，应为 {ref:.10g}",
                diagnose=lambda got, ref, case: NEAR if abs(got - ref) < 1e-3 * abs(ref) else ""),
           gan.grads_part("D", lambda out: out[1], lambda D, xr, xf: losses.discriminator_loss(D(xr), D(xf))[0],
                          "D 参数的梯度（梯度检验，float64 有限差分）", "D 的梯度与有限差分不一致。" + CHAIN)],
    regimes=[Regime("饱和的判别器：logits 从 ±1e2 到 ±2e3（float32 与 float64）",
                    lambda seed: gan.saturated_cases(seed, lambda rng, dtype: gan.d_case(rng, 3, (6, 5), 7, 5, dtype),
                                                     lambda D, xr, xf: (D, np.concatenate([xr, xf]))),
                    "饱和时不精确：损失用 max(z,0) - z*y + log1p(exp(-|z|))，对 logits 的梯度用 (sigmoid(z) - y) / N，sigmoid 用分段稳定的写法（e = exp(-|z|)：z >= 0 时 1/(1+e)，z < 0 时 e/(1+e)）。",
                    _saturated)],
    float32=lambda seed: gan.d_case(np.random.default_rng(seed + 3), 2, (3,), 4, 3, np.float32),
    unchanged={i: gan.MUTATED[n] for i, n in enumerate(("D", "x_real", "x_fake"))}, upcast=gan.UPCAST_GAN,
    strategy=gan.strategy((1.0, 1e3)), example=lambda d: gan.d_case(np.random.default_rng(d[-1]), *d[2:8]))
