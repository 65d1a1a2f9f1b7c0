"""Cells of the exercise notebooks 10 (``batchnorm_backward``) and 11 (``conv_backward``): the two classic
backward passes of chapter 8.  ``build_notebooks.py`` registers them: ``batchnorm_cells(reading)`` and
``conv_cells(reading)`` return a notebook's cell list, given the shared "how to read the report" section.

Each notebook states the contract and the derivation as tasks (the answers are in chapter 8, which the
notebook points to afterwards), holds a skeleton, grades it, and ends with the learner's layer inside a
small network; that last cell runs only once the check passes, so the blank notebook runs headless.
"""

# ruff: noqa: E501

from __future__ import annotations

from _cells import code, md  # the chapter notebooks' cell helpers (build_notebooks.py puts them on sys.path)

# --------------------------------------------------------------------------------------
# 10: batch normalisation

BN_NETWORK = r'''
import matplotlib.pyplot as plt

from minigan import GAN, build_discriminator
from minigan.data import load
from minigan.nn import BatchNorm1d, Dense, LeakyReLU, Sequential
from minigan.optim import Adam

STEPS, BATCH = 2000, 64
ring = load("ring", n=STEPS * BATCH, seed=0)        # 8 个高斯团排成一圈（PacGAN 的二维基准，练习 9 用过）


def generator(norm):
    """z (4) -> 64 -> 64 -> 2：每个隐藏层是 Dense、批归一化、leaky ReLU（DCGAN 生成器的排法）。"""
    rng = np.random.default_rng(1)
    return Sequential(Dense(4, 64, rng=rng), norm(64), LeakyReLU(0.2),
                      Dense(64, 64, rng=rng), norm(64), LeakyReLU(0.2), Dense(64, 2, rng=rng))


def train(norm):
    G, D = generator(norm), build_discriminator(in_dim=2, hidden=(64, 64), rng=2)
    gan = GAN(G, D, z_dim=4, g_optimizer=Adam(G.params(), lr=1e-3), d_optimizer=Adam(D.params(), lr=1e-3), rng=3)
    history = [gan.train_step(ring.x[i * BATCH:(i + 1) * BATCH]).g_loss for i in range(STEPS)]
    return G, gan, history


if result:
    G_mine, gan, mine = train(MyBatchNorm)
    _, _, reference = train(BatchNorm1d)                    # 同样的种子，换成 minigan 自己的层
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(mine, label="G with MyBatchNorm", lw=1)
    a.plot(reference, "--", label="G with minigan's BatchNorm1d", lw=1)
    a.set_xlabel("step")
    a.set_ylabel("g_loss")
    a.legend()
    fake = G_mine.forward(gan.sample_noise(1000))[0]         # 训练模式：用这 1000 个样本自己的统计量
    b.scatter(*ring.x[:1000].T, s=3, alpha=0.3, label="real")
    b.scatter(*fake.T, s=3, alpha=0.3, label="G(z)")
    b.set_aspect("equal")
    b.legend()
    plt.show()
    print(f"{STEPS} 步之后 g_loss：你的层 {mine[-1]:.4f}，minigan 的层 {reference[-1]:.4f}")
else:
    print("先完成上面的 MyBatchNorm，让 check 全部通过，再运行这个单元：它会用你的层训练一个生成器。")
'''


