"""Chapter 5 notebook: the article's section 5 (trends and challenges), each challenge measured with minigan.metrics."""

# ruff: noqa: E501

from __future__ import annotations

import _cells
from _cells import code, md

TITLE = "05_challenges"

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
# 5 未来发展趋势与挑战

文章第 5 节分两部分：5.1 列出三个“发展趋势”（质量更高、效率更高、领域更广），5.2 列出五条“挑战”\
（训练代价、模式崩溃、噪声和模糊、“复制粘贴（C&P）”、“鉴定难度”）。原文每一条都只有一句话，\
没有数据。这个 notebook 把每一条落到 minigan 里能**量出来**的东西上：

| 文章 | 本 notebook 量的是什么 | 用到的工具 |
|---|---|---|
| 5.1 (1) 质量更高 | 训练过程中数字分类器特征上的 Fréchet 距离、置信度分数 | `class_scores`、`frechet_distance` |
| 5.1 (2) 效率更高 | 见 5.2 第 1 条的计时表 | `minigan.bench` |
| 5.1 (3) 领域更广 | 同一份代码训练 1 维、2 维数据 | `Trainer`、`mode_coverage` |
| 5.2 (1) 训练代价 | 每步耗时随批量和宽度的变化，以及每步的浮点运算量（FLOPs） | `minigan.bench.flops` |
| 5.2 (2) 模式崩溃 | ring / grid 上捕获的模式数，普通 GAN 对比打包（PacGAN） | `mode_coverage` |
| 5.2 (3) 噪声和模糊 | 相邻像素差、中间灰度像素比例，生成对比真实 | 本 notebook 的小函数 |
| 5.2 (4) 复制粘贴 | 生成图像到训练集的最近邻距离，对比留出的真实图像 | `memorisation` |
| 5.2 (5) 鉴定难度 | 一个新训练的检测器在训练不同阶段的准确率 | `detection_accuracy` |

所有数字都由下面的代码打印；正文只描述趋势，具体数值请看表格。`FAST = True`（CI 的快速模式）时\
步数很少，结论不可靠，只用来检查代码能跑通。对应的书中章节是第 5 章。
"""),
    _cells.setup(r'''
import logging
import time

from minigan.bench import make_minigan_step, network_shapes
from minigan.bench.flops import train_step_flops
from minigan.data import load
from minigan.metrics import (MLPClassifier, class_scores, detection_accuracy, memorisation, mode_coverage,
                             nearest_distances)
from minigan.notebook import coverage_text, print_table
from minigan.train import DEFAULT_STEPS_IMAGES, TrainConfig, Trainer, config_from_preset, load_dataset
from minigan.viz import image_grid

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

TRAIN, VALID, TEST = load("mnist5k", "train"), load("mnist5k", "validation"), load("mnist5k", "test")
REAL_REF = np.concatenate([VALID.x, TEST.x])      # 1,000 张从未参与训练的真实数字：所有指标的“真实”一侧
t0 = time.perf_counter()
CLF = MLPClassifier(784, 10, rng=0).fit(TRAIN.x, TRAIN.y, epochs=2 if FAST else 8)
print(f"FAST = {FAST}；mnist5k 训练集 {TRAIN.x.shape}，留出的真实数字 {REAL_REF.shape}")
print(f"数字分类器：测试准确率 {CLF.accuracy(TEST.x, TEST.y):.3f}（{time.perf_counter() - t0:.1f} 秒）")
'''),
    md(r"""
上面训练的数字分类器（`MLPClassifier`，784-256-10）是后面所有“质量”指标的尺子：它给生成的数字\
打类别，它倒数第二层的 256 维特征用来算 Fréchet 距离（FID 的公式，只是特征换成了这个小网络的）。\
这些数字只能在 minigan 内部相互比较，不能和论文里的 FID 比。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 5.1 未来发展趋势

文章的三条趋势是对整个领域的预言，一个小小的全连接 GAN 无法“验证”它们。能做的是说明：\
每一条趋势在 minigan 里对应哪个可以量的量。

### (1) 更高质量的图像生成：质量要先能量

