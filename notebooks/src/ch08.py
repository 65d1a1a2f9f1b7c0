"""Chapter 8 notebook: from dense layers to convolutions (convolution, its backward pass,
transposed convolution, batch norm, DCGAN, and the structure study)."""

# ruff: noqa: E501

from __future__ import annotations

import _cells
from _cells import code, md

TITLE = "08_structure"

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
# 8 结构：从全连接到卷积

文章第 6 节对三个常见问题开出的药方里，有三条说的是同一件事：§6.1 (1)“增加生成器和判别器的复杂性”，\
§6.2 (2)“使用更复杂的生成器结构”，§6.3 (2)“使用更复杂的判别器结构”。文章没有说“更复杂”具体是什么。\
对图像来说，文献里的标准答案是 DCGAN（Radford、Metz 和 Chintala，2016）：生成器用转置卷积把小图放大，判别器用带步长的卷积把图缩小，\
两边都加批归一化（batch normalization）。

这个 notebook 把这条路从头走一遍，每一层都用 NumPy 手写、都做数值梯度检查：

- **8.1–8.2** 卷积就是矩阵乘法（im2col），它的反向传播（col2im：重叠的块要*相加*）；
- **8.3** 转置卷积：卷积的反向传播拿来当一层用，7×7 放大到 14×14；
- **8.4** 批归一化：前向、滑动平均、评估模式，以及反向传播的完整推导；
- **8.5** 判别器里有批归一化时，为什么真、假两批必须分开过 D；
- **8.6** DCGAN 的结构和参数量，与文章的全连接网络对照；
- **8.7** 实测：同样的训练时间，谁画的数字更好（读取 `minigan reproduce structure` 的结果）；
- **8.8–8.9** 自己训练一个 DCGAN，以及一步训练的时间花在哪里。

