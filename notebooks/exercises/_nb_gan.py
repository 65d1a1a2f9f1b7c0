"""Cells of the GAN-level exercise notebooks: 05 discriminator_gradient, 06 minimax_gradient,
08 train_step.  ``build_notebooks.py`` registers them: each ``*_cells(reading_the_report)`` returns a
notebook's cell list, given the shared "how to read the report" section.

The Chinese prose is kept in long source lines; the article's nine steps of section 3.3
are quoted verbatim in notebook 08 (the exercise is to implement them), everything else
is written fresh.
"""

# ruff: noqa: E501

from __future__ import annotations

from _cells import code, md  # the chapter notebooks' cell helpers (build_notebooks.py puts them on sys.path)

SETUP_NETS = """\
import numpy as np

from minigan import build_discriminator, build_generator
from minigan.exercises import check
"""

# --------------------------------------------------------------------------------------
# 05: discriminator gradient


def discriminator_cells(reading: str) -> list:
    return [
        md(r"""
# 练习 5：判别器的损失与梯度

练习 4 求的是生成器那一侧的梯度；这一次轮到判别器（Discriminator）。文章第 3.3 节训练步骤的第 6–8 步说的就是它：\
判别器同时看到真实数据和生成器造出的样本，算出自己的损失，再调整参数让损失变小。第 4.3 节的代码里对应的是 `D_loss` 的两行：\
真实图像的 logits 配全 1 标签、生成图像的 logits 配全 0 标签，各做一次 `sigmoid_cross_entropy_with_logits` 再各取 `reduce_mean`，最后相加。

这个练习要你亲手写出这个损失和它对判别器参数的梯度，并且要在判别器"非常有把握"时依然算得对。
"""),
        md(r"""
## 要最小化的是什么？

第 3.4 节给出的判别器"损失"是

$$
L_{D} = E_{x \sim p_{data}(x)}[\log D(x)] + E_{z \sim p_{z}(z)}[\log (1 - D(G(z)))] .
$$

把它当成要**最小化**的量，符号就反了：判别器越能分辨真假，$\log D(x)$ 和 $\log(1-D(G(z)))$ 越接近 0，这个式子越**大**。\
它其实是 Goodfellow 等人的价值函数 $V(D, G)$，判别器要让它尽量大。取相反数，并用一批样本的平均代替期望，\
就得到第 4.3 节代码（也是 `minigan.losses.discriminator_loss`）真正最小化的量：

$$
\mathcal{L}_D
= \underbrace{-\frac{1}{N_r}\sum_{i=1}^{N_r}\log\sigma(r_i)}_{\mathrm{BCE}(r,\,1)}
\;+\;\underbrace{-\frac{1}{N_f}\sum_{j=1}^{N_f}\log\bigl(1-\sigma(f_j)\bigr)}_{\mathrm{BCE}(f,\,0)} ,
$$

其中 $r = D(x_{\text{real}})$ 的 logits（形状 $N_r\times 1$），$f = D(x_{\text{fake}})$ 的 logits（形状 $N_f\times 1$），$D(\cdot) = \sigma(\text{logits})$。\
注意两个平均**各自**除以自己那一批的大小——这与代码里两次 `tf.reduce_mean` 一致，也与 `GAN.d_step` 一致。

## 请你推导

1. 利用练习 3 的结论，写出 $\partial\mathcal{L}_D/\partial r_i$ 和 $\partial\mathcal{L}_D/\partial f_j$；
2. 判别器前向了**两次**（一次真实批，一次生成批），各自得到一个 cache。参数的梯度怎样由两次反向合成？
3. 判别器很有把握时，logits 可达 $\pm 10^2$ 甚至更大。float32 里 $\sigma(-200)$ 会舍入成 0，$\sigma(20)$ 会舍入成 1。\
你的损失和梯度在这种情况下会不会出现 $\log 0$ 或 $0\cdot\infty$？

<details>
<summary>推导完成后，点这里核对</summary>

$$
\frac{\partial\mathcal{L}_D}{\partial r_i} = \frac{\sigma(r_i) - 1}{N_r},\qquad
\frac{\partial\mathcal{L}_D}{\partial f_j} = \frac{\sigma(f_j)}{N_f},\qquad
\frac{\partial\mathcal{L}_D}{\partial\theta_D} = \text{(真实批的反向)} + \text{(生成批的反向)} .
$$

参数在两次前向里是同一组，所以梯度逐键相加；每次反向都必须配上**自己那次**前向的 cache。\
损失直接从 logits 计算：$\mathrm{BCE}(z, y) = \max(z,0) - zy + \log(1+e^{-|z|})$，永远不对概率取对数。
</details>

## 函数签名

`my_discriminator_gradient(D, x_real, x_fake) -> (loss, grads)`：

- `D` 是 minigan 的判别器（`minigan.build_discriminator`，输出 logits）；`x_real` 形状 $(N_r, d)$，`x_fake` 形状 $(N_f, d)$，两批的大小可以不同；
- `loss` 是一个数：$\mathcal{L}_D$（真实样本标签为 1）；
- `grads` 是字典，键与 `D.params()` 相同（`"0.W"`、`"0.b"`……），每个梯度与对应参数形状、dtype 相同；
- 不要改动 `D` 的参数、`x_real`、`x_fake`：更新参数是优化器的事（练习 8）。
"""),
        code(SETUP_NETS.replace("build_discriminator, build_generator", "build_discriminator") + """
D = build_discriminator(in_dim=2, hidden=(8,), dtype=np.float64, rng=0)
rng = np.random.default_rng(1)
x_real, x_fake = rng.standard_normal((5, 2)), rng.uniform(-1, 1, (3, 2))
print(D)
print({name: p.shape for name, p in D.params().items()})
print("真实批的 logits:", D(x_real).ravel())
"""),
        md("## 作答"),
        code('''
def my_discriminator_gradient(D, x_real, x_fake):
    """判别器损失 BCE(D(x_real), 1) + BCE(D(x_fake), 0) 及其对 D 参数的梯度。返回 (loss, grads)。"""
    # TODO 1: 判别器分别对 x_real、x_fake 前向，保留各自的 cache
    # TODO 2: 从 logits 计算两个 BCE（各自对自己的批取平均）并相加
    # TODO 3: 计算 dL/dlogits：真实批 (sigmoid(r) - 1) / N_r，生成批 ……（请自己推导）
    # TODO 4: 两次反向（各用各的 cache），参数梯度逐键相加，返回 (loss, grads)
    raise NotImplementedError
''', tag="answer"),
        md(r"""
## 评分

评分器会：把损失与 `minigan.losses.discriminator_loss` 比较；在两个小网络上用 float64 与有限差分比较梯度（其中一组的两批大小不同）；\
把判别器最后一层放大，让 logits 达到 $\pm 10^2$ 以上，在 float32 下检查损失和梯度仍然有限、精确；检查没有改动输入和 D；\
float32 保持 float32；最后用 hypothesis 在随机网络、批大小、dtype 和饱和程度上与参考实现比较。
"""),
        code('check("discriminator_gradient", my_discriminator_gradient)', tag="grade"),
        md(reading + r"""
这个评分器专门识别的典型错误包括：生成样本的标签写成 1、真假标签对调、把两批拼起来只取一次平均、漏了 $1/N$、\
照搬第 3.4 节 $L_D$ 的符号、对概率而不是 logits 求导、两次反向用了同一个 cache、漏掉其中一项、\
判别器饱和时经由概率计算而得到 NaN / inf、log 里加 eps 把损失截小、改动了 D 的参数、float32 被提升为 float64。

参考实现见 `minigan/losses.py` 的 `discriminator_loss` 和 `minigan/gan.py` 的 `GAN.d_step`。下一个练习：`06_minimax_gradient.ipynb`。
"""),
    ]


