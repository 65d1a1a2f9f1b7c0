"""Checker for the ``minimax_gradient`` exercise: ``(G, D, z) -> grads``.

The answer returns dL/dθ_G for the *minimax* generator loss, the part of the article's L_G (section 3.4) that
depends on G (:func:`minigan.losses.generator_loss` with ``kind="minimax"``)::

    L = mean_n log(1 - D(G(z_n))) = -mean_n softplus(l_n),   l = D's logits on G(z), (N, 1)
    dL/dl = -sigmoid(l) / N,                                 then back through D and G

as a dict keyed like ``G.params()``.  When D confidently rejects the fakes (l very negative) this gradient
vanishes like sigmoid(l) ~ exp(l), which is why the article's code (section 4.3) trains with the
non-saturating loss instead.
"""

from __future__ import annotations

from ..nn.activations import sigmoid
from ._gan_common import g_mistakes, generator_exercise, via
from ._kit import Mistake

DESCRIPTION = "minimax 生成器损失 mean log(1 - D(G(z))) 对 G 参数的梯度（穿过 D）：(G, D, z) -> grads"
FORMULA = "-sigmoid(logits) / N"


MISTAKES = [
    Mistake("non_saturating", "这是非饱和损失 -mean log D(G(z))（第 4.3 节代码、练习 4）的梯度，dlogits = (sigmoid(l) - 1) / N。本练习要的是 minimax 损失 mean log(1 - D(G(z)))（第 3.4 节 L_G 中与 G 有关的项）：dlogits = -sigmoid(l) / N。", via(lambda l: (sigmoid(l) - 1) / l.size)),
    Mistake("sign", "符号反了：这是 -mean log(1 - D(G(z))) = BCE(logits, 0) 的梯度，也就是判别器对生成样本的那一项损失。生成器要最小化的是 mean log(1 - D(G(z)))，dlogits = -sigmoid(l) / N。", via(lambda l: sigmoid(l) / l.size)),
    *g_mistakes(FORMULA, lambda l: -sigmoid(l) / l.size, lambda l: -1 / (l.size * (1 - sigmoid(l))),
                "-1 / (N (1 - D))"),
    Mistake("through_probability", "在判别器饱和（logits 的绝对值达到 1e2 以上）时出现了 NaN 或 inf", via(lambda l: -sigmoid(l) * (1 - sigmoid(l)) / (l.size * (1 - sigmoid(l)))), check="saturated"),
]

EXERCISE = generator_exercise("minimax_gradient", DESCRIPTION, "minimax", FORMULA, MISTAKES, scales=(1.0, 1e3))
reference = EXERCISE.reference