def batchnorm_cells(reading: str) -> list:
    return [
        md(r"""
# 练习 10：批归一化（batch normalization）的反向传播

文章第 6 节回答三个常见问题时，三次开出同一味药：增加生成器和判别器的复杂性（§6.1）、使用更复杂的生成器结构（§6.2）、\
使用更复杂的判别器结构（§6.3）。第 8 章把"更复杂的结构"落到了实处：DCGAN 的生成器（Generator）G 和判别器（Discriminator）D \
都用卷积，并在层与层之间加上**批归一化**（第 8 章 8.4 节）。没有它，更深的生成器很难训练起来。

批归一化的反向传播是手写神经网络课程里最经典的推导练习之一：每个输出都依赖批里的**每一个**输入（通过这一批的均值和方差），\
所以它不能像激活函数那样逐元素求导。这个练习请你亲手推导、亲手实现，然后把它放进一个二维玩具 GAN 的生成器里训练。

**步骤**：读懂约定和前向公式 → 按下面的提纲推导 $\partial L/\partial x$、$\partial L/\partial\gamma$、$\partial L/\partial\beta$ → \
补全"作答"单元 → 运行"评分"单元 → 最后一节用你的层训练生成器。
"""),
        md(r"""
## 约定

**构造函数**：`MyBatchNorm(features, eps=1e-5)`。参数 `self.gamma`、`self.beta` 的形状都是 `(features,)`，\
`params()` 返回 `{"gamma": self.gamma, "beta": self.beta}`（数组本身）。评分器构造出层以后会换上自己的随机 `gamma`、`beta`\
（梯度检验时是 float64），所以 `forward`、`backward` 里要通过 `self.gamma`、`self.beta` 读取它们。

| 调用 | 含义 |
|---|---|
| `y, cache = layer.forward(x)` | 训练模式：`x` 形状 `(N, features)`，用**这一批**的均值和方差归一化 |
| `dx, grads = layer.backward(dy, cache)` | `grads = {"gamma": dgamma, "beta": dbeta}`，形状都是 `(features,)` |

和前面的练习一样：cache 要返回，不要存在 `self` 上——判别器 D 先后对真实批和生成批各做一次前向，然后才反向，\
每一批都要用**自己**的均值和方差（第 8 章 8.5 节专门讲了为什么两批必须分开过 D）；不要原地修改 `x`、`dy`；float32 进、float32 出。\
本练习只考训练模式：不需要 `running_mean`、`running_var`（评估模式的滑动平均见第 8 章 8.4 节），训练时也**不能**用它们。
"""),
        md(r"""
## 前向传播

对每个特征（第 $j$ 列）分别计算；下面省去下标 $j$，批里的 $N$ 个值是 $x_1,\dots,x_N$：

$$
\begin{gathered}
\mu = \frac1N\sum_{i=1}^{N} x_i,\qquad
\sigma^2 = \frac1N\sum_{i=1}^{N}(x_i-\mu)^2,
\\ \hat x_i = \frac{x_i-\mu}{\sqrt{\sigma^2+\epsilon}},\qquad
y_i = \gamma\,\hat x_i + \beta .
\end{gathered}
$$

注意两点：方差除以 $N$（有偏估计，`np.var` 的默认），不是 $N-1$；$\epsilon$ 加在平方根**里面**。

## 反向传播：请你推导

记 $g_i = \partial L/\partial y_i$（即 `dy` 的一列），$r = 1/\sqrt{\sigma^2+\epsilon}$。按下面的提纲一步步来，每一步先写出式子再往下走：

1. **参数的梯度。** $\gamma$、$\beta$ 作用在批里的每一行上。写出 $\partial L/\partial\beta$ 和 $\partial L/\partial\gamma$。它们的形状是什么？要不要除以 $N$？
2. **对 $\hat x$ 的梯度。** 写出 $\partial L/\partial\hat x_i$。
3. **画计算图。** $x_i$ 通过哪几条路影响损失？（提示：不止 $\hat x_i$ 一条；$\mu$ 和 $\sigma^2$ 也都由 $x_i$ 算出，而它们又出现在批里**每一个** $\hat x_j$ 中。）\
把 $\partial L/\partial x_i$ 写成这几条路的贡献之和。
4. **经过方差的路。** 求 $\partial\hat x_j/\partial\sigma^2$，再求 $\partial L/\partial\sigma^2 = \sum_j \frac{\partial L}{\partial\hat x_j}\frac{\partial\hat x_j}{\partial\sigma^2}$，\
最后求 $\partial\sigma^2/\partial x_i$。试着把结果只用 $r$、$\hat x$ 和 $\partial L/\partial\hat x$ 表示。
5. **经过均值的路。** $\mu$ 既直接出现在每个 $\hat x_j$ 里，也出现在 $\sigma^2$ 里。求 $\partial L/\partial\mu$，并说明其中一项为什么等于 0。再求 $\partial\mu/\partial x_i$。
6. **合起来。** 把三项加起来，提出公因子，化简成只含 $g_i$、$\hat x_i$ 以及两个对批求和的量的形式。这两个求和是不是你在第 1 步已经算过的东西？
7. **自检。** 你的结果是否满足 $\sum_i \partial L/\partial x_i = 0$？为什么应该满足？（想一想：把整批数据同时平移一个常数，输出会变吗？）
8. **如果把 $\mu$、$\sigma^2$ 当成常数**，第 3 步只剩哪一项？它错在哪里？

推导完并通过评分之后，可以对照第 8 章 8.4 节"反向传播的推导"（书中第 8 章"批归一化"一节；`minigan/nn/batchnorm.py` 的文档字符串里也有）。

**实现提示**：`forward` 的 cache 里放 `backward` 需要的量（哪些？看你第 6 步的结果）；所有求和都是对批（`axis=0`）的。
"""),
        code("""
import numpy as np

from minigan.exercises import check
from minigan.nn import Module  # 基类：提供 layer(x) 的写法
"""),
        md("## 作答"),
        code('''
class MyBatchNorm(Module):
    """训练模式的批归一化：x (N, features) -> y (N, features)。"""

    def __init__(self, features, eps=1e-5):
        self.eps = eps
        self.gamma = np.ones(features, dtype=np.float32)   # 缩放，初始为 1
        self.beta = np.zeros(features, dtype=np.float32)   # 平移，初始为 0

    def params(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def forward(self, x):
        # TODO: 用这一批的均值和（除以 N 的）方差归一化，再乘 gamma、加 beta；
        #       返回 (y, cache)，cache 里放 backward 需要的量（不要存在 self 上）
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 按你推导的结果计算 dx（形状同 x）、dgamma、dbeta（形状同 gamma、beta），
        #       返回 (dx, {"gamma": dgamma, "beta": dbeta})
        raise NotImplementedError
''', tag="answer"),
        md(r"""
## 评分

评分器在几组固定的批（批大小 3 到 6，每个特征有不同的均值和尺度，$\epsilon$ 取默认值、$0.1$ 或 $10^{-3}$）上：\
把前向结果与按上面公式计算的参考实现比较（float64）；对 `dx`、`dgamma`、`dbeta` 分别做梯度检验（四阶中心差分）；\
像 `GAN.train_step` 那样在两次前向之间插入一次只前向、不反向的推理，再按相反的顺序反向，检查每次反向只用自己的 cache；\
检查 dtype、是否改动了输入；最后用 hypothesis 在随机的批大小、特征数和 dtype 上做性质测试。
"""),
        code('result = check("batchnorm_backward", MyBatchNorm)\nresult', tag="grade"),
        md(reading + r"""
这个评分器专门识别的典型错误包括：把均值和方差当成常数（只剩 $\gamma r g_i$）、漏了经过方差的项、漏了经过均值的项、\
`dx` 少乘了 $\gamma$ 或 $r$（或多乘了一次）、反向里的 $r$ 没有加 $\epsilon$、方差除以 $N-1$、$\epsilon$ 放在根号外、\
沿 `axis=1` 或对整个数组统计、前向漏了 $\gamma$ 或 $\beta$、\
`dgamma`/`dbeta` 对批取平均、没有求和、加成了一个数、沿 `axis=1` 求和或两者对调、`dgamma` 乘的是 $x$ 而不是 $\hat x$、\
训练时用了滑动平均、把统计量存在 `self` 上（不可重入）、参数或计算被提升为 float64、原地修改输入。\
如果 `dx` 的三项都在、只是某一项的系数错了（分步推导时漏了 $-\tfrac12$、$2$ 或 $1/N$），报告会把三项的系数算出来，指出是哪一项、差了多少。
"""),
        md(r"""
## 用在网络里：生成器里的批归一化

DCGAN 在生成器 G 的隐藏层之间放批归一化（第 8 章 8.6 节）。下面在二维玩具数据（8 个高斯团排成一圈）上训练一个小 GAN：\
G 是 z (4) → 64 → 64 → 2，每个隐藏层依次是 `Dense`、你的 `MyBatchNorm`、leaky ReLU；D 是文章那样的全连接判别器。\
训练 2000 步，再用同样的种子把你的层换成 minigan 的 `BatchNorm1d` 训练一遍：两条损失曲线应当几乎重合（float32 的舍入会让它们慢慢分开一点）。\
你的层没有评估模式，所以画图时 G 用的也是训练模式（这 1000 个样本自己的统计量）。

这个单元只在上面的评分全部通过（`result` 为真）时训练。
"""),
        code(BN_NETWORK),
        md(r"""
参考实现在 `minigan/nn/batchnorm.py`（卷积层后面用的 `BatchNorm2d` 就是把每个通道的所有位置当作一批）。下一个练习：`11_conv_backward.ipynb`。
"""),
    ]


