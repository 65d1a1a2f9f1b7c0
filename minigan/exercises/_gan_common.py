"""Helpers shared by the GAN-level checkers (discriminator_gradient, minimax_gradient, train_step).

Small networks built with minigan's own builders, a *saturated* discriminator (its last
Dense layer scaled so that the logits are of order 1e2..1e3: D(x) is exactly 0 or 1 in
float32), the chain of a generator loss through D, and the Chinese hints these
checkers have in common.
"""

from __future__ import annotations

import numpy as np

from ..gan import build_discriminator, build_generator
from ..gradcheck import gradient_error
from ._kit import TOL, Failure, diagnose_gradient, shape_str

#: hint for NaN / inf that appears only when D is saturated (|logits| >= 1e2)
PROB_NAN = ("在判别器饱和（logits 的绝对值达到 1e2 以上）时出现了 NaN 或 inf：你是通过 D 的概率 p = sigmoid(logits) "
            "来计算的，例如 log(sigmoid(logits))、log(1 - p)，或 -1/(N p) * p(1-p) 这类先对概率求导再乘 sigmoid 导数的写法。"
            "float32 里 sigmoid(-200) 舍入为 0、sigmoid(20) 舍入为 1，于是 log(0) = -inf、0 * inf = NaN。"
            "请直接从 logits 计算：损失用 max(z,0) - z*y + log1p(exp(-|z|))（或 np.logaddexp），"
            "对 logits 的梯度直接写成 sigmoid(z) 的式子（例如 BCE 的 (sigmoid(z) - y) / N），sigmoid 用分段稳定的写法。")

#: hint for a loss that is finite but capped at saturation (eps inside a log, a clip)
CAPPED = ("判别器饱和时损失值偏小：log(p + eps) 或 np.clip(p, eps, 1 - eps)（或截断 logits）把真实的损失"
          "（logit 为 -1e3 的真实样本，损失约 1e3）截成了几十。直接从 logits 计算损失就不需要 eps："
          "max(z,0) - z*y + log1p(exp(-|z|))。")

UPCAST = ("dtype 被提升：输入是 float32，结果却是 float64。计算中混进了 float64 数组或 np.float64 标量，"
          "NumPy 会把整个结果提升为 float64。常见来源：{culprits}。常数用 Python 浮点数，"
          "数组用与输入相同的 dtype 创建（np.ones_like(x)、.astype(x.dtype)）。")


def arrow(sizes) -> str:
    return "->".join(str(s) for s in sizes)


def make_pair(rng, z_dim, g_hidden, x_dim, d_hidden, dtype=np.float64):
    """A generator z_dim -> g_hidden -> x_dim (tanh) and a discriminator x_dim -> d_hidden -> 1."""
    G = build_generator(z_dim, tuple(g_hidden), x_dim, dtype=dtype, rng=rng)
    D = build_discriminator(x_dim, tuple(d_hidden), dtype=dtype, rng=rng)
    return G, D


def last_layer_keys(D) -> tuple[str, str]:
    """Names of the W and b of D's last Dense layer (the one that produces the logits)."""
    names = [k for k in D.params() if k.endswith(".W")]
    last = max(names, key=lambda k: int(k.split(".")[0]))
    return last, last[:-1] + "b"


def saturate(D, scale: float, centre=None) -> None:
    """Multiply D's last layer (W and b) by ``scale``, in place: logits scale with it.

    With ``centre`` (a batch of D's inputs), first shift the last bias so that the median
    logit over that batch is 0: after scaling, logits of both signs are likely.
    """
    w, b = last_layer_keys(D)
    params = D.params()
    if centre is not None:
        params[b] -= np.median(D(centre))
    params[w] *= scale
    params[b] *= scale


