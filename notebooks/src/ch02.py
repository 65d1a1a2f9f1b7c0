"""Chapter 2 notebook: 核心概念与联系 (article section 2: 2.1-2.3)."""

# ruff: noqa: E501

from _cells import code, md, setup

TITLE = "02_concepts"

CELLS = [
    md(r"""
# 2 核心概念与联系

本 notebook 对应文章 §2 的三个小节。文章在这里第一次提到生成器（Generator）和判别器（Discriminator），
但只用文字描述它们“做什么”。下面把两者写成具体的函数，在一维和二维的玩具数据上看它们怎样相互较量，
最后推导并实测“最优判别器”$D^*(x)$，它才是文章 §2.3 所说的“联系”的准确含义。
"""),
    setup(r'''
import copy

from minigan.data import load
from minigan.gan import GAN, build_discriminator, build_generator
from minigan.metrics import mode_coverage
from minigan.nn import Dense, sigmoid
from minigan.optim import Adam
from minigan.viz import image_grid

print("fast mode" if FAST else "full run")
'''),
    md(r"""
## 2.1 生成模型

文章 §2.1 先说生成模型通过学习数据分布来产生新数据，接着说它**由**生成器和判别器两部分组成：
生成器把随机噪声变成真实数据的“复制品”，判别器分辨真假，目标是让判别器分不出来。

这段话有三处需要改：

1. “由生成器和判别器组成”描述的是生成对抗网络（GAN），不是一般的生成模型。下面会先造一个**没有判别器**的生成模型。
2. 生成器要产生的不是“复制品”。一个只会原样复制训练样本的生成器没有学到分布；要的是**新的**样本，
   它们整体服从的分布 $p_g$ 与 $p_{data}$ 相同。
3. “判别器分不出来”是训练理想的终点，而不是两者的定义。两者各自优化一个目标，合在一起是一个博弈，
   第 2.3 节会把终点算出来。

### 生成器和判别器是两个函数

用文章 §4 的结构（全连接层 + leaky ReLU），只是把尺寸缩小，在一维数据 `mixture1d` 上搭一对网络：
$G:\mathbb{R}^2 \to \mathbb{R}$ 把 2 维噪声变成一个数，$D:\mathbb{R}\to\mathbb{R}$ 给每个数打一个分。
"""),
    code(r'''
toy = load("mixture1d", n=20_000, seed=0)
print(toy)
Z_DIM, HIDDEN = 2, (32, 32)

rng = np.random.default_rng(1)
G = build_generator(Z_DIM, HIDDEN, 1, output="linear", rng=rng)  # 数据范围约 [-3, 3]，输出层不用 tanh
D = build_discriminator(1, HIDDEN, rng=rng)
print("G =", G)
print("D =", D)

z = np.random.default_rng(0).standard_normal((5, Z_DIM)).astype(np.float32)
x_fake = G(z)
logit = D(x_fake)
prob = sigmoid(logit)
print("z       ", z.shape, "\n", z.round(3))
print("G(z)    ", x_fake.shape, x_fake.ravel().round(3))
print("logit a ", logit.shape, logit.ravel().round(3))
print("D = σ(a)", prob.shape, prob.ravel().round(3))
'''),
    md(r"""
**注意：**

- 生成器是一个**确定性**函数：随机性全部来自输入的噪声 $z$。抽一批 $z$，就得到一批样本；
  这批样本的分布叫 $p_g$，由 $G$ 的参数和噪声的分布共同决定。
- 判别器的最后一层只有一个单元，输出的是一个实数 **logit** $a$（没有激活函数）。概率是 $D(x) = \sigma(a) = 1/(1+e^{-a})$，
  取值在 $(0, 1)$ 之间，表示“$x$ 来自真实数据”的把握。这与文章 §4.2 的代码一致：它同时返回 `logits` 和 `sigmoid(logits)`。
- 还没训练时 $D(x)$ 都在 $0.5$ 附近：判别器什么也不知道。

logit 和概率互为反函数：$a = \log\frac{D}{1-D}$，即“真”与“假”的对数几率（log-odds）。
"""),
    code(r'''
a = logit.ravel().astype(np.float64)
p = sigmoid(a)
print("a                 :", a.round(6))
print("log(p / (1 - p))  :", np.log(p / (1 - p)).round(6))

# 文章 §4 的网络尺寸：z 是 100 维，图像是 784 维
G_big, D_big = build_generator(rng=0), build_discriminator(rng=0)
z_big = np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32)
print("article G:", z_big.shape, "->", G_big(z_big).shape, "  article D:", G_big(z_big).shape, "->", D_big(G_big(z_big)).shape)
'''),
    md(r"""
### 生成模型不一定有判别器

生成模型的共同点只有一条：学到一个能抽样的分布 $p_{model}\approx p_{data}$。最传统的做法是写出一个带参数的密度，
用最大似然估计参数。`mixture1d` 是三个高斯的等权混合（中心 $-2, 0, 2$，标准差 $0.3$），
那就拟合一个三成分的高斯混合模型：下面用 20 行 NumPy 实现期望最大化（EM）算法。
"""),
    code(r'''
x1 = toy.x[:, 0].astype(np.float64)
K = 3
w, mu, sd = np.full(K, 1 / K), np.array([-1.0, 0.5, 1.0]), np.ones(K)  # 随意的初值


def log_components(x, w, mu, sd):
    """log(w_k N(x; mu_k, sd_k^2))，形状 (N, K)。"""
    return np.log(w) - np.log(sd * np.sqrt(2 * np.pi)) - 0.5 * ((x[:, None] - mu) / sd) ** 2


for it in range(60):
    lc = log_components(x1, w, mu, sd)
    log_lik = np.logaddexp.reduce(lc, axis=1)      # 每个点的 log p(x)
    r = np.exp(lc - log_lik[:, None])               # E 步：每个点属于各成分的概率
    nk = r.sum(axis=0)                              # M 步：加权的频率、均值、标准差
    w, mu = nk / len(x1), (r * x1[:, None]).sum(axis=0) / nk
    sd = np.sqrt((r * (x1[:, None] - mu) ** 2).sum(axis=0) / nk)
    if it in (0, 5, 59):
        print(f"iteration {it:2d}: mean log-likelihood {log_lik.mean():.4f}")
print("weights", w.round(3), " means", mu.round(3), " stds", sd.round(3))

gen = np.random.default_rng(3)
k = gen.choice(K, size=20_000, p=w)
gmm_samples = gen.normal(mu[k], sd[k])

xs = np.linspace(-4, 4, 400)
true_density = np.exp(np.logaddexp.reduce(log_components(xs, np.full(3, 1 / 3), toy.centres.ravel(), np.full(3, toy.std)), axis=1))
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.hist(gmm_samples, bins=np.linspace(-4, 4, 81), density=True, color="tab:green", alpha=0.5, label="samples of the fitted GMM")
ax.plot(xs, true_density, "k", lw=1, label="true density p_data")
ax.set_xlabel("x")
ax.legend(fontsize=8)
plt.show()
'''),
    md(r"""
**注意：** EM 很快就找回了真实的参数（权重约 1/3、中心约 $-2, 0, 2$、标准差约 $0.3$），抽出的样本与真实密度吻合。
这个生成模型有显式的密度 $p_{model}(x)$，用最大似然训练，**没有任何判别器**。
深度生成模型里也是如此：变分自编码器（VAE）、自回归模型、流模型、扩散模型都没有判别器。
“生成器 + 判别器”是 GAN 这一种方法的特征，它的好处是不需要写出 $p_g$ 的密度：对一个 100 维噪声到 784 维图像的神经网络，
这个密度根本算不出来。
"""),
    md(r"""
### 对抗的过程：一维

现在训练上面那对 $G$、$D$（Adam，学习率 $10^{-3}$，批量 128；每一步先更新 $D$ 再更新 $G$，第 3 章细讲）。
在第 0、200、1000、5000 步各拍一张“快照”：

- 灰线：真实密度 $p_{data}$；
- 红色直方图：$G$ 的 20000 个样本，即 $p_g$；
- 蓝色虚线（右侧纵轴）：判别器的输出 $D(x)$。
"""),
    code(r'''
SNAPSHOTS = (0, 20, 60, 150) if FAST else (0, 200, 1000, 5000)
gan = GAN(G, D, z_dim=Z_DIM, g_optimizer=Adam(G.params(), lr=1e-3), d_optimizer=Adam(D.params(), lr=1e-3), rng=rng)
z_fixed = np.random.default_rng(123).standard_normal((20_000, Z_DIM)).astype(np.float32)
grid = np.linspace(-4, 4, 400, dtype=np.float32)[:, None]

snaps, history = {}, []
for step in range(SNAPSHOTS[-1] + 1):
    if step in SNAPSHOTS:
        snaps[step] = dict(fake=G(z_fixed).ravel(), d=sigmoid(D(grid)).ravel(),
                           G=copy.deepcopy(G), D=copy.deepcopy(D))  # 存下这一刻的两个网络，2.3 节要用
    if step == SNAPSHOTS[-1]:
        break
    history.append(gan.train_step(toy.x[rng.integers(0, len(toy.x), 128)]))

for step, s in snaps.items():
    print(f"step {step:5d}: {mode_coverage(s['fake'][:, None], toy.centres, toy.std)}")

fig, axes = plt.subplots(1, 4, figsize=(13, 2.9), sharey=True)
for ax, (step, s) in zip(axes, snaps.items()):
    ax.plot(xs, true_density, color="0.4", lw=1)
    ax.hist(np.clip(s["fake"], -4, 4), bins=np.linspace(-4, 4, 81), density=True, color="tab:red", alpha=0.5)
    ax2 = ax.twinx()
    ax2.plot(grid, s["d"], "--", color="tab:blue")
    ax2.axhline(0.5, color="tab:blue", lw=0.5, alpha=0.5)
    ax2.set_ylim(0, 1)
    if step != SNAPSHOTS[-1]:
        ax2.set_yticklabels([])
    ax.set_title(f"step {step}", fontsize=10)
    ax.set_xlabel("x")
axes[0].set_ylabel("density")
ax2.set_ylabel("D(x)", color="tab:blue")
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意（按快照的顺序）：**

- **第 0 步**：$G$ 的样本挤在 0 附近，$D$ 近乎一条斜线，停在 $0.5$ 左右：两者都还什么都不知道。
- **第 200 步**：$G$ 沿着 $D$ 的梯度把样本往外推，推过了头，$p_g$ 摊满了整个区间（两端甚至堆起了样本）；
  $D$ 仍然很平，只在 0 附近略高，它还来不及分辨三个峰。
- **第 1000 步**：$p_g$ 已经长出三个峰，$D(x)$ 的起伏正对着 $p_g$ 与 $p_{data}$ 的差别：
  在两个峰之间（$G$ 的样本比真实数据多）$D$ 降到 $0.5$ 以下，在峰上回到 $0.5$ 左右。
- **第 5000 步**：三个模式都覆盖到了（上面打印的 `modes 3/3`），$D(x)$ 在数据所在的区域贴近 $0.5$。
  但 $p_g$ 的三个峰明显比真实的峰更窄更高：判别器“分不出来”，并不等于 $p_g = p_{data}$。第 2.3 节的最后会量化这一点。

$G$ 从来没有直接看到真实数据；它学到的一切都来自 $D(x)$ 这条曲线的斜率。
"""),
    md(r"""
### 对抗的过程：二维

同样的过程放到二维的 `moons`（两个交错的半圆）上，这次把判别器画成平面上的等高线：
蓝色是 $D(x) > 0.5$（判为真），红色是 $D(x) < 0.5$（判为假），白线是 $D(x) = 0.5$。黑点是真实数据，红点是 $G$ 的样本。
"""),
    code(r'''
moons = load("moons", n=20_000, seed=0)
STEPS_2D = 100 if FAST else 5000
SNAPS_2D = (0, 20, 50, STEPS_2D) if FAST else (0, 500, 2000, STEPS_2D)
rng2 = np.random.default_rng(0)
G2 = build_generator(4, (64, 64, 64), 2, output="linear", rng=rng2)
D2 = build_discriminator(2, (64, 64, 64), rng=rng2)
gan2 = GAN(G2, D2, z_dim=4, g_optimizer=Adam(G2.params(), lr=1e-3), d_optimizer=Adam(D2.params(), lr=1e-3), rng=rng2)

gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1.2, 1.7, 90))
plane = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
z2 = np.random.default_rng(5).standard_normal((800, 4)).astype(np.float32)