“质量更高”需要一把尺子。下面用**平滑配方**（文章的网络，Adam，单边标签平滑 `real_label=0.9`，\
生成器学习率是判别器的两倍，不加第 6 章研究的补救，即 `--preset smoothing`；它是第 6 章研究之前的默认配方，\
问题都还看得见）在 `mnist5k` 上训练，并在几个检查点上\
用同一批固定噪声生成 1,000 张数字，计算：

- **Fréchet 距离**（越小越好）：分类器特征空间里，生成样本和 1,000 张留出真实数字的高斯近似之间的距离；
- **置信度分数**（仿 Inception Score，1 到 10，越大越好）：样本是否被分类器清楚地认成某个数字、且各类均衡；
- 覆盖的类别数、检测准确率（5.2 第 5 条再讨论）、以及 5.2 第 3 条的两个像素统计。

同一个训练过程的检查点会在 5.2 的第 3、4、5 条里反复使用。
"""),
    code(r'''
CHECKPOINTS = (50, 150, 300) if FAST else (500, 1000, 2000, 4000, 8000)
Z_EVAL = np.random.default_rng(123).standard_normal((1000, 100), dtype=np.float32)  # 固定噪声：不干扰训练的随机数


def pixel_stats(x):
    """(相邻像素的平均绝对差, 中间灰度像素比例)，像素先映射到 [0, 1]。"""
    u = (np.clip(x, -1, 1) + 1) / 2
    img = u.reshape(-1, 28, 28)
    neighbour = 0.5 * (np.abs(np.diff(img, axis=1)).mean() + np.abs(np.diff(img, axis=2)).mean())
    mid_grey = np.mean((u > 0.25) & (u < 0.75))
    return float(neighbour), float(mid_grey)


def score(fake, real=REAL_REF, seed=0):
    s = class_scores(CLF, fake, real)
    nb, grey = pixel_stats(fake)
    return {"frechet": s.frechet, "confidence": s.confidence_score, "classes": s.classes_covered,
            "detect": detection_accuracy(real, fake, rng=seed), "neighbour": nb, "mid_grey": grey}


config = config_from_preset("smoothing", dataset="mnist5k", steps=CHECKPOINTS[-1], seed=0).validate()
data = load_dataset(config)
trainer = Trainer(config.resolve(data).validate(), data)
t0 = time.perf_counter()
snapshots, d_real, d_fake = {}, [], []
while trainer.step < CHECKPOINTS[-1]:
    st = trainer.train_step()
    d_real.append(st.d_real); d_fake.append(st.d_fake)
    if trainer.step in CHECKPOINTS:
        fake = trainer.gan.G(Z_EVAL)
        snapshots[trainer.step] = {"samples": fake, **score(fake)}
train_seconds = time.perf_counter() - t0
print(f"{CHECKPOINTS[-1]:,} 步训练加打分共 {train_seconds:.0f} 秒（两核机器、与其他任务共享：计时有噪声）")
real_scores = score(TEST.x, VALID.x)
print_table(["步", "Fréchet", "置信度分数", "类别", "检测准确率"],
            [["真实（参照）", f"{real_scores['frechet']:.2f}", f"{real_scores['confidence']:.2f}", real_scores["classes"],
              f"{real_scores['detect']:.3f}"]]
            + [[f"{step:,}", f"{s['frechet']:.2f}", f"{s['confidence']:.2f}", s["classes"], f"{s['detect']:.3f}"]
               for step, s in snapshots.items()])
print("“真实（参照）”一行：500 张测试数字对 500 张验证数字")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
steps = list(snapshots)
ax[0].plot(steps, [snapshots[s]["frechet"] for s in steps], "o-")
ax[0].axhline(real_scores["frechet"], color="gray", ls="--", label="real vs real")
ax[0].set(xlabel="training step", ylabel="classifier Frechet distance", title="quality over training")
ax[0].legend()
ax[1].plot(steps, [snapshots[s]["confidence"] for s in steps], "o-")
ax[1].axhline(real_scores["confidence"], color="gray", ls="--", label="real digits")
ax[1].set(xlabel="training step", ylabel="confidence score (1..10)")
ax[1].legend()
fig.tight_layout()
'''),
    md(r"""
