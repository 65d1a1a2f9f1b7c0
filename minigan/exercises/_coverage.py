"""Checker for the ``mode_coverage`` exercise: ``(samples, centres, std) -> (modes, high_quality, reverse_kl)``.

As :func:`minigan.metrics.mode_coverage`, for samples (N, 2), centres (K, 2): a sample's mode is its nearest centre
(Euclidean; on a tie the first, as ``np.argmin``), high quality if within 3 * std of it (boundary included);
``modes = #{k : n_k >= 1}`` with n_k the high-quality samples of mode k; ``high_quality = sum n / N``;
``reverse_kl = sum_{q_k > 0} q_k log(q_k K)``, ``q = n / sum n`` (``inf`` if n = 0).  Objects with the three
attributes are accepted too."""

from __future__ import annotations

import math

import numpy as np

from ..data.toy import grid_centres, ring_centres
from ..metrics.coverage import mode_coverage
from ._kit import Case, Failure, FunctionExercise, Mistake, Part, Regime, call_learner, original

NAMES = ("modes", "high_quality", "reverse_kl")
DEFINITION = "定义：样本的模式是离它最近的中心（欧氏距离），距离 <= 3 * std 为高质量；modes = 至少有 1 个高质量样本的模式数；high_quality = 高质量样本数 / N；reverse_kl = Σ q_k log(q_k K)（自然对数，只对 q_k > 0 求和），q 是高质量样本在各模式上的比例。"
EMPTY_KL = "没有任何高质量样本时 q 没有定义：按 minigan 的约定 reverse_kl = inf（float('inf')），modes = 0，high_quality = 0.0。先判断高质量样本数是否为 0，避免 0 / 0 = nan。"
SPREAD = "3σ 里的 σ 是参数 std（混合分布每个模式的标准差），门槛是 3 * std，不是从数据里算出来的标准差：样本的散布取决于生成器，而门槛必须是固定的。"
SAMPLES_KEPT = "不要原地修改 samples（例如 samples -= ...、np.clip(..., out=samples) 或 samples.sort()）：它是调用者的数据。"


def _coverage(samples, centres, std, *, metric=lambda diff: np.sqrt((diff**2).sum(axis=2)), last=False,
              good=lambda d, off, std: d <= 3 * std, covered=lambda n, every, k: np.count_nonzero(n),
              hq=lambda n_good, n: n_good / n, q=lambda n, every, count: n / n.sum(),
              kl=lambda q, k: np.sum(q[q > 0] * np.log(q[q > 0] * k)), empty=math.inf):
    """The metric, or (with one keyword changed) a typical wrong version of it."""
    samples, centres = np.asarray(samples, np.float64), np.asarray(centres, np.float64)
    d = metric(samples[:, None, :] - centres[None, :, :])  # (N, K)
    k = len(centres)
    idx = k - 1 - np.argmin(d[:, ::-1], axis=1) if last else np.argmin(d, axis=1)
    ok = good(d[np.arange(len(samples)), idx], samples - centres[idx], std)
    n, every = np.bincount(idx[ok], minlength=k), np.bincount(idx, minlength=k)
    with np.errstate(all="ignore"):
        kl_value = float(kl(q(n, every, len(samples)), k)) if n.sum() else empty
    return covered(n, every, k), hq(n.sum(), len(samples)), kl_value


def _w(**options):
    return lambda samples, centres, std: _coverage(samples, centres, std, **options)