# --------------------------------------------------------------------------------------
# 06: minimax generator gradient

PLOT = r'''
import matplotlib.pyplot as plt

from minigan.selfcheck import generator_through_discriminator


def gradient_norm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def minimax_grads(G, D, z):
    """你的函数（如果已经写好），否则用 minigan 自己的实现。"""
    try:
        return my_minimax_gradient(G, D, z)
    except NotImplementedError:
        return generator_through_discriminator(G, D, z, "minimax")[1]


G = build_generator(z_dim=4, hidden=(16,), out_dim=2, dtype=np.float64, rng=0)
D = build_discriminator(in_dim=2, hidden=(16,), dtype=np.float64, rng=1)
z = np.random.default_rng(2).standard_normal((64, 4))
bias = list(D.params())[-1]        # D 最后一层的偏置（"2.b"）：调它就能整体平移 logits
b0 = D.params()[bias].copy()

shifts = np.linspace(6, -30, 37)
mean_logit, norm_minimax, norm_ns = [], [], []
for s in shifts:
    D.params()[bias][...] = b0 + s   # s 越负，D 越有把握地判 G(z) 为假
    mean_logit.append(float(D(G(z)).mean()))
    norm_minimax.append(gradient_norm(minimax_grads(G, D, z)))
    norm_ns.append(gradient_norm(generator_through_discriminator(G, D, z, "non_saturating")[1]))
D.params()[bias][...] = b0

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.semilogy(mean_logit, norm_minimax, "o-", ms=3, label="minimax: mean log(1 - D(G(z)))")
ax.semilogy(mean_logit, norm_ns, "s-", ms=3, label="non-saturating: -mean log D(G(z))")
ax.set_xlabel("mean logit of D on G(z)   (right: D confidently rejects the fakes)")
ax.set_ylabel("||grad of L_G w.r.t. G's parameters||")
ax.invert_xaxis()
ax.grid(True, which="both", alpha=0.3)
ax.legend()
plt.show()
print(f"logit 均值 {mean_logit[-1]:.1f} 时：minimax 梯度范数 {norm_minimax[-1]:.2e}，非饱和梯度范数 {norm_ns[-1]:.2e}")
'''


