"""Checker for the ``train_step`` exercise: one GAN training step, the nine steps of section 3.3.

Contract::

    my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict

``G``, ``D``: minigan networks; ``opt_G``, ``opt_D``: minigan optimisers built on
``G.params()`` / ``D.params()``; ``x_real`` (N, x_dim); ``z_d``: a list of k noise
batches (N, z_dim), one per discriminator update; ``z_g`` (N, z_dim): the noise of the
generator update; ``real_label``: D's target for real data (one-sided label smoothing
below 1).  The step is minigan's ``GAN.train_step`` with ``order="d_first"``,
``d_steps=k``, ``loss="non_saturating"``:

    for i in range(k):                          # steps 6-8 (k times)
        fake = G(z_d[i])
        L_D = BCE(D(x_real), real_label) + BCE(D(fake), 0);   opt_D.step(dL_D/dD)
    fake = G(z_g)                               # steps 1-5
    L_G = BCE(D(fake), 1);   opt_G.step(dL_G/dG)   (through D; D is not updated)

It returns ``{"d_loss", "g_loss", "d_real", "d_fake"}`` as :class:`minigan.gan.StepStats`
does: D's loss and the mean D(x_real), D(fake) of the last D update (before it), and G's
loss.  The checker runs the answer and ``GAN.train_step`` (its noise replaced by the same
batches) from copies of the same state and compares parameters, optimiser state and the
reported numbers; a mismatch is diagnosed by running each typical mistake (:data:`MISTAKES`)
from that state too.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import losses
from ..gan import GAN, build_discriminator, build_generator
from ..nn.activations import sigmoid
from ..optim import SGD, Adam
from ._gan_common import CAPPED, PROB_NAN, arrow, saturate
from ._kit import (
    ExerciseResult,
    Failure,
    Session,
    call_learner,
    changed,
    close,
    original,
    run_property,
    snapshot,
)

NAME = "train_step"
DESCRIPTION = ("一个完整的训练步（第 3.3 节的九个步骤）：先 k 次更新 D，再更新 G；"
               "(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label) -> 损失与 D 的输出")

KEYS = ("d_loss", "g_loss", "d_real", "d_fake")

STEP = ("正确的一步：对 i = 0..k-1，fake = G(z_d[i])，D 在 x_real（标签 real_label）和 fake（标签 0）上各前向一次，"
        "两个 BCE 的参数梯度逐键相加，opt_D.step 一次；然后 fake, g_cache = G.forward(z_g)，"
        "logits, d_cache = D.forward(fake)，BCE(logits, 1) 的梯度经 D.backward 得到 dx，再经 G.backward，opt_G.step。")

#: flag -> hint: each flag is one typical mistake that :func:`_engine` can make
MISTAKES = {
    "g_noise_from_d": ("生成器那一步用了判别器那一步的噪声 z_d：minigan 的 GAN.train_step（和 Goodfellow 等人 2014 年的"
                       "算法 1）在更新 G 之前重新采样一批噪声，本练习把它作为 z_g 传给你。"
                       "（文章第 4.3 节的代码两次 sess.run 喂的是同一个 noise，那是另一种做法；本练习按 minigan 评分。）"),
    "g_noise_from_d0": "",  # same hint as g_noise_from_d (filled in below)
    "d_noise_from_g": "判别器那一步用了 z_g：第 i 次 D 更新的生成样本要由 z_d[i] 生成，z_g 留给生成器那一步。",
    "same_d_noise": "k 次 D 更新都用了 z_d[0]：第 i 次 D 更新用自己那批噪声 z_d[i]（GAN.d_step 每次都重新采样）。",
    "accumulate_call": ("梯度累加了：上一次 D 更新的梯度被加进了这一次（梯度字典在循环外创建、用 += 累加，却没有清零）。"
                        "每次反向都会得到新的梯度数组，直接把这一次的梯度交给 opt.step 即可；若要自己累加，每次更新前都要清零。"),
    "accumulate_run": ("梯度在两次调用之间累加了：梯度字典放在函数外面（全局变量），每次调用都在上一步的梯度上 +=，"
                       "没有清零。每次更新只用这一次反向得到的梯度。"),
    "d_stepped_in_g": ("D 的参数在生成器那一步被改动了：G 的损失对 D 参数的梯度也交给了 opt_D.step。"
                       "训练生成器时 D 只是传递梯度的通道，参数不更新（TensorFlow 里就是只把生成器的变量交给 G 的优化器）。"),
    "g_stepped_in_d": ("G 的参数在判别器那一步被改动了：判别器损失的梯度经生成样本传回 G，又交给了 opt_G.step。"
                       "D 的那一步只更新 D：对 D 来说生成样本只是输入数据（相当于 detach / stop_gradient）。"),
    "fake_label_1": ("判别器那一步把生成样本的标签写成了 1：D 的损失是 BCE(D(x_real), real_label) + BCE(D(G(z)), 0)，"
                     "生成样本的标签是 0（标签 1 是生成器那一步的目标）。"),
    "g_first": ("先更新了 G 再更新 D：第 3.3 节的编号是先 G（步骤 1–5）后 D（步骤 6–8），但 minigan 默认（order=\"d_first\"）"
                "与第 4.3 节的代码、Goodfellow 等人的算法 1 一样，先做 k 次 D 更新，再用更新后的 D 训练 G。本练习按 d_first 评分。"),
    "simultaneous": ("G 的梯度是用更新之前的 D 算的（先把两个梯度都算好，再一起更新）：要先完成 D 的更新，"
                     "再用更新后的 D 重新前向 G(z_g) → D，计算生成器的梯度。"),
    "minimax": ("生成器用了 minimax 损失 mean log(1 - D(G(z)))：GAN 默认（loss=\"non_saturating\"，第 4.3 节代码）"
                "最小化 BCE(D(G(z)), 1) = -mean log D(G(z))。"),
    "smooth_fake": ("标签平滑用在了两边：单侧（one-sided）标签平滑只把真实样本的标签换成 real_label，"
                    "生成样本的标签仍是 0，不是 1 - real_label。"),
    "smooth_g": "生成器的目标也用了 real_label：标签平滑只改判别器对真实样本的标签，生成器的损失仍是 BCE(D(G(z)), 1)。",
    "ignore_smoothing": "忽略了 real_label：判别器对真实样本的标签应是参数 real_label（这里是 0.9），不是 1。",
    "two_d_steps": ("每次 D 更新调用了两次 opt_D.step（真实批一次、生成批一次）：两部分梯度要逐键相加，"
                    "每次 D 更新只调用一次 opt_D.step（否则动量和 Adam 的步数 t 都多走一步）。"),
    "d_concat_mean": ("判别器的损失把真实批和生成批合在一起只平均了一次（除以 2N）：两个 BCE 各自对自己的批取平均再相加，"
                      "梯度里没有额外的 1/2。"),
    "d_sum": "判别器损失的梯度漏了 1/N：两个 BCE 都是对批的平均，dL/dlogits 要除以 N。",
    "g_sum": "生成器损失的梯度漏了 1/N：BCE(D(G(z)), 1) 是对批的平均，dL/dlogits = (sigmoid(l) - 1) / N。",
}
MISTAKES["g_noise_from_d0"] = MISTAKES["g_noise_from_d"]


# --------------------------------------------------------------------------------------
# The step: minigan's own (the reference) and a reimplementation that can make mistakes.

def reference_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict:
    """``GAN.train_step`` on these networks and optimisers, drawing exactly ``z_d`` then ``z_g``."""
    z_dim = z_g.shape[1]
    gan = GAN(G, D, z_dim=z_dim, g_optimizer=opt_G, d_optimizer=opt_D, d_steps=len(z_d), order="d_first",
              loss="non_saturating", real_label=real_label, rng=0)
    queue = [z.copy() for z in z_d] + [z_g.copy()]

    def sample_noise(n):
        z = queue.pop(0)
        assert z.shape == (n, z_dim)
        return z

    gan.sample_noise = sample_noise
    stats = gan.train_step(x_real).as_dict()
    assert not queue
    return stats


def _engine(G, D, opt_G, opt_D, x, z_d, z_g, real_label, flags=frozenset(), acc=None) -> dict:
    """One step written out with minigan's layers, making the mistakes named in ``flags``.

    ``acc`` (a dict kept by the caller across calls) holds accumulated gradients for the
    ``accumulate_*`` mistakes.  Returns the stats dict, plus ``"first"``: the stats of the
    first D update.
    """
    acc = {} if acc is None else acc
    n = len(x)
    rl = 1.0 if "ignore_smoothing" in flags else real_label
    fl = 1.0 if "fake_label_1" in flags else ((1.0 - real_label) if "smooth_fake" in flags else 0.0)

    def add(store, grads):
        for k, g in grads.items():
            store[k] = store[k] + g if k in store else g.copy()
        return {k: store[k].copy() for k in grads}

    def d_update(z, call_acc):
        fake, g_cache = G.forward(z)
        r, cr = D.forward(x)
        f, cf = D.forward(fake)
        loss_r, dr = losses.bce_with_logits(r, rl)
        loss_f, df = losses.bce_with_logits(f, fl)
        if "d_concat_mean" in flags:
            dr, df = dr / 2, df / 2
        if "d_sum" in flags:
            dr, df = dr * n, df * n
        _, gr = D.backward(dr, cr)
        d_fake, gf = D.backward(df, cf)
        grads = {k: gr[k] + gf[k] for k in gr}
        if "accumulate_call" in flags:
            grads = add(call_acc, grads)
        if "accumulate_run" in flags:
            grads = add(acc.setdefault("d", {}), grads)
        if "two_d_steps" in flags:
            opt_D.step(gr)
            opt_D.step(gf)
        else:
            opt_D.step(grads)
        if "g_stepped_in_d" in flags:
            opt_G.step(G.backward(d_fake, g_cache)[1])
        return {"d_loss": loss_r + loss_f, "d_real": float(np.mean(sigmoid(r))), "d_fake": float(np.mean(sigmoid(f)))}

    def g_grads(z):
        fake, g_cache = G.forward(z)
        logits, d_cache = D.forward(fake)
        if "minimax" in flags:
            loss, dl = losses.generator_loss(logits, "minimax")
        else:
            loss, dl = losses.bce_with_logits(logits, real_label if "smooth_g" in flags else 1.0)
        if "g_sum" in flags:
            dl = dl * n
        d_fake, d_grads = D.backward(dl, d_cache)
        grads = G.backward(d_fake, g_cache)[1]
        if "accumulate_run" in flags:
            grads = add(acc.setdefault("g", {}), grads)
        return loss, grads, d_grads

    def g_apply(loss, grads, d_grads):
        opt_G.step(grads)
        if "d_stepped_in_g" in flags:
            opt_D.step(d_grads)
        return loss

    if "g_noise_from_d" in flags:
        zg = z_d[-1]
    elif "g_noise_from_d0" in flags:
        zg = z_d[0]
    else:
        zg = z_g
    pending = g_grads(zg) if "simultaneous" in flags else None
    g_loss = g_apply(*g_grads(zg)) if "g_first" in flags else None
    call_acc, all_stats = {}, []
    for i in range(len(z_d)):
        z = z_g if "d_noise_from_g" in flags else (z_d[0] if "same_d_noise" in flags else z_d[i])
        all_stats.append(d_update(z, call_acc))
    if pending is not None:
        g_loss = g_apply(*pending)
    elif g_loss is None:
        g_loss = g_apply(*g_grads(zg))
    return {**all_stats[-1], "g_loss": g_loss, "first": all_stats[0]}


# --------------------------------------------------------------------------------------
# Cases: a state (G, D, optimisers) and a sequence of calls (x_real, z_d, z_g, real_label).

class Case:
    def __init__(self, label, G, D, opt_G, opt_D, calls, dtype):
        self.label, self.state, self.calls, self.dtype = label, (G, D, opt_G, opt_D), calls, dtype

    def copy(self):
        return copy.deepcopy(self.state)  # one memo: the optimisers keep pointing at the copies' arrays


def _make_case(rng, label, *, z_dim, g_hidden, x_dim, d_hidden, n, k, real_label, opt, calls, dtype=np.float64,
               saturated=False):
    G = build_generator(z_dim, g_hidden, x_dim, dtype=dtype, rng=rng)
    D = build_discriminator(x_dim, d_hidden, dtype=dtype, rng=rng)
    xs = [(rng.standard_normal((n, x_dim)) * 0.7).astype(dtype) for _ in range(calls)]
    if saturated:
        probe = np.concatenate([xs[0], G(rng.standard_normal((n, z_dim)).astype(dtype))])
        saturate(D, 1.0, centre=probe)
        saturate(D, 500.0 / max(float(np.median(np.abs(D(probe)))), 1e-3))
    if opt == "sgd":
        opt_G, opt_D = SGD(G.params(), lr=0.05, momentum=0.5), SGD(D.params(), lr=0.05, momentum=0.5)
    elif opt == "sgd-small":
        opt_G, opt_D = SGD(G.params(), lr=1e-4), SGD(D.params(), lr=1e-4)
    else:
        opt_G, opt_D = Adam(G.params(), lr=1e-2), Adam(D.params(), lr=1e-2)
    seq = []
    for x in xs:
        z_d = [rng.standard_normal((n, z_dim)).astype(dtype) for _ in range(k)]
        seq.append((x, z_d, rng.standard_normal((n, z_dim)).astype(dtype), real_label))
    text = (f"{label}：G {arrow((z_dim, *g_hidden, x_dim))}，D {arrow((x_dim, *d_hidden, 1))}，N = {n}，k = {k}，"
            f"real_label = {real_label:g}，{ {'sgd': 'SGD(momentum=0.5)', 'sgd-small': 'SGD', 'adam': 'Adam'}[opt] }，"
            f"{np.dtype(dtype).name}，连续 {calls} 步")
    return Case(text, G, D, opt_G, opt_D, seq, dtype)


def _cases(seed):
    rng = np.random.default_rng(seed)
    a = _make_case(rng, "用例 A", z_dim=3, g_hidden=(5,), x_dim=2, d_hidden=(6, 4), n=6, k=1, real_label=1.0,
                   opt="sgd", calls=2)
    b = _make_case(rng, "用例 B", z_dim=2, g_hidden=(4, 3), x_dim=3, d_hidden=(5,), n=5, k=2, real_label=0.9,
                   opt="adam", calls=2)
    return a, b


def _saturated_case(seed):
    rng = np.random.default_rng(seed + 303)
    for _ in range(50):
        case = _make_case(rng, "饱和的 D", z_dim=3, g_hidden=(5,), x_dim=2, d_hidden=(6, 5), n=8, k=1,
                          real_label=1.0, opt="sgd-small", calls=1, dtype=np.float32, saturated=True)
        G, D = case.state[:2]
        x, z_d, _, _ = case.calls[0]
        r, f = D(x).ravel(), D(G(z_d[0])).ravel()
        if all(np.any(v < -100) and np.any(v > 100) for v in (r, f)):
            return case
    raise RuntimeError("no saturated case with both signs")  # pragma: no cover


def _run(step, case, what="你的函数"):
    """Run ``step`` on a fresh copy of the case's state for each call; returns (state, stats list)."""
    state = case.copy()
    stats = []
    for x, z_d, z_g, real_label in case.calls:
        out = call_learner(what, step, *state, x.copy(), [z.copy() for z in z_d], z_g.copy(), real_label=real_label)
        stats.append(out)
    return state, stats