MISTAKES = [
    Mistake("sigma1", answer=_w(good=lambda d, off, std: d <= std), hint="高质量的门槛用了 1σ：PacGAN 的定义是到最近中心的距离不超过 3σ，即 dist <= 3 * std。"),
    Mistake("sigma_sq", answer=_w(good=lambda d, off, std: d <= 3 * std**2), hint="门槛写成了 3σ²（3 * std**2）：距离要与 3σ = 3 * std 比较；如果比较的是距离的平方，门槛也要平方：dist**2 <= (3 * std)**2。"),
    Mistake("sq_vs_3sigma", answer=_w(good=lambda d, off, std: d**2 <= 3 * std), hint="把距离的平方与 3σ 比较了（dist**2 <= 3 * std）：两边的量纲不一致。要么 dist <= 3 * std，要么 dist**2 <= (3 * std)**2。"),
    Mistake("strict", answer=_w(good=lambda d, off, std: d < 3 * std), hint="样本恰好在 3σ 上（dist == 3 * std）时被判成了低质量：PacGAN 的定义是“在 3σ 以内”，边界也算，用 dist <= 3 * std，不是 dist < 3 * std。"),
    Mistake("spread_samples", answer=lambda s, c, std: _coverage(s, c, np.std(s)), hint="门槛用了样本自己的标准差 np.std(samples)：" + SPREAD),
    Mistake("spread_dist", answer=_w(good=lambda d, off, std: d <= 3 * np.std(d)), hint="门槛用了距离的标准差 np.std(dist)：" + SPREAD),
    Mistake("square", answer=_w(good=lambda d, off, std: np.all(np.abs(off) <= 3 * std, axis=1)), hint="用的是正方形而不是圆：分别要求 |dx| <= 3σ 和 |dy| <= 3σ（按坐标判断，相当于切比雪夫距离），斜向偏离的样本（例如 dx = dy = 2.5σ，欧氏距离约 3.5σ）被误判为高质量。要求的是欧氏距离 sqrt(dx**2 + dy**2) <= 3 * std。"),
    Mistake("l1", answer=_w(metric=lambda diff: np.abs(diff).sum(axis=2)), hint="用了 L1 距离（|dx| + |dy|）：最近的中心和 3σ 门槛都要用欧氏距离 np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)。斜向偏离 2.5σ 的样本，L1 距离约为 3.5σ，会被误判为低质量。"),
    Mistake("tie_last", answer=_w(last=True), hint="样本离两个中心一样近时，你把它归给了后一个中心：约定与 np.argmin 相同，取编号最小的那个中心。用 np.argmin(dist, axis=1)，在循环里则只在严格更近（<）时才更换中心。"),
    Mistake("any_sample", answer=_w(covered=lambda n, every, k: np.count_nonzero(every)), hint="只有低质量样本（离中心超过 3σ）的模式也被算作覆盖了：一个模式被覆盖，要求至少有 1 个高质量样本以它为最近中心；离群点和 3σ 以外的样本不算。"),
    Mistake("more_than_one", answer=_w(covered=lambda n, every, k: np.count_nonzero(n > 1)), hint="modes 只数了有 2 个以上高质量样本的模式（n_k > 1）：覆盖的条件是 n_k >= 1，只有一个高质量样本的模式也算被覆盖。"),
    Mistake("modes_fraction", answer=_w(covered=lambda n, every, k: np.count_nonzero(n) / k), hint="modes 返回的是比例：这里要的是被覆盖的模式个数（整数），不要除以 K。"),
    Mistake("hq_count", answer=_w(hq=lambda n_good, n: n_good), hint="high_quality 返回的是个数而不是比例：高质量样本数还要除以样本总数 N。"),
    Mistake("kl_forward", answer=_w(kl=lambda q, k: np.sum(np.log(1 / (k * q)) / k)), hint="KL 的方向反了：reverse KL 是 KL(q ‖ 均匀) = Σ q_k log(q_k / (1/K)) = Σ q_k log(q_k K)，生成分布 q 在前。反方向的 KL(均匀 ‖ q) 在有模式缺失时是 inf。"),
    Mistake("kl_forward_covered", answer=_w(kl=lambda q, k: np.sum(np.log(1 / (k * q[q > 0])) / k)), hint="算的是 KL(均匀 ‖ q)，而且跳过了空的模式（只对 q_k > 0 求 (1/K) log((1/K) / q_k)）：要的是 KL(q ‖ 均匀) = Σ q_k log(q_k K)，每一项的权重是 q_k 而不是 1/K，空模式的项按 0 log 0 = 0 自然为零。"),
    Mistake("kl_all", answer=_w(q=lambda n, every, count: every / every.sum()), hint="直方图里算进了低质量样本：q 只统计高质量样本（离最近中心不超过 3σ）落在各模式上的比例，离群点和 3σ 以外的样本都不计入。"),
    Mistake("kl_log2", answer=_w(kl=lambda q, k: np.sum(q[q > 0] * np.log2(q[q > 0] * k))), hint="用了以 2 为底的对数：minigan 的 reverse KL 以 nat 为单位，用自然对数 np.log，不是 np.log2。"),
    Mistake("kl_counts", answer=_w(q=lambda n, every, count: n.astype(np.float64)), hint="直方图用的是个数而不是比例：q_k = 模式 k 的高质量样本数 / 高质量样本总数，使 Σ q_k = 1，再算 Σ q_k log(q_k K)。"),
    Mistake("kl_over_n", answer=_w(q=lambda n, every, count: n / count), hint="q 除以的是全部样本数 N：直方图要按高质量样本的总数归一化，使 Σ q_k = 1（离群点不在直方图里，也不在分母里）。"),
    Mistake("kl_sign", answer=_w(kl=lambda q, k: -np.sum(q[q > 0] * np.log(q[q > 0] * k))), hint="KL 的符号反了：Σ q_k log(q_k K) >= 0（全部集中在一个模式时等于 log K），不是 Σ q_k log(1 / (q_k K))。"),
    Mistake("kl_covered", answer=_w(kl=lambda q, k: np.sum(q[q > 0] * np.log(q[q > 0] * np.count_nonzero(q)))), hint="均匀分布只取在了被覆盖的模式上：参照分布是全部 K 个模式上的均匀分布 1/K，没有样本的模式也算在 K 里，所以是 log(q_k K) 而不是 log(q_k · modes)。"),
    Mistake("kl_nan", answer=_w(kl=lambda q, k: np.sum(q * np.log(q * k))), hint="出现了 0 · log 0 = nan：没有高质量样本的模式 q_k = 0，按约定 0 log 0 = 0，只对 q_k > 0 的项求和（例如 q = q[q > 0]）。"),
    Mistake("nan_when_empty", EMPTY_KL, _w(empty=math.nan), check="empty"),
    Mistake("clip_in_place", SAMPLES_KEPT, check="unchanged", answer=lambda s, c, std: _coverage(np.clip(s, -5, 5, out=s), c, std)),
]


