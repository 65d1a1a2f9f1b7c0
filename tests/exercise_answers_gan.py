"""Answers to the GAN-level exercises (discriminator_gradient, minimax_gradient, train_step),
for tests/test_exercises_gan.py only.

Correct answers are written the way a learner would (not minigan's code); ``WRONG`` lists
typical mistakes, each with the distinctive Chinese phrases the checker's hint must
contain to count as naming that mistake.  Kept out of the package and the notebooks on
purpose: these are solutions.
"""

from __future__ import annotations

import numpy as np
from exercise_answers import Wrong  # the record shared by every answer module

# ======================================================================================
# Shared learner-style pieces.


def stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def bce(z, y):
    """Mean BCE from logits and its gradient (learner's version)."""
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return float(loss), (stable_sigmoid(z) - y) / z.size


# ======================================================================================
# discriminator_gradient: (D, x_real, x_fake) -> (loss, grads)

def my_discriminator_gradient(D, x_real, x_fake):
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(x_fake)
    loss_r, d_r = bce(r, 1.0)
    loss_f, d_f = bce(f, 0.0)
    _, g_r = D.backward(d_r, c_r)
    _, g_f = D.backward(d_f, c_f)
    return loss_r + loss_f, {k: g_r[k] + g_f[k] for k in g_r}


def my_discriminator_gradient_logaddexp(D, x_real, x_fake):
    """Also correct: softplus via np.logaddexp, sigmoid via np.where (warns, but is finite)."""
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(x_fake)
    loss = np.mean(np.logaddexp(0, -r)) + np.mean(np.logaddexp(0, f))
    with np.errstate(over="ignore"):
        s_r = np.where(r >= 0, 1 / (1 + np.exp(-r)), np.exp(r) / (1 + np.exp(r)))
        s_f = np.where(f >= 0, 1 / (1 + np.exp(-f)), np.exp(f) / (1 + np.exp(f)))
    grads = {}
    for dy, cache in (((s_r - 1) / len(r), c_r), (s_f / len(f), c_f)):
        _, g = D.backward(dy.astype(r.dtype), cache)
        for k, v in g.items():
            grads[k] = grads[k] + v if k in grads else v
    return loss, grads


def my_discriminator_gradient_one_pass(D, x_real, x_fake):
    """Also correct: one forward over the stacked batch (as GAN.d_step does), log1p / tanh forms."""
    n_r = len(x_real)
    logits, cache = D.forward(np.concatenate([x_real, x_fake]))
    r, f = logits[:n_r], logits[n_r:]
    loss = (np.mean(-np.minimum(r, 0) + np.log1p(np.exp(-np.abs(r))))
            + np.mean(np.maximum(f, 0) + np.log1p(np.exp(-np.abs(f)))))
    s = 0.5 * (1 + np.tanh(0.5 * logits))
    dy = np.concatenate([(s[:n_r] - 1) / len(r), s[n_r:] / len(f)])
    return float(loss), D.backward(dy, cache)[1]


# ======================================================================================
# minimax_gradient: (G, D, z) -> grads of mean log(1 - D(G(z)))

def _through(G, D, z, dlogits_of):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    return G.backward(d_fake, g_cache)[1]


def my_minimax_gradient(G, D, z):
    return _through(G, D, z, lambda l: -stable_sigmoid(l) / l.size)


def my_minimax_gradient_logaddexp(G, D, z):
    """Also correct: sigmoid(l) = exp(-softplus(-l)) = exp(-logaddexp(0, -l))."""
    return _through(G, D, z, lambda l: -np.exp(-np.logaddexp(0, -l)) / l.size)


def my_minimax_gradient_where(G, D, z):
    """Also correct: np.where over both branches of the sigmoid (overflow warnings, finite)."""
    def dl(l):
        with np.errstate(over="ignore"):
            s = np.where(l >= 0, 1 / (1 + np.exp(-l)), np.exp(l) / (1 + np.exp(l)))
        return -s / len(l)
    return _through(G, D, z, dl)


# ======================================================================================
# train_step: (G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict

def my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    for z in z_d:  # steps 6-8, k times
        fake = G(z)
        r, c_r = D.forward(x_real)
        f, c_f = D.forward(fake)
        loss_r, d_r = bce(r, real_label)
        loss_f, d_f = bce(f, 0.0)
        _, g_r = D.backward(d_r, c_r)
        _, g_f = D.backward(d_f, c_f)
        opt_D.step({k: g_r[k] + g_f[k] for k in g_r})
        stats = {"d_loss": loss_r + loss_f, "d_real": float(stable_sigmoid(r).mean()),
                 "d_fake": float(stable_sigmoid(f).mean())}
    fake, g_cache = G.forward(z_g)  # steps 1-5
    logits, d_cache = D.forward(fake)
    g_loss, dl = bce(logits, 1.0)
    d_fake, _ = D.backward(dl, d_cache)
    opt_G.step(G.backward(d_fake, g_cache)[1])
    return {**stats, "g_loss": g_loss}


