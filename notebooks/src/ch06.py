"""Chapter 6 notebook: every remedy of the article's section 6 (FAQ) run as an experiment over seeds."""

# ruff: noqa: E501

from __future__ import annotations

import _cells
from _cells import code, md

TITLE = "06_faq"

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
# 6 附录常见问题与解答

文章第 6 节回到第 5.2 节的第 2、3、5 条挑战，每个问题给三条“解决方法”。这些方法都是一句话，\
没有实验。这个 notebook 把每一条当成一个**可检验的假设**：固定其他一切，只改这一处，\
在几个随机种子上训练，比较改动前后的指标。

| 文章 | 改动 | 数据 | 指标 |
|---|---|---|---|
| 6.1 模式崩溃 (1)(2)(3) | 更大的 G 和 D；SGD 代替 Adam；L2 / L1 正则 | `grid`（25 个高斯） | 捕获的模式数、高质量样本比例 |
| 6.1 文献中的办法 | 打包（PacGAN，$m=2, 4$）；非饱和损失 vs 极小极大损失 | `grid` | 同上 |
| 6.2 噪声和模糊 (1)(2)(3) | 均匀噪声 / 10 维噪声；更大的 G；SGD | `mnist5k` | 分类器 Fréchet 距离、置信度分数 |
| 6.3 鉴定难度 (1)(2)(3) | 更多真实数据；更大的 D；SGD | `mnist5k` | 新检测器的准确率 `detection_accuracy` |
| 补充：配方 | 文章的配方 vs 平滑配方（单边标签平滑 + 双倍 G 学习率）；默认配方的研究 | `mnist5k` | 训练过程中的 Fréchet 距离 |