`FAST = True`（CI）时训练只有几十步，图没有意义，只检查代码能运行。对应的书中章节是第 8 章。
"""),
    _cells.setup(r'''
import inspect
import json
import logging
import shutil
import unicodedata
from pathlib import Path

from minigan import GAN, build_discriminator, build_generator
from minigan.data import load
from minigan.dcgan import build_dcgan_discriminator, build_dcgan_generator
from minigan.gradcheck import check_module
from minigan.nn import BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Sequential, sigmoid
from minigan.nn.im2col import weight_matrix
from minigan.nn.im2col import col2im, conv_output_size, im2col

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

TRAIN = load("mnist5k", "train")                # 4,000 张训练数字，(4000, 784)，取值 [-1, 1]
RUNS = Path("_runs/08_structure")                # 本 notebook 写的文件都在这里（git 忽略）
shutil.rmtree(RUNS, ignore_errors=True)
np.set_printoptions(precision=3, suppress=True, linewidth=110)
print(f"FAST = {FAST}")
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.1 卷积就是矩阵乘法

深度学习里的“卷积”其实是互相关（cross-correlation）：一个 $k\times k$ 的核在图像上滑动，\
每到一个位置，就把它盖住的那块像素与核的权重逐个相乘再求和。输入 $x$ 有 $C$ 个通道、输出有 $F$ 个通道，\
步长（stride）为 $s$、四周补 $p$ 圈零（padding）时，

$$
y_{n,i,j,f} = b_f + \sum_{c}\sum_{u=0}^{k-1}\sum_{v=0}^{k-1} x^{\text{pad}}_{n,\,s i+u,\,s j+v,\,c}\; W_{c,u,v,f}.
$$

把这个三重求和写成矩阵乘法的办法叫 **im2col**：把核访问到的每一块（patch）摊平成一行，\
所有块叠成一个矩阵 `cols`，形状 $(N H_o W_o,\ k k C)$；权重也摊平成 $(k k C,\ F)$ 的矩阵 $M$。\
于是整个卷积就是一次矩阵乘法 $y = \text{cols}\,M + b$，和全连接层 $y = xW + b$ 一模一样。

minigan 的图像一律按“通道在最后”（channels-last）存放并摊平成一行：一张 $H\times W\times C$ 的图是长 $HWC$ 的一行，\
28×28 的灰度数字就是它的 784 个像素。先看一张 4×4 的小图、3×3 的核：
"""),
    code(r'''
x = np.arange(1, 17, dtype=np.float64).reshape(1, 4, 4, 1)   # 一张 4x4、单通道的图，像素 1..16
print("图像:\n", x[0, :, :, 0])
cols = im2col(x, kernel=3, stride=1, padding=0)
print(f"\nim2col -> {cols.shape}：输出有 2x2 个位置，每行是一个 3x3 块（按行、列、通道的顺序摊平）")
print(cols)
'''),
    md(r"""
第一行是左上角的块（1 2 3 / 5 6 7 / 9 10 11），第二行右移一格……像素 6 出现在全部四行里：相邻的块是**重叠**的，\
这一点在反向传播时很要紧（8.2 节）。

下面用 `minigan.nn.Conv2d` 做一个带步长和补零的卷积，把它的输出和“按定义逐项求和”的四重循环对比。\
`Conv2d.forward` 做的就是 `im2col(x) @ weight_matrix(W) + b`：
"""),
    code(r'''
def conv_by_definition(x, W, b, stride, padding):
    """y[n,i,j,f] = b[f] + sum_{c,u,v} xpad[n, s i+u, s j+v, c] W[c,u,v,f]：直接照公式循环。"""
    N, H, Wd, C = x.shape
    _, k, _, F = W.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (Wd + 2 * padding - k) // stride + 1
    y = np.zeros((N, Ho, Wo, F))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                patch = xp[n, stride * i:stride * i + k, stride * j:stride * j + k, :]   # (k, k, C)
                for f in range(F):
                    y[n, i, j, f] = b[f] + np.sum(patch * W[:, :, :, f].transpose(1, 2, 0))
    return y


rng = np.random.default_rng(0)
conv = Conv2d((5, 5, 2), 3, kernel=3, stride=2, padding=1, dtype=np.float64, rng=0)
conv.b[:] = rng.standard_normal(3)
xb = rng.standard_normal((2, 5 * 5 * 2))                     # 两张 5x5x2 的图，摊平成行
print(conv, "  W:", conv.W.shape, " 作为矩阵:", weight_matrix(conv.W).shape)

y_layer = conv(xb)
y_matmul = im2col(xb.reshape(2, 5, 5, 2), 3, 2, 1) @ weight_matrix(conv.W) + conv.b
y_loops = conv_by_definition(xb.reshape(2, 5, 5, 2), conv.W, conv.b, 2, 1)
print("Conv2d 与 im2col @ M + b 的最大差:", np.abs(y_layer - y_matmul.reshape(2, -1)).max())
print("Conv2d 与按定义循环的最大差:    ", np.abs(y_layer - y_loops.reshape(2, -1)).max())
'''),
    md(r"""
**输出的大小。** 沿一个方向，核从补零后的第 0 格开始，每次跳 $s$ 格，直到放不下为止，所以

$$
H_o = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1,
$$

这也是 PyTorch 文档里 `nn.Conv2d` 的公式（`dilation=1` 时）。DCGAN 的判别器用 $k=4, s=2, p=1$：每层把边长减半，28 → 14 → 7。
"""),
    code(r'''
print(f"{'H':>4} {'k':>3} {'s':>3} {'p':>3} {'H_o':>5}")
for H, k, s, p in [(4, 3, 1, 0), (5, 3, 2, 1), (28, 4, 2, 1), (14, 4, 2, 1), (28, 5, 1, 2), (7, 3, 2, 0)]:
    print(f"{H:>4} {k:>3} {s:>3} {p:>3} {conv_output_size(H, k, s, p):>5}")
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.2 卷积的反向传播

既然 $y = \text{cols}\,M + b$ 是矩阵乘法，把上游梯度 $g = \partial L/\partial y$ 排成 $(N H_o W_o,\ F)$ 的矩阵，\
前三个梯度和全连接层（第 3 章）完全一样：

$$
\frac{\partial L}{\partial M} = \text{cols}^\top g,\qquad
\frac{\partial L}{\partial b} = \sum_{\text{行}} g,\qquad
\frac{\partial L}{\partial\,\text{cols}} = g\,M^\top .
$$

剩下一步是从 $\partial L/\partial\,\text{cols}$ 回到 $\partial L/\partial x$。im2col 把每个像素**复制**到所有盖住它的块里；\
一个量被复制到几处，它的梯度就是这几处梯度的**和**。所以反方向的 col2im 要把每一行的 $k\times k\times C$ 个值\
**加**回它们来自的像素：

$$
\begin{gathered}
\frac{\partial L}{\partial x_{n,a,b,c}} = \sum_{\substack{i,u:\ s i+u-p=a\\ j,v:\ s j+v-p=b}}
\left(\frac{\partial L}{\partial\,\text{cols}}\right)_{(n,i,j),\,(u,v,c)},
\\ \frac{\partial L}{\partial x} = \text{col2im}\big(g\,M^\top\big).
\end{gathered}
$$

用线性代数的话说，col2im 是 im2col 的转置（伴随）：$\langle \text{im2col}(x), c\rangle = \langle x, \text{col2im}(c)\rangle$。\
下面在 float64 下用 `minigan.gradcheck.check_module` 检查 `Conv2d` 的三个梯度（四阶中心差分，容差 $10^{-7}$）：
"""),
    code(r'''
c = rng.standard_normal(cols.shape)
print("<im2col(x), c> =", f"{np.sum(im2col(x, 3) * c):.12f}", "  <x, col2im(c)> =", f"{np.sum(x * col2im(c, (4, 4, 1), 3)):.12f}")
print()
print(check_module(conv, xb, title="Conv2d(5x5x2 -> 3x3x3, kernel 3, stride 2, padding 1), float64"))
'''),
    md(r"""
**常见错误：把“加回去”写成“放回去”。** 如果 col2im 用赋值 `=` 而不是 `+=`，一个被好几个块盖住的像素\
只会留下最后写到它的那一块的梯度，其余的都丢了。前向完全不受影响，训练也“能跑”，只是梯度错了。\
数值梯度检查一下就能抓住：
"""),
    code(r'''
def col2im_assign(dcols, image_shape, kernel, stride=1, padding=0):
    """错误的 col2im：和 minigan.nn.im2col.col2im 一样，只是把 += 写成了 =。"""
    H, W, C = image_shape
    k, s, p = kernel, stride, padding
    Ho, Wo = conv_output_size(H, k, s, p), conv_output_size(W, k, s, p)
    n = dcols.shape[0] // (Ho * Wo)
    d = dcols.reshape(n, Ho, Wo, k, k, C)
    out = np.zeros((n, H + 2 * p, W + 2 * p, C), dtype=dcols.dtype)
    for u in range(k):
        for v in range(k):
            out[:, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] = d[:, :, :, u, v]   # 错：应为 +=
    return out[:, p:p + H, p:p + W] if p else out


class Conv2dAssign(Conv2d):
    """参数梯度用正确的 Conv2d.backward，输入梯度用错误的 col2im_assign。"""

    def backward(self, dy, cache, **options):
        _, grads = super().backward(dy, cache, need_dx=False)
        dcols = dy.reshape(-1, self.out_channels) @ weight_matrix(self.W).T
        dx = col2im_assign(dcols, self.in_shape, self.k, self.stride, self.padding)
        return dx.reshape(dy.shape[0], -1), grads


wrong = Conv2dAssign((5, 5, 2), 3, kernel=3, stride=2, padding=1, dtype=np.float64, rng=0)
print(check_module(wrong, xb, title="kernel 3 > stride 2: patches overlap"))
print()
no_overlap = Conv2dAssign((6, 6, 2), 3, kernel=2, stride=2, dtype=np.float64, rng=0)
print(check_module(no_overlap, rng.standard_normal((2, 72)), title="kernel 2 = stride 2: no overlap"))
'''),
    md(r"""
**注意：** 核比步长大（$k > s$）时块有重叠，赋值版的 `dx` 检查失败（相对误差接近 1），`W` 和 `b` 的梯度照样通过——\
所以检查必须包括对输入的梯度。$k = s$ 时块互不重叠，每个像素只属于一块，`=` 和 `+=` 恰好相同，错误被掩盖了：\
测试要挑能暴露错误的形状。

> **练习**：[`11_conv_backward.ipynb`](exercises/11_conv_backward.ipynb) 请你自己实现带步长和补零的卷积层 `MyConv2d`，前向与反向都写；评分器会识别翻转的卷积核、赋值代替相加、忽略步长、没去掉补零、`dW` 排错轴等典型错误。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.3 转置卷积：卷积的反向用作一层

判别器要把 28×28 的图缩成一个数，带步长的卷积正合适；生成器要反过来，把一个 100 维的噪声\
**放大**成 28×28 的图。DCGAN 用的是转置卷积（transposed convolution，也有人叫“分数步长卷积”）。

它的定义很简单：取一个从大图（$H_o\times W_o\times C_\text{out}$）映到小图（$H\times W\times C_\text{in}$）的卷积 $\mathcal C$，\
去掉偏置后它是一个线性映射；8.2 节里它对输入的梯度 $\text{col2im}(g M^\top)$ 恰好是从小图到大图的线性映射，\
也就是 $\mathcal C$ 的转置 $\mathcal C^\top$。转置卷积就是把这个映射拿来当一层用（再加偏置）：

$$
y = \text{col2im}\big(x\,M^\top\big) + b .
$$

直观地说：输入的每个像素把自己的值乘上核，**盖章**一样印到输出上一个 $k\times k$ 的区域，相邻的章有重叠时相加。\
因为它是 $\mathcal C$ 的伴随，对任意的大图 $a$ 和小图 $b$ 都有

$$
\langle \mathcal C(a),\, b\rangle = \langle a,\, \mathcal C^\top(b)\rangle .
$$

`minigan.nn.ConvTranspose2d` 的权重形状 $(C_\text{out}, k, k, C_\text{in})$ 正是那个卷积的权重。数值验证：
"""),
    code(r'''
up = ConvTranspose2d((7, 7, 4), 2, kernel=4, stride=2, padding=1, bias=False, dtype=np.float64, rng=0)
down = Conv2d((14, 14, 2), 4, kernel=4, stride=2, padding=1, bias=False, dtype=np.float64, rng=1)
down.W[...] = up.W                                  # 同一个权重：(C_out=2, 4, 4, C_in=4)
print(up, "|", down)
a = rng.standard_normal((3, 14 * 14 * 2))           # 三张“大图”
b = rng.standard_normal((3, 7 * 7 * 4))             # 三张“小图”
lhs, rhs = np.sum(down(a) * b), np.sum(a * up(b))
print(f"<conv(a), b> = {lhs:.12f}\n<a, convT(b)> = {rhs:.12f}\n相对差 {abs(lhs - rhs) / abs(lhs):.1e}")
'''),
    md(r"""
**输出的大小**是卷积公式反解出来的（PyTorch 的 `nn.ConvTranspose2d` 公式）：

$$
H_o = (H - 1)\,s - 2p + k + o,
$$

其中 $o$ 是 `output_padding`。$s > 1$ 时，好几个 $H_o$ 经卷积都会缩成同一个 $H$（取整丢掉了余数），$o$（$0\le o < s$）从中挑一个。\
DCGAN 的生成器用 $k=4, s=2, p=1$：$7\to14\to28$，每层恰好放大两倍。反向传播也就顺理成章：\
转置卷积的反向就是卷积的前向（$\partial L/\partial x = \text{im2col}(g)\,M$），梯度检查照样通过：
"""),
    code(r'''
for H, k, s, p, op in [(7, 4, 2, 1, 0), (14, 4, 2, 1, 0), (7, 3, 2, 1, 1), (7, 3, 2, 1, 0), (7, 5, 1, 2, 0)]:
    layer = ConvTranspose2d((H, H, 1), 1, kernel=k, stride=s, padding=p, output_padding=op, dtype=np.float64)
    print(f"H={H:>2} k={k} s={s} p={p} output_padding={op}:  H_o = {layer.out_shape[0]:>2}")
up_b = ConvTranspose2d((4, 4, 3), 2, kernel=4, stride=2, padding=1, dtype=np.float64, rng=2)
up_b.b[:] = rng.standard_normal(2)
print()
print(check_module(up_b, rng.standard_normal((2, 4 * 4 * 3)), title="ConvTranspose2d(4x4x3 -> 8x8x2), float64"))
'''),
    md(r"""
下面把“盖章”画出来。核取双线性插值的 4×4 核（一维权重 $\tfrac14, \tfrac34, \tfrac34, \tfrac14$ 的外积），\
$k=4, s=2, p=1$：

- 左一：7×7 的输入里只有一个像素是 1；左二：输出里就是核本身，印在对应的 4×4 区域；
- 中间：一张缩成 7×7 的数字，转置卷积后变成 14×14（这个核下就是双线性放大）；
- 右边两张：输入全是 1、核也全是 1 时，$k=4, s=2$ 每个内部像素恰好被 2×2 个章盖到，输出是平的；\
$k=3, s=2$ 时有的像素被盖 1 次、有的 2 次或 4 次，出现棋盘格——这就是转置卷积出名的“棋盘伪影”，\
DCGAN 选 $k=4, s=2$（核是步长的整数倍）可以避免它。训练出来的核当然不是双线性核，但盖章的方式一样。
"""),
    code(r'''
def single_channel_up(kernel_2d, stride=2, padding=1, in_side=7, output_padding=0):
    k = kernel_2d.shape[0]
    layer = ConvTranspose2d((in_side, in_side, 1), 1, kernel=k, stride=stride, padding=padding,
                            output_padding=output_padding, bias=False, dtype=np.float64)
    layer.W[0, :, :, 0] = kernel_2d
    return layer


w1 = np.array([0.25, 0.75, 0.75, 0.25])
bilinear = single_channel_up(np.outer(w1, w1))
one_pixel = np.zeros((1, 49))
one_pixel[0, 3 * 7 + 3] = 1.0                              # 像素 (3, 3)
digit7 = TRAIN.x[0].astype(np.float64).reshape(7, 4, 7, 4).mean(axis=(1, 3))  # 一张数字缩成 7x7
ones_k4 = single_channel_up(np.ones((4, 4)))
ones_k3 = single_channel_up(np.ones((3, 3)), output_padding=1)
panels = [
    (one_pixel.reshape(7, 7), "input 7x7: one pixel"),
    (bilinear(one_pixel).reshape(14, 14), "output 14x14: the kernel stamped"),
    (digit7, "a digit shrunk to 7x7"),
    (bilinear(digit7.reshape(1, 49)).reshape(14, 14), "transposed conv -> 14x14"),
    (ones_k4(np.ones((1, 49))).reshape(14, 14), "all ones, k=4 s=2: even"),
    (ones_k3(np.ones((1, 49))).reshape(14, 14), "all ones, k=3 s=2: checkerboard"),
]
fig, axes = plt.subplots(1, len(panels), figsize=(15, 2.9))
for ax, (img, title) in zip(axes, panels):
    ax.imshow(img, cmap="gray", interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.axis("off")
fig.tight_layout()
plt.show()
print("k=3 的输出（左上 6x6）:\n", ones_k3(np.ones((1, 49))).reshape(14, 14)[:6, :6])
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.4 批归一化

DCGAN 论文的经验是：没有批归一化（batch normalization，Ioffe 和 Szegedy，2015），更深的生成器很难训练起来。\
它对每个特征（卷积层里是每个通道）用**当前这一批**的统计量做标准化，再学一个缩放 $\gamma$ 和平移 $\beta$。\
对一个特征，批里的 $m$ 个值 $x_1,\dots,x_m$：

$$
\begin{gathered}
\mu = \frac1m\sum_{i} x_i,\qquad
\sigma^2 = \frac1m\sum_{i}(x_i-\mu)^2,
\\ \hat x_i = \frac{x_i-\mu}{\sqrt{\sigma^2+\epsilon}},\qquad
y_i = \gamma\,\hat x_i + \beta .
\end{gathered}
$$

`BatchNorm2d` 的“一批”是批里所有图像的所有位置：$m = N H W$，每个通道一组 $\gamma,\beta$。

**两种模式。** 训练时（`forward`）用这一批的 $\mu,\sigma^2$，并顺手更新滑动平均（PyTorch 的约定，`momentum` $=0.1$，\
方差取无偏估计）：

$$
\bar\mu \leftarrow 0.9\,\bar\mu + 0.1\,\mu,\qquad
\bar\sigma^2 \leftarrow 0.9\,\bar\sigma^2 + 0.1\,\frac{m}{m-1}\sigma^2 .
$$

评估时（`m(x)`，用于画图、采样和评分）用滑动平均，每一行的输出只取决于它自己：$y = \gamma(x-\bar\mu)/\sqrt{\bar\sigma^2+\epsilon}+\beta$。

> **练习**：想先自己推导一遍反向传播再看下面的答案？[`10_batchnorm_backward.ipynb`](exercises/10_batchnorm_backward.ipynb) 按步骤引导你推导并实现训练模式的批归一化 `MyBatchNorm`，评分器会识别把均值和方差当常数、漏掉其中一项、方差除以 $N-1$ 等典型错误。
"""),
    code(r'''
bn = BatchNorm1d(3, dtype=np.float64)
batch = rng.normal(loc=[5.0, -2.0, 0.0], scale=[3.0, 0.5, 1.0], size=(64, 3))
y, _ = bn.forward(batch)
print("输入每个特征的均值、标准差:", batch.mean(0), batch.std(0))
print("训练模式输出的均值、标准差:", y.mean(0), y.std(0))
print("一次 forward 后 running_mean:", bn.running_mean, " running_var:", bn.running_var)
print("评估模式（滑动平均还没跟上）的输出均值:", bn(batch).mean(0))
for _ in range(50):                                         # 多见几批同分布的数据
    bn.forward(rng.normal(loc=[5.0, -2.0, 0.0], scale=[3.0, 0.5, 1.0], size=(64, 3)))
print("51 批之后 running_mean:", bn.running_mean, " running_var:", bn.running_var)
print("评估模式的输出均值、标准差:", bn(batch).mean(0), bn(batch).std(0))
print("评估模式下第一行单独算与整批一起算相同:", np.array_equal(bn(batch[:1]), bn(batch)[:1]))
'''),
    md(r"""
### 反向传播的推导

记 $g_i = \partial L/\partial y_i$，$r = (\sigma^2+\epsilon)^{-1/2}$（代码里的 `istd`）。参数的梯度直接读出来：

$$
\frac{\partial L}{\partial\beta} = \sum_i g_i,\qquad
\frac{\partial L}{\partial\gamma} = \sum_i g_i\,\hat x_i,\qquad
\frac{\partial L}{\partial\hat x_i} = \gamma\, g_i .
$$

难的是 $x_i$：它通过**三条路**影响损失——直接经过 $\hat x_i$，经过 $\sigma^2$，经过 $\mu$（而 $\mu,\sigma^2$ 又影响批里每一个 $\hat x_j$）：

$$
\frac{\partial L}{\partial x_i}
= \underbrace{\frac{\partial L}{\partial\hat x_i}\, r}_{\text{直接}}
+ \underbrace{\frac{\partial L}{\partial\sigma^2}\cdot\frac{2(x_i-\mu)}{m}}_{\text{经过 }\sigma^2}
+ \underbrace{\frac{\partial L}{\partial\mu}\cdot\frac1m}_{\text{经过 }\mu} .
$$

$\hat x_j$ 对 $\sigma^2$ 的导数是 $-\tfrac12 (x_j-\mu)(\sigma^2+\epsilon)^{-3/2}$，所以

$$
\frac{\partial L}{\partial\sigma^2} = -\frac{r^3}{2}\sum_j \frac{\partial L}{\partial\hat x_j}(x_j-\mu)
= -\frac{r^2}{2}\sum_j \frac{\partial L}{\partial\hat x_j}\hat x_j .
$$

$\mu$ 既直接出现在每个 $\hat x_j$ 里，也出现在 $\sigma^2$ 里；后一项含 $\sum_j (x_j-\mu) = 0$，消失了：

$$
\frac{\partial L}{\partial\mu} = -r\sum_j \frac{\partial L}{\partial\hat x_j}
+ \frac{\partial L}{\partial\sigma^2}\cdot\frac{-2}{m}\sum_j (x_j-\mu)
= -r\sum_j \frac{\partial L}{\partial\hat x_j} .
$$

代回去，用 $x_i - \mu = \hat x_i / r$，三项提出公因子 $r/m$：

$$
\begin{aligned}
\frac{\partial L}{\partial x_i}
&= \frac{r}{m}\Big( m\,\frac{\partial L}{\partial\hat x_i} - \sum_j \frac{\partial L}{\partial\hat x_j}
\\ &\qquad\quad - \hat x_i \sum_j \frac{\partial L}{\partial\hat x_j}\hat x_j \Big)
\\ &= \frac{\gamma\, r}{m}\Big( m\, g_i - \frac{\partial L}{\partial\beta} - \hat x_i\,\frac{\partial L}{\partial\gamma} \Big).
\end{aligned}
$$

最后一步用了 $\partial L/\partial\hat x = \gamma g$：两个求和正是已经算好的参数梯度，代码就是这样算的\
（`minigan/nn/batchnorm.py`）。括号里是上游梯度减去它的均值（经过 $\mu$ 的那条路），\
再减去它在 $\hat x$ 上的投影（经过 $\sigma^2$ 的那条路）。因此 $\sum_i \partial L/\partial x_i = 0$：把整批平移不改变输出，\
梯度在这个方向上没有分量；$\epsilon\to0$ 时还有 $\sum_i \hat x_i\,\partial L/\partial x_i = 0$：整批放缩也不改变输出\
（$\epsilon > 0$ 时它等于 $\gamma r\,\frac{\partial L}{\partial\gamma}\cdot\frac{\epsilon}{\sigma^2+\epsilon}$，几乎为 0）。
"""),
    code(r'''
bn1 = BatchNorm1d(4, dtype=np.float64)
bn1.gamma[:] = rng.uniform(0.5, 2.0, 4)
bn1.beta[:] = rng.standard_normal(4)
xs = rng.normal(2.0, 3.0, (16, 4))
print(check_module(bn1, xs, title="BatchNorm1d(4), batch 16, float64"))
bn2 = BatchNorm2d(3, dtype=np.float64)
bn2.gamma[:] = rng.uniform(0.5, 2.0, 3)
print(check_module(bn2, rng.standard_normal((2, 4 * 4 * 3)), title="BatchNorm2d(3) on 2 images 4x4x3, float64"))

y, cache = bn1.forward(xs)
dx, _ = bn1.backward(rng.standard_normal(y.shape), cache)
xhat = cache[0]
print("\n每个特征上 sum_i dx_i        :", dx.sum(axis=0))
print("每个特征上 sum_i xhat_i dx_i :", (xhat * dx).sum(axis=0))
'''),
    md(r"""
**常见错误：把 $\mu$ 和 $\sigma^2$ 当常数。** 只留下“直接”那一项，$\partial L/\partial x_i = \gamma\, r\, g_i$。\
形式上像一个逐元素的缩放，看起来很合理，但它漏掉了另外两条路：
"""),
    code(r'''
class BatchNormConstantStats(BatchNorm1d):
    """错误的反向传播：把这一批的均值和方差当成常数。"""

    def backward(self, dy, cache, **options):
        xhat, istd = cache
        grads = {"beta": dy.sum(axis=0), "gamma": (dy * xhat).sum(axis=0)}
        return self.gamma * istd * dy, grads


bn_wrong = BatchNormConstantStats(4, dtype=np.float64)
bn_wrong.gamma[:], bn_wrong.beta[:] = bn1.gamma, bn1.beta
print(check_module(bn_wrong, xs, title="mean and variance treated as constants"))
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.5 判别器为什么要分开看真假两批

前几章的判别器只有全连接层和激活函数，每一行的输出只取决于这一行。那时把真实批和生成批**拼成一批**\
过一次 D，和分两次过 D，结果完全相同，minigan 以前也是拼起来算的（省一次函数调用）。\
D 里一旦有批归一化，这就不成立了：拼起来时，$\mu$ 和 $\sigma^2$ 是真、假两批**混在一起**的统计量，\
每个真实样本的输出都取决于同批的假样本。下面用一个未训练的 DCGAN 判别器看看差多少：
"""),
    code(r'''
G64 = build_dcgan_generator(dtype=np.float64, rng=0)
D64 = Sequential(*build_dcgan_discriminator(dtype=np.float64, rng=1))
D_mlp = build_discriminator(dtype=np.float64, rng=1)
real = TRAIN.x[:64].astype(np.float64)
fake = G64.forward(rng.standard_normal((64, 100)))[0]

for name, net in [("article's MLP D", D_mlp), ("DCGAN D (batch norm)", D64)]:
    separate = np.concatenate([net.forward(real)[0], net.forward(fake)[0]])
    stacked = net.forward(np.concatenate([real, fake]))[0]
    print(f"{name:<22} 拼成一批 vs 分两批：logit 最大差 {np.abs(stacked - separate).max():.2e}")
    print(f"{'':<22} 分两批: D(x) 均值 {sigmoid(separate[:64]).mean():.4f}, D(G(z)) 均值 {sigmoid(separate[64:]).mean():.4f}")
    print(f"{'':<22} 拼一批: D(x) 均值 {sigmoid(stacked[:64]).mean():.4f}, D(G(z)) 均值 {sigmoid(stacked[64:]).mean():.4f}")
'''),
    md(r"""
**注意：** 文章的 D 两种算法只差舍入误差（或恰好为 0）；DCGAN 的 D 差别和 logit 本身一样大，\
$D(x)$、$D(G(z))$ 的均值也随之改变。\
问题不只是“数不一样”：生成器那一步里，D 只看到一批假图，用的是假图自己的统计量；\
如果判别器那一步用混合统计量，D 被训练去分辨的东西和 G 被要求骗过的东西就不是同一个函数。\
DCGAN 的做法（也是 PyTorch 官方 DCGAN 示例的做法）是每批单独过 D。\
现在 `minigan.GAN.d_step` 就是这样做的：真实批一次 `forward`、生成批一次 `forward`，\
两次各自反向，参数梯度相加（损失是两项之和，梯度也是）。它的源码里相关的几行：
"""),
    code(r'''
source = inspect.getsource(GAN.d_step).splitlines()
for line in source:
    if any(key in line for key in ("self.D.forward", "backward(self.D", "grads[name] +=", "self.G.forward")):
        print(line.strip())
'''),
    md(r"""
**采样用评估模式。** 生成器里也有批归一化。训练时 G 用每批自己的统计量——这没问题，DCGAN 就是这样训练的；\
但拿来画图和评分时，一个样本长什么样不应取决于和它一起生成的其他样本。`minigan.GAN.sample` 因此调用\
G 的评估模式 `G(z)`，批归一化用训练中积累的滑动平均。对比一下同一个 $z$ 在两种模式下的输出：
"""),
    code(r'''
z = rng.standard_normal((64, 100))
for _ in range(20):                                    # 先让滑动平均见过一些批
    G64.forward(rng.standard_normal((64, 100)))
train_all = G64.forward(z)[0]                          # 训练模式：64 个 z 一起
train_few = G64.forward(z[:8])[0]                      # 训练模式：只取前 8 个 z
print("训练模式：前 8 个样本，单独生成 vs 与另外 56 个一起生成，最大差", f"{np.abs(train_few - train_all[:8]).max():.3f}")
print("评估模式：同样的比较，最大差", np.abs(G64(z[:8]) - G64(z)[:8]).max())
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.6 DCGAN 的结构

`minigan.dcgan` 按 DCGAN 论文的规则搭了一对适合 28×28 灰度数字、能在 CPU 上训练的网络（`channels` $C=32$）：

- **生成器**：$z$（100 维）→ 全连接到 $7\times7\times2C$ → 批归一化 → ReLU → 转置卷积（$k=4,s=2,p=1$）到 $14\times14\times C$\
→ 批归一化 → ReLU → 转置卷积到 $28\times28\times1$ → tanh；
- **判别器**：$28\times28\times1$ → 卷积（$k=4,s=2,p=1$）到 $14\times14\times C$ → leaky ReLU(0.2) → 卷积到 $7\times7\times2C$\
→ 批归一化 → leaky ReLU → 全连接到一个 logit。

DCGAN 的规则一条不少：用带步长的（转置）卷积代替池化；除了 G 的输出层和 D 的输入层，两边都有批归一化；\
G 用 ReLU、输出 tanh，D 用 leaky ReLU；权重从 $\mathcal N(0, 0.02^2)$ 抽取。后面接批归一化的层没有偏置：\
批归一化减去均值时会把任何偏置抵消掉，它的 $\beta$ 就是偏置。
"""),
    code(r'''
G_dc = build_dcgan_generator(rng=0)
D_dc = Sequential(*build_dcgan_discriminator(rng=1))
print("G =", G_dc)
print("D =", D_dc)
'''),
    md(r"""
和文章的网络比一比参数量。参数量只说明了一半：全连接层的每个权重每个样本只用一次，卷积核的权重要在每个位置各用一次。\
下表同时列出每个样本前向传播的乘加次数（矩阵乘法部分），它决定了每步训练的时间。\
“mlp wide” 是 8.7 节的对照组：隐藏层 256×3，让 G 的参数量和 DCGAN 的 G 相当，只有规模、没有卷积结构。
"""),
    code(r'''
from minigan.bench.dcgan import layer_products


def macs(model):
    """每个样本前向传播的乘加次数（只算全连接、卷积、转置卷积的矩阵乘法）。"""
    return sum(rows * a * b for rows, a, b in layer_products(model, 1))


nets = {
    "mlp (the article's, 3 x 128)": (build_generator(rng=0), build_discriminator(rng=1)),
    "mlp wide (3 x 256)": (build_generator(hidden=(256, 256, 256), rng=0), build_discriminator(hidden=(256, 256, 256), rng=1)),
    "dcgan": (G_dc, D_dc),
}
print(f"{'networks':<30}{'G params':>11}{'D params':>11}{'G MACs/sample':>16}{'D MACs/sample':>16}")
for name, (G, D) in nets.items():
    print(f"{name:<30}{G.num_params():>11,}{D.num_params():>11,}{macs(G):>16,}{macs(D):>16,}")
print("\n（dcgan_g 这一行 = DCGAN 的 G + 文章的 D）")
print("\nDCGAN 各层的参数量与乘加次数：")
for net_name, net in (("G", G_dc), ("D", D_dc)):
    for i, m in enumerate(net.modules):
        n_params = sum(p.size for p in m.params().values()) if hasattr(m, "params") else 0
        if n_params:
            print(f"  {net_name}.{i} {m!r:<72}{n_params:>9,} params{macs(Sequential(m)):>13,} MACs")
'''),
    md(r"""
**注意：** DCGAN 的 G 参数量约是文章 G 的 2.4 倍（主要在第一个全连接层），每个样本的乘加次数却多了一个数量级；\
DCGAN 的 D 参数不到文章 D 的三分之一，乘加次数却也多了一个数量级——同一个 4×4 核在 14×14、7×7 个位置上反复使用。\
这种“权重共享”正是卷积对图像的先验：同样的局部图案（一段笔画、一个拐角）在哪儿出现都用同一组权重识别。\
代价是时间，8.7 节的比较因此按**相同的训练时间**而不是相同的步数来做。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.7 实测：同样的时间，谁画得更好

“更复杂的结构”有没有用，要在相同的代价下比。`minigan reproduce structure` 在这台 2 核机器上做了这样一个研究\
（`minigan/structure.py`，结果在仓库的 `results/structure.md` 和 `results/structure.json`）：

| 行 | 生成器 | 判别器 | 想回答的问题 |
|---|---|---|---|
| `mlp` | 文章的（3×128） | 文章的 | 基线：默认配方 |
| `mlp wide` | 3×256 | 3×256 | 只加规模、不加结构够不够 |
| `dcgan_g` | DCGAN 的 | 文章的 | 只给 G 卷积结构（§6.2 (2)） |
| `dcgan no bn` | DCGAN 的，去掉批归一化 | DCGAN 的，去掉批归一化 | 批归一化的作用 |
| `dcgan` | DCGAN 的 | DCGAN 的 | G 和 D 都用卷积结构（§6.2 (2) 加 §6.3 (2)） |

每一行都按**同样的墙钟时间**训练两次：一次给研究时文章网络默认运行（当时 15,996 步，现在的默认是 18,600 步）所需的时间，一次给 DCGAN 默认运行\
（当时的默认约 6,000 步，带批归一化）所需的时间。先在本机上量出每一行一步的时间，再把时间预算换算成步数，所以慢的网络走的步数少。\
每行默认 5 个种子；评分和第 6 章的研究一样：从 G（滑动平均后的）采 5,000 个样本，用裁判网络算 Fréchet 距离（越小越好）、\
预测类别直方图到均匀分布的 KL（越小越好）和覆盖的类别数。下面读出保存的结果（没有就提示先运行研究）：
"""),
    code(r'''
from minigan.reproduce import mean_se
from minigan.structure import ROWS

STRUCTURE = Path("../results/structure.json")
BUDGET_NAMES = {"mlp default": "文章网络默认运行的时长", "dcgan default": "DCGAN 默认运行的时长"}


def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def show_table(header, rows):
    widths = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(" " * (w - width(cell)) + cell if i else cell + " " * (w - width(cell))
                        for i, (cell, w) in enumerate(zip(r, widths))))


if not STRUCTURE.exists():
    RESULT = None
    print("还没有 results/structure.json：请先在仓库根目录运行 `minigan reproduce structure`"
          "（两核机器上要一个多小时），再重新运行本节。")
else:
    RESULT = json.loads(STRUCTURE.read_text(encoding="utf-8"))
    print(f"裁判在留出数字上的准确率 {RESULT.get('judge_accuracy', float('nan')):.3f}；"
          f"4,000 张真实训练数字本身的 Fréchet 距离 {RESULT.get('real_training_digits_frechet', float('nan')):.1f}\n")
    for label, seconds in RESULT["budgets"].items():
        print(f"预算：{BUDGET_NAMES.get(label, label)}，每行训练 {seconds:.0f} 秒")
        rows = []
        for row in ROWS:
            rs = [r for r in RESULT["runs"] if r["budget"] == label and r["row"] == row.name]
            if not rs:
                continue
            fd, kl, cov = (mean_se([r[k] for r in rs]) for k in ("frechet", "kl_to_uniform", "classes_covered"))
            rows.append((row.name, f"{rs[0]['steps']:,}", f"{fd[0]:.1f} ± {fd[1]:.1f}", f"{max(r['frechet'] for r in rs):.1f}",
                         f"{kl[0]:.3f} ± {kl[1]:.3f}", f"{cov[0]:.1f}", f"{1e3 * RESULT['step_seconds'][row.name]:.1f}",
                         str(len(rs))))
        show_table(("网络", "步数", "Fréchet 距离", "最差种子", "类别 KL", "类别数", "毫秒/步", "种子数"), rows)
        print()
'''),
    code(r'''
if RESULT is not None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), sharey=True)
    names = [row.name for row in ROWS if any(r["row"] == row.name for r in RESULT["runs"])]
    for ax, label in zip(axes, RESULT["budgets"]):
        for i, name in enumerate(names):
            values = [r["frechet"] for r in RESULT["runs"] if r["budget"] == label and r["row"] == name]
            ax.plot([i] * len(values), values, "o", color="tab:blue", alpha=0.6)
            ax.plot([i - 0.25, i + 0.25], [np.mean(values)] * 2, color="black")
        ax.set(title=f"budget: {label} run ({RESULT['budgets'][label]:.0f} s)", xticks=range(len(names)), yscale="log")
        ax.set_xticklabels(names, rotation=20, fontsize=8)
    axes[0].set_ylabel("judge's Frechet distance (lower is better)")
    fig.suptitle("one dot per seed, bar = mean", fontsize=9)
    fig.tight_layout()
    plt.show()