def call(fn, samples, centres, std):
    """The answer's three numbers as floats (an object with the three attributes is read too), or :class:`Failure`."""
    out = call_learner("mode_coverage", fn, samples, centres, std)
    out = tuple(getattr(out, name) for name in NAMES) if all(hasattr(out, name) for name in NAMES) else out
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        raise Failure(f"返回了 {type(out).__name__}，不是 (modes, high_quality, reverse_kl)", "返回三个数：return modes, high_quality, reverse_kl。")
    try:
        return tuple(float(v) for v in out)
    except (TypeError, ValueError) as exc:
        raise Failure(f"返回的 {[type(v).__name__ for v in out]} 不全是数", "modes、high_quality、reverse_kl 各是一个数（int 或 float），不是数组或别的对象。") from exc


#: offsets (in std, degrees) of each mode's high- and low-quality samples: the 2.5-std diagonals are
#: beyond 3 std in L1, (3.5, 45) is inside the 3-std square but outside the disc
HQ_OFFSETS = ((0.5, 0.0), (1.5, 90.0), (2.0, 200.0), (2.5, 45.0), (1.0, 300.0), (2.5, 135.0))
LQ_OFFSETS = ((4.0, 30.0), (3.5, 250.0), (5.0, 170.0), (3.5, 45.0))


def _mixture(label, centres, std, hq, lq, far=()):
    """``hq[k]`` and ``lq[k]`` samples around centre k at the offsets above (cycled), then the points ``far``."""
    offsets = [o[i % len(o)] for o, counts in ((HQ_OFFSETS, hq), (LQ_OFFSETS, lq)) for n in counts for i in range(n)]
    r, a = (np.reshape(offsets, (-1, 2)) * [std, np.pi / 180]).T
    around = np.repeat(np.concatenate([centres, centres]), np.concatenate([hq, lq]).astype(int), axis=0)
    samples = around + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    return Case(label, (np.concatenate([samples, np.reshape(far, (-1, 2))]), centres, std))


