"""Chapter 3 notebook: 核心算法原理和具体操作步骤以及数学模型公式详细讲解 (article section 3: 3.1-3.4)."""

# ruff: noqa: E501

from _cells import code, md, setup

TITLE = "03_algorithm"

CELLS = [
    md(r"""
# 3 核心算法原理和具体操作步骤以及数学模型公式详细讲解

本 notebook 对应文章 §3 的四个小节，是整个系列的核心。文章在这里用文字描述了生成器、判别器、九个训练步骤和两个损失函数；
这里把每一句都变成能运行的代码：

- **3.1、3.2**：按文章 §4 的网络结构（G：100-128-128-128-784，D：784-128-128-128-1，leaky ReLU 斜率 0.2）逐层执行前向传播，
  打印每一层的形状和参数个数；推导每一种层的反向传播，并用有限差分在 float64 下逐一检验；
- **3.3**：在 `mnist5k` 的一批真实数字上，把文章的九个步骤一步一步执行，打印每一步的数值；
- **3.4**：先照抄文章的两个损失公式，再逐条更正，并用图和数字说明为什么要更正。
"""),
    setup(r'''
import copy

from minigan.data import load
from minigan.gan import GAN, build_discriminator, build_generator
from minigan.gradcheck import away_from_kink, check_function, check_loss, check_module, numerical_gradient
from minigan.losses import bce_with_logits, discriminator_loss, generator_loss
from minigan.metrics import mode_coverage
from minigan.nn import Dense, LeakyReLU, Sequential, Sigmoid, Tanh, sigmoid
from minigan.optim import SGD, Adam
from minigan.selfcheck import discriminator_real_and_fake, generator_through_discriminator
from minigan.viz import image_grid

digits = load("mnist5k", split="train", seed=0)
print(digits)
print("fast mode" if FAST else "full run")
'''),
    md(r"""
## 3.1 生成器（Generator）

文章 §3.1 说：生成器由多个隐藏层和激活函数（文章举的是 sigmoid、tanh）组成，输入随机噪声，输出图像；
四个步骤是接收噪声、逐层传递、每层做非线性变换、由“最后一个隐藏层”输出图像。对照文章 §4.1 的代码，有两处要改：

- 产生图像的是**输出层**，不是隐藏层：隐藏层的输出是网络内部的中间结果，最后一层的输出 $G(z)$ 就是图像本身。
- §4.1 的代码在三个隐藏层用的是 leaky ReLU（`tf.nn.leaky_relu`，默认斜率 $\alpha = 0.2$），只在输出层用 $\tanh$；
  sigmoid 根本没有出现。下面会量出这个选择的理由。

“每层做非线性变换”的准确含义是：先做一次仿射变换（全连接层 $h W + b$），再对每个元素施加激活函数。

### 前向传播，逐层

`build_generator()` 按文章 §4.1 的结构搭网络（权重按 TF1 `tf.layers.dense` 的默认方式，Glorot 均匀分布初始化，偏置为 0）。
下面喂入一批 $N = 64$ 个 100 维标准正态噪声，逐层打印输出的形状、参数个数和数值范围。
"""),
    code(r'''
def walk(net, x, name):
    """逐层执行 net 的前向传播，打印每层的输出形状、参数个数和数值统计。"""
    print(f"{name}: input {x.shape}, mean {x.mean():+.3f}, std {x.std():.3f}")
    print(f"  {'layer':24s} {'output':>10s} {'params':>8s}   {'mean':>7s} {'std':>6s}  range")
    for i, m in enumerate(net.modules):
        x = m(x)
        print(f"  ({i}) {m!r:20s} {str(x.shape):>10s} {m.num_params():8,d}   {x.mean():+7.3f} {x.std():6.3f}  [{x.min():+.2f}, {x.max():+.2f}]")
    print(f"  total parameters: {net.num_params():,}")
    return x


G = build_generator(100, (128, 128, 128), 784, alpha=0.2, rng=0)
z = np.random.default_rng(0).standard_normal((64, 100)).astype(np.float32)
fake = walk(G, z, "G")
'''),
    md(r"""
**注意：**

- 每个全连接层的参数是 $n_{in}\times n_{out}$ 个权重加 $n_{out}$ 个偏置：
  $(100\cdot128+128) + 2\,(128\cdot128+128) + (128\cdot784+784) = 12\,928 + 2\cdot 16\,512 + 101\,136 = 147\,088$。
  激活函数没有参数。
- 形状的变化是 $(64, 100) \to (64, 128) \to (64, 128) \to (64, 128) \to (64, 784)$：批量维始终不变，每一行是一个样本。
- 最后的 $\tanh$ 把输出压进 $(-1, 1)$，与缩放后的像素范围一致。未训练的生成器输出集中在 0 附近（标准差很小），
  看上去是一片均匀的灰色噪点：
"""),
    code(r'''
fig, ax = plt.subplots(figsize=(5, 1.4))
ax.imshow(image_grid(fake[:8], (28, 28), ncols=8), cmap="gray", vmin=0, vmax=255)
ax.set_title("untrained G(z): 8 samples", fontsize=9)
ax.axis("off")
plt.show()
'''),
    md(r"""
### 为什么隐藏层不用 sigmoid

文章 §3.1 提到的 sigmoid 的导数 $\sigma'(u) = \sigma(u)(1-\sigma(u)) \le 1/4$，$\tanh$ 的导数 $1-\tanh^2 u \le 1$，
两者在 $|u|$ 较大时都趋于 0；leaky ReLU 的导数只取 $1$ 或 $\alpha$。反向传播每经过一层就要乘一次导数，
层数一多差别就很明显。用同样的权重、同一个从输出端传回来的梯度，只换隐藏层的激活函数，比较到达第一层权重的梯度大小：
"""),
    code(r'''
def generator_with(activation):
    """文章 §4.1 的结构，隐藏层的激活函数换成 activation（权重与上面的 G 相同）。"""
    layers = []
    for m in G.modules:
        layers.append(copy.deepcopy(m) if isinstance(m, (Dense, Tanh)) else activation())
    return Sequential(*layers)


dy = np.random.default_rng(1).standard_normal((64, 784)).astype(np.float32) / 64  # 同一个上游梯度
print(f"{'hidden activation':18s} {'|dL/dW| at layers 0, 2, 4, 6 (Frobenius norm)':>52s}")
for name, act in (("leaky ReLU 0.2", lambda: LeakyReLU(0.2)), ("tanh", Tanh), ("sigmoid", Sigmoid)):
    net = generator_with(act)
    out, cache = net.forward(z)
    _, grads = net.backward(dy, cache)
    norms = [np.linalg.norm(grads[f"{i}.W"]) for i in (0, 2, 4, 6)]
    print(f"{name:18s} " + "  ".join(f"{v:10.2e}" for v in norms))
'''),
    md(r"""
**注意：** 最后一层（第 6 层）的梯度三者相近；越往输入端走，sigmoid 网络的梯度缩得越厉害，到第一层已比 leaky ReLU 小
一到两个数量级。tanh 在这个初始化下表现与 leaky ReLU 相当（Glorot 初始化让各层的输入大多落在 tanh 的线性区），
但输入一旦变大同样会饱和。文章 §4.1 代码的选择（隐藏层 leaky ReLU、输出层 $\tanh$）是对的，§3.1 的文字描述却指向了更差的选项。

### 反向传播的推导

每一层都遵循同一个约定：`y, cache = m.forward(x)` 返回输出和反向传播需要的缓存；给定上游梯度
$\bar Y = \partial L/\partial Y$（与 $Y$ 同形），`dx, grads = m.backward(dy, cache)` 返回 $\partial L/\partial X$ 和对参数的梯度。

**全连接层** $Y = XW + \mathbf{1}b^\top$，$X\in\mathbb{R}^{N\times n}$，$W\in\mathbb{R}^{n\times m}$。逐元素写出
$Y_{kj} = \sum_i X_{ki}W_{ij} + b_j$，于是

$$
\frac{\partial L}{\partial W_{ij}} = \sum_k \bar Y_{kj} X_{ki}, \qquad
\frac{\partial L}{\partial X_{ki}} = \sum_j \bar Y_{kj} W_{ij}, \qquad
\frac{\partial L}{\partial b_j} = \sum_k \bar Y_{kj},
$$

写成矩阵就是 $\bar W = X^\top \bar Y$，$\bar X = \bar Y W^\top$，$\bar b$ 是 $\bar Y$ 按行求和（偏置被广播到 $N$ 行，梯度就要把 $N$ 行加回来）。
缓存只需要 $X$。

**leaky ReLU** $y = \max(u, \alpha u)$（$0 \le \alpha \le 1$），逐元素作用，所以 $\bar U = \bar Y \odot \phi'(U)$，

$$
\phi'(u) = \begin{cases} 1, & u > 0 \\ \alpha, & u \le 0 \end{cases}
$$

$u = 0$ 处不可导，minigan 取 $\alpha$。有限差分在这个折点附近会失效，所以检验用的输入要离开 0（`away_from_kink`）。

**tanh** $y = \tanh u$：$\dfrac{dy}{du} = 1 - \tanh^2 u = 1 - y^2$，所以 $\bar U = \bar Y\odot(1 - Y^2)$，缓存输出 $Y$ 即可。

### 逐层检验（float64）

`check_module` 取 $L = \sum Y \odot \bar Y$（$\bar Y$ 随机），逐个扰动输入和参数的每个元素 $w$，用**四阶**中心差分估计偏导数：

$$
\begin{aligned}
\frac{\partial L}{\partial w} &\approx \frac{1}{12\,h}\Big[\,8\big(L(w+h) - L(w-h)\big) \\ &\qquad\quad - \big(L(w+2h) - L(w-2h)\big)\Big],
\\ h &= 10^{-4}\max(1, |w|) .
\end{aligned}
$$

它的截断误差是 $O(h^4)$（约 $10^{-16}$），比两点公式 $\big(L(w+h) - L(w-h)\big)/2h$ 的 $O(h^2)$ 小得多，所以步长可以取得较大，
随 $1/h$ 增长的舍入误差也就停在 $10^{-12}$ 左右。数值结果 $n$ 与 `backward` 给出的 $a$ 逐元素比较相对误差
$|a - n| / \max(|a| + |n|,\ \text{floor})$，其中的下限 floor 就是**噪声底**：四个函数值各带约 $\varepsilon|L|$ 的舍入误差
（float64 的 $\varepsilon \approx 2.2\times10^{-16}$），按公式的系数 $1, 8, 8, 1$ 加权后除以 $12h$，得到这个差分本身能分辨的最小绝对误差 noise；
floor 取 $\max(10^{-8},\ \text{noise}/10^{-7})$。这样，一个因正负抵消而本身很小的梯度元素，只要与数值结果的差在舍入噪声以内就算通过；
而少了转置、漏了 $1/N$ 这类真正的错误，误差仍在 1 附近。
最后一行检查“可重入”：两次前向之间插入另一批数据，第一次的反向传播结果不变（缓存不存放在层对象上）。
"""),
    code(r'''
rng = np.random.default_rng(0)
x_test = away_from_kink(rng.standard_normal((6, 5)))  # float64，离开 leaky ReLU 的折点
for module in (Dense(5, 4, dtype=np.float64, rng=rng), LeakyReLU(0.2), Tanh()):
    print(check_module(module, x_test, rng=rng), end="\n\n")
'''),
    md(r"""
**注意：** 相对误差在 $10^{-11}$ 上下，远低于阈值 $10^{-7}$。一个典型的错误（少了转置、漏掉偏置的求和、用错缓存）
会让误差变成 $10^{-1}$ 量级，一眼就能看出来。

> **练习**：第 8 章的两层各有一个配套练习，是手写神经网络时最经典的两个反向传播推导：[`10_batchnorm_backward.ipynb`](exercises/10_batchnorm_backward.ipynb) 推导并实现批归一化的反向传播（均值和方差也随输入变化），[`11_conv_backward.ipynb`](exercises/11_conv_backward.ipynb) 实现带步长和补零的卷积层（重叠的块，梯度要相加）。评分器用上面的梯度检验核对，并指出错在哪里。

## 3.2 判别器（Discriminator）

文章 §3.2 的描述与 3.1 平行，两处需要改：

- 判别器的输入**既有生成的图像，也有真实的图像**（文章只说了前者）。只见过假图的判别器不知道“真”是什么样。
- 输出层只有一个单元，输出 logit $a$，没有激活函数；概率 $D(x) = \sigma(a)$（文章 §4.2 的代码就是这样写的）。
  同样，输出判断结果的是输出层，不是隐藏层。

### 前向传播，逐层

输入 8 张真实数字和上面生成器的 8 个输出，拼成一个 $(16, 784)$ 的批量：
"""),
    code(r'''
D = build_discriminator(784, (128, 128, 128), alpha=0.2, rng=0)
batch = np.concatenate([digits.x[:8], fake[:8]])
logits = walk(D, batch, "D")
print("\nD(x)    on 8 real digits:", sigmoid(logits[:8]).ravel().round(3))
print("D(G(z)) on 8 fakes:      ", sigmoid(logits[8:]).ravel().round(3))
'''),
    md(r"""
**注意：** 参数个数 $(784\cdot128+128) + 2\,(128\cdot128+128) + (128\cdot1+1) = 133\,633$。
未训练的判别器对生成器那些接近 0 的输出给出 $0.5$ 左右的概率，对真实数字却给出 $0.7$–$0.9$：
这并不说明它已经“认得”真图，只是真实数字的像素大多是 $-1$，输入的模长大得多，logit 的绝对值也就大。
未训练时 $D(x)$ 的具体数值没有意义。

### 反向传播的推导：sigmoid 与从 logit 计算的交叉熵

**sigmoid** $\sigma(a) = 1/(1+e^{-a})$：$\sigma'(a) = \dfrac{e^{-a}}{(1+e^{-a})^2} = \sigma(a)\,(1-\sigma(a))$。

**二元交叉熵（BCE）**：标签 $y\in\{0,1\}$（真图为 1、假图为 0），单个样本的损失
$\ell = -y\log\sigma(a) - (1-y)\log(1-\sigma(a))$。用 $\operatorname{softplus}(u) = \log(1+e^u)$ 改写：

$$
\begin{aligned}
\log\sigma(a) &= -\operatorname{softplus}(-a), \\ 
\log(1-\sigma(a)) &= -\operatorname{softplus}(a), \\ 
\operatorname{softplus}(-a) &= \operatorname{softplus}(a) - a ,
\end{aligned}
$$

于是 $\ell(a, y) = \operatorname{softplus}(a) - y\,a$。求导，$\operatorname{softplus}'(a) = \sigma(a)$：

$$
\frac{\partial \ell}{\partial a} = \sigma(a) - y ,
$$

对一批 $N$ 个取平均，每个 logit 的梯度就是 $(\sigma(a_i) - y_i)/N$。这个形式不需要先算出概率再取对数；
数值上稳定的写法 $\operatorname{softplus}(a) = \max(a, 0) + \log(1 + e^{-|a|})$ 里，指数的自变量永远不为正（3.4 节会看到不这样做的后果）。

判别器的损失是两批各自的平均之和：$\mathcal{L}_D = \frac1N\sum_i \ell(a^{r}_i, 1) + \frac1N\sum_j \ell(a^{f}_j, 0)$；
生成器的两种损失（3.4 节详细讨论）都只依赖假图的 logit。
"""),
    code(r'''
rng = np.random.default_rng(1)
print(check_module(Sigmoid(), away_from_kink(rng.standard_normal((6, 3)) * 3), rng=rng), end="\n\n")
logits_test = rng.standard_normal((8, 1)) * 3
print(check_loss(bce_with_logits, logits_test, rng.random((8, 1))), end="\n\n")
print(check_loss(discriminator_loss, logits_test, rng.standard_normal((5, 1)) * 3), end="\n\n")
for kind in ("non_saturating", "minimax"):
    print(check_loss(generator_loss, logits_test, kind=kind, title=f"gradient check: generator_loss, kind={kind!r}"), end="\n\n")
'''),
    md(r"""
### 生成器的梯度要穿过判别器

生成器的损失写在判别器的输出上：$\mathcal{L}_G(\theta) = \frac1N\sum_i \ell_G\big(f_D(G_\theta(z_i))\big)$。链式法则给出

$$
\frac{\partial \mathcal{L}_G}{\partial \theta}
= \sum_i \frac{\partial \mathcal{L}_G}{\partial a_i}\,
\frac{\partial a_i}{\partial x_i}\,
\frac{\partial x_i}{\partial \theta},
\qquad x_i = G_\theta(z_i),\; a_i = f_D(x_i).
$$

实现上就是三次调用：损失给出 $\partial\mathcal{L}_G/\partial a$；`D.backward` 把它传到判别器的**输入**，得到
$\partial\mathcal{L}_G/\partial x$（判别器对自己参数的梯度在这一步用不到）；`G.backward` 再传到生成器的参数。
只检查判别器的梯度是不够的：生成器的梯度若有错（例如判别器的反向传播没有返回对输入的梯度），判别器照样能训练，
只是生成器学不到东西。下面在文章原尺寸的网络上（float64，每个参数矩阵随机抽 30 个元素）检验整条链，
再检验判别器同一步里对真、假两批数据各做一次前向和反向时，梯度之和是否正确。
"""),
    code(r'''
MAX_ENTRIES = 5 if FAST else 30
rng = np.random.default_rng(2)
G64 = build_generator(100, (128, 128, 128), 784, dtype=np.float64, rng=rng)
D64 = build_discriminator(784, (128, 128, 128), dtype=np.float64, rng=rng)
z64 = rng.standard_normal((8, 100))
for kind in ("non_saturating", "minimax"):
    f, grads = generator_through_discriminator(G64, D64, z64, kind)
    print(check_function(f, G64.params(), grads, max_entries=MAX_ENTRIES,
                         title=f"L_G ({kind}) through D, w.r.t. G's parameters"), end="\n\n")
real64 = digits.x[:8].astype(np.float64)
f, grads = discriminator_real_and_fake(D64, real64, G64(z64))
print(check_function(f, D64.params(), grads, max_entries=MAX_ENTRIES, title="L_D on a real and a fake batch, w.r.t. D's parameters"))
'''),
    md(r"""
**注意：** 整条链（生成器 4 层、判别器 4 层、损失）的误差在 $10^{-8}$ 左右，仍远低于阈值。这里的误差比单层大一些，
因为一个元素的扰动要经过八层、上千次乘加才影响到损失，舍入误差随之累积。

> **练习**：[`04_generator_gradient.ipynb`](exercises/04_generator_gradient.ipynb) 让你自己写出非饱和损失 $-\log D(G(z))$
> 穿过判别器、到达生成器参数的梯度；[`05_discriminator_gradient.ipynb`](exercises/05_discriminator_gradient.ipynb)
> 写出判别器的损失 $\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)$ 和它对判别器参数的梯度（真、假两批各反向一次再相加）。
> 两者都由评分器自动核对。

## 3.3 生成模型的训练

文章 §3.3 列出九个步骤：第 1–3 步抽噪声、生成图像、交给判别器；第 4–5 步算生成器的损失（文章举了均方误差和交叉熵）
并更新生成器；第 6–8 步把生成的图像与真实数据放在一起交给判别器，算判别器的交叉熵损失并更新判别器；
第 9 步重复以上各步，直到参数收敛。

下面就按文章的编号，在一批 64 张真实数字上把它们逐个执行一遍（文章原尺寸的网络，float32，Adam，学习率 $2\times10^{-4}$，$\beta_1 = 0.5$）。
生成器的损失先用文章 §4.3 代码里的那一个（对生成图像的 logit 取标签 1 的交叉熵），第 4 步的 MSE 放到后面单独讨论。
"""),
    code(r'''
rng = np.random.default_rng(3)
G = build_generator(rng=rng)
D = build_discriminator(rng=rng)
g_opt, d_opt = Adam(G.params(), lr=2e-4, betas=(0.5, 0.999)), Adam(D.params(), lr=2e-4, betas=(0.5, 0.999))
N = 64

# 第 1 步：随机噪声
z = rng.standard_normal((N, 100)).astype(np.float32)
print(f"step 1  z:        shape {z.shape}, mean {z.mean():+.3f}, std {z.std():.3f}")
# 第 2 步：噪声送入生成器，得到一批图像（保留缓存，第 5 步反向传播要用）
fake, g_cache = G.forward(z)
print(f"step 2  G(z):     shape {fake.shape}, range [{fake.min():+.3f}, {fake.max():+.3f}]")
# 第 3 步：生成的图像送入判别器
fake_logits, d_cache = D.forward(fake)
print(f"step 3  D(G(z)):  shape {fake_logits.shape}, mean {sigmoid(fake_logits).mean():.4f}")
'''),
    code(r'''
# 第 4 步：生成器的损失 -mean log D(G(z))，以及它对每个 logit 的梯度 (sigmoid(a) - 1) / N
g_loss, d_logits = generator_loss(fake_logits, "non_saturating")
print(f"step 4  L_G = {g_loss:.4f}  (log 2 = {np.log(2):.4f}: D 对每张假图都给 0.5 时的值)")
print(f"        dL_G/da: shape {d_logits.shape}, mean {d_logits.mean():+.5f}  (≈ (0.5 - 1) / 64 = {-0.5 / 64:+.5f})")

# 第 5 步：梯度穿过判别器（只要对输入的梯度）回到生成器，只更新生成器
d_params_before = {k: v.copy() for k, v in D.params().items()}
g_params_before = {k: v.copy() for k, v in G.params().items()}
d_fake_input, _ = D.backward(d_logits, d_cache)        # dL_G/dG(z): (64, 784)；D 的参数梯度丢弃不用
_, g_grads = G.backward(d_fake_input, g_cache)
g_opt.step(g_grads)
print(f"step 5  dL_G/dG(z): shape {d_fake_input.shape}; G's gradient has {len(g_grads)} arrays")
print("        D's parameters unchanged:", all(np.array_equal(d_params_before[k], v) for k, v in D.params().items()))
print(f"        G's parameters moved by at most {max(np.abs(g_params_before[k] - v).max() for k, v in G.params().items()):.1e}")
print(f"        same z, after G's update: mean D(G(z)) {sigmoid(fake_logits).mean():.4f} -> {sigmoid(D(G(z))).mean():.4f}")
'''),
    code(r'''
# 第 6 步：生成的图像与一批真实图像一起送入判别器。按文章的顺序，这里的“生成的图像”是第 2 步那批，
# 它们出自更新之前的生成器。
real = digits.x[rng.integers(0, len(digits.x), N)]
real_logits, real_cache = D.forward(real)
stale_logits, stale_cache = D.forward(fake)
print(f"step 6  real batch {real.shape}: mean D(x) {sigmoid(real_logits).mean():.4f};"
      f" step-2 fakes: mean D(G_old(z)) {sigmoid(stale_logits).mean():.4f};"
      f" the updated G would give {sigmoid(D(G(z))).mean():.4f}")

# 第 7 步：判别器的损失 BCE(D(x), 1) + BCE(D(G(z)), 0)
d_loss, d_real, d_fake = discriminator_loss(real_logits, stale_logits)
print(f"step 7  L_D = {d_loss:.4f}  (2 log 2 = {2 * np.log(2):.4f}: D 处处给 0.5 时的值)")

# 第 8 步：两批各自反向传播，梯度相加，只更新判别器
g_params_before = {k: v.copy() for k, v in G.params().items()}
_, grads_real = D.backward(d_real, real_cache)
_, grads_fake = D.backward(d_fake, stale_cache)
d_opt.step({k: grads_real[k] + grads_fake[k] for k in grads_real})
print("step 8  G's parameters unchanged:", all(np.array_equal(g_params_before[k], v) for k, v in G.params().items()))
print(f"        after D's update: mean D(x) {sigmoid(real_logits).mean():.4f} -> {sigmoid(D(real)).mean():.4f},"
      f" mean D(G_old(z)) {sigmoid(stale_logits).mean():.4f} -> {sigmoid(D(fake)).mean():.4f}")
'''),
    md(r"""
**注意：**

- 第 4 步的损失约等于 $\log 2$：未训练的判别器对生成的图像给 $0.5$ 左右。第 7 步比 $2\log 2$ 大，是因为这个随机初始化的判别器
  碰巧给真实数字打了偏低的分（第 6 步 $D(x)\approx 0.4$）。$\log 2$ 与 $2\log 2$ 是“判别器毫无把握”时的值，读损失曲线时是有用的参照。
- 第 5 步只动了生成器，判别器的参数逐位不变；第 8 步反过来。两个网络各有一个优化器、各管各的参数。
  文章 §4.3 的代码里两个优化器都没有限定要更新的变量（TF1 的 `var_list`），第 4 章会说明这会造成什么问题。
- 每次更新后，对应的概率都往“自己想要”的方向移动了一点：生成器更新后 $D(G(z))$ 上升，判别器更新后 $D(x)$ 上升、$D(G(z))$ 下降。
- 判别器的反向传播在一步里做了两次（真、假各一次），每次用自己的缓存；3.2 节最后一个检验保证了这样做的梯度之和是对的。

> **练习**：[`08_train_step.ipynb`](exercises/08_train_step.ipynb) 请你不看上面的代码，自己把这九个步骤写成一个训练步，
> 评分器把你的结果与 minigan 的 `GAN.train_step` 对照。

### 顺序：先更新谁？

文章 §3.3 的编号是先更新生成器（第 1–5 步）、再更新判别器（第 6–8 步）。但文章自己 §4.3 的代码先运行 `D_optimizer`，
Goodfellow 等人（2014）的 Algorithm 1 也是每一轮先做 $k$ 次判别器更新、再做一次生成器更新。
照文章的编号执行，还会出现上面第 6 步看到的情形：判别器学习的“假图”出自**更新前**的生成器。

minigan 的 `GAN.train_step` 默认先判别器后生成器（`order="d_first"`），`order="g_first"` 按文章的编号。
两种顺序长期交替下来差别多大？在第 1 章的 `ring` 上各训练两次：
"""),
    code(r'''
ring = load("ring", n=20_000, seed=0)
RING_STEPS = 60 if FAST else 3000


def train_ring(order, seed):
    r = np.random.default_rng(seed)
    g = build_generator(4, (64, 64, 64), 2, output="linear", rng=r)
    d = build_discriminator(2, (64, 64, 64), rng=r)
    gan = GAN(g, d, z_dim=4, order=order, g_optimizer=Adam(g.params(), lr=1e-3), d_optimizer=Adam(d.params(), lr=1e-3), rng=r)
    for step in range(RING_STEPS):
        if step == int(0.6 * RING_STEPS):
            gan.g_opt.lr = gan.d_opt.lr = 1e-4
        gan.train_step(ring.x[r.integers(0, len(ring.x), 256)])
    return mode_coverage(gan.sample(2500), ring.centres, ring.std)


for order in ("d_first", "g_first"):
    for seed in (1, 2):
        print(f"order={order:8s} seed={seed}: {train_ring(order, seed)}")
'''),
    md(r"""
**注意：** 两种顺序都覆盖了全部 8 个模式；高质量样本的比例和反向 KL 互有高低，只凭两个随机种子分不出哪一种更好。
顺序不是决定成败的因素，但文章的编号与它自己的代码、与原始论文都不一致，照着实现时应当以“先判别器、后生成器”为准。
"""),
    md(r"""
### 训练查看器：$D(x)$ 的场和生成器收到的推力

上面只在训练结束时看了一眼结果。第 9 步“重复以上各步”的过程中，两个网络怎样互相推动，在二维数据上可以一帧一帧画出来
（思路来自 GAN Lab，Kahng 等，2018）。`minigan.viewer.TrainingRecorder` 在训练途中拍若干张“快照”，每一帧包含：

- **点**：黑点是真实数据（ring 的 8 个模式）；金色点是**同一批固定噪声** $z$ 经当前生成器得到的 $G(z)$，所以点的移动只来自 $G$ 的变化。
- **背景**：判别器在一张 $48\times48$ 网格上的输出 $D(x)$，即它认为 $x$ 是真实数据的概率，分十档着色：蓝色接近 1，红色接近 0，最浅的蓝与最浅的红交界处是 $D = 1/2$。
- **箭头**：每个生成点受到的推力 $-\partial \ell_G/\partial x$（在 $x = G(z)$ 处），$\ell_G$ 是这个点的生成器损失，默认是非饱和损失 $-\log D(x)$。
  它就是第 5 步里穿过判别器传回来的梯度 $\partial\mathcal{L}_G/\partial G(z)$（上面打印过形状的 `d_fake_input`）取负号、乘以批量大小 $N$；
  生成器的更新正是把这些箭头经链式法则送进 $G$ 的权重。箭头由 `D.backward` 算出，`tests/test_viewer.py` 用 float64 有限差分核对过。
- **箭头长度**与推力大小成正比，整段训练共用一个比例（右下角有参考箭头），短箭头就是弱梯度；标题给出步数、这一步的两个损失和箭头长度的中位数。

快照只读取 $G$ 和 $D$，既不更新参数，也不抽随机数，所以拍不拍快照，训练结果逐位相同。下面用与上面相同的网络
（4 维噪声、三层 64 个单元、Adam、学习率 $10^{-3}$）在 ring 上训练 1200 步，拍 40 帧；训练用非饱和损失，
同时按两种生成器损失各记一组箭头，留作后面的比较。输出是一个可以拖动的动画：拖滑块，或用按钮逐帧前进、播放（不需要运行中的 Python）。
"""),
    code(r'''
from IPython.display import HTML

from minigan.viewer import TrainingRecorder, frame_steps
from minigan.viz import data_bounds

VIEW_STEPS, VIEW_FRAMES = (60, 40) if FAST else (1200, 40)
view_rng = np.random.default_rng(1)
view_G = build_generator(4, (64, 64, 64), 2, output="linear", rng=view_rng)
view_D = build_discriminator(2, (64, 64, 64), rng=view_rng)
view_gan = GAN(view_G, view_D, z_dim=4, g_optimizer=Adam(view_G.params(), lr=1e-3),
               d_optimizer=Adam(view_D.params(), lr=1e-3), rng=view_rng)

real_view = ring.x[:1000]
z_view = np.random.default_rng(2).standard_normal((240, 4)).astype(np.float32)  # 每一帧都用这同一批噪声
recorders = {kind: TrainingRecorder(real_view, z_view, data_bounds(real_view), loss=kind)
             for kind in ("non_saturating", "minimax")}                   # 箭头按哪一种生成器损失来算
snapshot_steps = set(frame_steps(VIEW_STEPS, VIEW_FRAMES).tolist())      # 均匀分布在 0..VIEW_STEPS 上
d_fake_view = {}                                                          # 每一帧那批假点的 D(G(z))
for step in range(VIEW_STEPS + 1):
    if step > 0:
        stats = view_gan.train_step(ring.x[view_rng.integers(0, len(ring.x), 256)])
    if step in snapshot_steps:
        losses = (stats.d_loss, stats.g_loss) if step > 0 else ()
        for rec in recorders.values():
            rec.snapshot(view_G, view_D, step, *losses)  # 只读取 G 和 D：不更新参数，也不抽随机数
        d_fake_view[step] = sigmoid(view_D(view_G(z_view))).ravel()

viewer = recorders["non_saturating"]
print(f"{len(viewer)} frames: G(z) {np.shape(viewer.fake)}, arrows {np.shape(viewer.push)}, "
      f"D(x) field {np.shape(viewer.field)}, all float32")
HTML(viewer.to_jshtml(max_frames=VIEW_FRAMES, title="ring"))
'''),
    md(r"""
**看什么：**

- **判别器的场越来越尖。** 开始时 $D(x)$ 处处接近 $0.5$，背景只有最浅的两种颜色，箭头长度的中位数只有 $0.05$ 左右：
  判别器还分不出真假，传给生成器的梯度也就很弱。几百步以后，没有数据的地方（环的内侧和外侧）变红，蓝色收缩到环上；
  再往后只剩 8 个模式周围的小块蓝色，其余全是深红，箭头也长了上百倍。
- **箭头从假点指向数据。** 箭头沿判别器 logit 上升最快的方向，从红色指向附近的蓝色：先把中间那一团假点推成一个环，
  再沿着环把点推向各个模式。
- **梯度很弱，$G$ 照样在动。** 最初一两百步箭头短得几乎看不见，假点却已经散开了。Adam 按梯度的历史大小归一化步长，
  很小的梯度也会变成正常大小的一步（3.4 节比较两种损失时还会看到这一点）。
- **判别器饱和的地方，箭头消失。** 非饱和损失的推力是 $(1 - D(x))\,\nabla_x a$（$a$ 是判别器的 logit）：
  落进蓝色区域、已被判别器当成真实数据的假点几乎不再被推动，箭头最长的反而是深红区域里一眼就被认出的假点。
  极小极大损失的推力是 $D(x)\,\nabla_x a$，情形正好相反：判别器越有把握地拒绝一个假点（$D(x)\to 0$），它得到的推力越小。
- **没有停下来。** 到最后一帧，判别器的场仍然又尖又陡，假点在模式附近来回移动，标题里的损失也没有停在某个值上。

用同一批快照比较两种损失的箭头（训练本身只用了非饱和损失）：
"""),
    code(r'''
minimax = recorders["minimax"]
print(f"{'':24s}{'median |push|, all fakes':>26s}   {'fakes with D(G(z)) < 0.1':>28s}")
print(f"{'step':>5s} {'mean D(G(z))':>13s}    {'non-sat.':>12s} {'minimax':>9s}   {'share':>8s} {'non-sat.':>9s} {'minimax':>9s}")
for i in np.unique(np.linspace(0, len(viewer) - 1, 9).astype(int)):
    s, p = viewer.steps[i], d_fake_view[viewer.steps[i]]
    ns, mm = (np.hypot(*rec.push[i].T) for rec in (viewer, minimax))
    low = p < 0.1
    tail = f"{np.median(ns[low]):9.3f} {np.median(mm[low]):9.3f}" if low.any() else f"{'-':>9s} {'-':>9s}"
    print(f"{s:5d} {p.mean():13.3f}    {np.median(ns):12.3f} {np.median(mm):9.3f}   {low.mean():8.0%} {tail}")
'''),
    md(r"""
**注意：** 随着判别器变得有把握，$D(G(z)) < 0.1$ 的假点越来越多，到训练末期约占三分之一。对这些点，
极小极大损失的箭头只有非饱和损失的几十分之一（同一个点上两者之比正好是 $D/(1-D)$，$D < 0.1$ 时不到 $1/9$）：
判别器最确定是假的样本最需要被推动，却几乎得不到梯度。3.4 节的“更正三”会从公式上解释这一点。

在命令行上，`minigan train --dataset ring`（以及其他二维数据集）默认把同样的查看器写进运行目录里的 `training.html`，
用浏览器直接打开即可，不需要 Python；`--no-viewer` 关闭它，`--viewer-frames` 设定帧数。

### 第 4 步：均方误差不是 GAN 的损失

文章 §3.3 第 4 步把均方误差（MSE）列为生成器损失的一个选项。MSE 需要一个与 $G(z)$ 配对的目标图像，
而噪声 $z$ 与训练图像之间没有任何配对关系。如果硬把 $G(z)$ 与随机抽出的真实图像比较，对任意固定输出 $c$，

$$
\mathbb{E}_x\|x - c\|^2 = \mathbb{E}_x\|x - \mathbb{E}x\|^2 + \|\mathbb{E}x - c\|^2 ,
$$

最小值在 $c = \mathbb{E}x$ 处取得：生成器的最优策略是不管 $z$ 是什么，都输出所有训练图像的平均。试一下：
"""),
    code(r'''
MSE_STEPS = 30 if FAST else 500
rng = np.random.default_rng(4)
G_mse = build_generator(rng=rng)
opt = Adam(G_mse.params(), lr=1e-3)
for _ in range(MSE_STEPS):
    z = rng.standard_normal((64, 100)).astype(np.float32)
    target = digits.x[rng.integers(0, len(digits.x), 64)]     # 随机配上的真实图像
    out, cache = G_mse.forward(z)
    _, grads = G_mse.backward(2 * (out - target) / out.size, cache)  # d mean((out - target)^2) / d out
    opt.step(grads)

samples = G_mse(rng.standard_normal((256, 100)).astype(np.float32))
mean_image = digits.x.mean(axis=0)
print(f"样本之间每个像素的标准差（平均）: {samples.std(axis=0).mean():.3f}   真实数字: {digits.x.std(axis=0).mean():.3f}")
print(f"样本与平均图像的平均绝对差:       {np.abs(samples - mean_image).mean():.3f}   真实数字: {np.abs(digits.x - mean_image).mean():.3f}")
fig, ax = plt.subplots(figsize=(7.5, 1.6))
ax.imshow(image_grid(np.concatenate([samples[:8], mean_image[None]]), (28, 28), ncols=9), cmap="gray")
ax.set_title("G trained with MSE: 8 samples | the mean of all training digits (right)", fontsize=9)
ax.axis("off")
plt.show()
'''),
    md(r"""
**注意：** 用 MSE 训练的生成器，不论输入什么噪声，输出的都是同一张模糊的“平均数字”：样本之间几乎没有差别，
与平均图像的距离远小于任何一张真实数字与平均图像的距离。GAN 的要点恰恰是**不**给生成器逐像素的目标，
而让判别器告诉它“像不像”。第 4 步应当只用交叉熵，而且是从判别器的 logit 计算的交叉熵（3.4 节）。

### 第 9 步：重复，直到“收敛”？

`GAN.train_step` 把上面的 8 步（按先判别器后生成器的顺序）合成一步。接着用同一对网络和优化器再训练一段，记录每一步的两个损失和两个概率：
"""),
    code(r'''
TRAIN_STEPS = 60 if FAST else 3000
gan = GAN(G, D, z_dim=100, g_optimizer=g_opt, d_optimizer=d_opt, rng=rng)
history = np.array([list(gan.train_step(digits.x[rng.integers(0, len(digits.x), 64)]).as_dict().values())
                    for _ in range(TRAIN_STEPS)])     # 列：d_loss, g_loss, d_real, d_fake
d_loss_h, g_loss_h, d_real_h, d_fake_h = history.T

window = 500 if not FAST else 20
print(f"{'steps':>13s} {'L_D mean':>9s} {'L_G mean':>9s} {'L_G std':>8s} {'D(x)':>6s} {'D(G(z))':>8s}")
for s in range(0, TRAIN_STEPS, window):
    sl = slice(s, s + window)
    print(f"{s:5d}-{s + window:<7d} {d_loss_h[sl].mean():9.3f} {g_loss_h[sl].mean():9.3f} {g_loss_h[sl].std():8.3f}"
          f" {d_real_h[sl].mean():6.3f} {d_fake_h[sl].mean():8.3f}")


def smooth(v, k=50 if not FAST else 5):
    return np.convolve(v, np.ones(k) / k, mode="valid")


fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 3.2), gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
steps = np.arange(1, TRAIN_STEPS + 1)
for v, c, label in ((d_loss_h, "tab:blue", "L_D"), (g_loss_h, "tab:orange", "L_G (non-saturating)")):
    ax1.plot(steps, v, color=c, alpha=0.2, lw=0.5)
    ax1.plot(steps[len(steps) - len(smooth(v)):], smooth(v), color=c, label=label)
ax1.axhline(2 * np.log(2), color="tab:blue", ls=":", lw=1)
ax1.axhline(np.log(2), color="tab:orange", ls=":", lw=1)
ax1.set_ylim(0, 8)
ax1.set_xlabel("step")
ax1.set_title("losses (dotted: 2 log 2 and log 2)", fontsize=10)
ax1.legend(fontsize=8)
for v, c, label in ((d_real_h, "tab:green", "mean D(x)"), (d_fake_h, "tab:red", "mean D(G(z))")):
    ax2.plot(steps[len(steps) - len(smooth(v)):], smooth(v), color=c, label=label)
ax2.axhline(0.5, color="0.6", lw=0.8)
ax2.set_ylim(0, 1)
ax2.set_xlabel("step")
ax2.set_title("discriminator outputs", fontsize=10)
ax2.legend(fontsize=8)
ax3.imshow(image_grid(gan.sample(32), (28, 28), ncols=8), cmap="gray")
ax3.set_title(f"G(z) after {TRAIN_STEPS + 1} steps", fontsize=10)
ax3.axis("off")
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：**

- 损失曲线没有“收敛”：生成器的损失总体在上升，而且一路大幅抖动；判别器的损失总体在下降，也在起伏。
  两个损失此消彼长，因为它们是同一个博弈的两面，不是两个各自可以最小化到底的目标。
- $D(x)$ 与 $D(G(z))$ 一直没有回到 $1/2$：在这个只有 4000 张图像的数据集上，判别器逐渐占了上风。
- 右边的 32 个样本几乎一模一样：不同的噪声 $z$ 被映射成了同一个模糊的形状。这就是文章 §5.2 提到的模式崩溃（mode collapse），
  第 5、6 章会专门讨论。损失曲线本身并不会告诉你这件事，要看样本。
- GAN 的训练没有“参数收敛”这个终止条件可用。实践中训练固定的步数，看样本和评价指标（文章 §5 的话题），
  损失只用来发现异常，例如判别器损失长时间接近 0（判别器完胜、生成器得不到有用的梯度）。

为什么连“在均衡点附近慢慢停下来”都不能指望？看一个最小的例子（Mescheder 等，2018 的 Dirac-GAN）：
真实数据只有一个点 $x = 0$；生成器只有一个参数 $\theta$，总是输出 $\theta$；判别器只有一个参数 $\psi$，$D(x) = \sigma(\psi x)$。
均衡点显然是 $\theta = 0$（生成器输出正确）、$\psi = 0$（判别器处处给 $1/2$）。两个梯度都用 minigan 的损失函数计算：
"""),
    code(r'''
def dirac_gan(steps, lr=0.1, alternate=True):
    theta, psi = 1.0, 0.0
    path = [(theta, psi)]
    for _ in range(steps):
        # 判别器：真实 logit = psi * 0，假 logit = psi * theta；dL_D/dpsi = (dL/da_real) * 0 + (dL/da_fake) * theta
        _, _, d_fake = discriminator_loss(np.array([[0.0]]), np.array([[psi * theta]]))
        grad_psi = d_fake[0, 0] * theta
        if alternate:                 # 交替：生成器看到的是已经更新过的判别器
            psi -= lr * grad_psi
        _, d_g = generator_loss(np.array([[psi * theta]]))   # 非饱和损失，dL_G/dtheta = (dL/da) * psi
        theta -= lr * d_g[0, 0] * psi
        if not alternate:             # 同时：两者都用旧的参数算梯度
            psi -= lr * grad_psi
        path.append((theta, psi))
    return np.array(path)


DIRAC_STEPS = 300 if FAST else 3000
paths = {"alternating": dirac_gan(DIRAC_STEPS), "simultaneous": dirac_gan(DIRAC_STEPS, alternate=False)}
for name, p in paths.items():
    radius = np.hypot(p[:, 0], p[:, 1])
    marks = [s for s in (0, 100, 1000, DIRAC_STEPS) if s <= DIRAC_STEPS]
    print(f"{name:12s} distance from the equilibrium at steps {marks}: {np.round(radius[marks], 3)}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 1.6]})
for (name, p), c in zip(paths.items(), ("tab:blue", "tab:orange")):
    ax1.plot(p[:, 0], p[:, 1], color=c, lw=0.6, label=name)
    ax2.plot(p[:, 0], color=c, lw=0.8, label=name)
ax1.plot(0, 0, "k*", ms=10)
ax1.set_xlabel("theta (generator)")
ax1.set_ylabel("psi (discriminator)")
ax1.set_aspect("equal")
ax1.legend(fontsize=8)
ax2.axhline(0, color="0.6", lw=0.8)
ax2.set_xlabel("step")
ax2.set_ylabel("theta")
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 两个参数绕着均衡点（黑星）转圈，而不是直接走过去。同时更新时，离均衡点的距离在几千步之后基本不再缩小；
交替更新时距离缩得很慢，生成器的输出 $\theta$ 始终在 0 的两侧来回摆动。在均衡点附近，这个博弈的梯度场是一个“旋涡”，
梯度下降沿着它打转，这就是 GAN 训练里损失振荡的最小原型。文章 §3.3 第 9 步“直到参数收敛”的说法没有根据。

## 3.4 数学模型公式详细讲解

文章 §3.4 给出的两个公式是（原样照录）：

$$
L_{G} = - E_{x \sim p_{data}(x)}[\log D(x)] + E_{z \sim p_{z}(z)}[\log (1 - D(G(z)))]
$$

$$
L_{D} = E_{x \sim p_{data}(x)}[\log D(x)] + E_{z \sim p_{z}(z)}[\log (1 - D(G(z)))]
$$

文章称它们是“损失函数”，也就是训练时要最小化的量。按这个读法，两个公式都有问题。

### 更正一：$L_D$ 是判别器要**最大化**的量

$L_D$ 正是 Goodfellow 等人（2014）的价值函数 $V(D, G)$。判别器希望 $D(x)\to1$（$\log D(x)$ 增大到 0）、
$D(G(z))\to 0$（$\log(1-D(G(z)))$ 增大到 0），所以它要**最大化** $V$。作为损失来最小化的应当是 $-V$，即两项交叉熵之和：

$$
\begin{aligned}
\mathcal{L}_D &= -\mathbb{E}_{x}[\log D(x)] - \mathbb{E}_{z}[\log(1 - D(G(z)))] \\ 
&= \mathbb{E}_x[\mathrm{BCE}(D(x), 1)] + \mathbb{E}_z[\mathrm{BCE}(D(G(z)), 0)] ,
\end{aligned}
$$

这也正是文章 §4.3 代码中 `D_loss` 的算法，即 `minigan.losses.discriminator_loss`。如果真的照字面去最小化 $L_D$ 会怎样？
固定一个生成器，从同一个判别器出发，分别最小化 $L_D$（文章的写法）和 $-L_D$（更正后），各走 200 步：
"""),
    code(r'''
SIGN_STEPS = 20 if FAST else 200
rng = np.random.default_rng(5)
G_fixed = build_generator(rng=rng)
D_start = build_discriminator(rng=rng)
z_eval = rng.standard_normal((256, 100)).astype(np.float32)
real_eval = digits.x[:256]

for label, sign in (("minimise L_D as written (= V)", -1.0), ("minimise -L_D (corrected)", 1.0)):
    d = copy.deepcopy(D_start)
    opt = Adam(d.params(), lr=2e-4)
    r = np.random.default_rng(6)
    for step in range(SIGN_STEPS + 1):
        if step % (SIGN_STEPS // 4) == 0:
            print(f"{label:30s} step {step:3d}: mean D(x) {sigmoid(d(real_eval)).mean():.3f}, mean D(G(z)) {sigmoid(d(G_fixed(z_eval))).mean():.3f}")
        if step == SIGN_STEPS:
            break
        real = digits.x[r.integers(0, len(digits.x), 64)]
        fake = G_fixed(r.standard_normal((64, 100)).astype(np.float32))
        (lr_, cr), (lf, cf) = d.forward(real), d.forward(fake)
        _, g_real, g_fake = discriminator_loss(lr_, lf)    # gradients of -V
        _, gr = d.backward(sign * g_real, cr)              # sign = -1: gradients of V itself
        _, gf = d.backward(sign * g_fake, cf)
        opt.step({k: gr[k] + gf[k] for k in gr})
    print()
'''),
    md(r"""
**注意：** 照字面最小化 $L_D$，判别器很快学会把真图判为假（$D(x)\to 0$）、把假图判为真（$D(G(z))\to 1$），与它的任务正好相反；
更正后的损失让它走向正确的方向。

### 更正二：$L_G$ 的第一项与生成器无关

$L_G$ 的第一项 $-\mathbb{E}_x[\log D(x)]$ 只含真实数据和判别器，生成器的参数一个也不出现，对生成器的梯度恒为 0。
它前面是正号还是负号都不影响生成器的训练。与生成器有关的只有第二项，生成器要**最小化**它：
$\mathcal{L}_G^{\text{minimax}} = \mathbb{E}_z[\log(1-D(G(z)))]$。合起来就是原始论文的极小极大博弈 $\min_G\max_D V(D,G)$。

用数值验证：把文章的 $L_G$ 原样写成一个函数，对生成器的参数做有限差分；它应当与只含第二项的 minimax 损失的解析梯度完全一致。
"""),
    code(r'''
rng = np.random.default_rng(7)
Gs = build_generator(6, (16, 16), 10, dtype=np.float64, rng=rng)
Ds = build_discriminator(10, (16, 16), dtype=np.float64, rng=rng)
zs, xs_real = rng.standard_normal((12, 6)), rng.uniform(-1, 1, (12, 10))


def article_L_G():
    """文章 §3.4 的 L_G，逐字照写：-E[log D(x)] + E[log(1 - D(G(z)))]。"""
    first = bce_with_logits(Ds(xs_real), 1.0)[0]          # = -mean log D(x)
    second = -bce_with_logits(Ds(Gs(zs)), 0.0)[0]         # = mean log(1 - D(G(z)))
    return first + second


_, minimax_grads = generator_through_discriminator(Gs, Ds, zs, "minimax")   # 只有第二项的解析梯度
print(check_function(article_L_G, Gs.params(), minimax_grads, title="article's L_G (finite differences) vs gradient of E[log(1 - D(G(z)))] alone"))

first_before = bce_with_logits(Ds(xs_real), 1.0)[0]
for p in Gs.params().values():                          # 随便改动生成器的全部参数
    p += 0.1
print("\nfirst term -E[log D(x)] bit-for-bit unchanged after changing every parameter of G:",
      bce_with_logits(Ds(xs_real), 1.0)[0] == first_before)
'''),
    md(r"""
### 更正三：文章的代码最小化的是另一个损失

文章 §4.3 代码里的 `G_loss` 是对生成图像的 logit 取**标签 1** 的交叉熵，也就是

$$
\mathcal{L}_G^{\text{NS}} = -\mathbb{E}_z[\log D(G(z))] ,
$$

叫作非饱和（non-saturating）损失，不是 §3.4 公式里的 $\mathbb{E}_z[\log(1-D(G(z)))]$。两者都推动 $D(G(z))$ 增大，
但对 logit $a$ 的梯度很不一样（用 $\sigma' = \sigma(1-\sigma)$）：

$$
\frac{\partial}{\partial a}\log(1-\sigma(a)) = -\sigma(a), \qquad
\frac{\partial}{\partial a}\big[-\log\sigma(a)\big] = \sigma(a) - 1 .
$$

训练初期生成的图像很差，判别器一眼就能认出，$D(G(z)) = \sigma(a)\approx 0$。这时极小极大损失的梯度 $-\sigma(a)$ 也趋于 0，
生成器几乎得不到信号（“饱和”）；非饱和损失的梯度 $\sigma(a)-1\approx -1$，信号最强。下面用 `minigan.losses.generator_loss`
在一排 logit 上逐点算出两种梯度：
"""),
    code(r'''
a = np.linspace(-16, 8, 481).reshape(-1, 1)          # 一列 logit，每个当作一个单独的批量（N = 1）
d_prob = sigmoid(a).ravel()
grad = {kind: np.array([generator_loss(a[i:i + 1], kind)[1][0, 0] for i in range(len(a))]) for kind in ("minimax", "non_saturating")}
for p in (0.5, 1e-2, 1e-4, 1e-6):
    i = np.argmin(np.abs(np.log(d_prob) - np.log(p)))
    print(f"D(G(z)) = {d_prob[i]:.0e}:  |dL/da| minimax {abs(grad['minimax'][i]):.1e}   non-saturating {abs(grad['non_saturating'][i]):.3f}")

fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.loglog(d_prob, np.abs(grad["minimax"]), label="minimax  E[log(1 - D(G(z)))]  (article's formula)")
ax.loglog(d_prob, np.abs(grad["non_saturating"]), label="non-saturating  -E[log D(G(z))]  (article's code)")
ax.axvspan(d_prob.min(), 1e-2, color="0.92")
ax.text(2e-6, 2e-6, "D confidently\nrejects the fakes", fontsize=8)
ax.set_xlabel("D(G(z))")
ax.set_ylabel("|dL_G / d logit|")
ax.legend(fontsize=7, loc="lower right")
ax.grid(alpha=0.3, which="both")
plt.show()
'''),
    md(r"""
**注意：** 在 $D(G(z))$ 很小的区域（灰色），极小极大损失的梯度与 $D(G(z))$ 成正比地消失，$D(G(z)) = 10^{-4}$ 时只剩 $10^{-4}$；
非饱和损失的梯度始终接近 1。

> **练习**：[`06_minimax_gradient.ipynb`](exercises/06_minimax_gradient.ipynb) 请你写出极小极大损失 $\log(1 - D(G(z)))$
> 穿过判别器对生成器参数的梯度，并亲眼看到判别器越有把握、这个梯度越接近 0。

### 在真实网络上：判别器先领先一步

这个差别在真实训练里有多大？让判别器先单独训练 300 步（生成器不动），使它能轻易认出假图；然后在同一批噪声上，
比较两种损失传到生成器参数上的梯度大小，再从这个状态出发，用两种损失、两种优化器各训练 1000 步，看 $D(G(z))$ 怎样变化。
"""),
    code(r'''
HEAD_START, RUN_STEPS = (20, 30) if FAST else (300, 1000)
rng = np.random.default_rng(8)
G0, D0 = build_generator(rng=rng), build_discriminator(rng=rng)
head = GAN(G0, D0, z_dim=100, rng=rng)
for _ in range(HEAD_START):
    head.d_step(digits.x[rng.integers(0, len(digits.x), 64)])
z_probe = rng.standard_normal((256, 100)).astype(np.float32)
print(f"after {HEAD_START} D-only steps: mean D(x) {sigmoid(D0(digits.x[:256])).mean():.4f}, mean D(G(z)) {sigmoid(D0(G0(z_probe))).mean():.2e}")
for kind in ("minimax", "non_saturating"):
    fake, gc = G0.forward(z_probe)
    lg, dc = D0.forward(fake)
    loss, dl = generator_loss(lg, kind)
    dx, _ = D0.backward(dl, dc)
    _, grads = G0.backward(dx, gc)
    norm = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values()))
    print(f"  {kind:15s} L_G = {loss:+.4f}, |gradient w.r.t. all of G's parameters| = {norm:.2e}")

runs = {}
for opt_name in ("Adam", "SGD"):
    for kind in ("minimax", "non_saturating"):
        g, d = copy.deepcopy(G0), copy.deepcopy(D0)
        make = (lambda p: Adam(p, lr=2e-4)) if opt_name == "Adam" else (lambda p: SGD(p, lr=0.05))
        r = np.random.default_rng(9)
        gan = GAN(g, d, z_dim=100, loss=kind, g_optimizer=make(g.params()), d_optimizer=make(d.params()), rng=r)
        runs[(opt_name, kind)] = np.array([gan.train_step(digits.x[r.integers(0, len(digits.x), 64)]).d_fake for _ in range(RUN_STEPS)])

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
for ax, opt_name in zip(axes, ("Adam", "SGD")):
    for kind, c in (("minimax", "tab:blue"), ("non_saturating", "tab:orange")):
        v = runs[(opt_name, kind)]
        ax.semilogy(np.arange(1, len(v) + 1), v, color=c, lw=0.8, label=kind)
    ax.set_title(f"{opt_name}: mean D(G(z)) per step", fontsize=10)
    ax.set_xlabel("step after the head start")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
for key, v in runs.items():
    print(f"{key[0]:4s} {key[1]:15s} steps with mean D(G(z)) < 0.01 (G stuck): {int((v < 0.01).sum()):4d} of {len(v)}")
'''),
    md(r"""
**注意：**

- 判别器领先时，极小极大损失传给生成器的梯度比非饱和损失小三个数量级左右（上面打印的两个范数）。
- 用 SGD 时，步长与梯度成正比，极小极大损失下的生成器动弹不得：1000 步里有 800 多步 $D(G(z))$ 低于 $0.01$，
  中途爬起来一次，又被判别器压了回去；非饱和损失在头几步就把它拉了起来。
- 用 Adam 时情况更微妙：Adam 按梯度的历史大小做归一化，能把微小的梯度放大成正常大小的步子，所以极小极大损失一开始也冲了上去；
  但判别器很快又把它压回 $10^{-3}$ 附近，之后又困了两百多步。非饱和损失只在最开头的十来步低于 $0.01$（见上面打印的步数）。
  优化器能部分掩盖梯度饱和，但掩盖不掉。
- 文章的公式与它的代码不一致，而代码（非饱和损失）是对的。这也是原始论文自己在实践中给出的建议。

### 数值稳定性：从概率算，还是从 logit 算

文章 §4.2 的判别器同时返回 `output = sigmoid(logits)` 和 `logits`。训练时如果先算概率再取对数，
在判别器很有把握时就会出问题。下面全部用 float32（训练所用的精度）：
"""),
    code(r'''
z32 = np.array([-1000, -200, -100, -90, -20, 0, 20, 50, 100], dtype=np.float32)
with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
    p_naive = 1 / (1 + np.exp(-z32))                       # 朴素的 sigmoid
    loss1_naive = -np.log(p_naive)                          # -log D(x)：标签为 1
    loss0_naive = -np.log(1 - p_naive)                      # -log(1 - D(x))：标签为 0
    grad1_naive = -(1 / p_naive) * p_naive * (1 - p_naive)  # 沿着朴素公式做链式法则
    loss1_clip = -np.log(np.clip(p_naive, 1e-7, 1 - 1e-7))  # 常见的“补丁”：把概率截断
exact1 = np.logaddexp(0, -z32.astype(np.float64))           # float64 下的准确值 softplus(-z)

print(f"{'logit z':>8s} {'sigmoid':>10s} {'naive -log p':>13s} {'clipped':>8s} {'from logits':>12s} {'exact':>10s}"
      f" {'naive -log(1-p)':>16s} {'from logits':>12s} {'naive grad':>11s} {'grad from logits':>17s}")
for i, v in enumerate(z32):
    l1, g1 = bce_with_logits(z32[i:i + 1], 1.0)
    l0, _ = bce_with_logits(z32[i:i + 1], 0.0)
    print(f"{v:8.0f} {p_naive[i]:10.3g} {loss1_naive[i]:13.4g} {loss1_clip[i]:8.4g} {l1:12.6g} {exact1[i]:10.6g}"
          f" {loss0_naive[i]:16.4g} {l0:12.4g} {grad1_naive[i]:11.4g} {g1[0]:17.6g}")
'''),
    md(r"""
**注意：**

- 朴素公式在 float32 里，$z < -88.7$ 时 $e^{-z}$ 上溢为 `inf`，sigmoid 变成 0，$-\log 0 = $ `inf`，而准确值只是 $-z$（例如 100）。
  另一侧，$z \gtrsim 17$ 时 $\sigma(z)$ 已被舍入成 1（表中 $z = 20$），
  $-\log(1-\sigma(z))$ 也变成 `inf`。沿着朴素公式做链式法则，梯度里出现 $0\cdot\infty$，得到 `nan`：一个 `nan` 会在下一次更新后污染所有参数。
- 把概率截断到 $[10^{-7}, 1-10^{-7}]$ 能避免 `inf`，但损失被封顶在 $-\log 10^{-7}\approx 16.1$，梯度在截断处变为 0，数值是错的。
- 从 logit 计算的 `bce_with_logits` 在所有这些点上都有限，与 float64 的准确值一致；唯一的差别是 float32 本身的舍入
  （$z = 20$、标签 1 时准确值是 $2\times10^{-9}$，float32 在 $20 + 2\times10^{-9} - 20$ 里把它舍掉了，绝对误差可以忽略）。
  梯度在 $z\to-\infty$ 时正确地趋于 $-1$，不会出现 `nan`。文章 §4.3 用 `sigmoid_cross_entropy_with_logits` 是对的。

### 梯度检验为什么必须用 float64

3.1、3.2 节的检验全部在 float64 下进行。换成 float32（训练用的精度）再检查同样正确的层：
"""),
    code(r'''
rng = np.random.default_rng(10)
x32 = away_from_kink(rng.standard_normal((6, 5))).astype(np.float32)
print(check_module(Dense(5, 4, dtype=np.float32, rng=0), x32, rng=rng), end="\n\n")
print(check_module(Tanh(), x32, rng=rng))
'''),
    md(r"""
层的实现没有任何错误，但 float32 下的相对误差是 $10^{-4}$ 到 $10^{-2}$ 量级，“不通过”。原因在有限差分本身（`check_module` 的四阶公式同样受舍入误差限制；
为了看得清楚，下面用最简单的两点公式 `numerical_gradient`）：
中心差分 $\big(f(w+h) - f(w-h)\big)/2h$ 的截断误差约为 $h^2$，而 $f$ 的每次计算都带有约 $\varepsilon\,|f|$ 的舍入误差，
除以 $2h$ 后放大成 $\varepsilon|f|/h$（$\varepsilon$ 是机器精度：float32 约 $1.2\times10^{-7}$，float64 约 $2.2\times10^{-16}$）。
两项之和在 $h\approx\varepsilon^{1/3}$ 处最小（float32 约 $5\times10^{-3}$，float64 约 $6\times10^{-6}$）。
把 $h$ 从大到小扫一遍，看一个“全连接层 + tanh”的权重梯度的误差：
"""),
    code(r'''
rng = np.random.default_rng(11)
x_ref = rng.standard_normal((16, 20))
dy_ref = rng.standard_normal((16, 10))
W_ref = rng.standard_normal((20, 10)) * 0.3


def small_net(dtype):
    """Dense(20 -> 10) + tanh，权重固定为 W_ref（非线性：有限差分才有截断误差）。"""
    net = Sequential(Dense(20, 10, dtype=dtype, rng=0), Tanh())
    net.params()["0.W"][...] = W_ref
    return net


net64 = small_net(np.float64)
out, cache = net64.forward(x_ref)
exact_dW = net64.backward(dy_ref, cache)[1]["0.W"]         # 解析梯度，float64（3.1 节已验证）


def fd_error(dtype, h):
    """在 dtype 下用步长 h 的中心差分估计 dL/dW，返回相对误差 |num - exact| / |exact|。"""
    net = small_net(dtype)
    x, dy = x_ref.astype(dtype), dy_ref.astype(dtype)
    num = numerical_gradient(lambda _: net.forward(x)[0], net.params()["0.W"], h=h, df=dy)
    return np.linalg.norm(num - exact_dW) / np.linalg.norm(exact_dW)


hs = {np.float64: np.logspace(-1, -10, 19), np.float32: np.logspace(-0.5, -5.5, 11)}
errors = {dt: [fd_error(dt, h) for h in hs[dt]] for dt in hs}
for dt in hs:
    best = int(np.argmin(errors[dt]))
    print(f"{np.dtype(dt).name}: smallest relative error {errors[dt][best]:.1e} at h = {hs[dt][best]:.0e};"
          f" at h = 1e-5: {fd_error(dt, 1e-5):.1e}")

fig, ax = plt.subplots(figsize=(6, 3.2))
for dt, c in ((np.float64, "tab:blue"), (np.float32, "tab:red")):
    ax.loglog(hs[dt], errors[dt], "o-", color=c, ms=3, label=np.dtype(dt).name)
ax.set_xlabel("finite-difference step h")
ax.set_ylabel("relative error of dL/dW")
ax.invert_xaxis()
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
plt.show()
'''),
    md(r"""
**注意：** 两条曲线都是 V 形：右侧（$h$ 大）截断误差随 $h^2$ 下降，左侧（$h$ 小）舍入误差随 $1/h$ 上升，谷底在 $\varepsilon^{1/3}$ 附近。
float32 的谷底也只有约 $10^{-5}$，而且要恰好选中 $h$；常用的 $h = 10^{-5}$ 下误差是 $10^{-3}$ 量级（逐元素的最大误差更大，见上面的检验表）。
float64 的谷底在 $10^{-11}$ 左右。
所以梯度检验一律在 float64 下做：float32 下 $10^{-3}$ 的误差既可能是舍入，也可能是一个真正的小错误，无法区分。

## 小结

| 文章 §3 的说法 | 实际情况（本 notebook 的验证） |
|---|---|
| 3.1/3.2：由“最后一个隐藏层”输出 | 输出层产生图像 / logit；参数 147 088 与 133 633 个 |
| 3.1/3.2：激活函数如 sigmoid、tanh | 代码用 leaky ReLU（隐藏层）与 tanh（G 的输出层）；sigmoid 隐藏层的梯度逐层衰减 |
| 3.2：判别器的输入是生成的图像 | 输入真、假两批；两次前向与反向的梯度之和经过检验 |
| 3.3：先更新生成器（1–5），再更新判别器（6–8） | 代码与原始论文都是先判别器；按文章顺序，判别器看到的是旧生成器的样本 |
| 3.3 第 4 步：均方误差 | MSE 的最优解是平均图像，生成器失去多样性 |
| 3.3 第 9 步：直到参数收敛 | 损失一直振荡、此消彼长，样本出现模式崩溃；Dirac-GAN 连最简单的情形也绕着均衡点打转 |
| 3.4：$L_D$ 是要最小化的损失 | $L_D = V$ 要最大化；照字面最小化，判别器学反 |
| 3.4：$L_G$ 含 $-\mathbb{E}_x[\log D(x)]$ | 该项对生成器梯度为 0 |
| 3.4：$L_G$ 的第二项 $\mathbb{E}[\log(1-D(G(z)))]$ | 代码用的是 $-\mathbb{E}[\log D(G(z))]$；前者在判别器领先时梯度消失 |

下一章（文章 §4）逐行对照文章的 TensorFlow 代码，看它与这里的公式和步骤有哪些出入。
"""),
]