读表：总的趋势是 Fréchet 距离下降、置信度分数上升，说明“质量”是一条可以跟踪的曲线，而不是一句口号。\
但它**不是单调的**：这次运行里有一个检查点的 Fréchet 距离反而大幅上升、覆盖的类别数骤减\
（样本暂时崩溃到少数几种形状），之后又恢复——这正是 5.2 第 2 条说的“质量不稳定”，只看最后一步\
会错过它。曲线也停在离“真实 vs 真实”那条虚线很远的地方：全连接网络、4,000 张训练图，这就是它的上限。\
领域里“质量更高”的真实进展来自结构（卷积网络、StyleGAN）和后来的扩散模型，不是同一个网络训练更久。

### (2) 更高效的图像生成

效率有两层：**采样**只需生成器一次前向传播，本来就很便宜；**训练**的代价见下面 5.2 第 1 条的计时表\
和 FLOPs 表。

### (3) 更广泛的应用领域：同一份代码，不同的数据

文章说生成模型会扩展到“视频生成、音频生成”等领域。minigan 做不了视频，但能说明一件相关的事：\
对抗训练的代码与数据的形状无关。下面用**完全相同**的 `Trainer`，只把数据集换成 1 维的\
三峰混合分布 `mixture1d`，输出层随之变为 1 维、线性。
"""),
    code(r'''
def toy(dataset, steps, seed, pack=1, **kw):
    """文章的网络在 2 维/1 维玩具数据上训练 steps 步（Adam 1e-3, beta1 0.5, 批量 96，与第 6 章相同）。"""
    c = TrainConfig(dataset=dataset, n=20_000, steps=steps, batch_size=96, lr=1e-3, g_lr=1e-3, beta1=0.5,
                    real_label=1.0, pack=pack, seed=seed, **kw).validate()
    d = load_dataset(c)
    t = Trainer(c.resolve(d).validate(), d)
    for _ in range(steps):
        t.train_step()
    fake = t.gan.sample(2500)
    return fake, mode_coverage(fake, d.centres, d.std), d


fake1d, cov1d, data1d = toy("mixture1d", 300 if FAST else 3000, 0)
print("mixture1d（3 个模式，标准差 0.3）：", coverage_text(cov1d))
print("真实数据，同样的协议：          ",
      coverage_text(mode_coverage(load("mixture1d", "test", n=2500).x, data1d.centres, data1d.std)))
fig, ax = plt.subplots(figsize=(6, 2.6))
bins = np.linspace(-3.5, 3.5, 80)
ax.hist(data1d.x[:2500, 0], bins, alpha=0.5, density=True, label="real")
ax.hist(fake1d[:, 0], bins, alpha=0.5, density=True, label="generated")
ax.set(xlabel="x", title="same Trainer, 1-D data"); ax.legend();
'''),
    md(r"""
同样的代码在 5.2 第 2 条里还会训练 2 维数据。这当然不是“视频、音频”，但说明生成器和判别器只需要\
知道数据的维数；真正让 GAN 进入音频、视频的是适合这些数据的网络结构，而不是对抗训练本身的改变。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 5.2 挑战

### 挑战 1：训练需要大量的计算资源和时间

先数一数一步训练要做多少运算。一个全连接层 $Y = XW$（批量 $N$，$n_{in}\to n_{out}$）前向约\
$2Nn_{in}n_{out}$ 次浮点运算，反向（$\partial W$ 和 $\partial X$ 各一次矩阵乘法）约是前向的两倍。\
一步 `GAN.train_step` 包括判别器一步（生成 $N$ 张图，判别器对 $2N$ 张图前向、反向）和生成器一步\
（生成器、判别器各对 $N$ 个样本前向、反向），`minigan.bench.flops.train_step_flops` 按层形状把它们\
加起来。下面再实测每步的时间：文章的网络（宽度 128，三个隐藏层），批量从 16 到 1024；\
批量固定 64，宽度从 64 到 512。每格取若干步的中位数。

