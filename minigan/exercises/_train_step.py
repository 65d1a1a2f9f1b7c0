"""Checker for the ``train_step`` exercise: one GAN training step, the nine steps of section 3.3.

``my_train_step(G, D, opt_G, opt_D, x_real (N, x_dim), z_d (k batches (N, z_dim)), z_g (N, z_dim), real_label=1.0)``
is ``GAN.train_step`` (order "d_first", d_steps k, non-saturating loss), in place through the optimisers::

    for i in range(k):  fake = G(z_d[i]);  L_D = BCE(D(x_real), real_label) + BCE(D(fake), 0);  opt_D.step(dL_D/dD)
    fake = G(z_g);  L_G = BCE(D(fake), 1);  opt_G.step(dL_G/dG)         (through D; D is not updated)

returning ``{"d_loss", "g_loss", "d_real", "d_fake"}`` (D's from the last D update's forward pass).  Graded: the
state left (parameters, ``state_dict()`` s) and returned numbers after consecutive calls, against ``GAN.train_step``.
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..gan import GAN, build_discriminator, build_generator
from ..nn.activations import sigmoid
from ..optim import SGD, Adam
from . import _kit
from ._gan_common import CAPPED, PROB_NAN, arrow, spread
from ._kit import Failure, Mistake, Part, tolerance, tree_equal

DESCRIPTION = "一个完整的训练步（第 3.3 节的九个步骤）：先 k 次更新 D，再更新 G；(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label) -> 损失与 D 的输出"
KEYS, STATE = ("d_loss", "g_loss", "d_real", "d_fake"), ("D", "G", "opt_D", "opt_G")
STEP = "正确的一步：对 i = 0..k-1，fake = G(z_d[i])，D 在 x_real（标签 real_label）和 fake（标签 0）上各前向一次，两个 BCE 的参数梯度逐键相加，opt_D.step 一次；然后 fake, g_cache = G.forward(z_g)，logits, d_cache = D.forward(fake)，BCE(logits, 1) 的梯度经 D.backward 得到 dx，再经 G.backward，opt_G.step。"
TOO_FEW = "D 的更新次数少于 k：opt_D.step 每步要调用 k = len(z_d) 次，你的函数调用得更少——对 z_d 的循环漏掉了（只用一批噪声做了一次 D 更新）。写成 for z in z_d:，每批噪声各做一次 D 更新（前向、两个 BCE 的梯度逐键相加、opt_D.step 一次），循环结束后再更新 G。"
TOO_MANY = "D 的更新次数多于 k：opt_D.step 每步只应调用 k = len(z_d) 次。每次 D 更新把真实批和生成批的梯度逐键相加，只调用一次 opt_D.step；生成器那一步不调用 opt_D.step。"
G_IN_LOOP = "G 的更新次数多于每步一次：生成器那一步放进了 D 的循环里（每次 D 更新之后都更新一次 G）。先做完 k 次 D 更新，循环结束之后只做一次生成器更新（opt_G.step 每步一次）。"
MANUAL = "优化器的状态没有变化（步数 t = 0）：请用传入的优化器更新参数（opt_D.step(grads)、opt_G.step(grads)），不要手写更新，也不要新建优化器——优化器的状态（动量、Adam 的 m、v、t）要跨步保留。"


def reference_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict:
    """``GAN.train_step`` on these networks and optimisers, drawing exactly ``z_d`` then ``z_g``."""
    gan = GAN(G, D, z_dim=z_g.shape[1], g_optimizer=opt_G, d_optimizer=opt_D, d_steps=len(z_d), order="d_first",
              loss="non_saturating", real_label=real_label, rng=0)
    queue = [z.copy() for z in z_d] + [z_g.copy()]
    gan.sample_noise = lambda n: queue.pop(0)
    return gan.train_step(x_real).as_dict()


def _loss(scale=lambda z: 1.0, kind="bce"):
    """``(logits, target) -> (loss, dlogits)``: minigan's BCE or "minimax" G loss, gradient times ``scale(logits)``."""
    def loss(z, y):
        if kind == "p":  # BCE through p = sigmoid(z): log(0) and 0 * inf once D saturates
            p = 1 / (1 + np.exp(-z))
            dz = (-y / p + (1 - y) / (1 - p)) * p * (1 - p) / z.size
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), dz
        value, dz = losses.generator_loss(z, "minimax") if kind == "minimax" else losses.bce_with_logits(z, y)
        return value, dz * scale(z)
    return loss