snaps2 = {}
for step in range(STEPS_2D + 1):
    if step == int(0.6 * STEPS_2D):
        gan2.g_opt.lr = gan2.d_opt.lr = 1e-4
    if step in SNAPS_2D:
        snaps2[step] = (G2(z2), sigmoid(D2(plane)).reshape(gx.shape))
    if step < STEPS_2D:
        gan2.train_step(moons.x[rng2.integers(0, len(moons.x), 256)])

fig, axes = plt.subplots(1, 4, figsize=(13, 2.9), sharex=True, sharey=True)
for ax, (step, (fake, d)) in zip(axes, snaps2.items()):
    cs = ax.contourf(gx, gy, d, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
    ax.contour(gx, gy, d, levels=[0.5], colors="white", linewidths=1)
    ax.scatter(moons.x[:800, 0], moons.x[:800, 1], s=1.5, c="black", linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=1.5, c="tab:red", linewidths=0)
    ax.set_title(f"step {step}", fontsize=10)
    ax.set_aspect("equal")
fig.colorbar(cs, ax=axes, shrink=0.8, label="D(x)", ticks=[0, 0.5, 1])
plt.show()
'''),
    md(r"""
**注意：**

- 第 0 步的判别器是一个几乎平的斜面；几百步之后，它在 $G$ 的样本堆积、而真实数据稀少的地方变红，
  在真实数据所在、$G$ 还没覆盖的地方变浅或变蓝。生成器的样本顺着颜色往“更真”的方向移动。
- 最后一张图上，红点基本落在两个半圆上，$D(x)$ 在数据附近接近 $0.5$（颜色很浅）。
  远离一切数据的角落仍是深红：那里既没有真实数据也没有生成样本，判别器在那里的输出不受任何约束，
  它的数值没有意义（第 2.3 节的公式在那里是 $0/0$）。
"""),
    md(r"""
## 2.2 图像生成

文章 §2.2 没有新内容：把它和 §1 逐字比对（Python 的 `difflib`），§2.2 的 196 个字符全部按原顺序出现在 §1 里，
它就是 §1 删掉最后一句内容预告后的样子。对它的更正同第 1 章。

这里借这个位置补上文章始终没有交代、却决定了 §4 全部代码的一件事：对文章的全连接网络来说，一张图像就是一个向量。
"""),
    code(r'''
digits = load("mnist5k", split="train", seed=0)
img = digits.x[0]
print("一张图:", img.shape, img.dtype, " 还原成图像:", img.reshape(digits.image_shape).shape)
raw = np.rint((img + 1) * 127.5).astype(int)  # 反推原始的 0..255 灰度：x' = 2x/255 - 1
print("第 10-13 行、第 6-21 列的原始灰度:")
print(raw.reshape(28, 28)[10:14, 6:22])
print("缩放后:", np.round(img.reshape(28, 28)[12, 6:22], 2))
'''),
    md(r"""
**注意：** 像素从 $\{0,\dots,255\}$ 线性缩放到 $[-1,1]$（$x' = 2x/255 - 1$），背景是 $-1$。
这是为了和生成器输出层的 $\tanh$（值域 $(-1,1)$）对齐：生成器能输出的范围正好就是图像可能的范围。

展平还有一个后果：全连接网络**不知道**哪些像素彼此相邻。把所有图像的像素按同一个固定的随机顺序打乱，
人眼看到的是雪花，但只要把第一层权重的行按同样的顺序重排，网络的输出完全一样。
"""),
    code(r'''
perm = np.random.default_rng(0).permutation(784)
batch = digits.x[:256]
shuffled = batch[:, perm]                  # 每张图都按同一个顺序打乱像素

layer = Dense(784, 128, rng=0)
layer_shuffled = Dense(784, 128, rng=0)
layer_shuffled.W[...] = layer.W[perm]      # 权重的行跟着像素一起重排
diff = np.abs(layer(batch) - layer_shuffled(shuffled)).max()
print(f"两层输出的最大差别: {diff:.1e}  (float32 的舍入量级；输出本身的量级是 {np.abs(layer(batch)).mean():.2f})")

fig, axes = plt.subplots(2, 1, figsize=(6, 1.8))
for ax, imgs, title in ((axes[0], batch, "8 digits"), (axes[1], shuffled, "the same 8 digits, pixels permuted")):
    ax.imshow(image_grid(imgs[:8], (28, 28), ncols=8), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 对全连接网络来说，上下两行是同一个学习问题，能从一行学到的，从另一行也一样能学到。
所以文章的网络必须从数据中自己去“发现”哪些像素是邻居，这是它比卷积网络（例如 DCGAN）生成质量差的原因之一。
"""),
    md(r"""
## 2.3 联系

文章 §2.3 把生成模型的突破归功于它们的“设计和训练方法”，没有说生成器和判别器之间到底是什么关系。
这个关系可以精确地算出来。

### 最优判别器

判别器的训练目标（第 3.4 节会说明，它就是文章 §3.4 里 $L_D$ 那个式子，要**最大化**）是

$$
\begin{aligned}
V(D, G) &= \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))] \\ 
&= \int \big( p_{data}(x)\log D(x) + p_g(x)\log(1-D(x)) \big)\,dx .
\end{aligned}
$$