完整运行每个设置用 3 个种子（配方实验 2 个），报告“均值 ± 标准误”；`FAST = True`（CI）时只有 1 个种子、\
几百步，结论无意义，只检查代码。正文不写具体数值，数值都在代码打印的表里；最后一张总表\
由代码根据均值差与标准误自动判定“是否有帮助”。对应的书中章节是第 6 章。
"""),
    _cells.setup(r'''
import logging
import time

from minigan import GAN, build_discriminator, build_generator
from minigan.data import load
from minigan.metrics import MLPClassifier, class_scores, detection_accuracy, mode_coverage
from minigan.notebook import fmt, mean_se, pmap, print_table
from minigan.optim import make_optimizer
from minigan.train import TrainConfig, Trainer, load_dataset
from minigan.viz import image_grid

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

TRAIN, VALID, TEST = load("mnist5k", "train"), load("mnist5k", "validation"), load("mnist5k", "test")
REAL_REF = np.concatenate([VALID.x, TEST.x])   # 1,000 张留出的真实数字
CLF = MLPClassifier(784, 10, rng=0).fit(TRAIN.x, TRAIN.y, epochs=2 if FAST else 8)
# 两个工作进程并行跑不同的种子/设置（机器只有 2 核，且与别人共享：计时有噪声，但结果与顺序无关）
WORKERS = 1 if FAST else min(2, os.cpu_count() or 1)
SEEDS = (0,) if FAST else (0, 1, 2)
print(f"FAST = {FAST}，种子 {SEEDS}，{WORKERS} 个工作进程")
print(f"数字分类器：测试准确率 {CLF.accuracy(TEST.x, TEST.y):.3f}")
SUMMARY = []   # (section, remedy, metric, before values, after values, higher is better)
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 6.1 常见问题1：生成模型生成的图像质量较为不稳定，可能存在模式崩溃（Mode Collapse）现象

文章给出三条办法：(1) 增加生成器和判别器的复杂性；(2) 用随机梯度下降（SGD）等优化算法，\
“以提高生成模型的训练效率”；(3) 用 L1、L2 正则化“防止过拟合”。

书中第 6 章分析过，这三条都没有对准原因：模式崩溃来自博弈的动态（判别器固定时，生成器的最优解是\
把样本都放到判别器最信任的地方），而不是表达能力不足或过拟合。这里直接量。

**实验设置。** 数据是 PacGAN 协议的 `grid`：$5\times5$ 网格上 25 个高斯，标准差 0.05，\
训练集 20,000 个点。基线是文章的网络（隐藏层 128×3，leaky ReLU，输出 2 维线性），Adam\
（学习率 $10^{-3}$，$\beta_1=0.5$，两个网络相同），批量 96，非饱和损失，真实标签 1.0。\
每个改动只改一处：

- (1) 更大的网络：隐藏层 256×3，或 512×2（G 和 D 同时改）；
- (2) SGD：学习率 0.01，动量 0.5；
- (3) L2 正则（`weight_decay` $=10^{-3}$，加到梯度上的 $\lambda w$），L1 正则（`l1` $=10^{-4}$）；
- 文献中的办法：打包 $m=2, 4$（PacGAN）；以及把非饱和损失换回文章公式里的极小极大（minimax）损失，\
  看损失形式的影响。

评估：生成 2,500 个点，`mode_coverage` 给出捕获的模式数（满分 25）、高质量比例（离最近中心 3 个标准差以内）、\
反向 KL。训练步数远少于 PacGAN 论文（400 个 epoch），所以结果只在本表内部可比。
"""),
    code(r'''
GRID_STEPS = 200 if FAST else 5000


def toy(dataset="grid", steps=GRID_STEPS, seed=0, **kw):
    base = dict(dataset=dataset, n=20_000, steps=steps, batch_size=96, lr=1e-3, g_lr=1e-3, beta1=0.5,
                real_label=1.0, seed=seed)
    c = TrainConfig(**{**base, **kw}).validate()
    d = load_dataset(c)
    t = Trainer(c.resolve(d).validate(), d)
    t0 = time.perf_counter()
    for _ in range(steps):
        t.train_step()
    fake = t.gan.sample(2500)
    cov = mode_coverage(fake, d.centres, d.std) if np.all(np.isfinite(fake)) else None
    return {"modes": cov.modes if cov else 0, "hq": cov.high_quality if cov else 0.0,
            "rkl": cov.reverse_kl if cov else float("nan"), "fake": fake, "seconds": time.perf_counter() - t0}


GRID_SETTINGS = {
    "baseline (128x3, Adam)": {},
    "(1) bigger: 256x3": {"hidden": (256, 256, 256)},
    "(1) bigger: 512x2": {"hidden": (512, 512)},
    "(2) SGD (lr 0.01, momentum 0.5)": {"optimizer": "sgd", "lr": 1e-2, "g_lr": 1e-2, "momentum": 0.5},
    "(3) L2 (weight_decay 1e-3)": {"weight_decay": 1e-3},
    "(3) L1 (l1 1e-4)": {"l1": 1e-4},
    "packing m=2": {"pack": 2},
    "packing m=4": {"pack": 4},
    "minimax loss": {"loss": "minimax"},
}
# 表里打印的中文名（图里的标题仍用上面的英文键：没装中文字体的机器上 matplotlib 画不出汉字）
GRID_LABELS = {"baseline (128x3, Adam)": "基线（128×3，Adam）", "(1) bigger: 256x3": "(1) 更大：256×3",
               "(1) bigger: 512x2": "(1) 更大：512×2", "(2) SGD (lr 0.01, momentum 0.5)": "(2) SGD（学习率 0.01，动量 0.5）",
               "(3) L2 (weight_decay 1e-3)": "(3) L2（weight_decay 1e-3）", "(3) L1 (l1 1e-4)": "(3) L1（l1 1e-4）",
               "packing m=2": "打包 m=2", "packing m=4": "打包 m=4", "minimax loss": "极小极大损失"}
t0 = time.perf_counter()
jobs = [dict(seed=s, **kw) for kw in GRID_SETTINGS.values() for s in SEEDS]
flat = pmap(toy, jobs, WORKERS)
grid_res = {name: flat[i * len(SEEDS):(i + 1) * len(SEEDS)] for i, name in enumerate(GRID_SETTINGS)}
print(f"grid，每次 {GRID_STEPS:,} 步，每行 {len(SEEDS)} 个种子，均值 ± 标准误（共 {time.perf_counter() - t0:.0f} 秒）\n")
ref = load("grid", "test", n=2500)
real = mode_coverage(ref.x, ref.centres, ref.std)
print_table(["设置", "模式数 /25", "高质量 %", "反向 KL"],
            [[GRID_LABELS[name], fmt([r["modes"] for r in rs]), fmt([r["hq"] for r in rs], 100),
              fmt([r["rkl"] for r in rs], digits=2)] for name, rs in grid_res.items()]
            + [["真实数据（2,500 个测试点）", real.modes, f"{100 * real.high_quality:.1f}", f"{real.reverse_kl:.2f}"]])

base = grid_res["baseline (128x3, Adam)"]
for name, rs in grid_res.items():
    if name == "baseline (128x3, Adam)":
        continue
    sec = "6.1（文章）" if name.startswith("(") else "6.1（文献）"
    before, after, label = base, rs, GRID_LABELS[name]
    if name == "minimax loss":   # 要检验的是非饱和损失：改动前 = 极小极大，改动后 = 基线
        label, before, after = "非饱和损失（对比极小极大）", rs, base
    SUMMARY.append((sec, label, "grid 模式数 /25", [r["modes"] for r in before], [r["modes"] for r in after], True))
    SUMMARY.append((sec, label, "grid 高质量 %", [100 * r["hq"] for r in before], [100 * r["hq"] for r in after], True))

fig, axes = plt.subplots(3, 3, figsize=(9, 9))
for a, (name, rs) in zip(axes.ravel(), grid_res.items()):
    x = rs[0]["fake"]
    a.scatter(x[:, 0], x[:, 1], s=1.5, alpha=0.4)
    a.scatter(ref.centres[:, 0], ref.centres[:, 1], s=25, facecolors="none", edgecolors="red", lw=0.7)
    a.set(xlim=(-5.5, 5.5), ylim=(-5.5, 5.5), aspect="equal", xticks=[], yticks=[])
    a.set_title(f"{name}\nmodes {rs[0]['modes']}, HQ {100 * rs[0]['hq']:.0f}%", fontsize=8)
fig.suptitle(f"grid, seed {SEEDS[0]}, {GRID_STEPS} steps (red: mode centres)")
fig.tight_layout()
'''),
    md(r"""
**怎么读。** 基线的高质量比例和捕获的模式数是“问题的大小”：它的样本大多落在模式上，但只覆盖了\
一部分模式。逐行对比时，**必须同时看两列**——一个把点撒满整个平面的生成器也能“碰到”很多模式，\
却几乎没有高质量样本；只看模式数会被它骗过。按这个读法：

- **(1) 更大的网络**没有一致的方向。256×3 的捕获模式数反而比基线少（样本更集中、更“锐利”，\
  即崩溃得更厉害），高质量比例则更高；512×2 捕获的模式多一些，但高质量比例降了下来。\
  表达能力不是瓶颈：128×3 的网络已经能把样本准确放到模式上（基线的高质量比例就是证据），问题是它\
  只放到了其中一部分。
- **(2) SGD** 的模式数看上去最高，但高质量比例只有百分之一二：在这个步数里 SGD 的样本还是一团散点\
  （见图），谈不上“解决”了模式崩溃；它也没有“提高效率”——同样步数下离收敛更远。
- **(3) L2 / L1 正则**：两者与基线的差别都在两倍标准误之内（总表判为“看不出”；只有 3 个种子、\
  各试了一个正则强度）。机理上，模式崩溃不是过拟合，对权重大小的约束没有针对性。
- **打包**（m = 2, 4）捕获的模式比基线多、反向 KL 更小，但和第 5 章看到的一样，在 5,000 步内样本\
  还很散，高质量比例远低于基线。PacGAN 论文的“覆盖和精度兼得”是在长得多的训练之后；这里只复现了\
  覆盖的那一半。
- **损失形式**：文章公式里的极小极大（minimax）损失几乎得不到高质量样本，非饱和损失（文章代码和\
  minigan 的默认）好得多——训练初期判别器很容易认出假样本，$\log(1-D(G(z)))$ 的梯度接近 0\
  （书中第 3.4 节）。

> **练习**：表里的“捕获的模式数”“高质量比例”和反向 KL 来自 PacGAN 的协议。[`09_mode_coverage.ipynb`](exercises/09_mode_coverage.ipynb)
> 请你为二维混合高斯亲手实现这三个量；极小极大损失为什么训练不动，见第 3 章的练习 [`06_minimax_gradient.ipynb`](exercises/06_minimax_gradient.ipynb)。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 6.2 常见问题2：生成模型生成的图像可能存在一定的噪声和模糊

文章把原因归于“对随机噪声的处理”，建议：(1) 更高质量的随机噪声；(2) 更复杂的生成器；\
(3) 更高效的优化算法。

**实验设置。** `mnist5k` 的 4,000 张训练数字，批量 64，每个设置训练几千步（步数见输出）。基线是\
**平滑配方**（minigan 早先的默认配方；现在的默认配方还多了随机失活、随机平移和 EMA，见本 notebook 最后一节）：文章的网络（128×3），$z\sim\mathcal N(0, I_{100})$，Adam（D 学习率 $2\times10^{-4}$，\
G 的两倍，$\beta_1=0.5$），单边标签平滑（真实标签 0.9）。每个改动只改一处：

- (1a) “更好的噪声”之一：$z$ 改为 $[-1,1]$ 上的均匀分布；(1b) 之二：$z$ 的维数从 100 改为 10；
- (2) 更复杂的生成器：G 的隐藏层 256×3，D 不变；
- (3) “更高效的优化算法”：文章在 6.1 里举的例子是 SGD，这里用 SGD（动量 0.5，D 学习率 0.01，G 的两倍）代替 Adam。

每个模型用固定噪声生成 1,000 张数字，和 1,000 张留出的真实数字比较：**Fréchet 距离**（数字分类器的\
256 维特征，越小越好）和**置信度分数**（1 到 10，越大越好）。同一批模型还会在 6.3 里用检测器评估。
"""),
    code(r'''
MNIST_STEPS = 100 if FAST else 3000
MNIST_EVERY = 50 if FAST else 500
H3 = (128, 128, 128)


def score(fake, seed=0):
    s = class_scores(CLF, fake, REAL_REF)
    return {"frechet": s.frechet, "confidence": s.confidence_score, "classes": s.classes_covered,
            "detect": detection_accuracy(REAL_REF, fake, rng=seed)}


def run_mnist(seed=0, steps=MNIST_STEPS, *, g_hidden=H3, d_hidden=H3, z_dim=100, noise="gaussian", optimizer="adam",
              lr=2e-4, g_lr=None, momentum=0.5, real_label=0.9, n_train=None, every=None):
    """Train on mnist5k with these choices; return scores at the end (and Fréchet every `every` steps)."""
    init_ss, noise_ss, data_ss, eval_ss = np.random.SeedSequence(seed).spawn(4)
    init, data_rng = np.random.default_rng(init_ss), np.random.default_rng(data_ss)
    x = TRAIN.x if n_train is None else TRAIN.x[data_rng.permutation(len(TRAIN.x))[:n_train]]
    G = build_generator(z_dim, g_hidden, 784, rng=init)
    D = build_discriminator(784, d_hidden, rng=init)
    kw = {"betas": (0.5, 0.999)} if optimizer == "adam" else {"momentum": momentum}
    gan = GAN(G, D, z_dim=z_dim, noise=noise, real_label=real_label, rng=np.random.default_rng(noise_ss),
              g_optimizer=make_optimizer(optimizer, G.params(), lr=g_lr or 2 * lr, **kw),
              d_optimizer=make_optimizer(optimizer, D.params(), lr=lr, **kw))
    ev = np.random.default_rng(eval_ss)
    z_eval = (ev.standard_normal((1000, z_dim), dtype=np.float32) if noise == "gaussian"
              else ev.uniform(-1, 1, (1000, z_dim)).astype(np.float32))
    B, spe = 64, len(x) // 64
    history, dr, df = [], [], []
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        pos = (step - 1) % spe
        if pos == 0:
            perm = data_rng.permutation(len(x))
        st = gan.train_step(x[perm[pos * B:(pos + 1) * B]])
        dr.append(st.d_real); df.append(st.d_fake)
        if every and step % every == 0:
            fake = G(z_eval)
            fd = class_scores(CLF, fake, REAL_REF).frechet if np.all(np.isfinite(fake)) else float("nan")
            history.append((step, fd, float(np.mean(dr[-200:])), float(np.mean(df[-200:]))))
    fake = G(z_eval)
    fds = [h[1] for h in history] or [float("nan")]
    return {**score(fake, seed), "preview": fake[:36], "history": history, "seconds": time.perf_counter() - t0,
            "fd_median": float(np.median(fds)), "d_wins": bool(np.mean(df[-200:]) < 0.05)}


MNIST_SETTINGS = {
    "baseline": {},
    "(1a) uniform z": {"noise": "uniform"},
    "(1b) z_dim 10": {"z_dim": 10},
    "(2) G 256x3": {"g_hidden": (256, 256, 256)},
    "(3) SGD": {"optimizer": "sgd", "lr": 1e-2},
    "6.3 (1) 1,000 training digits": {"n_train": 1000},
    "6.3 (2) D 256x3": {"d_hidden": (256, 256, 256)},
}
MNIST_LABELS = {"baseline": "基线", "(1a) uniform z": "(1a) 均匀分布的 z", "(1b) z_dim 10": "(1b) z 为 10 维",
                "(2) G 256x3": "(2) G 256×3", "(3) SGD": "(3) SGD", "6.3 (1) 1,000 training digits": "6.3 (1) 只用 1,000 张训练数字",
                "6.3 (2) D 256x3": "6.3 (2) D 256×3"}
t0 = time.perf_counter()
jobs = [dict(seed=s, every=MNIST_EVERY, **kw) for kw in MNIST_SETTINGS.values() for s in SEEDS]
flat = pmap(run_mnist, jobs, WORKERS)
mn = {name: flat[i * len(SEEDS):(i + 1) * len(SEEDS)] for i, name in enumerate(MNIST_SETTINGS)}
print(f"mnist5k，每次 {MNIST_STEPS:,} 步，每行 {len(SEEDS)} 个种子，均值 ± 标准误（共 {time.perf_counter() - t0:.0f} 秒）\n")
print(f"Fréchet：最后一步的值；检查点中位数：每 {MNIST_EVERY} 步一个检查点，取中位数；"
      "D 获胜：最近 200 步 D(G(z)) 的平均值低于 0.05 的运行数\n")
s_real = class_scores(CLF, TEST.x, VALID.x)
print_table(["设置", "Fréchet", "检查点中位数", "D 获胜", "置信度分数", "类别", "检测准确率"],
            [[MNIST_LABELS[name], fmt([r["frechet"] for r in rs]), fmt([r["fd_median"] for r in rs]),
              f"{sum(r['d_wins'] for r in rs)} / {len(rs)}", fmt([r["confidence"] for r in rs], digits=2),
              fmt([r["classes"] for r in rs]), fmt([r["detect"] for r in rs], digits=3)] for name, rs in mn.items()]
            + [["真实数字：测试集对验证集", f"{s_real.frechet:.1f}", "", "", f"{s_real.confidence_score:.2f}",
                s_real.classes_covered, f"{detection_accuracy(VALID.x, TEST.x, rng=0):.3f}"]])

for name in ("(1a) uniform z", "(1b) z_dim 10", "(2) G 256x3", "(3) SGD"):
    b, a = mn["baseline"], mn[name]
    label = MNIST_LABELS[name]
    SUMMARY.append(("6.2", label, "Fréchet（最后一步）", [r["frechet"] for r in b], [r["frechet"] for r in a], False))
    SUMMARY.append(("6.2", label, "Fréchet（检查点中位数）", [r["fd_median"] for r in b], [r["fd_median"] for r in a], False))
    SUMMARY.append(("6.2", label, "置信度分数", [r["confidence"] for r in b], [r["confidence"] for r in a], True))

fig, axes = plt.subplots(1, 5, figsize=(13, 3.2))
for a, name in zip(axes, ("baseline", "(1a) uniform z", "(1b) z_dim 10", "(2) G 256x3", "(3) SGD")):
    a.imshow(image_grid(mn[name][0]["preview"], (28, 28), ncols=6), cmap="gray", vmin=0, vmax=255)
    a.set_title(f"{name}\nFD {mn[name][0]['frechet']:.0f}", fontsize=9)
    a.axis("off")
fig.suptitle(f"mnist5k, seed {SEEDS[0]}, {MNIST_STEPS} steps")
fig.tight_layout()

fig, ax = plt.subplots(figsize=(7, 3.4))
for name, rs in mn.items():
    hs = np.array([[h[1] for h in r["history"]] for r in rs])
    ax.plot([h[0] for h in rs[0]["history"]], hs.mean(axis=0), "o-", ms=3, label=name)
ax.set(yscale="log", xlabel="training step", ylabel="Frechet distance (mean over seeds)",
       title="every mnist5k setting over training")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
'''),
    md(r"""
**怎么读。** 先看基线那一行的“D 获胜”列和曲线图：平滑配方在 3,000 步附近常常正处在**判别器获胜**的\
不稳定期（第 5 章的检查点里也看到了同样的暂时崩溃），所以基线在最后一步的 Fréchet 距离很大、种子间差别\
也很大。这让“最后一步”的比较几乎只看运气：一个设置在第 3,000 步的 Fréchet 距离更小，很大程度上\
是因为它在那一刻没有处于崩溃期，而不是因为改动本身提高了样本质量。因此表里还给了各检查点的\
中位数（“检查点中位数”一列），总表同时列出两者。

- **(1) 噪声的分布和维数。** 输入噪声 $z$ 只是生成器的“坐标”，本身没有“质量”高低：图像里的斑点噪声\
  不是输入噪声“漏”进了图像，生成器的输出是 $z$ 的确定函数。10 维的 $z$ 在“最后一步”一列看上去\
  好一些，均匀分布反而更差（三个种子里两个在那一刻正处在判别器获胜期），但在“检查点中位数”一列里\
  两者与基线的差别都在两倍标准误之内（总表判为“看不出”）：没有证据表明“更好的噪声”提高了样本质量。
- **(2) 更大的生成器**同理：“检查点中位数”与基线几乎相同。全连接生成器加宽之后仍然逐像素独立输出，样本里的斑点噪声依旧（见样本图）。\
  换成卷积**结构**会怎样，第 8 章在同样的训练时间下实测了：DCGAN 的笔画光滑、没有斑点，但在这台 2 核 CPU 上，\
  5 分多钟里裁判给文章网络的分数更好（6.5 对 DCGAN 的 29.1），因为卷积的一步贵 5.5–14 倍；按步数比，卷积生成器配文章的判别器\
  确实更好（约 15,000 步：8.4 对 14.8）。
- **(3)** “更高效的优化算法”含义不明。以文章在 6.1 里举的 SGD 为例，它在这个设置下没有比 Adam 更好\
  （见表）；SGD 的结果对学习率很敏感，这里只试了一组学习率。
- 表中最突出的一行其实属于 6.3：**更大的判别器**（D 256×3，G 不变）。它的 Fréchet 距离在所有设置中\
  最低、覆盖的类别最多——判别器察觉不到的瑕疵，生成器就没有动力去修。

> **练习**：Adam 和 SGD 一步到底差在哪里？[`07_adam_step.ipynb`](exercises/07_adam_step.ipynb) 请你写出带偏差校正的一步 Adam 更新。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 6.3 常见问题3：生成模型生成的图像可能存在一定的鉴定难度

文章的三条办法：(1) 更高质量的真实数据；(2) 更复杂的判别器；(3) 更高效的优化算法。

**先澄清问题本身。** “鉴定难度”如果指“生成图像难以与真实图像区分”，那它是**好样本的性质**，\
正是 GAN 的训练目标（第 3.4 节：最优时判别器输出处处为 1/2），不是需要“解决”的缺陷。文章在这里\
把“难以鉴别”当成问题，却又给出让生成器更强的办法——如果这些办法奏效，鉴定只会**更难**。\
所以下面把“检测准确率下降”记为“样本更逼真”，并在总表里按这个方向判定；按文章的字面意思，\
这恰恰是问题变得更严重。

**实验。** 用一个全新的检测器（一个隐藏层的 MLP，`detection_accuracy`：一半真实一半生成训练，\
另一半测试）量每个模型。0.5 表示分不出，1.0 表示每张假图都被认出。

- (1) “更高质量的真实数据”无法直接定义；这里用数量代替：只用 1,000 张训练数字 vs 全部 4,000 张（基线）。
- (2) 更复杂的判别器：D 的隐藏层 256×3，G 不变。
- (3) 更高效的优化算法：与 6.2 相同的 SGD 运行。

这些模型就是 6.2 表里的同一批运行（最后一列）。
"""),
    code(r'''
rows63 = (("(1) 更多真实数据：1,000 → 4,000 张", "6.3 (1) 1,000 training digits", "baseline"),
          ("(2) D 256×3", "baseline", "6.3 (2) D 256x3"),
          ("(3) SGD", "baseline", "(3) SGD"))
print("检测准确率（0.5 = 分不出真假）：")
print_table(["办法", "改动前", "改动后"],
            [[label, fmt([r["detect"] for r in mn[before]], digits=3), fmt([r["detect"] for r in mn[after]], digits=3)]
             for label, before, after in rows63])
for label, before, after in rows63:
    SUMMARY.append(("6.3", label, "检测准确率", [r["detect"] for r in mn[before]], [r["detect"] for r in mn[after]], False))
print("\n同一批模型的 Fréchet 距离：")
print_table(["办法", "改动前", "改动后"],
            [[label, fmt([r["frechet"] for r in mn[before]]), fmt([r["frechet"] for r in mn[after]])]
             for label, before, after in rows63])
'''),
    md(r"""
**怎么读。** 在这个步数下，检测准确率对**所有**设置都停在（或非常接近）1.0：一个新训练的检测器能认出\
每一张假图，这个指标已经饱和，区分不出任何一条“办法”。所以对 6.3 的三条办法，本实验的结论只能是\
“看不出差别”（总表记为“看不出”），而原因是样本离真实分布还很远，不是办法本身有效或无效。\
第二张表是同一批模型的 Fréchet 距离：它还没有饱和，可以看出更大的判别器让样本明显更接近真实分布——\
按文章 6.3 的字面意思，这反而会让“鉴定”更难。“更多真实数据”一行要对照 6.2 的说明来看：基线\
（4,000 张）在第 3,000 步常处于不稳定期，所以它的 Fréchet 距离并不比只用 1,000 张数据的模型好。

训练得更久、模型更好时，检测准确率才会离开 1.0；那时它与 Fréchet 距离应当同向变化，因为两者量的\
是同一件事——样本与真实分布的距离（检测器准确率 $a$ 给出全变差的下界 $\mathrm{TV}\ge 2a-1$，书中 6.3 推导）。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 补充实验：默认配方为什么不是文章的配方

文章 §4.3 的代码里，判别器对真实图像的目标是 1，两个网络的学习率相同。minigan 早先的默认配方\
（下面代码里标作 `default`，下一节称为“平滑配方”）只有两处不同：**单边标签平滑**（one-sided label smoothing：\
真实图像的目标是 0.9，Salimans et al. 2016）和 **G 的学习率是 D 的两倍**。在 `mnist5k` 上单次试跑时看到：\
用文章的配方（真实标签 1.0，G、D 学习率都是 $2\times10^{-4}$），几千步后判别器完全获胜\
（$D(x)\to1$，$D(G(z))\to0$），样本崩溃；平滑配方则在那次试跑中一直改善到约两万步。下面用 2 个种子验证，\
每隔一段步数计算 Fréchet 距离，并记录最近 200 步判别器输出的平均值。现在的默认配方在此基础上\
又加了四处改动，见本 notebook 的最后一节。
"""),
    code(r'''
RECIPE_STEPS = 200 if FAST else 16_000
EVERY = 100 if FAST else 2000
RECIPE_SEEDS = SEEDS[:2]
recipes = {"article: real label 1.0, G lr = D lr": {"real_label": 1.0, "g_lr": 2e-4},
           "default: real label 0.9, G lr = 2 x D lr": {}}
t0 = time.perf_counter()
jobs = [dict(seed=s, steps=RECIPE_STEPS, every=EVERY, **kw) for kw in recipes.values() for s in RECIPE_SEEDS]
flat = pmap(run_mnist, jobs, WORKERS)
rec = {name: flat[i * len(RECIPE_SEEDS):(i + 1) * len(RECIPE_SEEDS)] for i, name in enumerate(recipes)}
print(f"{RECIPE_STEPS:,} 步，种子 {RECIPE_SEEDS}（共 {time.perf_counter() - t0:.0f} 秒）；"
      "每格：Fréchet 距离 [最近 200 步的平均 D(x) / 平均 D(G(z))]\n")
steps_h = [h[0] for h in rec[next(iter(rec))][0]["history"]]
RECIPE_LABELS = {"article: real label 1.0, G lr = D lr": "文章的配方：真实标签 1.0，G 与 D 学习率相同",
                 "default: real label 0.9, G lr = 2 x D lr": "平滑配方（default）：真实标签 0.9，G 的学习率是 D 的 2 倍"}
for name, rs in rec.items():
    print(RECIPE_LABELS[name])
    print_table(["步"] + [f"种子 {seed}" for seed in RECIPE_SEEDS],
                [[f"{step:,}"] + [f"{r['history'][k][1]:7.1f} [{r['history'][k][2]:.2f} / {r['history'][k][3]:.2f}]"
                                  for r in rs] for k, step in enumerate(steps_h)], left=0)
    print()
SUMMARY.append(("补充", "标签平滑 0.9 + G 学习率加倍（对比文章的配方）", f"第 {RECIPE_STEPS:,} 步的 Fréchet",
                [r["frechet"] for r in rec["article: real label 1.0, G lr = D lr"]],
                [r["frechet"] for r in rec["default: real label 0.9, G lr = 2 x D lr"]], False))
SUMMARY.append(("补充", "标签平滑 0.9 + G 学习率加倍（对比文章的配方）", "Fréchet（检查点中位数）",
                [r["fd_median"] for r in rec["article: real label 1.0, G lr = D lr"]],
                [r["fd_median"] for r in rec["default: real label 0.9, G lr = 2 x D lr"]], False))

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), gridspec_kw={"width_ratios": [1.4, 1, 1]})
for (name, rs), color in zip(rec.items(), ("tab:red", "tab:blue")):
    for r, ls in zip(rs, ("-", "--")):
        axes[0].plot(steps_h, [h[1] for h in r["history"]], ls, color=color, marker="o", ms=3,
                     label=name.split(":")[0] + f" (seed {RECIPE_SEEDS[0 if ls == '-' else -1]})")
axes[0].set(xlabel="training step", ylabel="classifier Frechet distance", yscale="log", title="recipe comparison")
axes[0].legend(fontsize=8)
for a, (name, rs) in zip(axes[1:], rec.items()):
    a.imshow(image_grid(rs[0]["preview"], (28, 28), ncols=6), cmap="gray", vmin=0, vmax=255)
    a.set_title(name.split(":")[0] + f" recipe, step {RECIPE_STEPS}", fontsize=9)
    a.axis("off")
fig.tight_layout()
'''),
    md(r"""
**怎么读。** 红线是文章的配方，蓝线是平滑配方（代码里标作 `default`；实线、虚线是两个种子；右边两幅样本图都是第一个种子的）。方括号里是最近 200 步判别器对\
真实、生成图像的平均输出；$D(x)$ 贴住目标（文章配方是 1.0，平滑配方是 0.9）而 $D(G(z))$\
接近 0，就是判别器完全获胜、生成器得不到有用梯度的状态。

- **文章的配方**：两个种子都在几千步后进入判别器完全获胜的状态，并且在本实验的步数内一直没有离开；\
  Fréchet 距离随之大幅上升，样本图是崩溃后的少数几种斑点形状，与上面那次单次试跑看到的一致。
- **平滑配方**：两个种子都在几千步时经历了同样的判别器获胜期。其中一个种子之后恢复，Fréchet 距离\
  一路降到整本 notebook 里最低的水平（见表），与单次试跑里“一直改善到约两万步”相符；**另一个种子没有恢复**，\
  在本实验的步数内一直停在判别器获胜的状态。所以在这 2 个种子上，平滑配方降低了崩溃持续的概率，\
  但不能保证不崩溃；总表里这一行的判定也因此是“看不出”。

这个实验的步数（见输出）少于两万步，是为了让整本 notebook 在时间预算内跑完；两个种子只够看方向。
"""),
    code(r'''
def verdict(before, after, higher_better):
    (mb, sb), (ma, sa) = mean_se(before), mean_se(after)
    if len(before) < 2 or len(after) < 2 or not (np.isfinite(mb) and np.isfinite(ma)):
        return "看不出（1 个种子）" if len(before) < 2 else "看不出"
    if abs(ma - mb) <= 2 * np.hypot(sb, sa):
        return "看不出"
    return "有帮助" if (ma > mb) == higher_better else "没有（更差）"


rows = []
for sec, remedy, metric, before, after, hb in SUMMARY:
    digits = 3 if "检测" in metric else (2 if "置信度" in metric else 1)
    rows.append([sec, remedy, metric, fmt(before, digits=digits), fmt(after, digits=digits),
                 verdict(before, after, hb)])
print_table(["节", "办法", "指标", "改动前", "改动后", "有帮助吗"], rows, left=3)
'''),
    md(r"""
**结论怎么看。** 总表的判定只基于 3 个种子（配方实验 2 个）和较短的训练，是“在这些设置下是否看得出差别”，\
不是一般性的结论；判定规则也很粗，“有帮助”要和同一改动的另一行一起读：

- **6.1**：文章的三条办法没有一条同时明显提高“捕获的模式数”和“高质量比例”：更大的网络方向不一，\
  SGD 的模式数上升只是因为样本更散，L1、L2 都看不出差别。打包在这里也只换来了覆盖、没有保住精度（训练太短）。\
  真正明确的一条是损失形式：非饱和损失比文章公式里的极小极大损失好得多。
- **6.2**：(1)(2)(3) 在总表里全是“看不出”：“最后一步”的读数种子间差别太大（基线在那一刻常处于\
  不稳定期），更可靠的“检查点中位数”也分不开它们与基线。更明显的改善来自更大的**判别器**，而不是文章建议的更好的噪声或生成器。
- **6.3**：检测准确率在这个质量水平上饱和（全是 1.0），三条办法都判定不了。文章把“难以鉴别”既当成\
  问题又当成目标：一个真正有效的办法只会让鉴定更难。
- **配方**：文章的配方在两个种子上都让判别器完全获胜；单边标签平滑加双倍 G 学习率让一个种子恢复并\
  达到最好的样本，另一个种子没有恢复。GAN 的训练对这些细节和随机种子都很敏感——这本身就是文章 §5.2\
  第 2 条“质量不稳定”最直接的证据。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 补充实验：默认配方的研究——对 6.1 与 6.2 的回答

上面的实验说明：单是平滑配方，有的种子会崩溃（6.1 的模式崩溃），不崩溃的种子样本上也满是\
孤立的亮点（6.2 的噪声）。文章 6.1、6.2 的办法（更大的网络、SGD、正则化、“更高质量的噪声”）\
在前面几节都没有带来明确的改善。文献中针对这两个问题的办法，minigan 都实现成了带显式反向传播、\
经过 float64 梯度检验和 PyTorch 对照测试的引擎部件，并且都是 `minigan train` 的选项：

| 选项 | 部件 | 作用在 |
|---|---|---|
| `--dropout P` | `minigan.nn.Dropout` | D 的每个隐藏层之后 |
| `--translate S` | `minigan.nn.RandomTranslate` | D 的输入（真、假图像都平移） |
| `--instance-noise SIGMA` | `minigan.nn.InstanceNoise` | D 的输入，σ 线性退火到 0 |
| `--spectral-norm` | `minigan.nn.SpectralNorm` | D 的每个全连接层 |
| `--ema DECAY` | `minigan.ema.EMA` | G 的权重的滑动平均（只用于采样） |
| `--lr-decay linear` | `minigan.schedule.lr_factor` | 两个网络的学习率，后半程线性降到 0 |

**研究的协议**（`minigan reproduce study`，结果在仓库的 `results/study.md` 和 `results/study.json`）：\
每个配方在 5 个种子（1–5）上各训练 18,000 步，网络始终是文章的大小（种子 0 只用于更早的试跑；\
默认配方就是按这张表在种子 1–5 上挑出来的，所以检验它要用别的种子，见书的附录 D）；\
训练后从 G（有滑动平均时用平均后的 G）采 5,000 个样本，用**裁判**打分——裁判是一个用 minigan\
自己的引擎训练的小卷积网络（`minigan.metrics.judge`，在 1,000 张留出数字上的准确率约 98%），\
取它的 128 维倒数第二层特征算 Fréchet 距离，用它的预测类别算类别直方图与均匀分布的 KL。\
这一节只读取研究的结果（整个研究在两核机器上约需一小时），不重新训练。
"""),
    code(r'''
import json
from pathlib import Path

STUDY = json.loads(Path("../results/study.json").read_text(encoding="utf-8"))
runs = STUDY["runs"]
names = list(dict.fromkeys(r["variant"] for r in runs))
print(f"每次 {STUDY['steps']:,} 步；裁判在留出数字上的准确率 {STUDY['judge_accuracy']:.3f}；"
      "达标：Fréchet ≤ 100 且类别 KL ≤ 0.05\n")
rows = []
for name in names:
    rs = [r for r in runs if r["variant"] == name]
    good = sum(r["frechet"] <= 100 and r["kl_to_uniform"] <= 0.05 for r in rs)
    rows.append([name, fmt([r["frechet"] for r in rs]), f"{max(r['frechet'] for r in rs):.1f}",
                 fmt([r["kl_to_uniform"] for r in rs], digits=3), fmt([r["classes_covered"] for r in rs]),
                 f"{good}/{len(rs)}", fmt([r["seconds"] for r in rs], digits=0)])
print_table(["配方", "Fréchet", "最差种子", "类别 KL", "类别", "达标种子", "秒"], rows)

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for i, name in enumerate(names):
    rs = [r for r in runs if r["variant"] == name]
    for ax, key in zip(axes, ("frechet", "kl_to_uniform")):
        values = [max(r[key], 1e-3) for r in rs]
        ax.plot([i] * len(values), values, "o", color="tab:blue", alpha=0.6)
        ax.plot([i - 0.25, i + 0.25], [np.mean(values)] * 2, color="black")
for ax, label, goal in zip(axes, ("judge's Frechet distance", "class KL to uniform"), (100, 0.05)):
    ax.axhline(goal, color="tab:red", ls=":", label=f"goal {goal:g}")
    ax.set(yscale="log", ylabel=label, xticks=range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.legend(fontsize=8)
fig.suptitle("one dot per seed, bar = mean", fontsize=10)
fig.tight_layout()
'''),
    code(r'''
from minigan.study import default_variant

DEFAULT = default_variant()   # 研究中与今天的默认配方完全相同的那一行
print("今天的默认配方就是研究中的这一行：", DEFAULT)
shown = [n for n in ("article", "smoothing", DEFAULT) if n in names]
fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4.4))
for ax, name in zip(np.atleast_1d(axes), shown):
    slug = "_".join("".join(c if c.isalnum() else " " for c in name).split())
    ax.imshow(plt.imread(f"../results/study_{slug}.png"), cmap="gray")
    first = min(r["seed"] for r in runs if r["variant"] == name)
    fd = next(r["frechet"] for r in runs if r["variant"] == name and r["seed"] == first)
    ax.set_title(f"{name}, seed {first}: Frechet {fd:.0f}", fontsize=9)
    ax.axis("off")
fig.tight_layout()
'''),
    md(r"""
### 每个改动为什么有用

**随机失活（dropout）。** 训练时 D 的每个隐藏单元以概率 $p$ 置零，留下的乘以 $1/(1-p)$：\
$\tilde h = h\odot m/(1-p)$，$m_i\sim\mathrm{Bernoulli}(1-p)$，于是 $\mathbb E[\tilde h]=h$；反向传播用同一个掩码，\
$\partial L/\partial h = (\partial L/\partial\tilde h)\odot m/(1-p)$。只有 4,000 张训练图时，D 很快就能把每一张“背下来”，\
$D(x)$ 贴住目标、$D(G(z))\to0$，它对 $x$ 的梯度只指向那些背下来的图像——G 于是被推向少数几张，\
这正是 6.1 的崩溃。失活让 D 成为大量子网络的平均，背不住单张图像，给 G 的梯度更平滑。

**随机平移（可微的数据增强，DiffAugment）。** D 看到的是 $T(x)$ 和 $T(G(z))$，$T$ 把每张图随机平移\
至多 2 个像素。目标变成 $\min_G\max_D\ \mathbb E\log D(T(x)) + \mathbb E\log\big(1-D(T(G(z)))\big)$，\
最优解是 $T(G(z))$ 与 $T(x)$ 同分布；平移几乎可逆，所以这基本等价于 $G(z)$ 与 $x$ 同分布——增强不会\
“漏”进生成的图像。G 的梯度穿过 $T$：平移只是把像素换个位置，雅可比矩阵是 0/1 的选择矩阵，\
反向传播就是**反方向的平移**（移出边界的梯度丢弃）。对 D 来说，4,000 张图变成了 25 倍的不同视图。

**实例噪声（instance noise）。** 真实数字集中在 784 维空间里的一个低维流形上，G 的输出也是；\
两个支撑集几乎不相交时，最优判别器在两边都饱和，JS 散度恒为 $\log 2$，梯度为零。\
给 D 的输入加上 $\mathcal N(0,\sigma^2 I)$，比较的就是 $p_{data}*\mathcal N$ 与 $p_g*\mathcal N$，两者处处有正密度，\
散度随 $G$ 光滑变化；$\sigma$ 线性退火到 0，最后回到原问题。噪声对输入是常数平移，反向传播是恒等映射。

**谱归一化（spectral normalization）。** 对 leaky ReLU 网络，$\|D(x)-D(x')\|\le\prod_l\sigma(W_l)\,\|x-x'\|$\
（leaky ReLU 的 Lipschitz 常数是 1）。把每个 $W_l$ 换成 $W_l/\sigma(W_l)$，D 就是 1-Lipschitz 的，\
不能在训练样本周围形成尖峰。$\sigma(W)$ 由幂迭代 $u\leftarrow W^\top v/\|W^\top v\|$，$v\leftarrow Wu/\|Wu\|$ 估计，\
$\sigma = v^\top W u$；把 $u, v$ 视为常数，$\partial\sigma/\partial W = vu^\top$，\
所以 $\partial L/\partial W = \big(G - \langle G, W/\sigma\rangle\, vu^\top\big)/\sigma$，其中 $G=\partial L/\partial(W/\sigma)$。

**G 的权重滑动平均（EMA）。** $\bar\theta_t=\beta\bar\theta_{t-1}+(1-\beta)\theta_t=(1-\beta)\sum_s\beta^{t-s}\theta_s+\beta^t\theta_0$，\
大约是最近 $1/(1-\beta)$ 步（$\beta=0.999$ 时约 1,000 步）的平均。博弈的梯度场有旋转分量：\
最简单的 $\min_x\max_y xy$ 上，同时做梯度下降/上升的迭代绕着均衡点 $(0,0)$ 转圈，\
而迭代的平均值更接近圆心。样本上的孤立亮点，很大一部分就是最后一步权重的这种“抖动”。

**学习率衰减。** 梯度以噪声为主时，Adam 的更新 $\mathrm{lr}\cdot\hat m/\sqrt{\hat v}$ 的每个分量约为 $\pm\mathrm{lr}$：\
即使到了均衡点附近，权重仍以学习率的幅度抖动。后半程把学习率线性降到 0，抖动随之消失\
（随机逼近的经典条件是 $\sum_t\mathrm{lr}_t=\infty$、$\sum_t\mathrm{lr}_t^2<\infty$，衰减让后者成立）。
"""),
    md(r"""
### 结论

上面的表和图给出的判定（每行 5 个种子）：

- **塌缩（6.1）**：文章的配方 5 个种子里 3 个只剩一类；只加标签平滑仍有 1 个种子塌缩；\
  加上随机失活和随机平移之后，5 个种子都覆盖全部 10 类——对小数据集上的模式崩溃，\
  有效的是不让判别器背下训练集，而不是文章说的加大网络或换优化器。
- **噪声和模糊（6.2）**：在失活加平移之上，滑动平均单独几乎不改变 Fréchet 距离（差别在误差之内）；\
  真正让样本干净的是两个学习率都加倍：距离从约 40 降到约 13，每个种子都如此。在固定步数里，\
  很多“噪声”只是训练还没走到那一步。
- **无效或有害的**：谱归一化让这些小网络几乎学不动；后半程的学习率衰减减少了抖动，但也减少了有效步数，\
  总体变差；实例噪声没有明显帮助，每步还慢了三成。
- 最终的默认配方是表中“+dropout+translate+ema lr x2”这一行（上面打印了它的名字）。它是在种子 0–5 上挑出来的（种子 0 试跑，种子 1–5 是这张表），\
  书的附录 D 用另外 10 个种子（20–29）检验它，默认长度 18,600 步（按空闲机器上量出的每步用时定，见书的第 6 章）；\
  那里有两个特征空间不同的裁判，一个改动只有两个裁判都认可才算改进。裁判的分数只在 minigan 内部可比。
"""),
]