_BCE = _loss()


def wrong_step(*, labels=lambda rl: (rl, 0.0, 1.0), d_loss=_BCE, g_loss=_BCE, noise=lambda z_d, z_g: (z_d, z_g),
               order="d_first", d_steps=1, split=False, g_in_d=False, d_in_g=False, accumulate="", stats="before"):
    """``GAN.train_step`` written out with minigan's layers (the defaults), or with one typical mistake: D's and G's
    targets ``labels(real_label)``, losses ``(logits, target) -> (loss, dlogits)``, the batches ``noise(z_d, z_g)``,
    ``order`` of the updates, opt_D.step calls per D update (0: by hand; ``split`` per half), the other network
    stepped too, gradients summed over a "call" or a "run", which D numbers are reported."""
    def step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
        real_t, fake_t, g_t = labels(real_label)
        z_ds, z_for_g = noise(list(z_d), z_g)
        store = vars(opt_D).setdefault("summed", {}) if accumulate == "run" else {} if accumulate else None

        def d_update(z):
            fake, g_cache = G.forward(z)
            (r, c_r), (f, c_f) = D.forward(x_real), D.forward(fake)
            (loss_r, d_r), (loss_f, d_f) = d_loss(r, real_t), d_loss(f, fake_t)
            (_, g_r), (dx, g_f) = D.backward(d_r, c_r), D.backward(d_f, c_f)
            grads = {k: g_r[k] + g_f[k] for k in g_r}
            for k in grads if store is not None else ():
                grads[k] = store[k] = grads[k] + store.get(k, 0)
            for k, p in D.params().items() if d_steps == 0 else ():
                p -= 0.05 * grads[k]
            for g in [g_r, g_f] * d_steps if split else [grads] * d_steps:
                opt_D.step(g)
            if g_in_d:
                opt_G.step(G.backward(dx, g_cache)[1])
            r, f = (D(x_real), D(fake)) if stats == "after" else (f, r) if stats == "swapped" else (r, f)
            r, f = (r, f) if stats == "logits" else (sigmoid(r), sigmoid(f))
            return {"d_loss": loss_r + loss_f, "d_real": float(np.mean(r)), "d_fake": float(np.mean(f))}

        def g_grads():
            fake, g_cache = G.forward(z_for_g)
            logits, d_cache = D.forward(fake)
            value, dl = g_loss(logits, g_t)
            dx, d_grads = D.backward(dl, d_cache)
            return value, G.backward(dx, g_cache)[1], d_grads

        def g_update(pending=None):
            value, grads, d_grads = pending or g_grads()
            opt_G.step(grads)
            if d_in_g:
                opt_D.step(d_grads)
            return value

        pending = g_grads() if order == "simultaneous" else None
        g_value = g_update() if order == "g_first" else None
        reports = []
        for z in z_ds:
            reports.append(d_update(z))
            g_value = g_update() if order == "g_in_loop" else g_value
        g_value = g_update(pending) if order in ("d_first", "simultaneous") else g_value
        return {**reports[0 if stats == "first" else -1], "g_loss": g_value}
    return step


