"""Checker for the ``mode_coverage`` exercise: PacGAN's metric on a 2-D Gaussian mixture.

The contract (the notebook ``09_mode_coverage.ipynb`` states it too)::

    my_mode_coverage(samples, centres, std) -> (modes, high_quality, reverse_kl)

``samples`` (N, 2) generated points, ``centres`` (K, 2) the mixture's mode centres, each
mode with standard deviation ``std``.  As :func:`minigan.metrics.mode_coverage` computes
it (the PacGAN protocol, Lin et al. 2018; ``shared/PROTOCOLS.md``):

* a sample's mode is its nearest centre (Euclidean distance); the sample is *high
  quality* if that distance is at most ``3 * std``;
* ``modes``: how many modes have at least one high-quality sample (an int);
* ``high_quality``: the fraction of the N samples that are high quality (in [0, 1]);
* ``reverse_kl``: ``KL(q || uniform) = sum_k q_k log(q_k K)`` in nats, with q the
  histogram of the high-quality samples over their modes (``sum q = 1``) and
  ``0 log 0 = 0``; ``inf`` when no sample is high quality.

The answer may also return an object with attributes ``modes``, ``high_quality`` and
``reverse_kl`` (what minigan's own function returns).  The checker's sample sets are
built point by point from a specification (how many high-quality and low-quality
samples each mode gets, at which offsets, plus far outliers), so every typical mistake
changes the result; :func:`sets` also returns the values the specification implies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.toy import grid_centres, ring_centres
from ..metrics.coverage import mode_coverage
from ._kit import ExerciseResult, Failure, Session, call_learner, changed, original, run_property

NAME = "mode_coverage"
DESCRIPTION = "PacGAN 的模式覆盖指标：(samples, centres, std) -> (modes, high_quality, reverse_kl)"

PARTS = ("modes", "high_quality", "reverse_kl")

DEFINITION = ("定义：样本的模式是离它最近的中心（欧氏距离），距离 <= 3 * std 为高质量；"
              "modes = 至少有 1 个高质量样本的模式数；"
              "high_quality = 高质量样本数 / N；reverse_kl = Σ q_k log(q_k K)（自然对数，只对 q_k > 0 求和），"
              "q 是高质量样本在各模式上的比例。")

HINTS = {
    "sigma1": "高质量的门槛用了 1σ：PacGAN 的定义是到最近中心的距离不超过 3σ，即 dist <= 3 * std。",
    "sigma_sq": ("门槛写成了 3σ²（3 * std**2）：距离要与 3σ = 3 * std 比较；如果比较的是距离的平方，"
                 "门槛也要平方：dist**2 <= (3 * std)**2。"),
    "sq_vs_3sigma": ("把距离的平方与 3σ 比较了（dist**2 <= 3 * std）：两边的量纲不一致。"
                     "要么 dist <= 3 * std，要么 dist**2 <= (3 * std)**2。"),
    "l1": ("用了 L1 距离（|dx| + |dy|）：最近的中心和 3σ 门槛都要用欧氏距离 "
           "np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)。斜向偏离 2.5σ 的样本，"
           "L1 距离约为 3.5σ，会被误判为低质量。"),
    "any_sample": ("只有低质量样本（离中心超过 3σ）的模式也被算作覆盖了：一个模式被覆盖，要求至少有 1 个"
                   "高质量样本以它为最近中心；离群点和 3σ 以外的样本不算。"),
    "modes_fraction": "modes 返回的是比例：这里要的是被覆盖的模式个数（整数），不要除以 K。",
    "hq_count": "high_quality 返回的是个数而不是比例：高质量样本数还要除以样本总数 N。",
    "kl_forward": ("KL 的方向反了：reverse KL 是 KL(q ‖ 均匀) = Σ q_k log(q_k / (1/K)) = Σ q_k log(q_k K)，"
                   "生成分布 q 在前。反方向的 KL(均匀 ‖ q) 在有模式缺失时是 inf。"),
    "kl_all": ("直方图里算进了低质量样本：q 只统计高质量样本（离最近中心不超过 3σ）落在各模式上的比例，"
               "离群点和 3σ 以外的样本都不计入。"),
    "kl_log2": "用了以 2 为底的对数：minigan 的 reverse KL 以 nat 为单位，用自然对数 np.log，不是 np.log2。",
    "kl_counts": ("直方图用的是个数而不是比例：q_k = 模式 k 的高质量样本数 / 高质量样本总数，使 Σ q_k = 1，"
                  "再算 Σ q_k log(q_k K)。"),
    "kl_over_n": ("q 除以的是全部样本数 N：直方图要按高质量样本的总数归一化，使 Σ q_k = 1"
                  "（离群点不在直方图里，也不在分母里）。"),
    "kl_sign": "KL 的符号反了：Σ q_k log(q_k K) >= 0（全部集中在一个模式时等于 log K），不是 Σ q_k log(1 / (q_k K))。",
    "kl_covered": ("均匀分布只取在了被覆盖的模式上：参照分布是全部 K 个模式上的均匀分布 1/K，"
                   "没有样本的模式也算在 K 里，所以是 log(q_k K) 而不是 log(q_k · modes)。"),
    "kl_nan": ("出现了 0 · log 0 = nan：没有高质量样本的模式 q_k = 0，按约定 0 log 0 = 0，"
               "只对 q_k > 0 的项求和（例如 q = q[q > 0]）。"),
}

GENERIC = {
    "modes": "modes 不对。" + DEFINITION,
    "high_quality": "high_quality 不对。" + DEFINITION,
    "reverse_kl": "reverse_kl 不对。" + DEFINITION,
}

EMPTY_KL = ("没有任何高质量样本时 q 没有定义：按 minigan 的约定 reverse_kl = inf（float('inf')），"
            "modes = 0，high_quality = 0.0。先判断高质量样本数是否为 0，避免 0 / 0 = nan。")


# --------------------------------------------------------------------------------------
# The fixed sample sets, built from a specification.

#: offsets of high-quality samples from their centre: (distance in std, angle in degrees);
#: the 2.5-std diagonals are low quality by L1 distance (3.54 std), the 1.5..2.5 ones by 1 std
HQ_OFFSETS = ((0.5, 0.0), (1.5, 90.0), (2.0, 200.0), (2.5, 45.0), (1.0, 300.0), (2.5, 135.0))
#: offsets of low-quality samples near a centre (beyond 3 std)
LQ_OFFSETS = ((4.0, 30.0), (3.5, 250.0), (5.0, 170.0))


@dataclass(frozen=True)
class MixtureCase:
    """One test set and the values its specification implies (independent of minigan)."""

    label: str
    samples: np.ndarray
    centres: np.ndarray
    std: float
    hq_counts: tuple[int, ...]

    @property
    def expected(self) -> tuple[int, float, float]:
        counts = np.asarray(self.hq_counts, dtype=np.float64)
        good = counts.sum()
        k = len(counts)
        if good == 0:
            return 0, 0.0, math.inf
        kl = sum(c / good * math.log(c / good * k) for c in counts if c)
        return int(np.count_nonzero(counts)), good / len(self.samples), kl


def _points(centre, std, offsets, n):
    out = []
    for i in range(n):
        r, angle = offsets[i % len(offsets)]
        a = math.radians(angle)
        out.append((centre[0] + r * std * math.cos(a), centre[1] + r * std * math.sin(a)))
    return out


def _case(label, centres, std, hq, lq, outliers):
    points = []
    for c, n_hq, n_lq in zip(centres, hq, lq):
        points += _points(c, std, HQ_OFFSETS, n_hq)
        points += _points(c, std, LQ_OFFSETS, n_lq)
    points += list(outliers)
    return MixtureCase(label, np.array(points, dtype=np.float64), centres, std, tuple(hq))


def sets() -> list[MixtureCase]:
    """The checker's sample sets: ring with dropped modes, biased grid, collapsed ring."""
    ring, grid = ring_centres(), grid_centres()
    far_ring = ((2.5, 2.5), (-3.0, 0.4), (0.3, -2.0), (0.1, 0.05), (-0.6, -0.9))
    far_grid = ((10.0, 10.0), (-6.0, 1.3), (1.1, 0.9))
    k = np.arange(25)
    return [
        _case("8 个模式的环（std 0.01），丢了 2 个模式、权重不均、有离群点", ring, 0.01,
              [40, 25, 15, 10, 6, 4, 0, 0], [0, 5, 2, 0, 0, 0, 3, 0], far_ring),
        _case("25 个模式的网格（std 0.05），全部覆盖、权重不均、有离群点", grid, 0.05,
              list(1 + (3 * k) % 7), list(np.where(k % 4 == 0, 2, 0)), far_grid),
        _case("8 个模式的环，完全塌缩到一个模式", ring, 0.01,
              [0, 0, 0, 20, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 0, 0], ()),
    ]