'''),
    md(r"""
同一时间预算（DCGAN 默认运行的时长）下三种结构画出的数字，每张图是各行第一个种子的 64 个样本（滑动平均后的 G、评估模式）：
"""),
    code(r'''
shown = ["mlp", "dcgan_g", "dcgan"]
paths = {name: Path(f"../results/structure_dcgan_{name.replace(' ', '_')}.png") for name in shown}
missing = [str(p) for p in paths.values() if not p.exists()]
if missing:
    print("缺少样本图", missing, "：请先运行 `minigan reproduce structure`。")
else:
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4.4))
    for ax, name in zip(axes, shown):
        ax.imshow(plt.imread(paths[name]), cmap="gray")
        runs = [r for r in RESULT["runs"] if r["budget"] == "dcgan default" and r["row"] == name] if RESULT else []
        first = min(runs, key=lambda r: r["seed"]) if runs else None
        ax.set_title(name + (f": seed {first['seed']}, {first['steps']:,} steps, Frechet {first['frechet']:.0f}" if first else ""),
                     fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    plt.show()
'''),
    md(r"""
**结论**（`results/structure.md`，种子 1–5，调配方时只用过种子 0）：

- **同样的时间，文章的网络最好。** 两种预算下 `mlp` 都排在最前，327 秒时加宽的 `mlp wide` 与它持平。卷积的一步贵 5.5–14 倍，\
同样的时间里步数少得多（327 秒：`mlp` 82,869 步，`dcgan` 6,014 步）。文章的“用更复杂的结构”在这个预算下换不来更好的分数。
- **按步数比，结构是划算的：** `dcgan_g` 走 15,115 步得 8.4，比 `mlp` 走 15,996 步的 14.8 好。卷积生成器每一步学到的更多，只是每一步太贵。
- **卷积的判别器在这里有害**（`dcgan_g` 8.4 对 `dcgan` 29.1），**批归一化也没帮忙**（`dcgan no bn` 25.0 对 `dcgan` 29.1）。\
短预算下 `dcgan` 的 596 主要是滑动平均的启动问题：1,161 步后，衰减 0.999 的平均里还有约 $0.999^{1161}\approx 0.31$ 是初始权重。
- **看图：** DCGAN 的笔画光滑、没有斑点（§6.2 的“噪声和模糊”确实少了），但不成形的数字更多、类别不均；裁判更偏好全连接网络的样本。\
换一个裁判数字会变，这张表回答的是“这个裁判、这台机器、这 4,000 张数字”下的问题。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.8 自己训练一个 DCGAN

`minigan.train` 的 `arch="dcgan"` 用的是 8.6 节的网络，\
配方是 DCGAN 的 Adam（$\beta_1=0.5$），学习率 D 取 $4\times10^{-4}$、\
G 取 $8\times10^{-4}$，加上第 6 章研究里有效的随机平移和 G 的滑动平均；默认**不带批归一化（`batchnorm=True` 时保留）、不用 dropout**\
（这是量出来的选择，见书的第 8.8 节：同样的训练时间里，带批归一化并不更好，dropout 在卷积的 D 上有害）。\
完整运行时这一格训练 1,500 步（一两分钟）；`FAST` 时只有 30 步。

这里把滑动平均的衰减从默认的 0.999 改成 0.99。衰减 $\beta$ 的平均大约覆盖最近 $1/(1-\beta)$ 步，\
而且从初始权重开始：$t$ 步之后，初始权重在平均里还占 $\beta^t$。$0.999^{1500} \approx 0.22$，\
只训练 1,500 步时平均里还有两成多是随机初始化的权重，样本会是一团模糊；$0.99^{1500}$ 则可以忽略。\
默认的 4,960 步运行里 $0.999^{4960} \approx 0.007$，不成问题。
"""),
    code(r'''
from minigan.train import TrainConfig, train

STEPS = 30 if FAST else 1500
result = train(TrainConfig(arch="dcgan", steps=STEPS, seed=0, ema=0.99), RUNS / "dcgan", progress="none")
print(f"{result.step} 步，用时 {result.seconds:.0f} 秒（{1e3 * result.seconds / max(result.step, 1):.0f} ms/步）")
print("最后一步:", {k: round(v, 3) for k, v in result.last.items() if k not in ("step", "epoch", "seconds")})
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.5]})
axes[0].imshow(plt.imread(result.out_dir / "samples.png"), cmap="gray")
axes[0].set_title(f"DCGAN after {result.step} steps", fontsize=9)
axes[1].imshow(plt.imread(result.out_dir / "losses.png"))
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()
'''),
    md(r"""
完整的默认运行（4,960 步，在最慢的 2 核机器上不到 10 分钟）用命令行：

```bash
minigan train --arch dcgan                     # G 和 D 都是 DCGAN 的结构，不带批归一化
minigan train --arch dcgan --batchnorm         # 加上批归一化（8.7 节的 dcgan）
minigan train --arch dcgan_g                   # DCGAN 的 G + 文章的 D
```

`--channels C` 改变两个网络的宽度（默认 32）。运行目录里的文件和文章网络的运行一样（第 4 章），\
`minigan sample`、`minigan eval` 照常可用；带批归一化时检查点里除了权重还保存了它的滑动平均。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 8.9 速度

DCGAN 每步比文章的网络慢得多。`minigan.bench.dcgan.time_by_layer` 给每一层的 `forward` 和 `backward` 套上计时，\
跑几步训练（批量 64，和 `GAN.train_step` 一样：D 看真实批、再看生成批，然后 G 穿过 D），按层的种类汇总：
"""),
    code(r'''
