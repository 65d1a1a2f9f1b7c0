"""Checker for the layer exercise ``batchnorm_backward``: ``MyBatchNorm(features, eps=1e-5)`` in training
mode, x (N, F), params ``gamma`` (F,) and ``beta`` (F,): ``y = gamma xhat + beta`` with ``xhat = (x - mu) /
sqrt(var + eps)`` over the batch (biased variance); ``backward`` returns ``(dx, {"gamma": dgamma, "beta":
dbeta})``.  A :class:`~._modules.LayerExercise`; its reference is :mod:`minigan.nn.batchnorm`'s maths."""

# ruff: noqa: E501  (the hints are long Chinese lines)

from __future__ import annotations

import numpy as np

from . import _kit as kit
from ._kit import Mistake
from ._modules import Formula, LayerExercise, behaviours, wrong_layer


def norm(s, x, ddof=0, outside=False, axis=0, one_pass=False):
    """``(xhat, istd)`` of the batch x: variance over N - ddof, eps inside (or outside) the square root; statistics
    over ``axis`` (1: each row's features, a layer norm; None: the whole array); ``one_pass``: mean(x^2) - mu^2."""
    d = x - x.mean(axis=axis, keepdims=True)
    if one_pass:
        var = (x * x).mean(axis=0) - x.mean(axis=0) ** 2
    else:
        var = (d * d).sum(axis=axis, keepdims=axis == 1) / ((x.size if axis is None else x.shape[axis]) - ddof)
    istd = 1 / (np.sqrt(var) + s.eps) if outside else 1 / np.sqrt(var + s.eps)
    return d * istd, istd


def bn_dx(s, x, y, dy, mean=1, var=1, gamma=True, kept=None, istd=None, **how):
    """``dx = istd (g - mean(g) - xhat mean(g xhat))`` with ``g = gamma dy``; ``mean``/``var`` 0 drop a path;
    ``istd(s, x)`` another factor in front (xhat still the forward's)."""
    xh, scale = kept or norm(s, x, **how)
    scale = scale if istd is None else istd(s, x)
    g = dy * s.gamma if gamma else dy
    return scale * (g - mean * g.mean(axis=0) - var * xh * (g * xh).mean(axis=0))


def bn_grads(s, x, dy, reduce="sum", of_x=False, axis=0, swap=False):  # axis None: to a number
    xh = x if of_x else norm(s, x)[0]
    dgamma, dbeta = ((dy * xh), dy) if reduce is None else (getattr(v, reduce)(axis=axis) for v in (dy * xh, dy))
    return {"gamma": dbeta, "beta": dgamma} if swap else {"gamma": dgamma, "beta": dbeta}


#: how a coefficient of one term of dx reads, when it is not 1 (``n``: the batch size)
READINGS = (
    (lambda n: n, "是应有的 N = {n} 倍：漏了 1/N（mu 和 var 都是对批的平均，dmu/dx_i = 1/N，dvar/dx_i = 2 (x_i - mu) / N）"),
    (lambda n: 1 / n, "是应有的 1/N：多除了一次 N = {n}"),
    (lambda n: -2.0, "符号反了而且大了一倍：通常是 dvar 漏了 -1/2（dxhat/dvar = -1/2 (x - mu) (var + eps)^(-3/2)）"),
    (lambda n: 0.5, "只有一半：dvar/dx_i = 2 (x_i - mu) / N 里的 2 漏了"),
    (lambda n: 2.0, "多了一倍：-1/2 与 2 各只乘一次（dxhat/dvar 里的 -1/2，dvar/dx_i 里的 2）"),
    (lambda n: -1.0, "符号反了"),
    (lambda n: n / (n - 1), "多了因子 N/(N - 1)：某处用了无偏方差（除以 N - 1）"),
    (lambda n: (n - 1) / n, "少了因子 (N - 1)/N：某处用了无偏方差（除以 N - 1）"))
TERMS = ("直接项 gamma * istd * dy（x_i 经过 xhat_i 的那条路）", "经过均值 mu 的那一项 gamma * istd * dy.mean(axis=0)",
         "经过方差 var 的那一项 gamma * istd * xhat * (dy * xhat).mean(axis=0)")