def empty_set() -> MixtureCase:
    """Every sample beyond 3 std of its centre: no high-quality sample at all."""
    grid = grid_centres()
    lq = [1 if i % 3 == 0 else 0 for i in range(25)]
    return _case("25 个模式的网格，所有样本都在 3σ 之外", grid, 0.05, [0] * 25, lq,
                 ((10.0, 10.0),))


# --------------------------------------------------------------------------------------
# Reference and wrong definitions.

def reference(samples, centres, std) -> tuple[int, float, float]:
    r = mode_coverage(samples, centres, std)
    return r.modes, r.high_quality, r.reverse_kl


def wrong_coverage(kind: str, samples, centres, std) -> tuple[float, float, float]:
    """The metric computed with the mistake ``kind`` (a key of :data:`HINTS`)."""
    samples, centres = np.asarray(samples, np.float64), np.asarray(centres, np.float64)
    diff = samples[:, None, :] - centres[None, :, :]
    dist = np.abs(diff).sum(axis=2) if kind == "l1" else np.sqrt((diff**2).sum(axis=2))
    idx = np.argmin(dist, axis=1)
    d = dist[np.arange(len(samples)), idx]
    good = {"sigma1": d <= std, "sigma_sq": d <= 3 * std**2, "sq_vs_3sigma": d**2 <= 3 * std}.get(kind, d <= 3 * std)
    k, n = len(centres), len(samples)
    counts = np.bincount(idx[good], minlength=k).astype(np.float64)
    all_counts = np.bincount(idx, minlength=k).astype(np.float64)
    n_good = counts.sum()
    modes = float(np.count_nonzero(all_counts if kind == "any_sample" else counts))
    hq = n_good / n
    if kind == "modes_fraction":
        modes /= k
    if kind == "hq_count":
        hq = n_good
    hist = all_counts if kind == "kl_all" else counts
    with np.errstate(all="ignore"):
        q = hist / (n if kind == "kl_over_n" else hist.sum())
        if kind == "kl_counts":
            q = hist
        nz = q > 0
        if kind == "kl_forward":
            kl = float(np.sum((1.0 / k) * np.log((1.0 / k) / q)))
        elif kind == "kl_nan":
            kl = float(np.sum(q * np.log(q * k)))
        else:
            base = {"kl_covered": np.count_nonzero(hist)}.get(kind, k)
            kl = float(np.sum(q[nz] * np.log(q[nz] * base)))
            kl = {"kl_log2": kl / math.log(2), "kl_sign": -kl}.get(kind, kl)
    if not hist.sum() and kind != "kl_forward":
        kl = math.inf
    return modes, hq, kl