def my_train_step_logaddexp(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    """Also correct: one D pass over the stacked batch, logaddexp losses."""
    n = len(x_real)
    for z in z_d:
        logits, cache = D.forward(np.concatenate([x_real, G(z)]))
        r, f = logits[:n], logits[n:]
        d_loss = (np.mean(real_label * np.logaddexp(0, -r) + (1 - real_label) * np.logaddexp(0, r))
                  + np.mean(np.logaddexp(0, f)))
        s = np.exp(-np.logaddexp(0, -logits))
        dy = np.concatenate([(s[:n] - real_label) / n, s[n:] / len(f)]).astype(logits.dtype)
        opt_D.step(D.backward(dy, cache)[1])
        d_real, d_fake = float(s[:n].mean()), float(s[n:].mean())
    fake, g_cache = G.forward(z_g)
    logits, d_cache = D.forward(fake)
    g_loss = float(np.mean(np.logaddexp(0, -logits)))
    dl = (np.exp(-np.logaddexp(0, -logits)) - 1) / logits.size
    opt_G.step(G.backward(D.backward(dl, d_cache)[0], g_cache)[1])
    return {"d_loss": float(d_loss), "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}


def _step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0, *, mistake=""):
    """The learner's step with one deliberate mistake (see the WRONG entries below)."""
    def d_update(z, acc):
        fake, g_cache = G.forward(z)
        r, c_r = D.forward(x_real)
        f, c_f = D.forward(fake)
        if mistake == "naive_bce":
            p_r, p_f = naive_sigmoid(r), naive_sigmoid(f)
            loss_r = float(-np.mean(real_label * np.log(p_r) + (1 - real_label) * np.log(1 - p_r)))
            loss_f = float(-np.mean(np.log(1 - p_f)))
            d_r = (-real_label / p_r + (1 - real_label) / (1 - p_r)) * p_r * (1 - p_r) / len(r)
            d_f = 1 / (1 - p_f) * p_f * (1 - p_f) / len(f)
        else:
            loss_r, d_r = bce(r, 1.0 if mistake == "ignore_smoothing" else real_label)
            loss_f, d_f = bce(f, 1.0 if mistake == "fake_label_1" else
                              (1 - real_label if mistake == "smooth_fake" else 0.0))
        _, g_r = D.backward(d_r, c_r)
        dx_fake, g_f = D.backward(d_f, c_f)
        grads = {k: g_r[k] + g_f[k] for k in g_r}
        if mistake == "accumulate":
            for k in grads:
                acc[k] = acc[k] + grads[k] if k in acc else grads[k]
            grads = acc
        if mistake == "two_opt_steps":
            opt_D.step(g_r)
            opt_D.step(g_f)
        elif mistake == "manual_sgd":
            for k, p in D.params().items():
                p -= 0.05 * grads[k]
        else:
            opt_D.step(grads)
        if mistake == "g_stepped_in_d":
            opt_G.step(G.backward(dx_fake, g_cache)[1])
        if mistake == "logit_stats":
            return {"d_loss": loss_r + loss_f, "d_real": float(r.mean()), "d_fake": float(f.mean())}
        return {"d_loss": loss_r + loss_f, "d_real": float(stable_sigmoid(r).mean()),
                "d_fake": float(stable_sigmoid(f).mean())}

    def g_grads(z):
        fake, g_cache = G.forward(z)
        logits, d_cache = D.forward(fake)
        if mistake == "minimax":
            loss, dl = -bce(logits, 0.0)[0], -stable_sigmoid(logits) / logits.size
        else:
            loss, dl = bce(logits, 1.0)
        d_fake, d_grads = D.backward(dl, d_cache)
        return loss, G.backward(d_fake, g_cache)[1], d_grads

    def g_apply(loss, grads, d_grads):
        opt_G.step(grads)
        if mistake == "d_stepped_in_g":
            opt_D.step(d_grads)
        return loss

    z_for_g = z_d[-1] if mistake == "g_noise_from_d" else z_g
    g_loss = g_apply(*g_grads(z_for_g)) if mistake == "g_first" else None
    pending = g_grads(z_for_g) if mistake == "simultaneous" else None
    acc = {}
    for i in range(len(z_d)):
        stats = d_update(z_d[0] if mistake == "same_d_noise" else z_d[i], acc)
    if pending is not None:
        g_loss = g_apply(*pending)
    elif g_loss is None:
        g_loss = g_apply(*g_grads(z_for_g))
    return {**stats, "g_loss": g_loss}


# ======================================================================================
# Wrong answers.

WRONG: list[Wrong] = []


def wrong(exercise, *words):
    def register(answer):
        WRONG.append(Wrong(exercise, answer, words))
        return answer
    return register


# ---- discriminator_gradient ----------------------------------------------------------

def _d_via(D, x_real, x_fake, d_r_of, d_f_of, loss=None, same_cache=False):
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(x_fake)
    _, g_r = D.backward(d_r_of(r), c_f if same_cache else c_r)
    _, g_f = D.backward(d_f_of(f), c_f)
    value = bce(r, 1.0)[0] + bce(f, 0.0)[0] if loss is None else loss(r, f)
    return value, {k: g_r[k] + g_f[k] for k in g_r}


@wrong("discriminator_gradient", "生成样本的标签写成了 1")
def dg_fake_label_one(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / len(r),
                  lambda f: (stable_sigmoid(f) - 1) / len(f), lambda r, f: bce(r, 1.0)[0] + bce(f, 1.0)[0])


@wrong("discriminator_gradient", "真假标签对调")
def dg_labels_swapped(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: stable_sigmoid(r) / len(r),
                  lambda f: (stable_sigmoid(f) - 1) / len(f), lambda r, f: bce(r, 0.0)[0] + bce(f, 1.0)[0])


@wrong("discriminator_gradient", "只取了一次平均")
def dg_one_mean_over_both(D, x_real, x_fake):
    n = len(x_real) + len(x_fake)
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / n, lambda f: stable_sigmoid(f) / n,
                  lambda r, f: (bce(r, 1.0)[0] * len(r) + bce(f, 0.0)[0] * len(f)) / n)