def _run_engine(case, flags):
    state, acc, stats = case.copy(), {}, []
    for x, z_d, z_g, real_label in case.calls:
        stats.append(_engine(*state, x, z_d, z_g, real_label, frozenset(flags), acc))
    return state, stats


def _as_stats(out) -> dict:
    if hasattr(out, "as_dict") and callable(out.as_dict):
        out = out.as_dict()
    if not isinstance(out, dict):
        raise Failure(f"返回的是 {type(out).__name__}，不是字典",
                      f"返回一个字典，键为 {list(KEYS)}（与 GAN.train_step(...).as_dict() 相同）。")
    missing = [k for k in KEYS if k not in out]
    if missing:
        raise Failure(f"字典缺少键 {missing}", f"返回的字典要有这四个键：{list(KEYS)}。")
    stats = {}
    for k in KEYS:
        try:
            stats[k] = float(np.asarray(out[k]).reshape(()))
        except (TypeError, ValueError) as exc:
            raise Failure(f"{k} 是 {type(out[k]).__name__}，不是一个数",
                          f"{k} 是一个数（例如损失是对批平均后的 BCE，d_real 是 D(x_real) 的平均概率）。") from exc
    return stats


def _params(state):
    G, D, opt_G, opt_D = state
    return {"G": G.params(), "D": D.params(), "opt_G": opt_G.state_dict(), "opt_D": opt_D.state_dict()}