**注意：** 这台机器是两核、与其他任务共享的机器，计时有噪声；NumPy 只用一个 BLAS 线程\
（`OPENBLAS_NUM_THREADS=1`）。比较同一张表里的比值，不要拿绝对值和别的机器比。
"""),
    code(r'''
def time_step(batch, width, repeats):
    real = np.random.default_rng(0).uniform(-1, 1, (batch, 784)).astype(np.float32)
    step = make_minigan_step(real, width)
    for _ in range(2):
        step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


cells = [(b, 128) for b in (16, 64, 256, 1024)] + [(64, w) for w in (64, 256, 512)]
rows = []
for batch, width in cells:
    flops = sum(train_step_flops(*network_shapes(width), batch).values())
    ms = time_step(batch, width, repeats=3 if FAST else max(5, min(40, int(4000 / (batch * width / 128)))))
    rows.append((batch, width, ms, flops))
print_table(["批量", "宽度", "毫秒/步", "MFLOP/步", "GFLOP/s", "微秒/样本"],
            [[batch, width, f"{ms:.2f}", f"{flops / 1e6:.1f}", f"{flops / ms / 1e6:.1f}", f"{1e3 * ms / batch:.1f}"]
             for batch, width, ms, flops in rows], left=0)
ms64 = next(r[2] for r in rows if r[:2] == (64, 128))
print(f"\n默认长度 {DEFAULT_STEPS_IMAGES:,} 步（批量 64、宽 128）按这个速度约 {DEFAULT_STEPS_IMAGES * ms64 / 6e4:.1f} 分钟，"
      f"共 {DEFAULT_STEPS_IMAGES * next(r[3] for r in rows if r[:2] == (64, 128)) / 1e12:.1f} TFLOP（只算 GAN 的一步，不含默认配方的随机失活、平移和滑动平均）")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
b_rows = [r for r in rows if r[1] == 128]
w_rows = sorted([r for r in rows if r[0] == 64], key=lambda r: r[1])
for a, rs, i, lab in ((ax[0], b_rows, 0, "batch size (width 128)"), (ax[1], w_rows, 1, "hidden width (batch 64)")):
    x = [r[i] for r in rs]
    a.plot(x, [r[2] for r in rs], "o-", label="measured ms/step")
    scale = rs[1][2] / rs[1][3]  # FLOP-proportional line through the second point
    a.plot(x, [r[3] * scale for r in rs], "--", label="proportional to FLOPs")
    a.set(xscale="log", yscale="log", xlabel=lab, ylabel="ms per step")
    a.minorticks_off()
    a.set_xticks(x, [str(v) for v in x])
    a.legend()
fig.suptitle("time per training step, article's networks (shared machine, 1 BLAS thread)")
fig.tight_layout()
'''),
    md(r"""
读图：虚线是“时间与 FLOPs 成正比”的假设。批量很小时，实测点在虚线上方：每步有固定开销\
（Python 调用、逐层分配数组、优化器逐个参数更新），与批量无关；批量变大后矩阵乘法占主导，\
“每个样本的微秒数”（表的最后一列）下降。宽度增加时，隐藏层之间的 $n\times n$ 矩阵让运算量\
比宽度增长得快。

所以对文章这种小网络，“需要大量计算资源”并不成立：上面打印了按本机速度估算的一次默认训练\
所需的分钟数。这条挑战对高分辨率图像和大模型是真的（计算量随像素数和网络宽度的乘积增长），\
但文章没有说明是哪一种规模；对 minigan 这样的规模，更大的困难是下一条：训练不稳定。
"""),
    md(r"""
#### 和 PyTorch 比：`minigan bench`

上面的表只有 minigan 自己。`minigan bench` 在同一个进程里交替计时 minigan 的一步和 PyTorch 的同一步\
（同样的网络、float32、Adam、非饱和损失；PyTorch 按最快的常规写法：判别器一步里生成样本不求梯度，\
生成器一步里冻结判别器参数，融合的 Adam），每边取 200 步的中位数。它还单独计时这一步里的\
**矩阵乘法本身**（`floor ms` 一列，`minigan.bench.floor`）：同样的 BLAS、同样的线程数下，任何 NumPy\
写法都不可能比这更快，所以 `floor` 列（floor ms ÷ PyTorch ms）就是 minigan 能达到的最低比值。\
下面打印的是在项目那台安静的两核机器上运行 `minigan bench` 的完整输出（保存在 `results/bench.txt`，\
notebook 不重新计时，因为计时需要一台没有别的任务的机器）。
"""),
    code(r'''
from pathlib import Path

print((Path("..") / "results" / "bench.txt").read_text())
'''),
    md(r"""