@wrong("discriminator_gradient", "漏了 1/N")
def dg_sum_not_mean(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: stable_sigmoid(r) - 1, lambda f: stable_sigmoid(f))


@wrong("discriminator_gradient", "符号反了", "最大化")
def dg_article_value_function(D, x_real, x_fake):
    # the article's L_D (section 3.4) minimised as written
    return _d_via(D, x_real, x_fake, lambda r: (1 - stable_sigmoid(r)) / len(r), lambda f: -stable_sigmoid(f) / len(f),
                  lambda r, f: -(bce(r, 1.0)[0] + bce(f, 0.0)[0]))


@wrong("discriminator_gradient", "对概率")
def dg_derivative_wrt_probability(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: -1 / (len(r) * stable_sigmoid(r)),
                  lambda f: 1 / (len(f) * (1 - stable_sigmoid(f))))


@wrong("discriminator_gradient", "同一个 cache")
def dg_same_cache(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / len(r), lambda f: stable_sigmoid(f) / len(f),
                  same_cache=True)


@wrong("discriminator_gradient", "只有真实样本那一项")
def dg_only_real_term(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / len(r), lambda f: np.zeros_like(f),
                  lambda r, f: bce(r, 1.0)[0])


@wrong("discriminator_gradient", "NaN 或 inf", "log(sigmoid(logits))")
def dg_log_of_probability(D, x_real, x_fake):
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(x_fake)
    p_r, p_f = naive_sigmoid(r), naive_sigmoid(f)
    loss = -np.mean(np.log(p_r)) - np.mean(np.log(1 - p_f))
    _, g_r = D.backward((p_r - 1) / len(r), c_r)
    _, g_f = D.backward(p_f / len(f), c_f)
    return float(loss), {k: g_r[k] + g_f[k] for k in g_r}


@wrong("discriminator_gradient", "NaN 或 inf", "-1/(N p) * p(1-p)")
def dg_chain_through_probability(D, x_real, x_fake):
    # a stable loss, but the gradient goes dL/dp * dp/dlogit
    def d_r(r):
        p = stable_sigmoid(r)
        return -1 / (len(r) * p) * p * (1 - p)

    def d_f(f):
        p = stable_sigmoid(f)
        return 1 / (len(f) * (1 - p)) * p * (1 - p)
    return _d_via(D, x_real, x_fake, d_r, d_f)