# --------------------------------------------------------------------------------------
# Calling the learner's function.

def _explain(exc):
    exc = original(exc)
    if isinstance(exc, (ZeroDivisionError, FloatingPointError)):
        return EMPTY_KL
    if "could not be broadcast" in str(exc) or "operands" in str(exc):
        return ("形状对不上：samples 是 (N, 2)，centres 是 (K, 2)，两两之差可以用广播写成 "
                "samples[:, None, :] - centres[None, :, :]，形状 (N, K, 2)。")
    return ""


def _number(value, what):
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise Failure(f"{what} 是形状为 {value.shape} 的数组", f"{what} 是一个数，不是数组。")
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise Failure(f"{what} 是 {type(value).__name__}", f"{what} 是一个数（int 或 float）。")
    return float(value)


def _call(answer, samples, centres, std) -> tuple[float, float, float]:
    out = call_learner("mode_coverage", answer, samples, centres, std)
    if all(hasattr(out, p) for p in PARTS):
        out = tuple(getattr(out, p) for p in PARTS)
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        raise Failure(f"返回了 {type(out).__name__}，不是 (modes, high_quality, reverse_kl)",
                      "返回三个数：return modes, high_quality, reverse_kl。")
    return tuple(_number(v, p) for v, p in zip(out, PARTS))


def _equal(a: float, b: float, rtol: float = 1e-9) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(1.0, abs(b))


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _diagnose(part: int, got, case: MixtureCase, ref) -> Failure:
    name = PARTS[part]
    detail = f"{case.label}：{name} = {_fmt(got[part])}，应为 {_fmt(ref[part])}"
    variants = {kind: wrong_coverage(kind, case.samples, case.centres, case.std) for kind in HINTS}
    # a mistake that explains the whole triple, then one that explains this part
    for kind, v in variants.items():
        if all(_equal(g, w) for g, w in zip(got, v)):
            return Failure(detail, HINTS[kind])
    for kind, v in variants.items():
        if not _equal(v[part], ref[part]) and _equal(got[part], v[part]):
            return Failure(detail, HINTS[kind])
    return Failure(detail, GENERIC[name])


# --------------------------------------------------------------------------------------
# The checks.