固定 $G$（也就固定了 $p_g$），被积函数可以在每个 $x$ 上分别最大化。对 $t = D(x)$，函数 $\alpha\log t + \beta\log(1-t)$
（$\alpha = p_{data}(x)$，$\beta = p_g(x)$）的导数 $\alpha/t - \beta/(1-t)$ 在 $t = \alpha/(\alpha+\beta)$ 处为 0，而且二阶导数为负，所以

$$
D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}, \qquad
a^*(x) = \log\frac{p_{data}(x)}{p_g(x)} \quad (D^* = \sigma(a^*)).
$$

最优判别器的 logit 就是两个密度之比的对数。$G$ 沿着 $D$ 的梯度移动样本，就是把样本从 $p_g > p_{data}$ 的地方推向
$p_g < p_{data}$ 的地方。当 $p_g = p_{data}$ 时 $D^* \equiv 1/2$，这才是“判别器无法区分”的精确含义。

### 实测：训练出来的 $D$ 接近 $D^*$ 吗？

取上面第 200 步的快照（$p_g$ 与 $p_{data}$ 差得很远），做两件事：

1. 直接用那一刻的 $D$（它只和 $G$ 交替训练了 200 步）；
2. 把 $G$ 冻结，只训练 $D$（`GAN.d_step`，只更新判别器）再训练若干步，让它追上这个固定的 $G$。