#: a factor every column of dx is off by: (its value from the layer's gamma and istd, what it says)
COLUMN_FACTORS = (
    (lambda gamma, istd: 1 / istd, "dx 的每一列都少乘了 istd = 1 / sqrt(var + eps)：三项共同的因子 gamma * istd 里漏了 istd。"),
    (lambda gamma, istd: istd, "dx 的每一列都多乘了 istd = 1 / sqrt(var + eps)：istd 乘了两次，或者把 1 / np.sqrt(var + eps) 写成了 1 / (var + eps)（漏了开方）。"),
    (lambda gamma, istd: gamma, "dx 的每一列都多乘了 gamma：dL/dxhat = gamma * dy 已经带着 gamma，外面的 gamma * istd 就不要再乘一次了（或者反过来）。"))


def column_factor(layer, dx, x, dy):
    """The hint when each column of dx is the reference's times a per-feature factor of :data:`COLUMN_FACTORS`."""
    ref, (_, istd) = bn_dx(layer, x, None, dy), norm(layer, x)
    scale = (dx * ref).sum(axis=0) / np.maximum((ref * ref).sum(axis=0), 1e-300)
    if not kit.same(dx, ref * scale, 1e-6):
        return ""
    return next((text for f, text in COLUMN_FACTORS if kit.same(scale, f(layer.gamma, istd), 1e-6)), "")


def coefficients(ex, part, dx, case, x, dy):
    """Fits ``dx = gamma istd (c dy - a mean(dy) - b xhat mean(dy xhat))`` to the answer's dx by least squares: when it
    fits and (c, a, b) is not a multiple of (1, 1, 1) (a constant factor has its own hint), names each coefficient
    that is not 1 -- a slip in one path of a staged derivation."""
    if part != "dx" or np.shape(dx) != x.shape or len(x) < 3 or not np.all(np.isfinite(dx)):
        return ""
    layer = ex.layer(ex.reference, case, np.float64)
    xh, istd = norm(layer, x.astype(np.float64))
    g = dy * layer.gamma
    basis = np.stack([g, -np.broadcast_to(g.mean(axis=0), g.shape), -xh * (g * xh).mean(axis=0)], -1) * istd[:, None]
    target = np.asarray(dx, np.float64).ravel()
    coef = np.linalg.lstsq(basis.reshape(-1, 3), target, rcond=None)[0]
    tol = 1e-5 if dx.dtype == np.float32 else 1e-8
    if np.linalg.norm(basis.reshape(-1, 3) @ coef - target) > tol * np.linalg.norm(target) or np.ptp(coef) < 1e-6:
        return column_factor(layer, target.reshape(x.shape), x.astype(np.float64), dy)
    n, said = len(x), []
    for term, c in zip(TERMS, coef):
        if abs(c - 1) > 1e-6:
            reading = next((text for f, text in READINGS if abs(c - f(n)) <= 1e-6 * max(1, abs(f(n)))), "系数是 {c:.4g}")
            said.append(f"{term}，{reading.format(n=n, c=c)}")
    shown = "、".join(f"{k} = {c:.4g}" for k, c in zip("cab", coef))
    return f"dx 的三项都在，但系数不对。写成 dx = gamma * istd * (c * dy - a * dy.mean(axis=0) - b * xhat * (dy * xhat).mean(axis=0))，你的是 {shown}（都应为 1）：" + "；".join(said) + "。"


def _init(s, features, eps=1e-5, *, rng=None, dtype=None):
    s.__dict__.update(eps=eps, gamma=np.ones(features, dtype), beta=np.zeros(features, dtype))


BatchNormLayer = wrong_layer(Formula, lambda s, x: s.gamma * norm(s, x)[0] + s.beta, bn_dx, bn_grads, name="BatchNormLayer",
                             params=lambda s: {"gamma": s.gamma, "beta": s.beta}, __init__=_init)


def _kept(s, x):
    s.kept = norm(s, x)  # the batch's statistics on self, read by backward
    return BatchNormLayer.f(s, x)


def _inputs(rng, shape, dtype, scale):
    """Each feature with its own mean (up to ±2) and spread; the batch norm must remove both."""
    return (rng.standard_normal(shape) * scale * rng.uniform(0.5, 2, shape[1]) + rng.uniform(-2, 2, shape[1])).astype(dtype)