def _diff(state, ref_state, dtype) -> list[str]:
    """Names of the parts that differ: 'G', 'D', 'opt_G', 'opt_D'."""
    mine, ref = _params(state), _params(ref_state)
    out = []
    for part in ("D", "G", "opt_D", "opt_G"):
        a, b = mine[part], ref[part]
        if set(a) != set(b):
            out.append(part)
            continue
        for k in b:
            x, y = np.asarray(a[k], dtype=np.float64), np.asarray(b[k], dtype=np.float64)
            if not close(x, y, dtype):
                out.append(part)
                break
    return out


def _stats_close(a: dict, b: dict, dtype) -> list[str]:
    rtol = 1e-9 if np.dtype(dtype) == np.float64 else 1e-5
    return [k for k in KEYS if not (np.isfinite(a[k]) and abs(a[k] - b[k]) <= rtol * max(1.0, abs(b[k])))]


# --------------------------------------------------------------------------------------

def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    cases = _cases(seed)

    def first():
        if not callable(answer):
            raise Failure(f"答案是 {type(answer).__name__}", "传入函数本身：check('train_step', my_train_step)。")
        case = cases[0]
        state = case.copy()
        x, z_d, z_g, real_label = case.calls[0]
        _as_stats(call_learner("你的函数", answer, *state, x, z_d, z_g, real_label=real_label))
        return f"返回字典，含 {', '.join(KEYS)}"

    if not s.run("返回值：含 d_loss、g_loss、d_real、d_fake 的字典", first) and not s.todo_seen:
        return
    s.run("k = 1，SGD（带动量），连续两步：参数与优化器状态（与 GAN.train_step 比较）",
          lambda: _compare_case(answer, cases[0]))
    s.run("k = 2，单侧标签平滑 real_label = 0.9，Adam，连续两步：参数与优化器状态",
          lambda: _compare_case(answer, cases[1]))
    s.run("报告的损失与 D 的输出（d_loss、g_loss、d_real、d_fake）", lambda: _compare_stats(answer, cases))
    s.run("饱和的判别器：logits 达 ±1e2 以上（float32）", lambda: _saturated(answer, seed))
    s.run("输入保持不变，参数原地更新", lambda: _no_mutation(answer, seed))
    s.run("float32 输入，float32 输出", lambda: _dtype(answer, seed))
    s.run("性质测试（hypothesis）：随机网络、k、标签平滑、优化器、dtype", lambda: _property(answer, max_examples))