@wrong("discriminator_gradient", "截成了")
def dg_eps_in_log(D, x_real, x_fake):
    r, f = D(x_real), D(x_fake)
    p_r, p_f = stable_sigmoid(r), stable_sigmoid(f)
    eps = 1e-7
    loss = -np.mean(np.log(p_r + eps)) - np.mean(np.log(1 - p_f + eps))
    return float(loss), _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / len(r),
                               lambda f: stable_sigmoid(f) / len(f))[1]


@wrong("discriminator_gradient", "改动了判别器的参数")
def dg_updates_discriminator(D, x_real, x_fake):
    loss, grads = my_discriminator_gradient(D, x_real, x_fake)
    for k, p in D.params().items():
        p -= 0.01 * grads[k]
    return loss, grads


@wrong("discriminator_gradient", "dtype 被提升")
def dg_upcasts(D, x_real, x_fake):
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - np.ones(r.shape)) / len(r),
                  lambda f: stable_sigmoid(f) / len(f))


@wrong("discriminator_gradient", "被合并了", "生成样本那一项的梯度替换了真实样本那一项的", "逐键相加")
def dg_merged_dicts(D, x_real, x_fake):
    """The loss is right, but {**g_r, **g_f} keeps only the fake term's gradient under every key."""
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(x_fake)
    loss_r, d_r = bce(r, 1.0)
    loss_f, d_f = bce(f, 0.0)
    return loss_r + loss_f, {**D.backward(d_r, c_r)[1], **D.backward(d_f, c_f)[1]}


@wrong("discriminator_gradient", "np.exp 上溢", "问题不在概率", "np.logaddexp(0, x)")
def dg_softplus_overflows(D, x_real, x_fake):
    """softplus(x) = log1p(exp(x)): exp overflows once D is confident (logits beyond ~89 in float32)."""
    return _d_via(D, x_real, x_fake, lambda r: (stable_sigmoid(r) - 1) / len(r), lambda f: stable_sigmoid(f) / len(f),
                  lambda r, f: float(np.mean(np.log1p(np.exp(-r))) + np.mean(np.log1p(np.exp(f)))))


# ---- minimax_gradient ----------------------------------------------------------------

@wrong("minimax_gradient", "非饱和")
def mm_non_saturating(G, D, z):
    return _through(G, D, z, lambda l: (stable_sigmoid(l) - 1) / l.size)


@wrong("minimax_gradient", "符号反了", "BCE(logits, 0)")
def mm_sign_flipped(G, D, z):
    return _through(G, D, z, lambda l: stable_sigmoid(l) / l.size)


@wrong("minimax_gradient", "漏了 1/N")
def mm_missing_mean(G, D, z):
    return _through(G, D, z, lambda l: -stable_sigmoid(l))


@wrong("minimax_gradient", "对概率")
def mm_derivative_wrt_probability(G, D, z):
    return _through(G, D, z, lambda l: -1 / (l.size * (1 - stable_sigmoid(l))))


@wrong("minimax_gradient", "NaN 或 inf", "概率")
def mm_chain_through_probability(G, D, z):
    def dl(l):
        p = naive_sigmoid(l)
        return -1 / (l.size * (1 - p)) * p * (1 - p)
    return _through(G, D, z, dl)


@wrong("minimax_gradient", "跳过了判别器")
def mm_skips_discriminator(G, D, z):
    fake, g_cache = G.forward(z)
    logits = D(fake)
    return G.backward(-stable_sigmoid(logits) / logits.size, g_cache)[1]


@wrong("minimax_gradient", "的参数梯度，练习要的是")
def mm_returns_d_gradients(G, D, z):
    fake = G(z)
    logits, d_cache = D.forward(fake)
    return D.backward(-stable_sigmoid(logits) / logits.size, d_cache)[1]


@wrong("minimax_gradient", "梯度全为 0")
def mm_nothing_flows(G, D, z):
    fake, g_cache = G.forward(z)
    return G.backward(np.zeros_like(fake), g_cache)[1]


@wrong("minimax_gradient", "改动了判别器的参数")
def mm_updates_discriminator(G, D, z):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, d_grads = D.backward(-stable_sigmoid(logits) / logits.size, d_cache)
    for k, p in D.params().items():
        p += 0.01 * d_grads[k]  # "D maximises the same value function"
    return G.backward(d_fake, g_cache)[1]


@wrong("minimax_gradient", "dtype 被提升了", "除以一个 np.int64 整数标量")
def mm_divides_by_int64(G, D, z):
    """The 1/N applied at the end with N = np.prod(logits.shape), an np.int64: float32 / np.int64 is float64."""
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(-stable_sigmoid(logits), d_cache)
    n = np.prod(logits.shape)
    return {k: g / n for k, g in G.backward(d_fake, g_cache)[1].items()}