def minimax_cells(reading: str) -> list:
    return [
        md(r"""
# 练习 6：minimax 生成器损失的梯度——以及它为什么会消失

第 3.4 节写出的生成器损失是

$$
L_{G} = - E_{x \sim p_{data}(x)}[\log D(x)] + E_{z \sim p_{z}(z)}[\log (1 - D(G(z)))] .
$$

第一项里没有 $G$，对生成器参数的梯度恒为 0，无论它前面是什么符号。真正起作用的是第二项：生成器要让 $\log(1 - D(G(z)))$ 尽量小，\
也就是让判别器把生成样本当成真的。这就是原始 GAN 极小极大（minimax）博弈中生成器的目标。用一批噪声的平均代替期望：

$$
\mathcal{L}_G^{\text{minimax}} = \frac{1}{N}\sum_{n=1}^{N}\log\bigl(1 - \sigma(\ell_n)\bigr),\qquad \ell = D(G(z))\ \text{的 logits}\in\mathbb{R}^{N\times 1}.
$$

这正是 `minigan.losses.generator_loss(logits, "minimax")` 计算的量（注意它是**负数**：每一项都是一个小于 1 的数的对数）。

第 4.3 节的代码却没有用它，而是用全 1 标签的交叉熵，即练习 4 的非饱和（non-saturating）损失 $-\frac1N\sum\log\sigma(\ell_n)$。\
这个练习先求出 minimax 损失的梯度，再用一张图看清两者的差别。
"""),
        md(r"""
## 请你推导

1. $\partial\mathcal{L}_G^{\text{minimax}}/\partial\ell_n$（提示：$\log(1-\sigma(\ell)) = -\log(1+e^{\ell})$）；
2. 与练习 4 一样，经判别器的 `backward` 得到对生成样本的梯度，再经生成器的 `backward` 得到对参数的梯度；
3. 当判别器很有把握地判定生成样本为假，即 $\ell_n \to -\infty$、$D(G(z_n)) \to 0$ 时，第 1 步的结果会怎样？非饱和损失的呢？

<details>
<summary>推导完成后，点这里核对</summary>

$$
\begin{aligned}
\frac{\partial\mathcal{L}_G^{\text{minimax}}}{\partial\ell_n} &= -\frac{\sigma(\ell_n)}{N}
\;\xrightarrow{\ \ell_n\to-\infty\ }\; 0,
\\ \frac{\partial\mathcal{L}_G^{\text{non-sat}}}{\partial\ell_n} &= \frac{\sigma(\ell_n)-1}{N}
\;\xrightarrow{\ \ell_n\to-\infty\ }\; -\frac{1}{N}.
\end{aligned}
$$

训练初期生成器很差，判别器很容易把它的样本判为假——这时 minimax 损失几乎不给生成器任何梯度（"饱和"），\
非饱和损失却仍然给出大小约为 $1/N$ 的信号。
</details>

**数值上**也要小心：判别器被骗得很彻底时 $\ell_n$ 可能是 $+10^2$ 以上，float32 里 $\sigma(\ell_n)$ 恰好等于 1。\
如果你先对概率求导再乘 $\sigma'$，即 $-\frac{1}{N(1-p)}\cdot p(1-p)$，就会算出 $\frac{1}{0}\cdot 0 = \text{NaN}$。直接用 logits 写出的式子没有这个问题。

## 函数签名

`my_minimax_gradient(G, D, z) -> grads`：与练习 4 相同，返回与 `G.params()` 同键、同形状的字典；不要改动 `G`、`D` 和 `z`。
"""),
        code(SETUP_NETS + """
G = build_generator(z_dim=4, hidden=(8,), out_dim=2, dtype=np.float64, rng=0)
D = build_discriminator(in_dim=2, hidden=(8,), dtype=np.float64, rng=1)
z = np.random.default_rng(2).standard_normal((5, 4))
print({name: p.shape for name, p in G.params().items()})
print("D(G(z)) 的 logits:", D(G(z)).ravel())
"""),
        md("## 作答"),
        code('''
def my_minimax_gradient(G, D, z):
    """minimax 生成器损失 mean(log(1 - D(G(z)))) 对 G 参数的梯度：与 G.params() 同键的字典。"""
    # TODO 1: G 前向、D 前向，保留两个 cache
    # TODO 2: dL/dlogits（直接用 logits 表示，别经过 log(1 - p)；别忘了 1/N）
    # TODO 3: 经 D 反向得到对生成样本的梯度，再经 G 反向得到参数梯度
    raise NotImplementedError
''', tag="answer"),
        md(r"""
## 评分

与练习 4 的评分器相同的检查（float64 梯度检验、不改动输入、float32、hypothesis），外加一项：把判别器最后一层放大，\
让 $D(G(z))$ 的 logits 达到 $\pm 10^2$ 以上，在 float32 下检查梯度仍然有限、精确。
"""),
        code('check("minimax_gradient", my_minimax_gradient)', tag="grade"),
        md(reading + r"""
这个评分器专门识别的典型错误包括：求成了非饱和损失的梯度、符号反了（那是判别器对假样本的损失 BCE(logits, 0)）、漏了 $1/N$、\
对概率而不是 logits 求导、判别器饱和时经由概率计算得到 NaN、跳过了判别器、返回了判别器的参数梯度、梯度全为 0、改动了 D 的参数。
"""),
        md(r"""
## 梯度消失：看一张图

下面固定生成器和一批噪声，只平移判别器最后一层的偏置，让 $D(G(z))$ 的 logits 从 $+6$ 一路降到 $-30$（越往右，判别器越有把握地判定"这是假的"），\
画出两种损失对**生成器参数**的梯度范数（纵轴是对数刻度）。如果你的 `my_minimax_gradient` 还没写好，minimax 那条曲线用的是 minigan 自己的实现。

预期：非饱和损失的梯度基本不变；minimax 损失的梯度随 $\sigma(\ell)\approx e^{\ell}$ 指数衰减——logit 每降低 1，梯度约缩小为原来的 $1/e$。\
这就是第 4.3 节的代码用非饱和损失训练的原因（`minigan.GAN` 默认 `loss="non_saturating"`，也可以设成 `"minimax"` 亲自试试）。
"""),
        code(PLOT),
        md(r"""
参考实现见 `minigan/losses.py` 的 `generator_loss`。下一个练习：`07_adam_step.ipynb`，然后是 `08_train_step.ipynb`。
"""),
    ]