def _explain(exc):
    exc = original(exc)
    text = str(exc)
    if isinstance(exc, TypeError) and "real_label" in text:
        return "函数签名是 my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0)：要接受关键字参数 real_label。"
    if "gradient names do not match" in text or "gradient '" in text:
        return ("交给优化器的梯度与它的参数对不上：opt_D.step 只接受 D 的梯度（D.backward 返回的字典），"
                "opt_G.step 只接受 G 的梯度（G.backward 返回的字典）。")
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
        return ("形状对不上：z_d 是 k 批噪声组成的列表，第 i 次 D 更新用 z_d[i]（形状 (N, z_dim)）；"
                "G.backward 需要对 G 输出的梯度（D.backward 返回的 dx），不是 dlogits。")
    return ""


def _diagnose(answer_state, case, parts) -> Failure:
    """The most specific explanation of a mismatch in ``parts`` (a list of 'G', 'D', ...)."""
    for flag, hint in MISTAKES.items():
        try:
            state, _ = _run_engine(case, {flag})
        except Exception:  # pragma: no cover - a mistake that cannot run on this case
            continue
        if not _diff(answer_state, state, case.dtype):
            return Failure(f"{case.label}：{'、'.join(parts)} 与 GAN.train_step 的结果不同", hint)
    G, D, opt_G, opt_D = answer_state
    k, calls = len(case.calls[0][1]), len(case.calls)
    detail = f"{case.label}：{'、'.join(parts)} 与 GAN.train_step 的结果不同"
    if opt_D.t == 0 or opt_G.t == 0:
        who = "opt_D" if opt_D.t == 0 else "opt_G"
        return Failure(detail + f"（{who}.t = 0）",
                       f"{who} 的状态没有变化（步数 t = 0）：请用传入的优化器更新参数（{who}.step(grads)），"
                       "不要手写更新，也不要新建优化器——优化器的状态（动量、Adam 的 m、v、t）要跨步保留。")
    if opt_D.t != k * calls:
        return Failure(detail + f"（opt_D.t = {opt_D.t}，应为 {k * calls}）",
                       f"opt_D.step 被调用了 {opt_D.t} 次，应为每步 k 次（这里共 {k * calls} 次）：每次 D 更新"
                       "把真实批和生成批的梯度逐键相加，只调用一次 opt_D.step；生成器那一步不调用 opt_D.step。")
    if opt_G.t != calls:
        return Failure(detail + f"（opt_G.t = {opt_G.t}，应为 {calls}）",
                       f"opt_G.step 被调用了 {opt_G.t} 次，应为每步一次（这里共 {calls} 次）：只在生成器那一步更新 G。")
    if "D" in parts or "opt_D" in parts:
        return Failure(detail, "判别器的更新不对。" + STEP)
    return Failure(detail, "判别器的更新是对的，生成器那一步不对：用更新后的 D、噪声 z_g、目标 1（非饱和损失）"
                           "算出 G 的梯度，梯度穿过 D 但 D 不更新。" + STEP)