# --------------------------------------------------------------------------------------
# 11: convolution

CONV_SETUP = r'''
import numpy as np

from minigan.exercises import check
from minigan.nn import Module
from minigan.nn.im2col import im2col  # noqa: F401  可以用它取块（前向）；col2im 请自己写

# 图像的存法：一行是一张摊平的 (H, W, C) 图像，像素 (i, j) 的通道 c 在下标 (i * W + j) * C + c
H, W, C = 3, 4, 2
x = np.arange(2 * H * W * C, dtype=np.float32).reshape(2, H * W * C)   # 两张 3x4 的双通道图像
print("x 的形状:", x.shape)
print("第 0 张图像的通道 1:\n", x[0].reshape(H, W, C)[:, :, 1])
print("用 k=2, s=1, p=0 取块:", im2col(x.reshape(2, H, W, C), 2, 1, 0).shape, "= (N Ho Wo, k k C)")
'''

CONV_NETWORK = r'''
from minigan.data import load
from minigan.metrics.classifier import Classifier
from minigan.nn import Conv2d, Dense, ReLU, Sequential

train_set, held_out = load("mnist5k", "train"), load("mnist5k", "validation")   # 随包附带的 28x28 数字


def judge(conv):
    """第二个裁判（strided）的前两层，通道减半：28 -> 14 -> 7 像素，再接一个 Dense 到 10 类。"""
    body = Sequential(conv((28, 28, 1), 16, 3, stride=2, padding=1), ReLU(),
                      conv((14, 14, 16), 32, 3, stride=2, padding=1), ReLU())
    return Classifier(body, Dense(7 * 7 * 32, 10, rng=0), 10, rng=0)


if result:
    mine, reference = judge(MyConv2d), judge(Conv2d)
    for name, p in reference.params().items():               # 两个网络从同样的初始权重出发
        p[...] = mine.params()[name]
    for net in (mine, reference):
        net.fit(train_set.x, train_set.y, epochs=2, batch_size=64)   # 2 x 63 步 Adam
    print(f"留出的 500 张数字上的准确率：你的卷积 {mine.accuracy(held_out.x, held_out.y):.3f}，"
          f"minigan 的 Conv2d {reference.accuracy(held_out.x, held_out.y):.3f}")
else:
    print("先完成上面的 MyConv2d，让 check 全部通过，再运行这个单元：它会用你的卷积层训练一个数字分类器。")
'''