# --------------------------------------------------------------------------------------
# 08: the training step

SETUP_STEP = """\
import numpy as np

from minigan import GAN, build_discriminator, build_generator
from minigan.exercises import check
from minigan.losses import bce_with_logits, discriminator_loss, generator_loss  # noqa: F401  作答时可以用
from minigan.nn.activations import sigmoid  # noqa: F401  稳定的 sigmoid
from minigan.optim import Adam

G = build_generator(z_dim=4, hidden=(16,), out_dim=2, dtype=np.float64, rng=0)
D = build_discriminator(in_dim=2, hidden=(16,), dtype=np.float64, rng=1)
opt_G, opt_D = Adam(G.params()), Adam(D.params())      # minigan 的默认：lr=2e-4, betas=(0.5, 0.999)
rng = np.random.default_rng(2)
x_real = rng.standard_normal((8, 2)) * 0.1 + 0.5        # 一批"真实数据"
z_d = [rng.standard_normal((8, 4))]                     # k = 1 次 D 更新的噪声
z_g = rng.standard_normal((8, 4))                       # G 更新的噪声
print("opt_D 的状态键:", list(opt_D.state_dict())[:8], "...")
"""

LOOP = r'''
import matplotlib.pyplot as plt


# 第 9 步：重复。8 个高斯团排成一圈，训练 1500 步。
def ring(rng, n):
    angle = rng.integers(0, 8, n) * (2 * np.pi / 8)
    return (0.7 * np.stack([np.cos(angle), np.sin(angle)], 1) + 0.05 * rng.standard_normal((n, 2))).astype(np.float32)

rng = np.random.default_rng(0)
G = build_generator(z_dim=4, hidden=(64, 64), out_dim=2, rng=1)     # float32，和真正训练时一样
D = build_discriminator(in_dim=2, hidden=(64, 64), rng=2)
opt_G, opt_D = Adam(G.params(), lr=1e-3), Adam(D.params(), lr=1e-3)
gan = GAN(G, D, z_dim=4, g_optimizer=opt_G, d_optimizer=opt_D)     # 只用来采样噪声，和备用
try:
    my_train_step(G, D, opt_G, opt_D, ring(rng, 64), [gan.sample_noise(64)], gan.sample_noise(64))
    step, who = my_train_step, "my_train_step"
except NotImplementedError:
    step, who = None, "GAN.train_step（你的函数还没写好）"
history = []
for _ in range(1500):
    x = ring(rng, 64)
    if step is None:
        history.append(gan.train_step(x).as_dict())
    else:
        history.append(step(G, D, opt_G, opt_D, x, [gan.sample_noise(64)], gan.sample_noise(64)))

fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
a.plot([h["d_loss"] for h in history], label="d_loss")
a.plot([h["g_loss"] for h in history], label="g_loss")
a.set_xlabel("step")
a.legend()
a.set_title("losses")
real, fake = ring(rng, 500), G(gan.sample_noise(500))
b.scatter(*real.T, s=4, alpha=0.4, label="real")
b.scatter(*fake.T, s=4, alpha=0.4, label="G(z)")
b.set_aspect("equal")
b.legend()
b.set_title("after 1500 steps")
plt.show()
print("训练用的是", who)
'''