ISTD = "istd = 1 / sqrt(var + eps)，xhat = (x - mu) * istd"
FULL = "dx = gamma * istd * (dy - dy.mean(axis=0) - xhat * (dy * xhat).mean(axis=0))"
BATCHNORM = LayerExercise("batchnorm_backward", "批归一化（训练模式，用这一批的均值与方差）：前向与反向（dx、dgamma、dbeta）", BatchNormLayer, [
    ((4, 3), {"features": 3}, 1.0), ((3, 4), {"features": 4, "eps": 0.1}, 0.5), ((6, 2), {"features": 2}, 3.0),
    ((5, 3), {"features": 3, "eps": 1e-3}, 1.0)], [
    Mistake("constant_stats", f"把这一批的均值 mu 和方差 var 当成了常数：dx = gamma * istd * dy 只是「直接」那一条路。x_i 还经过 mu 和 var 影响每一个输出（批里的每一行都用到了它们），要把这两条路的梯度加上：{FULL}，其中 {ISTD}。如果你写了这两项，检查它们是不是成了 0：例如 1 // N 是整数除法，N > 1 时等于 0。",
            wrong_layer(BatchNormLayer, dx=lambda s, *a: bn_dx(s, *a, mean=0, var=0))),
    Mistake("no_variance_term", f"漏了经过方差 var 的那一项：dx 减去了 dy 的均值（经过 mu 的路），却没有减去它在 xhat 上的投影 xhat * (dy * xhat).mean(axis=0)（经过 var 的路）。完整的是 {FULL}。",
            wrong_layer(BatchNormLayer, dx=lambda s, *a: bn_dx(s, *a, var=0))),
    Mistake("no_mean_term", f"漏了经过均值 mu 的那一项：dx 要减去 dy 的批均值 dy.mean(axis=0)（每个 x_i 都通过 mu 影响整批的输出），你只减去了经过方差的投影。完整的是 {FULL}。",
            wrong_layer(BatchNormLayer, dx=lambda s, *a: bn_dx(s, *a, mean=0))),
    Mistake("layer_norm_axis", "均值和方差沿 axis=1 算了（每一行自己的各个特征），那是层归一化（layer norm）：批归一化对每个特征沿批统计，mu = x.mean(axis=0)，var = x.var(axis=0)，形状都是 (features,)。",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x, axis=1)[0] + s.beta)),
    Mistake("stats_whole_array", "均值和方差是对整个数组算的（x.mean()、x.var()、x.std() 没有指定 axis）：每个特征（每一列）各算各的，mu = x.mean(axis=0)，var = x.var(axis=0)，形状都是 (features,)。",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x, axis=None)[0] + s.beta)),
    Mistake("one_pass_variance", "方差用了一遍的公式 var = mean(x**2) - mu**2：数学上相等，但在 float32 里，当 x 的均值比它的散布大得多时（例如均值 2、标准差 0.01），两个几乎相等的大数相减会把有效数字几乎全部抵消掉（灾难性抵消），方差甚至可能是负数。用两遍的写法：先 d = x - mu，再 var = (d * d).mean(axis=0)（即 np.var(x, axis=0)）。",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x, one_pass=True)[0] + s.beta)),
    Mistake("no_beta", "forward 漏了 beta：y = gamma * xhat + beta（beta 初始为 0，所以只有换上别的 beta 才看得出来）。", wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x)[0])),
    Mistake("no_gamma", "forward 漏了 gamma：y = gamma * xhat + beta（gamma 初始为 1，所以只有换上别的 gamma 才看得出来）。", wrong_layer(BatchNormLayer, lambda s, x: norm(s, x)[0] + s.beta)),
    Mistake("dx_without_gamma", f"dx 少乘了 gamma：y = gamma * xhat + beta，所以 dL/dxhat = gamma * dy，后面的每一项都带着 gamma：{FULL}。",
            wrong_layer(BatchNormLayer, dx=lambda s, *a: bn_dx(s, *a, gamma=False))),
    Mistake("unbiased_variance", "方差用了无偏估计（除以 N - 1，例如 np.var(x, axis=0, ddof=1) 或 x.std(ddof=1)）：训练模式的批归一化按定义除以 N，var = ((x - mu) ** 2).mean(axis=0)，即 np.var(x, axis=0)。（除以 N - 1 的无偏方差只用于更新 running_var。）",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x, ddof=1)[0] + s.beta, lambda s, *a: bn_dx(s, *a, ddof=1))),
    Mistake("eps_outside_sqrt", f"eps 放在了平方根外面：(x - mu) / (sqrt(var) + eps)。eps 要加在根号里面：{ISTD}（与 minigan、PyTorch 一致）。",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * norm(s, x, outside=True)[0] + s.beta)),
    Mistake("running_stats", "训练模式用了 running_mean / running_var（刚构造时是 0 和 1）：forward(x) 是训练的那一次前向（生成器 G、判别器 D 的每一步训练都走它），必须用这一批自己的 mu = x.mean(axis=0) 和 var = x.var(axis=0) 做归一化；滑动平均只在评估时（layer(x)，例如画图时的 G(z)）使用。",
            wrong_layer(BatchNormLayer, lambda s, x: s.gamma * x / (1 + s.eps) ** 0.5 + s.beta)),
    Mistake("grads_mean", "dgamma 和 dbeta 对批取了平均（.mean(axis=0)）：gamma 和 beta 作用在每一行上，它们的梯度是各行的和，dgamma = (dy * xhat).sum(axis=0)，dbeta = dy.sum(axis=0)。1/N 已经在损失的平均里了。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, "mean"))),
    Mistake("grads_per_row", "dgamma 和 dbeta 没有对批求和：它们与 gamma、beta 同形 (features,)，dgamma = (dy * xhat).sum(axis=0)，dbeta = dy.sum(axis=0)；dy * xhat 本身是 (N, features)。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, None))),
    Mistake("grads_swapped", "dgamma 和 dbeta 对调了：gamma 乘的是 xhat，所以 dgamma = (dy * xhat).sum(axis=0)；beta 直接加上去，dbeta = dy.sum(axis=0)。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, swap=True))),
    Mistake("grads_axis1", "dgamma 和 dbeta 沿 axis=1 求和了（每一行的各个特征加在一起）：gamma、beta 的每个分量属于一个特征，梯度沿批求和，axis=0，形状 (features,)。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, axis=1))),
    Mistake("grads_to_number", "dgamma、dbeta 成了一个数：dy.sum() 没有指定轴，把整个数组加成了标量。要沿批求和，dgamma = (dy * xhat).sum(axis=0)，dbeta = dy.sum(axis=0)，形状 (features,)。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, axis=None))),
    Mistake("backward_without_eps", f"backward 里的 istd 没有加 eps（1 / np.sqrt(var)）：前向和反向必须用同一个 {ISTD}。把 istd 放进 cache，backward 直接取出来，不要重算。",
            wrong_layer(BatchNormLayer, dx=lambda s, *a: bn_dx(s, *a, istd=lambda s, x: 1 / np.sqrt(x.var(axis=0))))),
    Mistake("dgamma_of_x", "dgamma 乘的是输入 x：y = gamma * xhat + beta，gamma 乘的是归一化之后的 xhat，所以 dgamma = (dy * xhat).sum(axis=0)（把 xhat 放进 cache）。",
            wrong_layer(BatchNormLayer, grads=lambda s, x, dy: bn_grads(s, x, dy, of_x=True))),
    Mistake("state_on_self", "不可重入：批的统计量存在了 self 上（例如 self.mu、self.var、self.istd 或 self.xhat = ...），backward 读到的是最后一次 forward 那一批的。判别器 D 先对真实批、再对生成批各做一次前向，然后才反向，每一批都要用自己的 mu 和 var：把 xhat 和 istd 放进 cache 返回，backward 只从 cache 读取。",
            wrong_layer(BatchNormLayer, _kept, lambda s, *a: bn_dx(s, *a, kept=s.kept)), "reentrant"),
    *(m for m in behaviours(BatchNormLayer, "1 / np.sqrt(var + np.float64(eps))、np.zeros(features)（默认 float64）做累加器、x.mean(axis=0, dtype=np.float64)、np.float64(N)")
      if m.key not in ("state_on_self", "dx_mean_rows"))],
    f"forward 的数值与训练模式的批归一化不符：mu = x.mean(axis=0)，var = ((x - mu) ** 2).mean(axis=0)（除以 N），{ISTD}，y = gamma * xhat + beta。用这一批自己的统计量，不用 running_mean / running_var。",
    inputs=_inputs, keywords=("eps",), shapes_hint="数组形状对不上：x 是 (N, features)，mu、var、gamma、beta 以及 dgamma、dbeta 都是 (features,)，对批求均值、求和都用 axis=0；dx 与 x 同形。", default_hint="给 eps 一个默认值：def __init__(self, features, eps=1e-5)。",
    draw=lambda n, d, out, alpha, seed: ((max(n, 2), d), {"features": d}), diagnose=coefficients, own_dtype=True)