读这张表：`ratio` 小于 1 才是 minigan 更快。只有最小的两种步（批量 16，或宽度 64）两者相当或 minigan\
略快；在文章的批量 64 上 minigan 慢一成多，批量越大、网络越宽差得越多。`floor` 列给出原因：\
批量 64 时，光是矩阵乘法就用掉 PyTorch 整步时间的一半；再加上两个网络的 Adam 更新（NumPy 里\
每个参数要扫十几遍数组，PyTorch 的融合 Adam 只扫一遍）和两次采样噪声，剩给偏置、激活函数、\
损失和上百次 Python 调用的时间已经所剩无几。宽度 1024 时，OpenBLAS 的矩阵乘法本身就比 PyTorch \
（用 MKL）的整步还慢。所以“效率更高”（5.1 第 2 条）在这个规模上主要取决于矩阵乘法库，而不是\
手写代码的技巧：minigan 的代码已经避免了多余的拷贝和 float64，剩下的差距是 NumPy 做不到的\
融合与更快的 BLAS。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
### 挑战 2：质量不稳定、模式崩溃（Mode Collapse）

图像上的“模式”很难界定，所以按 PacGAN 论文（Lin et al. 2018）的协议，用模式位置已知的二维数据：\
圆环上 8 个高斯（`ring`，标准差 0.01）和 $5\times5$ 网格上 25 个高斯（`grid`，标准差 0.05）。\
生成 2,500 个点：离最近模式中心 3 个标准差以内的点算**高质量**，至少有一个高质量点的模式算**被捕获**；\
反向 KL 是高质量点在各模式上的直方图与均匀分布的 KL 散度（0 表示各模式一样多）。

对比两种判别器：普通 GAN，和 PacGAN 的**打包**（pack $m=4$：判别器一次看 4 个样本拼成的一包）。\
网络都是文章的（隐藏层 128×3，输出改为 2 维线性），Adam（学习率 $10^{-3}$，$\beta_1=0.5$），\
批量 96，训练集 20,000 个点。训练步数比论文少得多（论文 400 个 epoch），所以结果与论文的表不可直接比较。作为参照，同一协议也算一遍 2,500 个真实样本。
"""),
    code(r'''
TOY_STEPS = 300 if FAST else 6000
SEEDS = (0,) if FAST else (0, 1)
toy_results, pictures = [], {}
t0 = time.perf_counter()
for dataset in ("ring", "grid"):
    ref = load(dataset, "test", n=2500)
    print(f"{dataset}：真实数据（2,500 个测试点）：{coverage_text(mode_coverage(ref.x, ref.centres, ref.std))}")
    for pack in (1, 4):
        for seed in SEEDS:
            fake, cov, d = toy(dataset, TOY_STEPS, seed, pack=pack)
            toy_results.append((dataset, pack, seed, cov))
            pictures[dataset, pack, seed] = fake
            print(f"{dataset}：打包 {pack}，种子 {seed}：{coverage_text(cov)}")
        pictures[dataset, "real"] = ref.x
print(f"（每次 {TOY_STEPS:,} 步，共 {time.perf_counter() - t0:.0f} 秒）")

fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for r, dataset in enumerate(("ring", "grid")):
    ref = load(dataset, "test", n=10)
    for c, key in enumerate(("real", 1, 4)):
        x = pictures[dataset, "real"] if key == "real" else pictures[dataset, key, SEEDS[0]]
        a = axes[r, c]
        a.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4)
        a.scatter(ref.centres[:, 0], ref.centres[:, 1], s=30, facecolors="none", edgecolors="red", lw=0.8)
        lim = 1.6 if dataset == "ring" else 5.5
        a.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
              title=f"{dataset}: " + ("real" if key == "real" else f"pack {key}, seed {SEEDS[0]}"))
fig.tight_layout()
'''),
    md(r"""