def train_step_cells(reading: str) -> list:
    return [
        md(r"""
# 练习 8：一个完整的训练步

前面的练习分别求出了判别器的梯度（练习 5）和穿过判别器的生成器梯度（练习 4、6），练习 7 实现了 Adam。\
现在把它们拼成 GAN 的一个训练步。文章第 3.3 节"生成模型的训练"把它列成九步，原文如下：

> 1. 随机生成一组随机噪声。
> 2. 将随机噪声输入生成器，生成一组图像。
> 3. 将生成的图像输入判别器，获取判断结果。
> 4. 计算生成器的损失，如均方误差（MSE）、交叉熵（Cross-entropy）等。
> 5. 优化生成器的参数，使损失最小。
> 6. 将生成的图像与真实数据混合，获取新的判断结果。
> 7. 将新的判断结果输入判别器，计算判别器的损失，如交叉熵等。
> 8. 优化判别器的参数，使损失最小。
> 9. 重复步骤1-8，直到生成器和判别器的参数收敛。
>
> ——文章第 3.3 节

这份清单要落到代码上，还有几处必须定下来。minigan 的 `GAN.train_step`（`minigan/gan.py`）是这样定的，本练习以它为准：

- **顺序**：第 3.3 节的编号是先生成器（1–5）后判别器（6–8）。第 4.3 节的代码、Goodfellow 等人的算法 1 以及 minigan 的默认\
（`order="d_first"`）都是**先更新判别器，再用更新后的判别器训练生成器**。本练习按 `d_first` 评分。
- **k 次判别器更新**：`GAN(d_steps=k)` 在每次生成器更新之前做 k 次判别器更新，每次用同一批真实数据、一批新噪声。
- **噪声**：第 4.3 节代码的两次 `sess.run` 喂的是同一个 `noise`；minigan（和算法 1）在更新生成器前**重新采样**一批噪声。\
为了让评分器能复现你的每一步，噪声由调用者传入：第 i 次判别器更新用 `z_d[i]`，生成器更新用 `z_g`。
- **损失**：判别器最小化 $\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)$（练习 5）；生成器最小化非饱和损失 $\mathrm{BCE}(D(G(z)), 1)$（练习 4）。\
两个损失都直接从 logits 计算（`minigan.losses`）。
- **单侧标签平滑**（one-sided label smoothing）：`real_label < 1` 时（例如 0.9），判别器对真实样本的标签换成 `real_label`；\
生成样本的标签仍是 0，生成器的目标仍是 1。
- **谁更新谁**：判别器那一步只更新 D——生成样本对 D 来说只是输入数据，梯度不传回 G（TensorFlow 里叫 `stop_gradient`，PyTorch 里叫 `detach`）；\
生成器那一步的梯度要**穿过** D 才能到达 G，但 D 的参数不变。
- **优化**：第 5、8 步的"优化参数"就是调用一次优化器：`opt_D.step(grads)`、`opt_G.step(grads)`。优化器原地更新参数，\
并保存跨步的状态（动量、Adam 的 $m$、$v$、$t$）。NumPy 里每次反向都返回新的梯度数组，不需要"清零"；但如果你自己把梯度累加进一个字典，就要记得每次更新前清零。
"""),
        md(r"""
## 写成算法

$$
\begin{aligned}
&\textbf{for } i = 1, \dots, k:
\\ &\qquad \tilde{x} = G(z_d^{(i)}),\quad r = D(x_{\text{real}}),\quad f = D(\tilde{x})
\\ &\qquad \mathcal{L}_D = \mathrm{BCE}(r, y_{\text{real}}) + \mathrm{BCE}(f, 0)
\\ &\qquad \theta_D \leftarrow \text{opt}_D\text{.step}\bigl(\nabla_{\theta_D}\mathcal{L}_D\bigr)
\\ &\tilde{x} = G(z_g),\quad \ell = D(\tilde{x})\quad(\text{用更新后的 } D)
\\ &\mathcal{L}_G = \mathrm{BCE}(\ell, 1)
\\ &\theta_G \leftarrow \text{opt}_G\text{.step}\bigl(\nabla_{\theta_G}\mathcal{L}_G\bigr)
\\ &\qquad(\text{梯度穿过 } D，\theta_D \text{ 不变})
\end{aligned}
$$

## 函数签名

`my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict`

| 参数 | 含义 |
|---|---|
| `G`, `D` | minigan 的生成器、判别器（D 输出 logits） |
| `opt_G`, `opt_D` | minigan 的优化器（`Adam`、`SGD`），分别建在 `G.params()`、`D.params()` 上 |
| `x_real` | 一批真实数据，形状 $(N, d)$ |
| `z_d` | 列表，k 批噪声，每批形状 $(N, d_z)$；k = `len(z_d)` 就是判别器的更新次数 |
| `z_g` | 生成器更新用的噪声，形状 $(N, d_z)$ |
| `real_label` | 判别器对真实样本的标签（1.0，或用于单侧标签平滑的 0.9 之类） |

返回一个字典，键与 `GAN.train_step(x).as_dict()` 相同：

- `"d_loss"`：最后一次判别器更新**之前**算出的 $\mathcal{L}_D$；
- `"g_loss"`：生成器那一步的 $\mathcal{L}_G$；
- `"d_real"`、`"d_fake"`：最后一次判别器更新之前，$D$ 对真实批、生成批给出的**平均概率** $\frac1N\sum\sigma(\cdot)$。

不要改动 `x_real`、`z_d`、`z_g`；参数只通过 `opt_G.step`、`opt_D.step` 原地更新。
"""),
        code(SETUP_STEP),
        md("## 作答"),
        code('''
def my_train_step(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0):
    """GAN 的一个训练步：先 len(z_d) 次更新 D，再更新一次 G。返回 d_loss、g_loss、d_real、d_fake。"""
    # TODO 1（第 6-8 步，共 k 次）：对每批 z in z_d：用 G 生成样本；D 对 x_real 和生成样本各前向一次；
    #         算判别器损失（真实标签 real_label、生成标签 0）和对 D 参数的梯度；opt_D.step 一次；
    #         记下这次更新之前的 d_loss、d_real、d_fake
    # TODO 2（第 1-3 步）：用 z_g 和更新后的 D：G 前向、D 前向，保留两个 cache
    # TODO 3（第 4-5 步）：生成器损失 BCE(logits, 1)，梯度穿过 D 回到 G（D 不更新），opt_G.step 一次
    # TODO 4：返回 {"d_loss": ..., "g_loss": ..., "d_real": ..., "d_fake": ...}
    raise NotImplementedError
''', tag="answer"),
        md(r"""
## 评分

评分器把你的函数和 minigan 的 `GAN.train_step`（把它的噪声换成同样的 `z_d`、`z_g`）从**同一份状态的两份拷贝**出发各跑一遍，然后比较：\
两个网络的全部参数、两个优化器的全部状态（`state_dict()`：步数、动量、Adam 的 $m$、$v$）、返回的四个数。用例包括：SGD（带动量）\
连续两步；k = 2、`real_label = 0.9`、Adam 连续两步；一个 logits 达 $\pm 10^2$ 以上的饱和判别器（float32）；以及 hypothesis 的随机用例。

结果不一致时，评分器会从同一份状态出发，把每一种典型错误也跑一遍，看看你的结果和哪一种一模一样，从而说出错在哪里。
"""),
        code('check("train_step", my_train_step)', tag="grade"),
        md(reading + r"""
这个评分器专门识别的典型错误包括：生成器那一步用了判别器那一步的噪声（或反过来）、k 次判别器更新共用同一批噪声、梯度累加而没有清零、\
生成器那一步顺带更新了 D、判别器那一步的梯度传回并更新了 G（没有 detach）、判别器把生成样本的标签写成 1、先更新 G 再更新 D、\
用更新前的 D 算生成器的梯度、生成器用了 minimax 损失、标签平滑用在了两边或被忽略、每次 D 更新调用两次 `opt_D.step`、\
没有用传入的优化器、饱和时经由概率计算得到 NaN、报告了 logits 而不是概率。
"""),
        md(r"""
## 第 9 步：重复

下面用你的 `my_train_step`（还没写好时用 `GAN.train_step`）在一个二维玩具数据集上训练 1500 步：8 个高斯团排成一圈。\
左图是两个损失，右图是训练后的生成样本。注意这里每步都为 G 重新采样噪声，与评分时一致。
"""),
        code(LOOP),
        md(r"""
参考实现见 `minigan/gan.py` 的 `GAN.d_step`、`GAN.g_step` 和 `GAN.train_step`。
"""),
    ]
