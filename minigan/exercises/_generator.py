"""Checkers for the ``generator_gradient`` and ``minimax_gradient`` exercises: ``(G, D, z) -> grads``.

The answer returns dL/dθ_G, keyed like ``G.params()``, for the non-saturating generator loss (the article's code,
section 4.3) or the minimax one (the part of section 3.4's L_G that depends on G), l = D's logits on G(z), (N, 1)::

    non-saturating:  L = -mean_n log D(G(z_n)) = BCE(l, 1),   dL/dl = (sigmoid(l) - 1) / N
    minimax:         L = mean_n log(1 - D(G(z_n))),          dL/dl = -sigmoid(l) / N,   then back through D and G

On saturated discriminators (logits of ±1e2 to ±2e3, float32 and float64; D wins like this for thousands of steps in
the chapter 4 run) an answer through the probability p = sigmoid(l) (``-1/(N p) · p (1 - p)``) is exact at ordinary
logits but NaN; where D confidently rejects the fakes the minimax gradient vanishes like sigmoid(l) ~ exp(l), which is
why the article's code trains with the non-saturating loss.
"""

from __future__ import annotations

import numpy as np

from ..nn.activations import sigmoid
from ._gan_common import STABLE, flat, g_mistakes, generator_exercise, via
from ._kit import Mistake, finite

DESCRIPTION = "非饱和生成器损失 -mean log D(G(z)) 对 G 参数的梯度（穿过判别器 D）"
FORMULA = "(sigmoid(logits) - 1) / N"

THROUGH_P = f"D 很有把握地判为假（logits <= -1e2）时，D(G(z)) = p = sigmoid(logit) 下溢为 0：你的梯度经过了概率 p（例如 -1/(N p) · p(1 - p)），1/p 上溢为 inf，0 · inf = NaN。数学上没错，数值上却会坏掉——第 4 章的训练中判别器占上风的几千步里正是这种情况。要对 logits 求导并先化简：dL/dlogit = (sigmoid(l) - 1)/N，sigmoid 用稳定的写法（{STABLE}），不要先除以 p 再乘回来。"
EXP_OVERFLOW = f"D 很有把握地判为真（logits >= 1e2）时出现了 NaN/inf：多半是 sigmoid 写成了 exp(l) / (1 + exp(l))（exp(l) 上溢为 inf，inf / inf = NaN），或者除以了舍入成 0 的 1 - p。用稳定的 sigmoid（{STABLE}）：dL/dlogit = (sigmoid(l) - 1)/N。"
VANISHED = "D 很有把握地判为假时，你的梯度几乎为零，而非饱和损失的梯度此时应当最大（dL/dlogit ≈ -1/N）：很可能经过了概率 p 又加了 eps 或裁剪（p(1 - p) / (p + eps) 在 p 远小于 eps 时趋于 0），或者用的是会饱和的极小极大损失（文章 §3.4）。对 logits 求导：dL/dlogit = (sigmoid(l) - 1)/N。"


MISTAKES = [
    Mistake("minimax_loss", "这是极小极大损失 mean log(1 - D(G(z)))（文章 §3.4 的公式）的梯度，而不是文章代码（§4.3）最小化的非饱和损失 -mean log D(G(z))，即 BCE(logits, 1)，dlogits = (sigmoid(logits) - 1) / N。D 很有把握地判为假时，极小极大损失的梯度几乎为零（饱和），非饱和损失的梯度却仍然明显。", via(lambda l: -sigmoid(l) / l.size)),
    Mistake("fake_label", "标签写成了 0：这是 BCE(D(G(z)), 0)，是判别器给生成样本的标签。生成器希望 D 判为“真”：它的损失是 BCE(logits, 1)，dlogits = (sigmoid(logits) - 1) / N。", via(lambda l: sigmoid(l) / l.size)),
    Mistake("sign", "符号反了：这是 +mean log D(G(z)) 的梯度，沿它做梯度下降只会让 G 变差。dlogits = (sigmoid(logits) - 1) / N。", via(lambda l: (1 - sigmoid(l)) / l.size)),
    *g_mistakes(FORMULA, lambda l: (sigmoid(l) - 1) / l.size, lambda l: -1 / (l.size * sigmoid(l)), "-1 / (N D)"),
    Mistake("eps_in_probability", VANISHED, via(lambda l: -sigmoid(l) * (1 - sigmoid(l)) / (l.size * (sigmoid(l) + 1e-7)))),
    Mistake("through_probability", THROUGH_P, via(lambda l: -1 / (l.size * sigmoid(l)) * sigmoid(l) * (1 - sigmoid(l))), check="saturated"),
    Mistake("exp_ratio", EXP_OVERFLOW, via(lambda l: (np.exp(l) / (1 + np.exp(l)) - 1) / l.size), check="saturated"),
]


def _saturated(got, ref, case) -> str:
    """NaN where D rejects: through p; where D accepts: exp(l) overflowed; nearly nothing where D rejects: eps."""
    rejects = "判为假" in case.label
    if not finite(got):
        return THROUGH_P if rejects else EXP_OVERFLOW
    return VANISHED if rejects and np.linalg.norm(flat(got)) < 1e-3 * np.linalg.norm(flat(ref)) else ""


EXERCISE = generator_exercise("generator_gradient", DESCRIPTION, "non_saturating", FORMULA, MISTAKES, _saturated)
reference = EXERCISE.reference


MINIMAX_FORMULA = "-sigmoid(logits) / N"
MINIMAX_MISTAKES = [
    Mistake("non_saturating", "这是非饱和损失 -mean log D(G(z))（第 4.3 节代码、练习 4）的梯度，dlogits = (sigmoid(l) - 1) / N。本练习要的是 minimax 损失 mean log(1 - D(G(z)))（第 3.4 节 L_G 中与 G 有关的项）：dlogits = -sigmoid(l) / N。", via(lambda l: (sigmoid(l) - 1) / l.size)),
    Mistake("sign", "符号反了：这是 -mean log(1 - D(G(z))) = BCE(logits, 0) 的梯度，也就是判别器对生成样本的那一项损失。生成器要最小化的是 mean log(1 - D(G(z)))，dlogits = -sigmoid(l) / N。", via(lambda l: sigmoid(l) / l.size)),
    *g_mistakes(MINIMAX_FORMULA, lambda l: -sigmoid(l) / l.size, lambda l: -1 / (l.size * (1 - sigmoid(l))), "-1 / (N (1 - D))"),
    Mistake("through_probability", "在判别器饱和（logits 的绝对值达到 1e2 以上）时出现了 NaN 或 inf", via(lambda l: -sigmoid(l) * (1 - sigmoid(l)) / (l.size * (1 - sigmoid(l)))), check="saturated"),
]
MINIMAX = generator_exercise("minimax_gradient", "minimax 生成器损失 mean log(1 - D(G(z))) 对 G 参数的梯度（穿过 D）：(G, D, z) -> grads", "minimax", MINIMAX_FORMULA, MINIMAX_MISTAKES, scales=(1.0, 1e3))
