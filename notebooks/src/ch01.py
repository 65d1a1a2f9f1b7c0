"""Chapter 1 notebook: 背景介绍 (article section 1)."""

# ruff: noqa: E501

from _cells import code, md, setup

TITLE = "01_background"

CELLS = [
    md(r"""
# 1 背景介绍

本 notebook 对应文章 §1。文章用两段话给“图像生成”定位，然后宣布深度学习中的生成模型带来了突破。
这两段话没有一处可以运行的内容，所以这里先把“图像生成”说成一个能检验的问题，再用几秒钟训练出第一个
生成器，让后面几章的每个概念都有一张图可以对照。

本章的三件事：

1. 用真实的手写数字说明“生成”要学的对象是什么：数据分布 $p_{data}$；
2. 看三种不经过学习、或者只学了一点点统计量的“生成器”为什么造不出数字；
3. 在一个二维玩具分布上训练一个小 GAN，看它的样本从一团点变成一个圆环。
"""),
    setup(r'''
import time

from minigan.data import load
from minigan.gan import GAN, build_discriminator, build_generator
from minigan.metrics import mode_coverage
from minigan.optim import Adam
from minigan.viz import image_grid

print("fast mode" if FAST else "full run")
'''),
    md(r"""
## 图像生成要解决的问题

文章 §1 说，图像生成的任务是把计算机视觉系统的输出转换成人看得懂的形式。这个说法更像可视化或图像描述，
与全文后面讲的生成器、判别器都对不上。机器学习里的图像生成是这样一个问题：

- 手里有一批图像 $x_1, \dots, x_M$，把它们看成从某个**未知**分布 $p_{data}(x)$ 中独立抽出的样本；
- 要得到一个模型，它能不断产出**新的** $x$，而这些 $x$ 的分布 $p_{model}$ 尽量接近 $p_{data}$。

文章从头到尾没有定义 $p_{data}$（它直到 §3.4 的公式里才第一次出现这个符号）。先看看它的样本长什么样。
"""),
    code(r'''
digits = load("mnist5k", split="train", seed=0)
print(digits)
print("x 的形状:", digits.x.shape, " 类型:", digits.x.dtype,
      " 取值范围: [%.1f, %.1f]" % (digits.x.min(), digits.x.max()))

fig, ax = plt.subplots(figsize=(5, 2.9))
ax.imshow(image_grid(digits.x[:32], digits.image_shape, ncols=8), cmap="gray")
ax.set_title("32 samples of p_data: real digits from mnist5k", fontsize=10)
ax.axis("off")
plt.show()
'''),
    md(r"""
**注意：** 每张 $28\times28$ 的图被展平成一个 784 维向量，像素缩放到 $[-1, 1]$（$-1$ 是黑色背景）。
所以 $p_{data}$ 是 784 维空间 $[-1,1]^{784}$ 里的一个分布，上面每张图都是它的一个样本。
“生成一张新的数字”就是“从 $p_{data}$ 再抽一个点”，难点在于我们只有这 4000 个点，没有 $p_{data}$ 的公式。
"""),
    md(r"""
## 不学习，或只学一点统计量，能生成数字吗？

先试三种最朴素的“生成器”，每种抽 2000 个样本：

1. **纯噪声**：每个像素独立地在 $[-1,1]$ 上均匀抽取；
2. **独立像素**：每个像素从训练集中同一位置的像素值里随机挑一个。每个像素自己的分布（边缘分布）完全正确，但像素之间没有任何关系；
3. **高斯模型**：用训练集的均值向量和 $784\times784$ 协方差矩阵拟合一个多元高斯分布，再从中抽样。这是一个真正的、传统的生成模型：它有显式的密度，参数由最大似然估计给出。

为了不只是“看起来像不像”，再测两个数：

- **相邻像素相关系数**：对每一对左右相邻、且在训练集中确实会变化的像素位置，计算两个像素值在样本之间的相关系数，再取平均。它衡量“笔画是连成片的”；
- **饱和像素比例**：$|x| > 0.9$ 的像素所占比例。真实的数字几乎只有纯黑背景和接近纯白的笔画。
"""),
    code(r'''
rng = np.random.default_rng(0)
x = digits.x.astype(np.float64)
n = 2000

samples = {"real": x[:n]}
samples["uniform noise"] = rng.uniform(-1, 1, size=(n, 784))
# 独立像素：第 j 个像素从训练集第 j 列里随机挑一个值
rows = rng.integers(0, len(x), size=(n, 784))
samples["independent pixels"] = x[rows, np.arange(784)]
# 高斯模型：均值 + 协方差的最大似然估计，抽样后裁剪到 [-1, 1]
mean, cov = x.mean(axis=0), np.cov(x, rowvar=False)
gauss = rng.multivariate_normal(mean, cov, size=n, method="eigh", check_valid="ignore")
samples["Gaussian (mean + covariance)"] = np.clip(gauss, -1, 1)


def neighbour_correlation(s, ref=x):
    """左右相邻像素的相关系数，对训练集中标准差 > 0.2 的像素对取平均。"""
    img = s.reshape(-1, 28, 28)
    ref_std = ref.reshape(-1, 28, 28).std(axis=0)
    ok = (ref_std[:, :-1] > 0.2) & (ref_std[:, 1:] > 0.2)
    a, b = img[:, :, :-1][:, ok], img[:, :, 1:][:, ok]
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    r = (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0) + 1e-12)
    return r.mean()


print(f"{'':30s} {'neighbour corr.':>16s} {'|x| > 0.9':>10s}")
for name, s in samples.items():
    print(f"{name:30s} {neighbour_correlation(s):16.3f} {np.mean(np.abs(s) > 0.9):10.1%}")

fig, axes = plt.subplots(4, 1, figsize=(6.4, 4.6))
for ax, (name, s) in zip(axes, samples.items()):
    ax.imshow(image_grid(s[:10].astype(np.float32), (28, 28), ncols=10), cmap="gray")
    ax.set_title(name, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：**

- 纯噪声和独立像素的相邻相关都接近 0。独立像素的饱和比例与真实数据分毫不差（每个像素的边缘分布本来就是对的），
  可出来的仍是一片雪花，只是中间亮一点。$p_{data}$ 是 784 个像素的**联合**分布，不是 784 个各管各的分布。
- 高斯模型的相邻相关与真实数据相当（约 0.72 对 0.75，协方差本来就是照着数据拟合的），样本也隐约有数字的轮廓，
  但饱和像素只有约 63%，真实数据是约 90%：它造出的是模糊、灰蒙蒙的“平均笔画”。二阶统计量对了，
  更高阶的结构（一个位置要么有笔画、要么没有）没有学到。
- 这正是深度生成模型要做的事：用一个足够灵活的函数去刻画这种高阶结构。
"""),
    md(r"""
## 文章说的“传统方法”

文章 §1 把矢量图形、位图（bitmap）和三维模型列为“传统的图像生成方法”。这三样是图像的**表示**和**渲染**方式：
上面的 `digits.x` 本身就是一堆位图，但位图不会告诉我们下一张新的数字该长什么样。它们不从数据里学习分布，
也就不是生成模型。

与深度生成模型真正可以对比的传统方法，是上面那个高斯模型一类的统计模型：高斯混合、（概率）主成分分析、
受限玻尔兹曼机与深度信念网络等。GAN 的原始论文（Goodfellow 等，2014）比较的正是深度信念网络这一类模型。
"""),
    md(r"""
## 第一个生成器：十几秒训练一个 GAN

文章在 §1 里说的“生成模型”，从 §2.1 开始才露出真面目：一个生成器（Generator）加一个判别器（Discriminator），
也就是生成对抗网络（GAN）。文章 §1 完全没有提到这种对抗的结构，下面先让它跑起来，细节留到第 2、3 章。

数据选一个能直接画出来的二维分布 `ring`：单位圆上 8 个很窄的高斯（标准差 0.01）。

- 生成器 $G$：把 4 维标准正态噪声 $z$ 映射成平面上的一个点，三层各 64 个单元的全连接网络；
- 判别器 $D$：输入一个点，输出一个 logit，经 sigmoid 后表示“这个点来自真实数据”的概率；
- 每一步先用一批真实点和一批生成点更新 $D$，再更新 $G$，让 $D$ 更难分辨（这就是 `GAN.train_step`）。

学习率先用 $10^{-3}$，训练到 60% 时降到 $10^{-4}$，让样本收紧到窄窄的模式上。
"""),
    code(r'''
ring = load("ring", n=20_000, seed=0)
STEPS = 100 if FAST else 5000
Z_DIM, HIDDEN, BATCH = 4, (64, 64, 64), 256

rng = np.random.default_rng(1)
G = build_generator(Z_DIM, HIDDEN, 2, output="linear", rng=rng)  # 数据不在 [-1,1] 的 tanh 值域里，输出层不加 tanh
D = build_discriminator(2, HIDDEN, rng=rng)
gan = GAN(G, D, z_dim=Z_DIM, g_optimizer=Adam(G.params(), lr=1e-3),
          d_optimizer=Adam(D.params(), lr=1e-3), rng=rng)

z_show = np.random.default_rng(2).standard_normal((2000, Z_DIM)).astype(np.float32)  # 固定噪声，前后对比用同一批 z
before = G(z_show)

start = time.perf_counter()
for step in range(STEPS):
    if step == int(0.6 * STEPS):
        gan.g_opt.lr = gan.d_opt.lr = 1e-4
    stats = gan.train_step(ring.x[rng.integers(0, len(ring.x), BATCH)])
seconds = time.perf_counter() - start
after = G(z_show)

print(f"{STEPS} steps in {seconds:.1f} s; last step: {stats}")
print("before:", mode_coverage(before, ring.centres, ring.std))
coverage = mode_coverage(after, ring.centres, ring.std)
print("after: ", coverage)
print("high-quality samples per mode (of 2000):", coverage.counts)
'''),
    code(r'''
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4), sharex=True, sharey=True)
panels = [("real data (ring)", ring.x[:2000], "black"),
          ("G(z) before training", before, "tab:red"),
          (f"G(z) after {STEPS} steps", after, "tab:red")]