def _compare_case(answer, case):
    state, stats = _run(answer, case)
    for out in stats:
        _as_stats(out)
    ref_state = case.copy()
    for x, z_d, z_g, real_label in case.calls:
        reference_step(*ref_state, x, z_d, z_g, real_label)
    parts = _diff(state, ref_state, case.dtype)
    if parts:
        raise _diagnose(state, case, parts)
    return "G、D 的参数和两个优化器的状态都与 GAN.train_step 一致"


UPSTREAM = "先修好上面的参数与优化器状态检查：报告的数来自同样的计算，步骤不对时它们也不会对。"


def _compare_stats(answer, cases):
    for case in cases:
        state, stats = _run(answer, case)
        ref_state = case.copy()
        _, eng = _run_engine(case, ())
        refs = [reference_step(*ref_state, x, z_d, z_g, real_label) for x, z_d, z_g, real_label in case.calls]
        if _diff(state, ref_state, case.dtype):
            raise Failure(f"{case.label}：参数已经与 GAN.train_step 不同", UPSTREAM)
        for i, (_, z_d, _, _) in enumerate(case.calls):
            mine = _as_stats(stats[i])
            ref = refs[i]
            bad = _stats_close(mine, ref, case.dtype)
            if not bad:
                continue
            k = bad[0]
            detail = f"{case.label}，第 {i + 1} 步：{k} = {mine[k]:.8g}，应为 {ref[k]:.8g}"
            first = eng[i]["first"]
            if len(z_d) > 1 and k != "g_loss" and abs(mine[k] - first[k]) <= 1e-9 * max(1.0, abs(first[k])):
                raise Failure(detail, f"{k} 报告的是第一次 D 更新的值：应报告最后一次（第 k 次）D 更新的值。")
            hints = {
                "d_loss": "d_loss 是（最后一次）D 更新之前算出的判别器损失：BCE(D(x_real), real_label) + BCE(D(fake), 0)。",
                "g_loss": "g_loss 是生成器那一步的损失 BCE(D(G(z_g)), 1)，用更新后的 D 计算。",
                "d_real": "d_real 是最后一次 D 更新**之前** D 对真实批的平均概率 mean(sigmoid(logits))，不是 logits 的平均。",
                "d_fake": "d_fake 是最后一次 D 更新**之前** D 对生成批 G(z_d[-1]) 的平均概率 mean(sigmoid(logits))。",
            }
            swapped = {"d_real": "d_fake", "d_fake": "d_real", "d_loss": "g_loss", "g_loss": "d_loss"}[k]
            if abs(mine[k] - ref[swapped]) <= 1e-9 * max(1.0, abs(ref[swapped])):
                raise Failure(detail, f"{k} 与 {swapped} 对调了。" + hints[k])
            raise Failure(detail, hints[k])
    return "两个用例、每一步的四个数都与 GAN.train_step 一致"