def cases(seed):
    ring, k = ring_centres(), np.arange(25)
    return [_mixture("8 个模式的环（std 0.01），丢了 2 个模式、权重不均、有离群点", ring, 0.01, [40, 25, 15, 10, 6, 4, 0, 0],
                     [0, 5, 2, 0, 0, 0, 3, 0], [(2.5, 2.5), (-3.0, 0.4), (0.3, -2.0), (0.1, 0.05), (-0.6, -0.9)]),
            # std 2**-4, so that 3 std = 0.1875 and these distances are exact in float64: three samples exactly 3 std
            # from their centre (one of them mode 1's only one), (2.125, 0) as near to centre 2 as to centre 3 (centre 2
            # wins), (-0.15, 0.15) inside the square but outside the disc of centre 0, (0.5, 0.5) an outlier
            Case("4 个模式（std 0.0625）：有样本恰在 3σ 上，有样本离两个中心一样近",
                 (np.array([[0, 0.0625], [0.1875, 0], [0, -0.1875], [-0.15, 0.15], [0.8125, 0], [1.875, 0], [2.125, 0],
                            [0.5, 0.5]]), np.array([[0.0, 0], [1, 0], [2, 0], [2.25, 0]]), 0.0625)),
            _mixture("8 个模式的环，完全塌缩到一个模式", ring, 0.01, [0, 0, 0, 20, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 0, 0]),
            _mixture("25 个模式的网格（std 0.05），全部覆盖、权重不均、有离群点", grid_centres(), 0.05, 1 + (3 * k) % 7,
                     np.where(k % 4 == 0, 2, 0), [(10.0, 10.0), (-6.0, 1.3), (1.1, 0.9)])]


def _strategy():
    from hypothesis import strategies as st

    return st.tuples(st.sampled_from(["环", "网格"]), st.integers(3, 12), st.sampled_from([0.01, 0.02, 0.05]), st.integers(0, 4), st.integers(0, 10), st.sampled_from(["float64", "float32"]), st.integers(0, 2**16))


def _example(drawn):
    """0-5 high- and 0-5 low-quality samples per mode, ``dropped`` modes without any, uniform outliers, a far point."""
    kind, k, std, dropped, n_far, dtype, seed = drawn
    rng = np.random.default_rng(seed)
    centres = ring_centres(k) if kind == "环" else grid_centres(tuple(np.linspace(-4, 4, 2 + k % 4)))
    hq, lq = rng.integers(0, 6, (2, len(centres))) * (rng.permutation(len(centres)) >= dropped)
    samples = _mixture("", centres, std, hq, lq, np.concatenate([rng.uniform(-6, 6, (n_far, 2)), [[9.0, 9.0]]])).args[0]
    label = f"{len(centres)} 个模式的{kind}，std {std:g}，{dropped} 个模式没有样本，{len(samples)} 个样本（含离群点），{dtype}"
    return Case(label, (samples.astype(dtype), centres, std))


def _explain(exc):
    exc = original(exc)
    if "could not be broadcast" in str(exc) or "operands" in str(exc):
        return "形状对不上：samples 是 (N, 2)，centres 是 (K, 2)，两两之差可以用广播写成 samples[:, None, :] - centres[None, :, :]，形状 (N, K, 2)。"
    return EMPTY_KL if isinstance(exc, (ZeroDivisionError, FloatingPointError)) else ""


def _part(i, row):
    name = NAMES[i]
    return Part(name, lambda out: out[i], row=row, hint=f"{name} 不对。" + DEFINITION, show=lambda got, ref: f"{name} = {got:.6g}，应为 {ref:.6g}")


EXERCISE = FunctionExercise(
    name="mode_coverage",
    description="PacGAN 的模式覆盖指标：(samples, centres, std) -> (modes, high_quality, reverse_kl)",
    form="(modes, high_quality, reverse_kl)", call=call, reference=mode_coverage, cases=cases, mistakes=MISTAKES,
    parts=[_part(1, "high_quality：离最近中心不超过 3σ 的样本比例"), _part(0, "modes：至少有 1 个高质量样本的模式数"),
           _part(2, "reverse_kl：KL(q ‖ 均匀分布)，自然对数")],
    regimes=[Regime("没有高质量样本时：(0, 0.0, inf)", hint=EMPTY_KL, cases=lambda seed: [_mixture(
        "25 个模式的网格，所有样本都在 3σ 之外", grid_centres(), 0.05, [0] * 25, (np.arange(25) % 3 == 0) * 1, [(10.0, 10.0)])])],
    unchanged={0: SAMPLES_KEPT, 1: "不要原地修改 centres：它们是数据集的模式中心。"},
    explain=_explain, strategy=_strategy, example=_example, usage="my_mode_coverage",
)