# ---- train_step ----------------------------------------------------------------------

def _mistake(name, *words):
    def answer(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
        return _step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label, mistake=name)
    answer.__name__ = f"ts_{name}"
    WRONG.append(Wrong("train_step", answer, words))
    return answer


ts_g_noise_from_d = _mistake("g_noise_from_d", "生成器那一步用了判别器那一步的噪声")
ts_accumulate = _mistake("accumulate", "梯度累加了", "清零")
ts_d_stepped_in_g = _mistake("d_stepped_in_g", "D 的参数在生成器那一步被改动了")
ts_g_stepped_in_d = _mistake("g_stepped_in_d", "G 的参数在判别器那一步被改动了", "detach")
ts_fake_label_1 = _mistake("fake_label_1", "生成样本的标签写成了 1")
ts_g_first = _mistake("g_first", "先更新了 G 再更新 D")
ts_simultaneous = _mistake("simultaneous", "更新之前的 D")
ts_minimax = _mistake("minimax", "minimax 损失")
ts_smooth_fake = _mistake("smooth_fake", "标签平滑用在了两边")
ts_ignore_smoothing = _mistake("ignore_smoothing", "忽略了 real_label")
ts_same_d_noise = _mistake("same_d_noise", "都用了 z_d[0]")
ts_two_opt_steps = _mistake("two_opt_steps", "调用了两次 opt_D.step")
ts_manual_sgd = _mistake("manual_sgd", "t = 0", "传入的优化器")
ts_naive_bce = _mistake("naive_bce", "NaN 或 inf")
ts_logit_stats = _mistake("logit_stats", "不是 logits 的平均")


# Too few optimiser steps (the loop over z_d forgotten) is told as too few; too many as too many.

def _ts_d_update(G, D, opt_D, x_real, z, real_label, steps=1):
    r, c_r = D.forward(x_real)
    f, c_f = D.forward(G(z))
    (loss_r, d_r), (loss_f, d_f) = bce(r, real_label), bce(f, 0.0)
    g_r, g_f = D.backward(d_r, c_r)[1], D.backward(d_f, c_f)[1]
    for _ in range(steps):
        opt_D.step({k: g_r[k] + g_f[k] for k in g_r})
    return {"d_loss": loss_r + loss_f, "d_real": float(stable_sigmoid(r).mean()),
            "d_fake": float(stable_sigmoid(f).mean())}


def _ts_g_update(G, D, opt_G, z_g):
    fake, g_cache = G.forward(z_g)
    logits, d_cache = D.forward(fake)
    g_loss, dl = bce(logits, 1.0)
    opt_G.step(G.backward(D.backward(dl, d_cache)[0], g_cache)[1])
    return g_loss


@wrong("train_step", "少于 k", "对 z_d 的循环")
def ts_k_loop_missing(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    stats = _ts_d_update(G, D, opt_D, x_real, z_d[0], real_label)  # one D update, whatever k is
    return {**stats, "g_loss": _ts_g_update(G, D, opt_G, z_g)}


@wrong("train_step", "少于 k", "对 z_d 的循环")
def ts_k_loop_missing_last_batch(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    stats = _ts_d_update(G, D, opt_D, x_real, z_d[-1], real_label)
    return {**stats, "g_loss": _ts_g_update(G, D, opt_G, z_g)}


@wrong("train_step", "多于 k")
def ts_d_step_twice(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    for z in z_d:
        stats = _ts_d_update(G, D, opt_D, x_real, z, real_label, steps=2)  # opt_D.step inside the loop twice
    return {**stats, "g_loss": _ts_g_update(G, D, opt_G, z_g)}


@wrong("train_step", "多于 k")
def ts_extra_d_update_on_z_g(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    for z in [*z_d, z_g]:
        stats = _ts_d_update(G, D, opt_D, x_real, z, real_label)
    return {**stats, "g_loss": _ts_g_update(G, D, opt_G, z_g)}


@wrong("train_step", "G 的更新次数多于", "D 的循环")
def ts_g_in_d_loop(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    for z in z_d:
        stats = _ts_d_update(G, D, opt_D, x_real, z, real_label)
        g_loss = _ts_g_update(G, D, opt_G, z_g)  # the generator step inside the D loop
    return {**stats, "g_loss": g_loss}


# ======================================================================================
# Unfinished answers, as the notebooks' skeletons leave them.

def todo_discriminator_gradient(D, x_real, x_fake):
    raise NotImplementedError


def todo_minimax_gradient(G, D, z):
    raise NotImplementedError


def todo_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    raise NotImplementedError