def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    cases = sets()

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}",
                          "把函数本身交给评分器：check('mode_coverage', my_mode_coverage)。")
        c = cases[0]
        _call(answer, c.samples.copy(), c.centres.copy(), c.std)
        return "返回三个数"

    if not s.run("返回 (modes, high_quality, reverse_kl)", first) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    outputs: dict = {}

    def part(i):
        for c in cases:
            if c.label not in outputs:
                outputs[c.label] = _call(answer, c.samples.copy(), c.centres.copy(), c.std)
            got, ref = outputs[c.label], reference(c.samples, c.centres, c.std)
            if not _equal(got[i], ref[i]):
                raise _diagnose(i, got, c, ref)
        return f"{len(cases)} 组样本：" + "；".join(f"{_fmt(reference(c.samples, c.centres, c.std)[i])}"
                                                  for c in cases)

    s.run("high_quality：离最近中心不超过 3σ 的样本比例", lambda: part(1))
    s.run("modes：至少有 1 个高质量样本的模式数", lambda: part(0))
    s.run("reverse_kl：KL(q ‖ 均匀分布)，自然对数", lambda: part(2))
    s.run("没有高质量样本时：(0, 0.0, inf)", lambda: _empty(answer))
    s.run("输入保持不变", lambda: _no_mutation(answer, cases[1]))
    s.run("性质测试（hypothesis）：随机的环和网格、丢掉的模式、离群点、dtype", lambda: _property(answer, max_examples))


def _empty(answer):
    c = empty_set()
    got = _call(answer, c.samples.copy(), c.centres.copy(), c.std)
    ref = reference(c.samples, c.centres, c.std)
    if all(_equal(g, r) for g, r in zip(got, ref)):
        return "得到约定的 modes = 0、high_quality = 0、reverse_kl = inf"
    for i in (1, 0, 2):
        if not _equal(got[i], ref[i]):
            if i == 2 and math.isnan(got[2]):
                raise Failure(f"{c.label}：reverse_kl = nan，应为 inf", EMPTY_KL)
            failure = _diagnose(i, got, c, ref)
            if i == 2 and failure.hint == GENERIC["reverse_kl"]:
                failure = Failure(failure.detail, EMPTY_KL)
            raise failure
    raise AssertionError("unreachable")  # pragma: no cover


def _no_mutation(answer, case):
    samples, centres = case.samples.copy(), case.centres.copy()
    _call(answer, samples, centres, case.std)
    if changed(case.samples, samples):
        raise Failure("samples 被修改了", "不要原地修改 samples（例如 samples -= ...、np.clip(..., out=samples) "
                                         "或 samples.sort()）：它是调用者的数据。")
    if changed(case.centres, centres):
        raise Failure("centres 被修改了", "不要原地修改 centres：它们是数据集的模式中心。")
    return "samples 和 centres 都没有变"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    strategy = st.tuples(st.sampled_from(["ring", "grid"]), st.integers(3, 12), st.sampled_from([0.01, 0.02, 0.05]),
                         st.integers(0, 4), st.integers(1, 200), st.integers(0, 10),
                         st.sampled_from(["float64", "float32"]), st.integers(0, 2**16))

    def layout(example):
        kind, k, std, dropped, n, n_far, dtype, seed = example
        if kind == "ring":
            return ring_centres(k), f"{k} 个模式的环"
        side = 2 + k % 4
        return grid_centres(tuple(np.linspace(-4, 4, side))), f"{side * side} 个模式的网格"

    def describe(example):
        kind, k, std, dropped, n, n_far, dtype, seed = example
        return f"{layout(example)[1]}，std {std:g}，丢掉 {dropped} 个模式，{n} 个样本 + {n_far} 个离群点，{dtype}"

    def prop(example):
        kind, k, std, dropped, n, n_far, dtype, seed = example
        rng = np.random.default_rng(seed)
        centres = layout(example)[0]
        keep = rng.permutation(len(centres))[: max(1, len(centres) - dropped)]
        weights = rng.random(len(keep)) + 0.1
        which = keep[rng.choice(len(keep), n, p=weights / weights.sum())]
        scale = std * rng.choice([1.0, 1.5, 3.0], n)  # some samples well outside 3 std
        samples = centres[which] + scale[:, None] * rng.standard_normal((n, 2))
        samples = np.concatenate([samples, rng.uniform(-6, 6, (n_far, 2))])
        # no sample within 0.1 % of the 3-std boundary, where rounding decides
        d = np.min(np.linalg.norm(samples[:, None] - centres[None], axis=2), axis=1)
        samples = samples[np.abs(d / (3 * std) - 1) > 1e-3].astype(dtype)
        if not len(samples):
            return
        before = samples.copy()
        got = _call(answer, samples, centres.copy(), std)
        if changed(before, samples):
            raise Failure("samples 被修改了", "不要原地修改 samples。")
        ref = reference(samples, centres, std)
        for i, name in enumerate(PARTS):
            if not _equal(got[i], ref[i], 1e-9 if dtype == "float64" else 1e-5):
                raise Failure(f"{name} = {_fmt(got[i])}，应为 {_fmt(ref[i])}",
                              f"见上面 {name} 那一项检查。" + DEFINITION)

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="modes、high_quality、reverse_kl 与 minigan.metrics.mode_coverage 一致")