from minigan.bench.dcgan import time_by_layer

ms = time_by_layer(TRAIN.x[:64], steps=3 if FAST else 10)
total = ms.pop("total")
print(f"一步共 {total:.1f} ms（OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '未设置')}，"
      f"机器 1 分钟平均负载 {os.getloadavg()[0]:.1f}）")
for name, v in ms.items():
    print(f"  {name:<30}{v:8.2f} ms  {100 * v / total:5.1f} %")
fig, ax = plt.subplots(figsize=(7, 0.32 * len(ms) + 1))
ax.barh(list(ms)[::-1], list(ms.values())[::-1], color="tab:blue")
ax.set_xlabel("ms per training step (batch 64)")
ax.set_title(f"where one DCGAN step goes: {total:.0f} ms in all", fontsize=10)
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 大头是卷积和转置卷积（每一项里既有矩阵乘法，也有 im2col / col2im 的数据搬运）；\
激活函数和 Adam 加起来只占一小部分（这里计时的是默认网络，没有批归一化；`time_by_layer(..., batchnorm=True)` 把它也算进来，它约占一成）。读这张图时要记得一步里各层被调用的次数不同：\
D 每步前向三次（真实批、生成批、G 那一步里的生成批），反向也是三次（G 那一步只算对输入的梯度）；\
G 前向两次、反向一次。这一格只计时几步，机器繁忙时数字会有偏差。

和 PyTorch 的比较用命令行（需要 `pip install -e '.[torch]'`；这个 notebook 不导入 torch）：

```bash
minigan bench --arch dcgan       # minigan 与 PyTorch 同一步 DCGAN 训练的用时、矩阵乘法下限、逐层的用时
```

它和第 7 章的 `minigan bench` 一样交替计时两边、报告测量期间其他进程占用的 CPU；计时请在空闲的机器上做。
"""),
]