$D^*$ 要用到 $p_g$ 的密度：$G$ 的密度写不出来，但一维的情形可以用 50 万个样本的直方图来估计。
"""),
    code(r'''
SNAP = SNAPSHOTS[1]                       # 第 200 步（快速模式下更早）
G_snap, D_snap = snaps[SNAP]["G"], snaps[SNAP]["D"]
D_alone = copy.deepcopy(D_snap)
rng3 = np.random.default_rng(7)
frozen = GAN(G_snap, D_alone, z_dim=Z_DIM, d_optimizer=Adam(D_alone.params(), lr=1e-3), rng=rng3)
g_before = {k: v.copy() for k, v in G_snap.params().items()}
D_ONLY_STEPS = 100 if FAST else 3000
for _ in range(D_ONLY_STEPS):
    frozen.d_step(toy.x[rng3.integers(0, len(toy.x), 256)])
print("G unchanged by the D-only steps:", all(np.array_equal(g_before[k], v) for k, v in G_snap.params().items()))

edges = np.linspace(-4, 4, 201)
centres = (edges[:-1] + edges[1:]) / 2
pg = np.histogram(G_snap(rng3.standard_normal((500_000, Z_DIM)).astype(np.float32)).ravel(), bins=edges, density=True)[0]
pdata = np.exp(np.logaddexp.reduce(log_components(centres, np.full(3, 1 / 3), toy.centres.ravel(), np.full(3, toy.std)), axis=1))
with np.errstate(invalid="ignore", divide="ignore"):
    d_star = pdata / (pdata + pg)
c32 = centres.astype(np.float32)[:, None]
d_joint, d_alone = sigmoid(D_snap(c32)).ravel(), sigmoid(D_alone(c32)).ravel()

weight = (pdata + pg) / (pdata + pg).sum()  # 按两种数据出现的多少加权：没有数据的地方 D* 无定义
ok = weight > 0
for name, d in ((f"D at step {SNAP}", d_joint), (f"D after {D_ONLY_STEPS} more D-only steps", d_alone)):
    print(f"{name:35s} weighted mean |D - D*| = {np.sum(weight[ok] * np.abs(d[ok] - d_star[ok])):.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2))
ax1.plot(centres, pdata / pdata.max(), color="0.5", lw=1, label="p_data (scaled)")
ax1.fill_between(centres, pg / pdata.max(), color="tab:red", alpha=0.25, label="p_g (scaled)")
ax1.plot(centres, d_star, "k", lw=2, label="D* = p_data / (p_data + p_g)")
ax1.plot(centres, d_joint, "--", color="tab:blue", label=f"D at step {SNAP}")
ax1.plot(centres, d_alone, "-", color="tab:green", label=f"+ {D_ONLY_STEPS} D-only steps")
ax1.set_ylim(-0.02, 1.02)
ax1.set_xlabel("x")
ax1.legend(fontsize=7, loc="upper left")
ax1.set_title("discriminator vs the optimal one", fontsize=10)

both = (pdata > 1e-3) & (pg > 1e-3)  # 两个密度都不太小的地方，log 比值才估得准
ax2.plot(centres[both], np.log(pdata[both] / pg[both]), "k.", ms=4, label="log(p_data / p_g)")
ax2.plot(centres, D_alone(c32).ravel(), color="tab:green", label="logit of D (D-only trained)")
ax2.axhline(0, color="0.6", lw=0.8)
ax2.set_xlabel("x")
ax2.legend(fontsize=7)
ax2.set_title("logit vs log density ratio", fontsize=10)
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：**

- 只和 $G$ 交替训练的 $D$（蓝色虚线）只是 $D^*$ 的粗略近似：它每一步只走一小步，而 $G$ 一直在动。
- 把 $G$ 冻结后单独训练 $D$，它（绿线）就贴近黑色的 $D^*$，加权平均误差明显下降（见上面打印的两个数）。
  右图中，判别器的 logit 与 $\log(p_{data}/p_g)$ 在两个密度都不小的区域基本重合：判别器确实在估计密度比。
- 在 $p_{data}$ 和 $p_g$ 都几乎为 0 的两端，$D^*$ 无定义，判别器的输出只是外推，没有意义。
- GAN 的理论（文章没有提到）就建立在“$D$ 每一步都是 $D^*$”的假设上；实际训练里 $D$ 只能追着 $G$ 跑，这是训练不稳定的根源之一。
"""),
    md(r"""
### 训练的终点：$D \approx 1/2$ 就说明 $p_g = p_{data}$ 了吗？

第 5000 步时，训练出来的 $D$ 在数据区域几乎处处是 $1/2$。按上面的公式，只有 $p_g = p_{data}$ 时 $D^*$ 才处处为 $1/2$。
用同样的办法检查：估计那一刻的 $p_g$，算出 $D^*$；再把 $G$ 冻结，单独把 $D$ 训练到接近最优。
"""),
    code(r'''
last = snaps[SNAPSHOTS[-1]]
fake_last = last["G"](rng3.standard_normal((500_000, Z_DIM)).astype(np.float32)).ravel()
pg_last = np.histogram(fake_last, bins=edges, density=True)[0]
with np.errstate(invalid="ignore", divide="ignore"):
    d_star_last = np.where(pdata + pg_last > 1e-3, pdata / (pdata + pg_last), np.nan)  # 两个密度都几乎为 0 处无定义
for c in toy.centres.ravel():  # 离每个中心 1 以内的生成样本：它们的均值和标准差（真实数据：均值 = 中心，标准差 0.3）
    near = fake_last[np.abs(fake_last - c) < 1]
    print(f"mode at {c:+.0f}: G's samples have mean {near.mean():+.3f}, std {near.std():.3f}, share {len(near) / len(fake_last):.3f}")

D_final_alone = copy.deepcopy(last["D"])
frozen_last = GAN(last["G"], D_final_alone, z_dim=Z_DIM, d_optimizer=Adam(D_final_alone.params(), lr=1e-3), rng=rng3)
for _ in range(D_ONLY_STEPS):
    frozen_last.d_step(toy.x[rng3.integers(0, len(toy.x), 256)])
d_last, d_last_alone = sigmoid(last["D"](c32)).ravel(), sigmoid(D_final_alone(c32)).ravel()

w_data = pdata / pdata.sum()  # 按 p_data 加权：只看数据所在的地方
print(f"step {SNAPSHOTS[-1]}, trained D:          mean |D - 1/2|  = {np.sum(w_data * np.abs(d_last - 0.5)):.3f}")
print(f"step {SNAPSHOTS[-1]}, optimal D*:         mean |D* - 1/2| = {np.nansum(w_data * np.abs(d_star_last - 0.5)):.3f}")
print(f"step {SNAPSHOTS[-1]}, + {D_ONLY_STEPS} D-only steps: mean |D - 1/2|  = {np.sum(w_data * np.abs(d_last_alone - 0.5)):.3f}")

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(centres, pdata / pdata.max(), color="0.5", lw=1, label="p_data (scaled)")
ax.fill_between(centres, pg_last / pg_last.max(), color="tab:red", alpha=0.25, label="p_g (scaled)")
ax.plot(centres, d_star_last, "k", lw=1.5, label="D*")
ax.plot(centres, d_last, "--", color="tab:blue", label=f"D at step {SNAPSHOTS[-1]}")
ax.plot(centres, d_last_alone, color="tab:green", label=f"+ {D_ONLY_STEPS} D-only steps")
ax.set_xlim(-3.2, 3.2)
ax.set_ylim(-0.02, 1.25)
ax.set_xlabel("x")
ax.legend(fontsize=7, loc="upper center", ncol=5)
plt.show()
'''),
    md(r"""
**注意：**

- 三个模式都有样本，但形状不对：红色的 $p_g$ 在每个模式上是一个尖峰加一侧的“肩”，峰的位置也偏了
  （上面打印的均值、标准差与真实的中心、$0.3$ 都有差距）。而前面快照处打印的按模式计数的指标（`mode_coverage`）对此毫无察觉：
  它给出的是 `modes 3/3`、98.9% 的“高质量”样本。于是 $D^*$（黑线）在尖峰处远低于 $1/2$、在 $G$ 覆盖不足的地方远高于 $1/2$。
- 交替训练出来的 $D$ 却几乎处处是 $1/2$：它每一步只更新一次，又总在追一个移动的 $G$，没有能力分辨这么细的差别。
  一旦把 $G$ 冻结、让 $D$ 单独多训练一会儿，它立刻就认出了这些差别，向 $D^*$ 靠拢。
- 所以“判别器分不出来”至多说明判别器不够强，不能据此断定 $p_g = p_{data}$。GAN 的理论结论（$D = D^*$ 时，
  博弈的最优解是 $p_g = p_{data}$）依赖一个在实际训练中并不成立的假设。

下一章（文章 §3）拆开生成器和判别器的每一层，推导并检验每一个梯度，再把文章的九个训练步骤逐个执行一遍。
"""),
]