for ax, (title, pts, colour) in zip(axes, panels):
    ax.scatter(pts[:, 0], pts[:, 1], s=2, c=colour, alpha=0.5, linewidths=0)
    for c in ring.centres:  # 3 个标准差的小圆：落在里面算“高质量”样本
        ax.add_patch(plt.Circle(c, 3 * ring.std, fill=False, color="tab:blue", lw=0.8))
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
axes[0].set_xlim(-1.5, 1.5)
axes[0].set_ylim(-1.5, 1.5)
axes[0].set_xticks([-1, 0, 1])
axes[0].set_yticks([-1, 0, 1])
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：**

- 训练前，生成器把噪声变成原点附近的一团点，与数据毫无关系；训练几千步（十几秒）后，样本排成了圆环，
  约四分之三是“高质量”样本（离最近的模式中心不超过 3 个标准差，即 0.03）。
- 但它并不完美。看每个模式分到的高质量样本数：左右两个模式 $(\pm1, 0)$ 只分到一两个，其余六个各有一两百个。
  按 PacGAN 的定义，一个模式只要有 1 个高质量样本就算“覆盖”，所以 `modes 8/8` 比图上看到的乐观；
  各模式样本数不均，`reverse KL` 也就不为 0。其余四分之一的点散落在模式之间的圆弧上：模式只有 0.01 宽，
  生成器是一个连续函数，把连续的噪声送到 8 个分开的小点上，中间难免留下“过渡”的样本。这类度量第 5 章还会用到。
- 生成器从没见过任何一个真实点：它得到的唯一信息是判别器的梯度。这就是第 2、3 章要讲清楚的机制。
"""),
    md(r"""
## 文章 §1 含糊的地方

- **没有定义 $p_{data}$。** 没有“数据分布”这个概念，就说不清“生成”和“复制”的区别，也说不清生成得好不好。
  上面的三个朴素生成器说明：要学的是像素之间的联合分布。
- **没有提到对抗的结构。** 文章通篇用“生成模型”一词，实际讲的是 GAN。变分自编码器（VAE）、自回归模型、
  流模型、扩散模型也都是生成模型，但都没有判别器（第 2.1 节会再回到这一点）。
- **“传统方法”举错了例子。** 矢量图形、位图、三维模型是图像的表示与渲染方式，不是从数据中学习分布的模型。
- **“高质量、高复杂度”。** 文章 §4 的网络是全连接的多层感知机，在 MNIST 这种 $28\times28$ 的灰度数字上能工作，
  离“高质量、高复杂度的图像”还很远；第 4 章会亲手训练它，看它真正能生成什么。

下一章（文章 §2）把生成器和判别器写成函数，并在一维、二维的例子上把对抗过程一步步画出来。
"""),
]