def _saturated(answer, seed):
    # First the same networks unsaturated: a step that is wrong everywhere is not a
    # saturation problem, and its hint belongs to the checks above.
    plain = _make_case(np.random.default_rng(seed + 303), "float32", z_dim=3, g_hidden=(5,), x_dim=2, d_hidden=(6, 5),
                       n=8, k=1, real_label=1.0, opt="sgd", calls=1, dtype=np.float32)
    state, stats = _run(answer, plain)
    ref_state = plain.copy()
    ref = reference_step(*ref_state, *plain.calls[0])
    if _diff(state, ref_state, np.float32) or _stats_close(_as_stats(stats[0]), ref, np.float32):
        raise Failure("在普通大小的 logits（float32）上已经与 GAN.train_step 不同",
                      "先修好上面的检查；这一项专门检查饱和的判别器。")
    case = _saturated_case(seed)
    state, stats = _run(answer, case)
    mine = _as_stats(stats[0])
    ref_state = case.copy()
    x, z_d, z_g, real_label = case.calls[0]
    ref = reference_step(*ref_state, x, z_d, z_g, real_label)
    G, D = case.state[:2]
    r, f = D(x).ravel(), D(G(z_d[0])).ravel()
    where = f"logits 范围：真实批 [{r.min():.3g}, {r.max():.3g}]，生成批 [{f.min():.3g}, {f.max():.3g}]"
    mp = _params(state)
    finite = all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for part in ("G", "D") for v in mp[part].values())
    if not finite or not all(np.isfinite(mine[k]) for k in KEYS):
        raise Failure(f"{where}：参数或报告的损失出现了 NaN / inf", PROB_NAN)
    if mine["d_loss"] < ref["d_loss"] * (1 - 1e-5):
        raise Failure(f"{where}：d_loss = {mine['d_loss']:.6g}，精确值 {ref['d_loss']:.6g}", CAPPED)
    parts = _diff(state, ref_state, np.float32)
    bad = _stats_close(mine, ref, np.float32)
    if parts or bad:
        raise Failure(f"{where}：{'、'.join(parts + bad)} 与 GAN.train_step 不同",
                      "饱和时结果不精确：损失和对 logits 的梯度都直接从 logits 计算（minigan.losses 里的函数就是这样做的），"
                      "不要经过概率 D = sigmoid(logits)。")
    return f"{where}：参数与损失都有限且与 GAN.train_step 一致"