MISTAKES = [
    Mistake("g_noise_from_d", answer=wrong_step(noise=lambda z_d, z_g: (z_d, z_d[-1])), hint="生成器那一步用了判别器那一步的噪声 z_d：minigan 的 GAN.train_step（和 Goodfellow 等人 2014 年的算法 1）在更新 G 之前重新采样一批噪声，本练习把它作为 z_g 传给你。（文章第 4.3 节的代码两次 sess.run 喂的是同一个 noise，那是另一种做法；本练习按 minigan 评分。）"),
    Mistake("d_noise_from_g", answer=wrong_step(noise=lambda z_d, z_g: ([z_g] * len(z_d), z_g)), hint="判别器那一步用了 z_g：第 i 次 D 更新的生成样本要由 z_d[i] 生成，z_g 留给生成器那一步。"),
    Mistake("same_d_noise", answer=wrong_step(noise=lambda z_d, z_g: ([z_d[0]] * len(z_d), z_g)), hint="k 次 D 更新都用了 z_d[0]：第 i 次 D 更新用自己那批噪声 z_d[i]（GAN.d_step 每次都重新采样）。"),
    Mistake("k_loop_missing", answer=wrong_step(noise=lambda z_d, z_g: (z_d[:1], z_g)), hint=TOO_FEW),
    Mistake("d_step_twice", answer=wrong_step(d_steps=2), hint=TOO_MANY),
    Mistake("two_d_steps", answer=wrong_step(split=True), hint="每次 D 更新调用了两次 opt_D.step（真实批一次、生成批一次）：两部分梯度要逐键相加，每次 D 更新只调用一次 opt_D.step（否则动量和 Adam 的步数 t 都多走一步）。"),
    Mistake("g_in_loop", answer=wrong_step(order="g_in_loop"), hint=G_IN_LOOP),
    Mistake("manual_update", answer=wrong_step(d_steps=0), hint=MANUAL),
    Mistake("accumulate_call", answer=wrong_step(accumulate="call"), hint="梯度累加了：上一次 D 更新的梯度被加进了这一次（梯度字典在循环外创建、用 += 累加，却没有清零）。每次反向都会得到新的梯度数组，直接把这一次的梯度交给 opt.step 即可；若要自己累加，每次更新前都要清零。"),
    Mistake("accumulate_run", answer=wrong_step(accumulate="run"), hint="梯度在两次调用之间累加了：梯度字典放在函数外面（全局变量），每次调用都在上一步的梯度上 +=，没有清零。每次更新只用这一次反向得到的梯度。"),
    Mistake("d_stepped_in_g", answer=wrong_step(d_in_g=True), hint="D 的参数在生成器那一步被改动了：G 的损失对 D 参数的梯度也交给了 opt_D.step。训练生成器时 D 只是传递梯度的通道，参数不更新（TensorFlow 里就是只把生成器的变量交给 G 的优化器）。"),
    Mistake("g_stepped_in_d", answer=wrong_step(g_in_d=True), hint="G 的参数在判别器那一步被改动了：判别器损失的梯度经生成样本传回 G，又交给了 opt_G.step。D 的那一步只更新 D：对 D 来说生成样本只是输入数据（相当于 detach / stop_gradient）。"),
    Mistake("fake_label_1", answer=wrong_step(labels=lambda rl: (rl, 1.0, 1.0)), hint="判别器那一步把生成样本的标签写成了 1：D 的损失是 BCE(D(x_real), real_label) + BCE(D(G(z)), 0)，生成样本的标签是 0（标签 1 是生成器那一步的目标）。"),
    Mistake("smooth_fake", answer=wrong_step(labels=lambda rl: (rl, 1 - rl, 1.0)), hint="标签平滑用在了两边：单侧（one-sided）标签平滑只把真实样本的标签换成 real_label，生成样本的标签仍是 0，不是 1 - real_label。"),
    Mistake("smooth_g", answer=wrong_step(labels=lambda rl: (rl, 0.0, rl)), hint="生成器的目标也用了 real_label：标签平滑只改判别器对真实样本的标签，生成器的损失仍是 BCE(D(G(z)), 1)。"),
    Mistake("ignore_smoothing", answer=wrong_step(labels=lambda rl: (1.0, 0.0, 1.0)), hint="忽略了 real_label：判别器对真实样本的标签应是参数 real_label（这里是 0.9），不是 1。"),
    Mistake("g_first", answer=wrong_step(order="g_first"), hint="先更新了 G 再更新 D：第 3.3 节的编号是先 G（步骤 1–5）后 D（步骤 6–8），但 minigan 默认（order=\"d_first\"）与第 4.3 节的代码、Goodfellow 等人的算法 1 一样，先做 k 次 D 更新，再用更新后的 D 训练 G。本练习按 d_first 评分。"),
    Mistake("simultaneous", answer=wrong_step(order="simultaneous"), hint="G 的梯度是用更新之前的 D 算的（先把两个梯度都算好，再一起更新）：要先完成 D 的更新，再用更新后的 D 重新前向 G(z_g) → D，计算生成器的梯度。"),
    Mistake("minimax", answer=wrong_step(g_loss=_loss(kind="minimax")), hint="生成器用了 minimax 损失 mean log(1 - D(G(z)))：GAN 默认（loss=\"non_saturating\"，第 4.3 节代码）最小化 BCE(D(G(z)), 1) = -mean log D(G(z))。"),
    Mistake("d_concat_mean", answer=wrong_step(d_loss=_loss(lambda z: 0.5)), hint="判别器的损失把真实批和生成批合在一起只平均了一次（除以 2N）：两个 BCE 各自对自己的批取平均再相加，梯度里没有额外的 1/2。"),
    Mistake("d_sum", answer=wrong_step(d_loss=_loss(len)), hint="判别器损失的梯度漏了 1/N：两个 BCE 都是对批的平均，dL/dlogits 要除以 N。"),
    Mistake("g_sum", answer=wrong_step(g_loss=_loss(len)), hint="生成器损失的梯度漏了 1/N：BCE(D(G(z)), 1) 是对批的平均，dL/dlogits = (sigmoid(l) - 1) / N。"),
    Mistake("logit_stats", answer=wrong_step(stats="logits"), hint="d_real、d_fake 是 D 输出的平均概率 mean(sigmoid(logits))，不是 logits 的平均：D 输出的是 logits，报告前先经过 sigmoid。"),
    Mistake("first_stats", answer=wrong_step(stats="first"), hint="d_loss、d_real、d_fake 报告的是第一次 D 更新的值：应报告最后一次（第 k 次）D 更新的值，在那次更新之前算出。"),
    Mistake("stats_after", answer=wrong_step(stats="after"), hint="d_real、d_fake 是在 D 更新之后重新算的：应报告最后一次 D 更新之前那次前向的结果（d_loss 与它们来自同一次前向）。"),
    Mistake("stats_swapped", answer=wrong_step(stats="swapped"), hint="d_real 与 d_fake 对调了：d_real 是 D 对真实批 x_real 的平均概率，d_fake 是 D 对生成批的平均概率。"),
    Mistake("through_probability", answer=wrong_step(d_loss=_loss(kind="p")), check="saturated", hint=PROB_NAN),
]