读图和表：红圈是模式中心。普通 GAN（pack 1）的样本很“锐利”（高质量比例较高），却只落在少数几个模式上，\
或者连成一条经过几个模式的细线；表中有一个种子在 ring 上把几乎全部样本都放在同一个模式上——\
这就是教科书式的模式崩溃：每个样本单看都“好”，合起来只有一种。打包（pack 4）的判别器一次看 4 个样本，\
一包全挤在同一模式上的假样本很容易被识破，于是生成器把样本分散到几乎所有模式附近：捕获的模式数更多、\
反向 KL 更小。但在同样的步数里，这些样本还很散，高质量比例远低于普通 GAN——在这么短的训练里，\
打包换来了覆盖，付出的是精度；PacGAN 论文在长得多的训练之后两者兼得。`minigan reproduce ring` 和\
`minigan reproduce grid` 按完整协议重跑了一遍（每行 10 个种子、6 万步、学习率后半程衰减，打包 $m=2,3,4$；\
结果在书的附录 D 和仓库的 `results/`）：ring 上 $m=4$ 让每个种子都找到全部 8 个模式，\
grid 上打包仍然以精度换覆盖（$m$ 越大，高质量比例越低），离 PacGAN 的数字很远。\
两个种子、几千步只能看出方向，不足以给出可靠的平均值：第 6 章（6.1）用 3 个种子重复类似的实验，\
并检验文章 §6.1 提出的三条办法。

文章把“质量不稳定”和“模式崩溃”写成一句话，其实是两个现象：训练过程中样本质量来回波动（不稳定），\
和训练结束时样本缺乏多样性（崩溃）。上表量的是后者。

> **练习**：[`09_mode_coverage.ipynb`](exercises/09_mode_coverage.ipynb) 请你为二维混合高斯亲手实现上表的三个量：
> 捕获的模式数、高质量样本比例、与均匀分布的反向 KL（PacGAN 的协议），评分器自动核对。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
### 挑战 3：噪声和模糊

文章说生成的图像“可能存在一定的噪声和模糊”，没有说怎么看出来。这里用两个很简单的像素统计\
（像素映射到 $[0,1]$）：

- **相邻像素平均绝对差**：上下、左右相邻像素差的绝对值的平均。斑点噪声让它变大；模糊让它变小。
- **中间灰度比例**：像素值在 $(0.25, 0.75)$ 之间的比例。MNIST 的数字几乎是纯黑底加白色笔画，\
模糊的边缘和灰色噪点都会让这个比例升高。

两个统计都拿真实数字做参照，比较的是 5.1 中那次训练在各检查点的 1,000 张样本。
"""),
    code(r'''
rows = [[name, *(f"{v:.4f}" for v in pixel_stats(x))] for name, x in (("真实训练数字", TRAIN.x), ("留出的真实数字", REAL_REF))]
rows += [[f"第 {step:,} 步", f"{s['neighbour']:.4f}", f"{s['mid_grey']:.4f}"] for step, s in snapshots.items()]
print_table(["", "相邻像素 |差|", "中间灰度比例"], rows)

show = (CHECKPOINTS[0], CHECKPOINTS[len(CHECKPOINTS) // 2], CHECKPOINTS[-1])
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
axes[0].imshow(image_grid(REAL_REF[:36], (28, 28), ncols=6), cmap="gray", vmin=0, vmax=255)
axes[0].set_title("real (held-out)")
for a, step in zip(axes[1:], show):
    a.imshow(image_grid(snapshots[step]["samples"][:36], (28, 28), ncols=6), cmap="gray", vmin=0, vmax=255)
    a.set_title(f"generated, step {step}")
for a in axes:
    a.axis("off")
fig.tight_layout()
'''),
    md(r"""
