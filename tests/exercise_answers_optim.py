"""Answers to the ``adam_step`` and ``mode_coverage`` exercises, for tests/test_exercises_optim.py only.

Correct answers written the way a learner would (not minigan's code), and typical wrong
answers, one function each, with the words the checker's hint must contain to count as
naming that mistake.  Kept out of the package and the notebooks: these are solutions.
"""

from __future__ import annotations

import math

import numpy as np
from exercise_answers import Wrong  # the record shared by every answer module

# ======================================================================================
# adam_step: correct answers


def my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """The textbook form: moments, bias-corrected moments, update."""
    t = state["t"] + 1
    new_params, new_m, new_v = {}, {}, {}
    for name, p in params.items():
        g = grads[name]
        m = beta1 * state["m"][name] + (1 - beta1) * g
        v = beta2 * state["v"][name] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        new_params[name] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        new_m[name], new_v[name] = m, v
    return new_params, {"t": t, "m": new_m, "v": new_v}


def my_adam_step_folded(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """Also correct, written differently: the step size folded into one scalar, eps scaled
    to stay outside the *corrected* square root, comprehensions, np.square."""
    t = int(state["t"]) + 1
    c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
    m = {k: beta1 * state["m"][k] + (1.0 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state["v"][k] + (1.0 - beta2) * np.square(grads[k]) for k in params}
    step = lr * math.sqrt(c2) / c1
    new = {k: params[k] - step * m[k] / (np.sqrt(v[k]) + eps * math.sqrt(c2)) for k in params}
    return new, {"t": t, "m": m, "v": v}


# ======================================================================================
# adam_step: wrong answers (each one mistake away from my_adam_step)


def _adam(params, grads, state, lr, beta1, beta2, eps, *, t_used=None, t_stored=None, square=None,
          denom=None, sign=-1.0, carry=True, correct=(True, True), betas=None, return_old_state=False):
    t = state["t"] + 1
    tc = t if t_used is None else t_used(state["t"])
    b1, b2 = betas if betas else (beta1, beta2)
    new_params, new_m, new_v = {}, {}, {}
    for name, p in params.items():
        g = grads[name]
        m0 = state["m"][name] if carry else np.zeros_like(p)
        v0 = state["v"][name] if carry else np.zeros_like(p)
        m = b1 * m0 + (1 - b1) * g
        v = b2 * v0 + (1 - b2) * (g * g if square is None else square(g))
        m_hat = m / (1 - b1**tc) if correct[0] else m
        v_hat = v / (1 - b2**tc) if correct[1] else v
        d = np.sqrt(v_hat) + eps if denom is None else denom(v_hat, eps)
        new_params[name] = p + sign * lr * m_hat / d
        new_m[name], new_v[name] = m, v
    if return_old_state:
        return new_params, state
    return new_params, {"t": t if t_stored is None else t_stored(state["t"]), "m": new_m, "v": new_v}


def _wrong(**options):
    def adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
        return _adam(params, grads, state, lr, beta1, beta2, eps, **options)
    return adam_step


adam_no_bias_correction = _wrong(correct=(False, False))
adam_only_m_corrected = _wrong(correct=(True, False))
adam_old_t = _wrong(t_used=lambda t: t)  # bias correction with t before the increment
adam_t_not_incremented = _wrong(t_used=lambda t: t + 1, t_stored=lambda t: t)
adam_eps_inside_sqrt = _wrong(denom=lambda v_hat, eps: np.sqrt(v_hat + eps))
adam_v_abs = _wrong(square=np.abs)
adam_v_linear = _wrong(square=lambda g: g)
adam_state_unchanged = _wrong(return_old_state=True)
adam_moments_restart = _wrong(carry=False)
adam_gradient_ascent = _wrong(sign=1.0)


def adam_betas_swapped(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    return _adam(params, grads, state, lr, beta1, beta2, eps, betas=(beta2, beta1))


def adam_eps_uncorrected(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """Kingma & Ba's 'efficient' form: eps added to the uncorrected sqrt(v)."""
    t = state["t"] + 1
    step = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    new, m, v = {}, {}, {}
    for k, p in params.items():
        m[k] = beta1 * state["m"][k] + (1 - beta1) * grads[k]
        v[k] = beta2 * state["v"][k] + (1 - beta2) * grads[k] ** 2
        new[k] = p - step * m[k] / (np.sqrt(v[k]) + eps)
    return new, {"t": t, "m": m, "v": v}


def adam_updates_params_in_place(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    new_params, new_state = my_adam_step(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    for k, p in params.items():
        p[...] = new_params[k]  # p -= ...: the caller's arrays change
    return params, new_state


def adam_updates_moments_in_place(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    new = {}
    for k, p in params.items():
        m, v, g = state["m"][k], state["v"][k], grads[k]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        new[k] = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return new, {"t": t, "m": state["m"], "v": state["v"]}


def adam_mutates_state_dict(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    new_params, new_state = my_adam_step(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    state["t"] += 1  # the caller's dict changes
    return new_params, {"t": state["t"], "m": new_state["m"], "v": new_state["v"]}


def adam_upcasts(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    return my_adam_step(params, grads, state, lr=np.float64(lr), beta1=beta1, beta2=beta2, eps=np.float64(eps))


def adam_pytorch_defaults(params, grads, state, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return my_adam_step(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def adam_no_defaults(params, grads, state, *, lr, beta1, beta2, eps):
    return my_adam_step(params, grads, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def adam_stores_corrected_moments(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """The bias-corrected m_hat, v_hat written back as the state: right at step 1, off from step 2."""
    t = state["t"] + 1
    new, m_hat, v_hat = {}, {}, {}
    for k, p in params.items():
        m_hat[k] = (beta1 * state["m"][k] + (1 - beta1) * grads[k]) / (1 - beta1**t)
        v_hat[k] = (beta2 * state["v"][k] + (1 - beta2) * grads[k] ** 2) / (1 - beta2**t)
        new[k] = p - lr * m_hat[k] / (np.sqrt(v_hat[k]) + eps)
    return new, {"t": t, "m": m_hat, "v": v_hat}


def adam_todo(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    # TODO
    raise NotImplementedError


# ======================================================================================
# mode_coverage: correct answers


def my_mode_coverage(samples, centres, std):
    """Distances to every centre, nearest centre, 3-sigma test, histogram."""
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)  # (N, K)
    nearest = d.argmin(axis=1)
    good = d.min(axis=1) <= 3 * std
    k = len(centres)
    counts = np.bincount(nearest[good], minlength=k)
    n_good = counts.sum()
    high_quality = n_good / len(samples)
    if n_good == 0:
        return 0, 0.0, float("inf")
    q = counts[counts > 0] / n_good
    return int(np.count_nonzero(counts)), float(high_quality), float(np.sum(q * np.log(q * k)))


def my_mode_coverage_loops(samples, centres, std):
    """Also correct, written differently: squared distances against (3 std)**2, a dict
    histogram, math.log, an object with attributes as the result."""
    from types import SimpleNamespace

    k = len(centres)
    hist: dict[int, int] = {}
    for x in np.asarray(samples, dtype=np.float64):
        d2 = ((centres - x) ** 2).sum(axis=1)
        j = int(np.argmin(d2))
        if d2[j] <= (3 * std) ** 2:
            hist[j] = hist.get(j, 0) + 1
    total = sum(hist.values())
    kl = sum(c / total * math.log(c / total * k) for c in hist.values()) if total else math.inf
    return SimpleNamespace(modes=len(hist), high_quality=total / len(samples), reverse_kl=kl)


# ======================================================================================
# mode_coverage: wrong answers


def _coverage(samples, centres, std, *, threshold=lambda d, s: d <= 3 * s, metric="l2", modes_from_all=False,
              hq_as_count=False, kl="reverse", hist_all=False, log=np.log, modes_fraction=False):
    diff = samples[:, None, :] - centres[None, :, :]
    d = np.abs(diff).sum(axis=2) if metric == "l1" else np.sqrt((diff**2).sum(axis=2))
    nearest, dist = d.argmin(axis=1), d.min(axis=1)
    good = threshold(dist, std)
    k = len(centres)
    counts = np.bincount(nearest[good], minlength=k)
    all_counts = np.bincount(nearest, minlength=k)
    n_good = counts.sum()
    modes = np.count_nonzero(all_counts if modes_from_all else counts)
    if modes_fraction:
        modes = modes / k
    hq = n_good if hq_as_count else n_good / len(samples)
    hist = all_counts if hist_all else counts
    if hist.sum() == 0:
        return modes, hq, float("inf")
    q = hist / hist.sum()
    if kl == "forward":
        with np.errstate(divide="ignore"):
            return modes, hq, float(np.sum(1 / k * log(1 / (k * q))))
    if kl == "nan":
        with np.errstate(divide="ignore", invalid="ignore"):
            return modes, hq, float(np.sum(q * log(q * k)))
    if kl == "counts":
        q = hist
    q = q[q > 0]
    return modes, hq, float(np.sum(q * log(q * k)))


def _wrong_coverage(**options):
    def mode_coverage(samples, centres, std):
        return _coverage(samples, centres, std, **options)
    return mode_coverage


coverage_one_sigma = _wrong_coverage(threshold=lambda d, s: d <= s)
coverage_three_sigma_squared = _wrong_coverage(threshold=lambda d, s: d <= 3 * s**2)
coverage_any_sample = _wrong_coverage(modes_from_all=True)
coverage_forward_kl = _wrong_coverage(kl="forward")
coverage_low_quality_in_histogram = _wrong_coverage(hist_all=True)
coverage_l1 = _wrong_coverage(metric="l1")
coverage_log2 = _wrong_coverage(log=np.log2)
coverage_counts = _wrong_coverage(hq_as_count=True)
coverage_kl_on_counts = _wrong_coverage(kl="counts")
coverage_zero_log_zero = _wrong_coverage(kl="nan")
coverage_modes_fraction = _wrong_coverage(modes_fraction=True)


def coverage_nan_when_empty(samples, centres, std):
    """Right on every set with high-quality samples; 0 / 0 = nan when there are none."""
    modes, hq, _ = my_mode_coverage(samples, centres, std)
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    counts = np.bincount(d.argmin(axis=1)[d.min(axis=1) <= 3 * std], minlength=len(centres))
    with np.errstate(invalid="ignore"):
        q = counts / counts.sum()
    q = q[q > 0] if counts.sum() else q
    with np.errstate(invalid="ignore", divide="ignore"):
        return modes, hq, float(np.sum(q * np.log(q * len(centres))))


def coverage_clips_samples_in_place(samples, centres, std):
    np.clip(samples, -5, 5, out=samples)  # "tame the outliers": the caller's array changes
    return my_mode_coverage(samples, centres, std)


def _hq_triple(nearest, good, k, n):
    """(modes, high_quality, reverse_kl) from each sample's mode and whether it is high quality."""
    counts = np.bincount(nearest[good], minlength=k)
    if counts.sum() == 0:
        return 0, 0.0, float("inf")
    q = counts[counts > 0] / counts.sum()
    return int(np.count_nonzero(counts)), counts.sum() / n, float(np.sum(q * np.log(q * k)))


coverage_strict_boundary = _wrong_coverage(threshold=lambda d, s: d < 3 * s)  # "within 3 sigma" excludes it
coverage_threshold_from_distances = _wrong_coverage(threshold=lambda d, s: d <= 3 * np.std(d))


def coverage_threshold_from_samples(samples, centres, std):
    """3 sigma with sigma the samples' own spread, not the mixture's std."""
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    return _hq_triple(d.argmin(axis=1), d.min(axis=1) <= 3 * np.std(samples), len(centres), len(samples))


def coverage_square(samples, centres, std):
    """A square instead of a disc: |dx| <= 3 std and |dy| <= 3 std around the nearest centre."""
    nearest = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2).argmin(axis=1)
    good = np.all(np.abs(samples - centres[nearest]) <= 3 * std, axis=1)
    return _hq_triple(nearest, good, len(centres), len(samples))


def coverage_ties_to_the_last_centre(samples, centres, std):
    """A loop that moves on to an equally near centre (<= where < is meant)."""
    nearest, dist = [], []
    for x in samples:
        best, j = math.inf, -1
        for i, c in enumerate(centres):
            if math.dist(x, c) <= best:
                best, j = math.dist(x, c), i
        nearest.append(j)
        dist.append(best)
    return _hq_triple(np.array(nearest), np.array(dist) <= 3 * std, len(centres), len(samples))


def coverage_modes_need_two(samples, centres, std):
    """n_k > 1 where "at least one" means n_k >= 1."""
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    counts = np.bincount(d.argmin(axis=1)[d.min(axis=1) <= 3 * std], minlength=len(centres))
    return (int(np.count_nonzero(counts > 1)), *my_mode_coverage(samples, centres, std)[1:])


def coverage_forward_kl_covered_only(samples, centres, std):
    """KL(uniform || q), summed over the covered modes only: sum (1/K) log((1/K) / q_k)."""
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    k = len(centres)
    counts = np.bincount(d.argmin(axis=1)[d.min(axis=1) <= 3 * std], minlength=k)
    modes, hq, _ = my_mode_coverage(samples, centres, std)
    if counts.sum() == 0:
        return modes, hq, float("inf")
    q = counts[counts > 0] / counts.sum()
    return modes, hq, float(np.sum(1 / k * np.log(1 / (k * q))))


def coverage_todo(samples, centres, std):
    # TODO
    raise NotImplementedError


# ======================================================================================
# The table of wrong answers


def _named(fn, name):
    fn.__name__ = name
    return fn


WRONG = [
    Wrong("adam_step", _named(adam_no_bias_correction, "adam_no_bias_correction"), ("缺少偏差修正",)),
    Wrong("adam_step", _named(adam_only_m_corrected, "adam_only_m_corrected"), ("只对 m 做了偏差修正",)),
    Wrong("adam_step", _named(adam_old_t, "adam_old_t"), ("加 1 之前的 t",)),
    Wrong("adam_step", _named(adam_t_not_incremented, "adam_t_not_incremented"), ("步数没有加 1",)),
    Wrong("adam_step", _named(adam_eps_inside_sqrt, "adam_eps_inside_sqrt"), ("eps 放进了平方根里",)),
    Wrong("adam_step", adam_eps_uncorrected, ("未经修正的 np.sqrt(v)",)),
    Wrong("adam_step", adam_betas_swapped, ("beta1 和 beta2 用反了",)),
    Wrong("adam_step", _named(adam_v_abs, "adam_v_abs"), ("绝对值 |g|",)),
    Wrong("adam_step", _named(adam_v_linear, "adam_v_linear"), ("累积的是梯度 g 本身",)),
    Wrong("adam_step", _named(adam_state_unchanged, "adam_state_unchanged"), ("没有写回新状态",)),
    Wrong("adam_step", _named(adam_moments_restart, "adam_moments_restart"), ("没有接着上一步累积",)),
    Wrong("adam_step", _named(adam_gradient_ascent, "adam_gradient_ascent"), ("梯度上升",)),
    Wrong("adam_step", adam_updates_params_in_place, ("参数被原地更新",)),
    Wrong("adam_step", adam_updates_moments_in_place, ("m 或 v 数组被原地修改",)),
    Wrong("adam_step", adam_mutates_state_dict, ("state 字典被改动",)),
    Wrong("adam_step", adam_upcasts, ("dtype 被提升", "float64")),
    Wrong("adam_step", adam_pytorch_defaults, ("beta1 的默认值应为 0.5",)),
    Wrong("adam_step", adam_no_defaults, ("默认值",)),
    Wrong("adam_step", adam_stores_corrected_moments, ("存的是偏差修正后的 m_hat、v_hat", "原始矩 m、v")),
    Wrong("mode_coverage", _named(coverage_one_sigma, "coverage_one_sigma"), ("1σ", "3 * std")),
    Wrong("mode_coverage", _named(coverage_three_sigma_squared, "coverage_three_sigma_squared"), ("3σ²",)),
    Wrong("mode_coverage", _named(coverage_any_sample, "coverage_any_sample"), ("至少有 1 个高质量样本",)),
    Wrong("mode_coverage", _named(coverage_forward_kl, "coverage_forward_kl"), ("KL 的方向反了",)),
    Wrong("mode_coverage", _named(coverage_low_quality_in_histogram, "coverage_low_quality_in_histogram"),
          ("直方图里算进了低质量样本",)),
    Wrong("mode_coverage", _named(coverage_l1, "coverage_l1"), ("L1 距离",)),
    Wrong("mode_coverage", _named(coverage_log2, "coverage_log2"), ("以 2 为底",)),
    Wrong("mode_coverage", _named(coverage_counts, "coverage_counts"), ("个数而不是比例",)),
    Wrong("mode_coverage", _named(coverage_kl_on_counts, "coverage_kl_on_counts"), ("直方图用的是个数",)),
    Wrong("mode_coverage", _named(coverage_zero_log_zero, "coverage_zero_log_zero"), ("0 log 0 = 0",)),
    Wrong("mode_coverage", _named(coverage_modes_fraction, "coverage_modes_fraction"), ("modes 返回的是比例",)),
    Wrong("mode_coverage", coverage_nan_when_empty, ("reverse_kl = inf",)),
    Wrong("mode_coverage", coverage_clips_samples_in_place, ("不要原地修改 samples",)),
    Wrong("mode_coverage", _named(coverage_strict_boundary, "coverage_strict_boundary"),
          ("恰好在 3σ 上", "dist <= 3 * std")),
    Wrong("mode_coverage", coverage_threshold_from_samples, ("样本自己的标准差", "3 * std")),
    Wrong("mode_coverage", _named(coverage_threshold_from_distances, "coverage_threshold_from_distances"),
          ("距离的标准差", "3 * std")),
    Wrong("mode_coverage", coverage_square, ("正方形而不是圆",)),
    Wrong("mode_coverage", coverage_ties_to_the_last_centre, ("编号最小的那个中心",)),
    Wrong("mode_coverage", coverage_modes_need_two, ("n_k > 1",)),
    Wrong("mode_coverage", coverage_forward_kl_covered_only, ("跳过了空的模式",)),
]