def _as_stats(out) -> dict:
    out = out.as_dict() if callable(getattr(out, "as_dict", None)) else out
    if not (isinstance(out, dict) and all(np.asarray(out.get(k, "")).dtype.kind in "fiub" and np.size(out[k]) == 1
                                          for k in KEYS)):
        raise Failure(f"返回的是 {type(out).__name__}，不是含 {'、'.join(KEYS)} 四个数的字典", f"返回一个字典，键为 {list(KEYS)}（与 GAN.train_step(...).as_dict() 相同），每个值是一个数（损失是对批平均后的 BCE，d_real 是 D(x_real) 的平均概率）。")
    return {k: float(np.asarray(out[k]).reshape(())) for k in KEYS}


def call(answer, G, D, opt_G, opt_D, xs, z_ds, z_gs, real_labels) -> dict:
    """Call ``answer`` on ``xs[i], list(z_ds[i]), z_gs[i], real_labels[i]`` in turn: the state left, the numbers."""
    arrays, reports = lambda: [p for model in (G, D) for p in model.params().values()], []
    for x, z_d, z_g, real_label in zip(xs, z_ds, z_gs, real_labels):
        before = arrays()
        out = _kit.call_learner("你的函数", answer, G, D, opt_G, opt_D, x, list(z_d), z_g, real_label=real_label)
        if any(a is not b for a, b in zip(before, arrays())):
            raise Failure("参数数组被换成了新数组", "参数要原地更新（优化器的 step 就是这样做的）：写 layer.W = layer.W - lr * dW 会换掉数组，优化器手里的还是旧数组，之后的更新就对不上了。用 opt_G.step / opt_D.step。")
        reports.append(_as_stats(out))
    return {"D": _kit.snapshot(D.params()), "G": _kit.snapshot(G.params()), "opt_D": opt_D.state_dict(),
            "opt_G": opt_G.state_dict(), "stats": reports}