读表和图：早期检查点的样本是一片带斑点的灰雾，两个统计都远离真实数字；训练后期样本变成黑底白字，\
中间灰度比例向真实值靠拢，但相邻像素差仍明显高于真实数字——笔画周围撒满孤立的亮点。\
表里暂时崩溃的那个检查点尤其极端：几乎没有灰色像素，相邻像素差却最大，即纯黑白的“椒盐”噪声。这符合书中第 5 章的说法：全连接生成器逐像素独立输出，\
没有“相邻像素相近”的先验，它的问题更多是**噪声和伪影**，而不是模糊——模糊是逐像素平方误差\
训练（例如 VAE）的典型缺陷。这两个统计很粗糙（例如笔画粗细也会改变它们），只适合在同一数据集上\
对比；第 6 章（6.2）用分类器的指标检验文章 §6.2 提出的办法。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
### 挑战 4：“复制粘贴”（C&P）现象

文章没有解释“复制粘贴”。最合理的读法是**记忆（memorisation）**：生成器输出训练图像的近似拷贝，\
而不是新的图像。`memorisation(generated, train, heldout)` 的做法：

1. 每张生成图像到训练集的最近邻（欧氏）距离；
2. 每张**留出**真实图像（模型从未见过）到训练集的最近邻距离——这代表“一张真正新的图像\
   通常离训练集有多近”；
3. 以留出距离的 1% 分位数为阈值，比它还近的生成图像算“近似拷贝”。

不记忆的模型，近似拷贝比例应在 1% 左右。为了知道这个指标在“真的复制”时是什么样，再加两个对照：\
把留出的真实图像当成“生成图像”（应当约 1%），以及把训练图像加一点噪声当成“生成图像”（一个作弊的复制机）。
"""),
    code(r'''
final = snapshots[CHECKPOINTS[-1]]["samples"]
copier = np.clip(TRAIN.x[:1000] + np.random.default_rng(1).normal(0, 0.1, (1000, 784)), -1, 1).astype(np.float32)
rows = []
for name, g, held in ((f"GAN，第 {CHECKPOINTS[-1]:,} 步", final, REAL_REF),
                      ("留出的验证数字", VALID.x, TEST.x),
                      ("复制机：训练数字 + 噪声 0.1", copier, REAL_REF)):
    m = memorisation(g, TRAIN.x, held)
    rows.append([name, f"{m.generated_median:.2f}", f"{m.heldout_median:.2f}", f"{100 * m.near_copy_fraction:.1f}"])
print_table(["被检查的一组图像", "最近邻距离中位数", "留出数字的中位数", "近似拷贝 %"], rows)

# 8 张生成图像和它们在训练集里的最近邻
idx = np.arange(8)
dists = nearest_distances(final[idx], TRAIN.x)
d2 = np.sum(final[idx] ** 2, 1)[:, None] - 2 * final[idx] @ TRAIN.x.T + np.sum(TRAIN.x ** 2, 1)
nearest = TRAIN.x[np.argmin(d2, axis=1)]
fig, ax = plt.subplots(figsize=(8, 2.4))
ax.imshow(image_grid(np.concatenate([final[idx], nearest]), (28, 28), ncols=8), cmap="gray", vmin=0, vmax=255)
ax.set_title("top: generated (final step); bottom: nearest training image\n"
             "distances: " + ", ".join(f"{d:.1f}" for d in dists), fontsize=9)
ax.axis("off");
'''),
    md(r"""
读表和图：“复制机”对照的近似拷贝比例是满格，留出图像一行在 1% 左右，说明这个指标确实能发现复制。\
GAN 样本则相反：它们到训练集的最近距离的中位数比留出真实图像的**还大**，近似拷贝比例见表。\
也就是说，这些样本不是训练图像的拷贝，而是离所有训练图像都比较远——一部分原因正是上一条的噪点\
（每个噪点都增加欧氏距离）。下排的最近邻通常是“形状相近的数字”，而不是像素级的拷贝。要注意两点：(a) 这个 GAN 很小，训练也短，记忆并不是它的主要问题；\
在小数据集上训练很久的大模型才更可能出现复制。(b) 欧氏距离只能发现像素级的复制，平移几个像素的拷贝\
它看不出来；严格的检查要在特征空间里做。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
### 挑战 5：“鉴定难度”