def saturated_batches(rng, D, x_dim, n_real, n_fake, dtype, *, target=500.0, sample=None):
    """Scale D so that its logits are of order ``target`` and draw real and fake batches
    in which each batch has logits below -100 and above +100 (so that D is confidently
    right on some samples and confidently wrong on others).

    ``sample(rng, n)`` draws an input batch (default: uniform on [-1, 1], what a tanh G
    makes).  Returns ``(x_real, x_fake)``; D is modified in place.
    """
    sample = sample or (lambda r, n: r.uniform(-1, 1, (n, x_dim)).astype(dtype))
    probe = sample(rng, 64)
    saturate(D, 1.0, centre=probe)
    scale = target / max(float(np.median(np.abs(D(probe)))), 1e-3)
    saturate(D, scale)
    for _ in range(200):
        xr, xf = sample(rng, n_real), sample(rng, n_fake)
        lr, lf = D(xr).ravel(), D(xf).ravel()
        if all(np.any(v < -100) and np.any(v > 100) for v in (lr, lf)):
            return xr, xf
    raise RuntimeError("saturated_batches: could not draw batches with both signs")  # pragma: no cover


def generator_setups(seed: int) -> list:
    """Two small float64 ``(label, G, D, z)`` cases whose parameter shapes differ between
    G and D (so a dict of D's gradients is told apart from G's)."""
    rng = np.random.default_rng(seed)
    out = []
    for z_dim, g_hidden, x_dim, d_hidden, n in ((3, (5, 4), 2, (6,), 7), (2, (3,), 3, (4, 4), 4)):
        G = build_generator(z_dim, g_hidden, x_dim, dtype=np.float64, rng=rng)
        D = build_discriminator(x_dim, d_hidden, dtype=np.float64, rng=rng)
        z = rng.standard_normal((n, z_dim))
        out.append((f"G {arrow((z_dim, *g_hidden, x_dim))}，D {arrow((x_dim, *d_hidden, 1))}，z {shape_str(z.shape)}",
                    G, D, z))
    return out


def chain_through(G, D, z, dlogits_of) -> dict:
    """G's parameter gradients when ``dlogits_of(logits)`` is fed back through D and G
    (minigan's own modules): the chain every generator-side exercise asks for."""
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    _, grads = G.backward(d_fake, g_cache)
    return grads


def flat(grads, keys) -> np.ndarray:
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in keys])


def check_grads_dict(grads, model, who: str, other=None, other_who: str = "", chain: str = "") -> dict:
    """``grads`` must be a dict with exactly the keys and shapes of ``model.params()``.

    ``who`` names the network in Chinese (e.g. "生成器 G"); if ``other`` is given and the
    dict has the other network's shapes, the hint says so.
    """
    params = model.params()
    if isinstance(grads, tuple) and any(isinstance(g, dict) for g in grads):
        raise Failure(f"返回了含 {len(grads)} 个元素的元组",
                      f"只返回{who}的梯度字典（键与 {who}.params() 相同），不要再附带别的值。")
    if not isinstance(grads, dict):
        raise Failure(f"返回的是 {type(grads).__name__}，不是字典",
                      "返回一个字典，键与 params() 相同（{'0.W': ..., '0.b': ..., ...}），即 backward 返回的那种。")
    if other is not None:
        o = other.params()
        if grads and all(k in o and np.shape(v) == o[k].shape for k, v in grads.items()) and \
                any(k not in o or params[k].shape != o[k].shape for k in params):
            raise Failure(f"返回的梯度形状与{other_who}的参数相同",
                          f"这是{other_who}的参数梯度，练习要的是{who}的。" + chain)
    if set(grads) != set(params):
        raise Failure(f"键 {sorted(grads)} 与 params() 的键 {sorted(params)} 不同",
                      f"{who}的每个参数都要有一个梯度，键与 params() 相同。")
    for k, v in grads.items():
        if not isinstance(v, np.ndarray) or v.shape != params[k].shape:
            raise Failure(f"grads[{k!r}] 的形状是 {shape_str(np.shape(v))}，参数 {k!r} 的形状是 "
                          f"{shape_str(params[k].shape)}", "每个梯度的形状都与它对应的参数相同。")
    return grads


def grad_check(what: str, analytic, numeric, noise, reference, **diagnosis) -> float:
    """The error of ``analytic`` against finite differences if below :data:`TOL`, else
    :class:`Failure` from :func:`diagnose_gradient` (``diagnosis``: its keywords)."""
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape == numeric.shape and np.all(np.isfinite(a)):
        error = gradient_error(a, numeric, noise, TOL)
        if error < TOL:
            return error
    diagnose_gradient(what, analytic, numeric, noise, reference, **diagnosis)
    raise Failure(f"{what} 与有限差分不一致", "请按前向公式重新推导梯度。")  # pragma: no cover