def _case(rng, label, z_dim, g_hidden, x_dim, d_hidden, n, k, real_label, opt, calls, dtype=np.float64) -> _kit.Case:
    G = build_generator(z_dim, g_hidden, x_dim, dtype=dtype, rng=rng)
    D = build_discriminator(x_dim, d_hidden, dtype=dtype, rng=rng)
    xs = (rng.standard_normal((calls, n, x_dim)) * 0.7).astype(dtype)
    z_ds, z_gs = (rng.standard_normal((calls, *m, n, z_dim)).astype(dtype) for m in ((k,), ()))
    name, make = {"sgd": ("SGD(momentum=0.5)", lambda p: SGD(p, lr=0.05, momentum=0.5)),
                  "sgd-small": ("SGD", lambda p: SGD(p, lr=1e-4)), "adam": ("Adam", lambda p: Adam(p, lr=1e-2))}[opt]
    text = f"{label}：G {arrow((z_dim, *g_hidden, x_dim))}，D {arrow((x_dim, *d_hidden, 1))}，N = {n}，k = {k}，real_label = {real_label:g}，{name}，{np.dtype(dtype).name}，连续 {calls} 步"
    return _kit.Case(text, (G, D, make(G.params()), make(D.params()), xs, z_ds, z_gs, (real_label,) * calls))


def cases(seed):
    """k = 1, then k = 2 (where a forgotten loop over z_d shows) with label smoothing; two calls each."""
    rng = np.random.default_rng(seed)
    return [_case(rng, "用例 A", 3, (5,), 2, (6, 4), n=6, k=1, real_label=1.0, opt="sgd", calls=2), _case(rng, "用例 B", 2, (4, 3), 3, (5,), n=5, k=2, real_label=0.9, opt="adam", calls=2)]


def float32_case(seed, saturated=False) -> _kit.Case:
    """Ordinary logits, or D's last layer scaled so that its logits (of order 500) on both batches pass ±100."""
    rng = np.random.default_rng(seed + 303)
    for _ in range(50):
        case = _case(rng, "饱和的 D" if saturated else "float32", 3, (5,), 2, (6, 5), 8, 1, 1.0, "sgd-small" if saturated else "sgd", 1, np.float32)
        G, D, _, _, xs, z_ds, _, _ = case.args
        batches = (xs[0], G(z_ds[0, 0]))
        if saturated:
            spread(D, np.concatenate(batches), -600.0, 600.0)
        r, f = (D(b).ravel() for b in batches)
        if not saturated or all(np.any(v < -100) and np.any(v > 100) for v in (r, f)):
            case.label += f"（logits：真实批 [{r.min():.3g}, {r.max():.3g}]，生成批 [{f.min():.3g}, {f.max():.3g}]）"
            return case
    raise RuntimeError("no saturated case with both signs")  # pragma: no cover


def _off(got, ref) -> list:
    return [p for p in STATE if not tree_equal(got[p], ref[p], tolerance(next(iter(ref["D"].values())).dtype))]


def _show(got, ref) -> str:
    if _off(got, ref) or "stats" not in got:
        counts = "".join(f"，{o}.t = {got[o]['t']}（应为 {ref[o]['t']}）" for o in STATE[2:] if got[o]["t"] != ref[o]["t"])
        return f"{'、'.join(_off(got, ref)) or '参数'} 与 GAN.train_step 的结果不同{counts}"
    rows = [(i, k, a[k], b[k]) for i, (a, b) in enumerate(zip(got["stats"], ref["stats"])) for k in KEYS]
    i, k, a, b = max(rows, key=lambda t: np.inf if t[2] != t[2] else abs(t[2] - t[3]) / max(1.0, abs(t[3])))
    return f"第 {i + 1} 步：{k} = {a:.8g}，应为 {b:.8g}"


def _diagnose(got, ref, case) -> str:
    """No mistake leaves this state: the optimisers' step counts (none, too few, too many), else which net is off."""
    (d, d_ref), (g, g_ref) = ((got[o]["t"], ref[o]["t"]) for o in STATE[2:])
    for wrong, hint in ((0 in (d, g), MANUAL), (d < d_ref, TOO_FEW), (d > d_ref, TOO_MANY), (g > g_ref, G_IN_LOOP)):
        if wrong:
            return hint
    return ("判别器的更新不对。" if {"D", "opt_D"} & set(_off(got, ref)) else "判别器的更新是对的，生成器那一步不对：用更新后的 D、噪声 z_g、目标 1（非饱和损失）算出 G 的梯度，梯度穿过 D 但 D 不更新。") + STEP