文章第 5 条说生成的图像“存在一定的鉴定难度”。这句话可以读成两件事：**评价**生成模型难\
（没有公认的单一指标），或**辨别**一张图真假难。后一种读法下，“难以鉴别”恰恰是训练目标\
（第 3.4 节：判别器分不出真假时生成器达到最优），而不是缺陷——这正是文章含糊的地方。

能量的是：一个**全新**的检测器（一个隐藏层的 MLP，与 GAN 自己的判别器无关）在一半真实、一半生成的\
图像上训练，在另一半上测试准确率（`detection_accuracy`）。0.5 表示分不出，1.0 表示每张假图都被识破。\
下表把 5.1 那次训练的各个检查点放在一起，“真实对真实”一行（验证集对测试集）给出检测器在\
两组真实图像之间的准确率，即“分不出”时的读数。
"""),
    code(r'''
print_table(["", "检测准确率", "Fréchet"],
            [["真实对真实", f"{real_scores['detect']:.3f}", f"{real_scores['frechet']:.2f}"]]
            + [[f"第 {step:,} 步", f"{s['detect']:.3f}", f"{s['frechet']:.2f}"] for step, s in snapshots.items()])

fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(steps, [snapshots[s]["detect"] for s in steps], "o-", label="fresh detector")
ax[0].axhline(0.5, color="gray", ls="--", label="chance")
ax[0].set(xlabel="training step", ylabel="held-out accuracy", ylim=(0.4, 1.02), title="detectability")
ax[0].legend()
k = max(1, len(d_real) // 100)
ax[1].plot(np.arange(len(d_real))[::k] + 1, np.convolve(d_real, np.ones(k) / k, "same")[::k], label="D(x), real")
ax[1].plot(np.arange(len(d_fake))[::k] + 1, np.convolve(d_fake, np.ones(k) / k, "same")[::k], label="D(G(z)), fake")
ax[1].set(xlabel="training step", ylabel="GAN's own D (batch mean)", title="the GAN's discriminator")
ax[1].legend()
fig.tight_layout()
'''),
    md(r"""
读表和图：在所有检查点上，这个只有一个隐藏层的新检测器的准确率都停在（或非常接近）1.0——\
它认出了几乎每一张假图（看那些孤立的噪点就够了），而“真实对真实”一行在 0.5 附近。\
所以对这个小模型，“鉴定难度”完全不是问题：假图很容易鉴定。右图是 GAN 自己的判别器（每步一个批量的平均输出，\
平滑过）：训练中段有一段时间它完全获胜——$D(x)$ 贴住单边平滑后的目标 0.9，$D(G(z))$ 接近 0——\
这一段正对应上面那个样本崩溃的检查点；之后生成器又追了上来。在其他时段它的输出离 0 和 1 都较远，\
看上去像是“分不太清”，但新检测器依然能认出每张假图。这就是两者的区别：GAN 的判别器\
被生成器“适应”过，不是公正的裁判；衡量“鉴定难度”要用一个训练好的**新**检测器。\
检测器准确率 $a$ 也给出两个分布全变差距离的下界 $\mathrm{TV} \ge 2a-1$（书中 6.3 推导）。

### 小结：文章 §5.2 含糊在哪里

- 第 1 条没说规模：对文章的网络，一次训练只需几分钟（上表），代价问题属于大模型和高分辨率图像。
- 第 2 条把“不稳定”和“模式崩溃”并为一句；后者可以在已知模式的玩具数据上精确计数。
- 第 3 条把噪声和模糊并列，但它们来源不同；全连接 GAN 的样本主要是噪点，而不是模糊。
- 第 4 条的“复制粘贴（C&P）”没有定义；按“记忆”理解，它可以用到训练集的最近邻距离来量，\
  而这个小模型的样本并没有表现出复制。
- 第 5 条的“鉴定难度”对这个模型不成立：新检测器几乎认出每一张假图。
- 第 5 条没有区分“评价难”和“辨别难”，而“难以辨别”本是训练目标。

第 6 章（`06_faq.ipynb`）对文章 §6 提出的每条“解决办法”做实验，看它们是否真的改善上面这些指标。
"""),
]