def _no_mutation(answer, seed):
    case = _cases(seed)[0]
    state = case.copy()
    x, z_d, z_g, real_label = case.calls[0]
    x0, zd0, zg0 = x.copy(), [z.copy() for z in z_d], z_g.copy()
    arrays = {f"G.{k}": p for k, p in state[0].params().items()} | {f"D.{k}": p for k, p in state[1].params().items()}
    call_learner("你的函数", answer, *state, x, z_d, z_g, real_label=real_label)
    if changed(x0, x):
        raise Failure("x_real 被改动了", "你的函数原地修改了真实批 x_real：保持它不变（它还要用于后面的 D 更新）。")
    if changed(zd0, z_d) or changed(zg0, z_g):
        raise Failure("噪声 z_d 或 z_g 被改动了", "你的函数原地修改了噪声：保持 z_d、z_g 不变。")
    now = {f"G.{k}": p for k, p in state[0].params().items()} | {f"D.{k}": p for k, p in state[1].params().items()}
    replaced = [k for k, p in arrays.items() if now.get(k) is not p]
    if replaced:
        raise Failure(f"参数数组 {replaced[0]} 被换成了新数组",
                      "参数要原地更新（优化器的 step 就是这样做的）：写 layer.W = layer.W - lr * dW 会换掉数组，"
                      "优化器手里的还是旧数组，之后的更新就对不上了。用 opt_G.step / opt_D.step。")
    return "x_real、z_d、z_g 未被改动；参数数组被原地更新"