def _saturation_hint(got, ref, case) -> str:
    """Ordinary logits: back to the checks above; saturated: NaN / inf (""): PROB_NAN, a loss too low: CAPPED."""
    if "饱和" not in case.label or not _kit.finite(got):
        return "" if "饱和" in case.label else "先修好上面的检查；这一项专门检查饱和的判别器。"
    return CAPPED if "stats" in got and got["stats"][0]["d_loss"] < ref["stats"][0]["d_loss"] * (1 - 1e-5) else "饱和时结果不精确：损失和对 logits 的梯度都直接从 logits 计算（minigan.losses 里的函数就是这样做的），不要经过概率 D = sigmoid(logits)。"


EXPLAIN = {  # words in the message of an exception the answer raised -> hint
    ("real_label",): "函数签名是 my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0)：要接受关键字参数 real_label。",
    ("gradient names do not match", "gradient '"): "交给优化器的梯度与它的参数对不上：opt_D.step 只接受 D 的梯度（D.backward 返回的字典），opt_G.step 只接受 G 的梯度（G.backward 返回的字典）。",
    ("matmul", "not aligned", "could not be broadcast"): "形状对不上：z_d 是 k 批噪声组成的列表，第 i 次 D 更新用 z_d[i]（形状 (N, z_dim)）；G.backward 需要对 G 输出的梯度（D.backward 返回的 dx），不是 dlogits。",
}


def _explain(exc) -> str:
    return next((hint for words, hint in EXPLAIN.items() if any(w in str(_kit.original(exc)) for w in words)), "")


def _strategy():
    from hypothesis import strategies as st
    sizes, small = st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple), st.integers(1, 3)
    return st.tuples(small, sizes, small, sizes, st.integers(1, 5), small, st.sampled_from([1.0, 0.9]),
                     st.sampled_from(["sgd", "adam"]), st.sampled_from(["float32", "float64"]), st.integers(0, 2**16))


def _example(drawn) -> _kit.Case:
    *shape, real_label, opt, dtype, seed = drawn  # float32 with SGD: Adam's first step, sign(g), could flip on rounding
    return _case(np.random.default_rng(seed), "随机", *shape, real_label, "sgd" if dtype == "float32" else opt, 1, np.dtype(dtype))


class StepExercise(_kit.FunctionExercise):
    """The kit's exercise, but a failing random example is explained by the cheap diagnoses (it may be one of many that
    hypothesis tries while shrinking; running every wrong step on each is too slow)."""

    def explain_difference(self, part, got_out, case, fallback: str) -> str:
        if case.label.startswith("随机"):
            return part.diagnose(part.get(got_out), part.get(self.expected(case)), case) or fallback
        return super().explain_difference(part, got_out, case, fallback)


PARTS = [
    Part("参数与优化器状态", lambda out: {p: out[p] for p in STATE}, show=_show, diagnose=_diagnose,
         row="G、D 的参数与两个优化器的状态（与 GAN.train_step 比较：k = 1 与 k = 2，连续两步）"),
    Part("报告的数", lambda out: out, row="报告的损失与 D 的输出（d_loss、g_loss、d_real、d_fake）", show=_show,
         diagnose=lambda got, ref, case: "先修好上面的参数与优化器状态检查：报告的数来自同样的计算，步骤不对时它们也不会对。" if _off(got, ref) else "",
         hint="d_loss、d_real、d_fake 来自最后一次 D 更新之前的那次前向：d_loss = BCE(D(x_real), real_label) + BCE(D(fake), 0)，d_real、d_fake 是 D 对真实批和生成批 G(z_d[-1]) 的平均概率 mean(sigmoid(logits))；g_loss 是生成器那一步的 BCE(D(G(z_g)), 1)，用更新后的 D 计算。"),
]

EXERCISE = StepExercise(
    name="train_step", description=DESCRIPTION, form="dict（含 d_loss、g_loss、d_real、d_fake）", call=call,
    reference=reference_step, cases=cases, parts=PARTS, mistakes=MISTAKES, explain=_explain, usage="my_train_step",
    regimes=[_kit.Regime("饱和的判别器：logits 达 ±1e2 以上（float32）",
                         lambda seed: [float32_case(seed), float32_case(seed, True)], PROB_NAN, _saturation_hint)],
    unchanged={4: "你的函数原地修改了真实批 x_real：保持它不变（它还要用于后面的 D 更新）。",
               5: "你的函数原地修改了噪声 z_d：保持它不变。", 6: "你的函数原地修改了噪声 z_g：保持它不变。"},
    float32=float32_case, strategy=_strategy, example=_example,
)