def conv_cells(reading: str) -> list:
    return [
        md(r"""
# 练习 11：卷积层的前向与反向传播

文章第 3.1、3.2 节把生成器 G 和判别器 D 都写成全连接的隐藏层，第 6 节又建议用"更复杂的结构"。对图像来说，那就是卷积：\
DCGAN 的判别器 D 用带步长的卷积把 28×28 的数字一层层缩小（第 8 章 8.6 节），第 6 章和第 8 章给生成的数字打分的"裁判"也是卷积网络。\
第 8 章 8.1、8.2 节推导了卷积（im2col）和它的反向传播（col2im）。

卷积的反向传播是手写神经网络课程里另一个经典练习：步长、补零和重叠的块，每一样都有一个常见的写错方式，\
而且有的错误只在特定的形状下才露出来。这个练习请你亲手实现带步长和补零的卷积层，然后用它训练一个数字分类器。
"""),
        md(r"""
## 约定

**图像的存法**（与 minigan 的所有图像层相同，见 `minigan/nn/conv.py`）：一批图像是 `(N, H*W*C)` 的矩阵，\
每一行是一张**通道在后**、摊平的 $(H, W, C)$ 图像。输出也一样摊平：`(N, Ho*Wo*F)`。

**构造函数**：`MyConv2d(in_shape, out_channels, kernel, *, stride=1, padding=0)`，`in_shape = (H, W, C)`。\
参数 `self.W` 的形状是 `(C, k, k, F)`（输入通道在前、输出通道在后；PyTorch 的排法是 $(F, C, k, k)$），`self.b` 的形状是 `(F,)`，\
`params()` 返回 `{"W": self.W, "b": self.b}`。评分器会换上自己的随机 `W`、`b`。

**前向**：深度学习里的"卷积层"其实是**互相关**（cross-correlation），卷积核不翻转。记 $x_p$ 为四周补了 $p$ 圈零的图像：

$$
\begin{gathered}
y_{n,i,j,f} = b_f + \sum_{c=1}^{C}\sum_{u=0}^{k-1}\sum_{v=0}^{k-1} x_p[n,\ s i+u,\ s j+v,\ c]\; W_{c,u,v,f},
\\ H_o = \left\lfloor\frac{H + 2p - k}{s}\right\rfloor + 1,\qquad W_o = \left\lfloor\frac{W + 2p - k}{s}\right\rfloor + 1 .
\end{gathered}
$$

`forward` 返回 `(y, cache)`，`backward(dy, cache)` 返回 `(dx, {"W": dW, "b": db})`：`dx` 与 `x` 同形 `(N, H*W*C)`，`dW` 与 `W` 同形 `(C, k, k, F)`，`db` 与 `b` 同形 `(F,)`。\
cache 要返回，不要存在 `self` 上（判别器 D 对真实批和生成批各做一次前向）；不要原地修改输入；float32 进、float32 出。

## 反向传播：请你推导

记 $g_{n,i,j,f} = \partial L/\partial y_{n,i,j,f}$（`dy` 还原成 $(N, H_o, W_o, F)$）。

1. **偏置。** $b_f$ 出现在哪些输出里？写出 $\partial L/\partial b_f$：要对哪些下标求和？
2. **权重。** 写出 $\partial y_{n,i,j,f}/\partial W_{c,u,v,f'}$，代入链式法则，得到 $\partial L/\partial W_{c,u,v,f}$。\
如果前向写成矩阵乘法 $y = \text{cols}\,M + b$（每一行是一块，按 $(u, v, c)$ 的顺序摊平；$M$ 是 $W$ 换轴后摊成的 $(k k C, F)$ 矩阵），\
$\partial L/\partial M$ 是什么？怎样把它变回 $(C, k, k, F)$ 的形状——直接 `reshape` 行不行？
3. **输入。** 补零后的像素 $x_p[n, a, b, c]$ 出现在哪些块里（哪些 $(i, j, u, v)$ 满足 $s i + u = a$、$s j + v = b$）？\
一个量被用到几处，它的梯度就是几处梯度的**和**。写出 $\partial L/\partial x_p$。
4. **补零与步长。** 补上的零不是输入：怎样从 $\partial L/\partial x_p$ 得到 $\partial L/\partial x$？步长 $s$ 在第 3 步的哪里出现？
5. **自检。** 什么形状下块会互相重叠（$k$ 与 $s$ 的关系）？在不重叠的形状上，"把每块的梯度赋值回去"和"加回去"有没有区别？\
这说明测试应该挑什么样的形状？

推导完并通过评分之后，可以对照第 8 章 8.2 节"卷积的反向传播"（以及 `minigan/nn/im2col.py` 的 `col2im`）。

**实现提示**：前向可以用下面导入的 `im2col` 取块，也可以对输出位置 $(i, j)$ 写循环；反向里把每块的梯度加回图像（col2im）这一步请自己写——这正是练习的重点。
"""),
        code(CONV_SETUP),
        md("## 作答"),
        code('''
class MyConv2d(Module):
    """二维卷积（互相关）：x (N, H*W*C) -> y (N, Ho*Wo*F)，W (C, k, k, F)，b (F,)。"""

    def __init__(self, in_shape, out_channels, kernel, *, stride=1, padding=0):
        self.in_shape, self.k, self.stride, self.padding = tuple(in_shape), kernel, stride, padding
        C, F = in_shape[2], out_channels
        limit = np.sqrt(6.0 / ((C + F) * kernel * kernel))      # Glorot 均匀分布，与 minigan 的 Conv2d 相同
        self.W = np.random.default_rng(0).uniform(-limit, limit, (C, kernel, kernel, F)).astype(np.float32)
        self.b = np.zeros(F, dtype=np.float32)

    def params(self):
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        # TODO: 补零、取块、与 W 相乘、加 b；返回 (y, cache)，y 的形状是 (N, Ho*Wo*F)
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 计算 dW（形状 (C, k, k, F)）、db（形状 (F,)）和 dx（形状同 x）：
        #       每块的梯度要加回（+=）它在补零图像上的位置，最后去掉补零
        raise NotImplementedError
''', tag="answer"),
        md(r"""
## 评分

评分器用几种形状检验你的层：$4\times5\times2$ 的图像、$k = 3$、步长 2、补零 1（块有重叠，高度方向除不尽）；$3\times4\times1$、$k = 2$、步长 1、不补零；\
$5\times6\times2$、$k = 4$、步长 2、补零 1（DCGAN 判别器的设置）；$3\times4\times3$、$k = 3$、步长 2、补零 2。高和宽故意不相等。在这些形状上比较前向结果，\
对 `dx`、`dW`、`db` 做 float64 梯度检验，检查可重入、dtype、输入不变，最后用 hypothesis 在随机的图像大小、通道数、核、步长和补零上做性质测试。
"""),
        code('result = check("conv_backward", MyConv2d)\nresult', tag="grade"),
        md(reading + r"""
这个评分器专门识别的典型错误包括：卷积核翻转了（那是数学上的卷积）、`W` 摊平的顺序与块不一致、`dx` 里重叠的块被赋值而不是相加\
（按输出位置循环或按核的偏移循环两种写法）、col2im 的切片少放了一块、前向取块或反向时忽略了步长、没有去掉补零、\
`p = 0` 时用 `[p:-p]` 裁剪得到空数组、裁剪写死成 `1:H+1`、\
`dW` 排成了 $(F, k, k, C)$ 或 $(k, k, C, F)$、`dW` 直接 `reshape` 导致数放错格子、`dW` 忽略了步长、只含最后一张图像或除以了位置数、\
算 `dW` 时把 `dy` 读成通道在前、把 `dx` 写成 full 卷积时没有翻转卷积核、`db` 只对批求和或没有对批求和、`W` 存成 PyTorch 的排法、\
把输入读成或把输出摊平成通道在前的排法、高和宽弄反、输出大小算错、\
把补零后的图像存在 `self` 上（不可重入）、参数建成 float64 或用 `np.zeros` 做补零把 float32 提升成 float64。
"""),
        md(r"""
## 用在网络里：一个裁判大小的数字分类器

第 6 章和第 8 章用来给生成的数字打分的第二个裁判（`strided`，`minigan/metrics/judge.py`）由三层步长为 2 的 $3\times3$ 卷积组成。\
下面取它的前两层（通道减半）：$28\times28\times1 \to 14\times14\times16 \to 7\times7\times32$，再接一个 `Dense` 到 10 类，\
用你的 `MyConv2d` 在随包附带的 4000 张训练数字上训练两轮（约 126 步 Adam），并用同样的初始权重把卷积换成 minigan 的 `Conv2d` 再训练一遍。\
两者在留出数字上的准确率应当相同或几乎相同（约 0.9）。

这个单元只在上面的评分全部通过（`result` 为真）时训练。
"""),
        code(CONV_NETWORK),
        md(r"""
参考实现在 `minigan/nn/conv.py` 和 `minigan/nn/im2col.py`。转置卷积（第 8 章 8.3 节）的前向就是卷积的反向：做完这个练习，它只差一步。
"""),
    ]