def _dtype(answer, seed):
    rng = np.random.default_rng(seed + 5)
    case = _make_case(rng, "float32", z_dim=3, g_hidden=(4,), x_dim=2, d_hidden=(3,), n=5, k=1, real_label=1.0,
                      opt="sgd", calls=1, dtype=np.float32)
    state, stats = _run(answer, case)
    _as_stats(stats[0])
    for part, model in (("G", state[0]), ("D", state[1])):
        for k, p in model.params().items():
            if p.dtype != np.float32:
                raise Failure(f"{part} 的参数 {k!r} 变成了 {p.dtype}",
                              "float32 的网络在一步之后要仍是 float32：参数要原地更新（opt.step），不要换成新数组。")
    return "参数保持 float32，报告的是有限的数"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    sizes = st.lists(st.integers(1, 4), min_size=1, max_size=2)
    strategy = st.tuples(st.integers(1, 3), sizes, st.integers(1, 3), sizes, st.integers(1, 5), st.integers(1, 3),
                         st.sampled_from([1.0, 0.9]), st.sampled_from(["sgd", "adam"]),
                         st.sampled_from(["float32", "float64"]), st.integers(0, 2**16))

    def describe(example):
        z_dim, gh, x_dim, dh, n, k, real_label, opt, dtype, _ = example
        if dtype == "float32":
            opt = "sgd"
        return (f"G {arrow((z_dim, *gh, x_dim))}，D {arrow((x_dim, *dh, 1))}，N = {n}，k = {k}，"
                f"real_label = {real_label:g}，{opt}，{dtype}")

    def prop(example):
        z_dim, gh, x_dim, dh, n, k, real_label, opt, dtype, seed = example
        if dtype == "float32":
            opt = "sgd"  # Adam's first step is sign(g): float32 rounding of a tiny g could flip it
        case = _make_case(np.random.default_rng(seed), "", z_dim=z_dim, g_hidden=tuple(gh), x_dim=x_dim,
                          d_hidden=tuple(dh), n=n, k=k, real_label=real_label, opt=opt, calls=1,
                          dtype=np.dtype(dtype))
        x, z_d, z_g, _ = case.calls[0]
        x0, zd0, zg0 = snapshot(x), snapshot(z_d), snapshot(z_g)
        state = case.copy()
        mine = _as_stats(call_learner("你的函数", answer, *state, x, z_d, z_g, real_label=real_label))
        if changed(x0, x) or changed(zd0, z_d) or changed(zg0, z_g):
            raise Failure("x_real、z_d 或 z_g 被改动了", "保持输入不变：见上面的检查。")
        ref_state = case.copy()
        ref = reference_step(*ref_state, x0, zd0, zg0, real_label)
        parts = _diff(state, ref_state, dtype) + _stats_close(mine, ref, dtype)
        if parts:
            raise Failure(f"{'、'.join(parts)} 与 GAN.train_step 不同", "见上面的参数与损失检查。")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="参数、优化器状态和报告的四个数都与 GAN.train_step 一致")
