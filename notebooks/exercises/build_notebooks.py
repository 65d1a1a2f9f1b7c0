"""Write the exercise notebooks and run them as a learner first sees them (nothing answered).

    python notebooks/exercises/build_notebooks.py            # write and execute all
    python notebooks/exercises/build_notebooks.py --no-run   # write only, no outputs
    python notebooks/exercises/build_notebooks.py 07 09      # only these (name prefixes)

Needs nbformat, nbclient and ipykernel.  The answer cells only hold skeletons
(``raise NotImplementedError``), so the grading cells show every check as "not
implemented yet" and no cell raises.  Cell ids are fixed so that rebuilding gives small
diffs.  Answer cells are tagged "answer", grading cells "grade" (tests/test_exercises.py
relies on both tags).
"""

# The Chinese prose is kept in long source lines (one per paragraph sentence group);
# CJK characters count double towards the line-length limit.
# ruff: noqa: E501

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
from _cells import code, md  # noqa: E402  (the chapter notebooks' cell helpers)
from _nb_classic import batchnorm_cells, conv_cells  # noqa: E402  (notebooks 10, 11)
from _nb_gan import discriminator_cells, minimax_cells, train_step_cells  # noqa: E402  (notebooks 05, 06, 08)
from _nb_optim import ADAM, COVERAGE  # noqa: E402  (notebooks 07 and 09)

READING_THE_REPORT = """\
## 怎样读评分报告

- 每一行是一项检查：`[通过]`、`[失败]`，或 `[跳过]`（例如没有安装 hypothesis）。
- 失败的检查下面有一行 `提示：`，说明评分器判断出的**最可能的错误**。评分器不是只比较数字：\
它会专门测试常见错误的"特征"，例如梯度恰好是正确值的 $N$ 倍（漏了 $1/N$）、恰好是相反数（符号反了）、\
形状恰好是转置后的形状等等。
- 同一个异常导致的后续失败会标成 `同上`，先修第一处。
- 还没动手时，最后一行是 `尚未完成`；全部做对时是 `全部通过`。
- `check(...)` 返回的对象在全部通过时为真值，因此也可以写 `assert check(...)`。\
想多跑一些随机用例，可以加参数 `max_examples=200`。
"""

SETUP_LAYERS = """\
import numpy as np

from minigan.exercises import check
from minigan.nn import Module  # 基类：提供 layer(x) 的写法和默认的 params()（返回 {}）
"""


# --------------------------------------------------------------------------------------
# 01: Dense

DENSE = [
    md(r"""
# 练习 1：全连接层（Dense）的前向与反向传播

文章第 3.1 节和第 3.2 节把生成器（Generator）和判别器（Discriminator）都描述成"若干隐藏层加激活函数"的堆叠；\
第 4.1、4.2 节的代码里，每个隐藏层就是一次 `tf.layers.dense` 调用。TensorFlow 会自动求导，所以文章里看不到反向传播。\
minigan 没有自动求导，每一层的梯度都要亲手推导、亲手实现。这个练习从最基本的全连接层开始。

**步骤**

1. 读懂前向公式，自己推导三个梯度 $\partial L/\partial x$、$\partial L/\partial W$、$\partial L/\partial b$（推导完再展开"核对"）；
2. 在"作答"单元里补全 `forward` 和 `backward` 中标有 `# TODO` 的部分；
3. 运行"评分"单元：`check("dense", MyDense)` 把你的层与有限差分、与 minigan 的参考实现逐项比较。

还没作答时运行评分单元，所有检查都会显示 `尚未实现`，最后一行是 `尚未完成`，这是正常的。
"""),
    md(r"""
## 模块协议（module protocol）

minigan 的每一层都遵守同一个约定：

| 调用 | 含义 |
|---|---|
| `y, cache = layer.forward(x)` | 计算输出 `y`，并把反向传播要用的量放进 `cache` 一起返回 |
| `dx, grads = layer.backward(dy, cache)` | `dy` 是 $\partial L/\partial y$；返回 $\partial L/\partial x$ 和参数梯度字典 |
| `layer.params()` | `{"W": self.W, "b": self.b}`：返回数组本身，不是副本 |

几条规矩（评分器都会检查）：

- **cache 要返回，不要存在 `self` 上。** 按文章第 3.3 节的训练步骤，判别器要先后处理真实图像和生成图像，\
两次前向之后才做反向。若把输入存进 `self.x`，第二次前向会把第一次的覆盖掉，第一次的反向就用错了数据。
- 不要原地修改 `x`、`dy` 或 cache；`backward` 只计算梯度，不更新参数（那是优化器的工作）。
- float32 的输入要得到 float32 的输出。

**构造函数签名**：`MyDense(in_features, out_features, *, rng=None, dtype=np.float32)`。\
权重 `self.W` 的形状是 `(in_features, out_features)`（与 `tf.layers.dense` 一致），偏置 `self.b` 的形状是 `(out_features,)`。\
评分器构造出层以后，会用自己的随机数组替换 `W` 和 `b`（做梯度检验时用 float64），\
所以 `forward`、`backward` 里一定要通过 `self.W`、`self.b` 读取参数。
"""),
    md(r"""
## 前向传播

一批 $N$ 个样本按行排成矩阵：

$$
x \in \mathbb{R}^{N\times d_{\text{in}}},\qquad W \in \mathbb{R}^{d_{\text{in}}\times d_{\text{out}}},\qquad
b \in \mathbb{R}^{d_{\text{out}}},
$$

$$
y = xW + b \in \mathbb{R}^{N\times d_{\text{out}}},\qquad
y_{nj} = \sum_{i=1}^{d_{\text{in}}} x_{ni}\,W_{ij} + b_j .
$$

$b$ 通过广播加到每一行上。

## 反向传播：请你推导

记上游传来的梯度为 $\delta = \partial L/\partial y \in \mathbb{R}^{N\times d_{\text{out}}}$，即 $\delta_{nj} = \partial L/\partial y_{nj}$。\
由链式法则，对任意一个量 $\theta$：

$$
\frac{\partial L}{\partial \theta} = \sum_{n=1}^{N}\sum_{j=1}^{d_{\text{out}}} \delta_{nj}\,\frac{\partial y_{nj}}{\partial \theta}.
$$

1. 写出 $\partial y_{nj}/\partial x_{mi}$、$\partial y_{nj}/\partial W_{ik}$、$\partial y_{nj}/\partial b_k$（大部分情况下为 0）；
2. 代回上式求和，把结果写成矩阵运算；
3. 核对形状——每个梯度都与它对应的量形状相同：

$$
\frac{\partial L}{\partial x}\in\mathbb{R}^{N\times d_{\text{in}}},\qquad
\frac{\partial L}{\partial W}\in\mathbb{R}^{d_{\text{in}}\times d_{\text{out}}},\qquad
\frac{\partial L}{\partial b}\in\mathbb{R}^{d_{\text{out}}}.
$$

思考：为什么 $\partial L/\partial b$ 要对批次那一维求和？损失是对批次取平均的（文章第 4.3 节代码里的 `tf.reduce_mean`），\
为什么全连接层自己的反向传播里却**不**应该出现 $1/N$？

<details>
<summary>推导完成后，点这里核对</summary>

$$
\frac{\partial L}{\partial x} = \delta\,W^{\top},\qquad
\frac{\partial L}{\partial W} = x^{\top}\delta,\qquad
\frac{\partial L}{\partial b} = \sum_{n=1}^{N}\delta_{n,:}\,.
$$

$b$ 被加到了每一行上，所以每一行的梯度都要累加进来。$1/N$ 来自损失函数的平均，已经包含在 $\delta$ 里；\
层只需乘上自己的局部导数。
</details>
"""),
    code(SETUP_LAYERS),
    md("## 作答"),
    code('''
class MyDense(Module):
    """全连接层 y = x @ W + b。x: (N, in)，W: (in, out)，b: (out,)，y: (N, out)。"""

    def __init__(self, in_features, out_features, *, rng=None, dtype=np.float32):
        # 已给出：Glorot 均匀分布初始化（tf.layers.dense 的默认做法），偏置为 0
        rng = np.random.default_rng(rng)
        limit = np.sqrt(6.0 / (in_features + out_features))
        self.W = rng.uniform(-limit, limit, (in_features, out_features)).astype(dtype)
        self.b = np.zeros(out_features, dtype=dtype)

    def params(self):
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        # TODO: 计算 y（形状 (N, out_features)），返回 (y, cache)。
        #       cache 里放 backward 需要的量；不要写 self.something = ...
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 由 dy（形状 (N, out_features)）和 cache 计算
        #       dx（形状同 x）、dW（形状同 W）、db（形状同 b），
        #       返回 (dx, {"W": dW, "b": db})
        raise NotImplementedError
''', tag="answer"),
    md(r"""
## 评分

评分器会：在几组随机输入上用 float64 做梯度检验（四阶中心差分，相对误差须小于 $10^{-7}$，见 `minigan.gradcheck`）；\
把前向结果与 `minigan.nn.Dense` 比较；检查可重入：像 `GAN.train_step` 那样在两次训练前向之间插入一次只前向、\
不反向的推理（生成器为判别器出样本），再按相反的顺序做两次反向，每次都必须只用自己的 cache；\
检查是否改动了输入或参数、float32 与 float64 是否各自保持；最后用 hypothesis 在随机的形状和 dtype 上做性质测试。
"""),
    code('check("dense", MyDense)', tag="grade"),
    md(READING_THE_REPORT + r"""
评分器专门识别的典型错误包括：矩阵乘法的顺序或转置写错、偏置梯度没有对批次求和（或求和的轴不对）、\
多除了 $N$、符号反了、把输入存在 `self` 上（单个属性，或按顺序取出的列表/队列）、float32 被提升成 float64、\
float64 被降成 float32、在 `backward` 里更新了参数。

全部通过后，可以对照 minigan 自己的实现 `minigan/nn/dense.py`。下一个练习：`02_activations.ipynb`。
"""),
]

# --------------------------------------------------------------------------------------
# 02: activations

ACTIVATIONS = [
    md(r"""
# 练习 2：激活函数 LeakyReLU、Tanh 与 Sigmoid

文章第 3.1、3.2 节说隐藏层之间要有非线性的激活函数，并举了 sigmoid、tanh 为例；\
第 4.1 节的生成器在隐藏层使用 leaky ReLU（`tf.nn.leaky_relu`），输出层使用 tanh；\
第 4.2 节的判别器最后用 sigmoid 把 logits 变成"输入是真实图像"的概率。\
本练习依次实现这三个激活函数的前向与反向传播，每个都有自己的评分单元。
"""),
    md(r"""
## 逐元素层的反向传播

三个激活函数都是逐元素（element-wise）的：$y = f(x)$，$x, y \in \mathbb{R}^{N\times d}$，$y_{nk} = f(x_{nk})$。\
每个输出只依赖同一位置的输入，链式法则因此化为逐元素乘积：

$$
\frac{\partial L}{\partial x_{nk}} = \frac{\partial L}{\partial y_{nk}}\; f'(x_{nk}),
\qquad\text{即}\qquad
\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\odot f'(x)\;\in\mathbb{R}^{N\times d}.
$$

这些层没有参数，`backward` 返回 `(dx, {})`。真正要决定的只有两件事：$f'$ 怎么写，以及 cache 里放 $x$ 还是 $y$——\
用哪一个写导数更方便、更不容易出错？

模块协议与练习 1 相同：cache 返回而不存在 `self` 上；不改动输入；float32 进、float32 出。\
小心 dtype 提升：`np.where(x > 0, 1.0, alpha)` 的两个分支都是 Python 浮点数，得到的是 float64 数组；\
`np.float64(0.2) * x` 也会把 float32 的 `x` 提升为 float64。
"""),
    code(SETUP_LAYERS),
    md(r"""
## 2.1 Leaky ReLU

$$
f(x) = \begin{cases} x, & x > 0,\\ \alpha x, & x \le 0,\end{cases}\qquad 0 \le \alpha \le 1 .
$$

`tf.nn.leaky_relu` 的默认值是 $\alpha = 0.2$。构造函数签名：`MyLeakyReLU(alpha=0.2)`（评分器会用 `MyLeakyReLU(alpha)` 和 `MyLeakyReLU()` 两种方式构造）。

请推导 $f'(x)$（在 $x = 0$ 这一点取 $\alpha$ 即可），再写出 $\partial L/\partial x$。\
想一想：如果 cache 里只存输出 $y$，当 $\alpha = 0$ 时还分得清 $x$ 的正负吗？

<details>
<summary>推导完成后，点这里核对</summary>

$$
f'(x) = \begin{cases}1, & x>0,\\ \alpha, & x\le 0,\end{cases}
\qquad
\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\odot f'(x).
$$

$\alpha = 0$ 时所有负的 $x$ 都映射为 $y = 0$，用 `y >= 0` 判断就会把它们全部当作正半轴。缓存 $x$ 最稳妥。
</details>
"""),
    code('''
class MyLeakyReLU(Module):
    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def forward(self, x):
        # TODO: 返回 (y, cache)；y 与 x 的形状、dtype 相同
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 返回 (dx, {})；dx 与 x 的形状、dtype 相同
        raise NotImplementedError
''', tag="answer"),
    code('check("leaky_relu", MyLeakyReLU)', tag="grade"),
    md(r"""
## 2.2 Tanh

$$
y = \tanh x = \frac{e^{x}-e^{-x}}{e^{x}+e^{-x}}\;\in(-1, 1).
$$

生成器的输出层用它把像素值压到 $[-1, 1]$ 区间（文章第 4.1 节）。请推导 $\dfrac{dy}{dx}$，并把结果**只用 $y$** 表示。\
前向直接用 `np.tanh`：按定义式计算时，$|x|$ 很大会让 $e^{x}$ 溢出为 `inf`，得到 `inf / inf = nan`。\
评分器会在 $x = \pm 10^4$ 处检查结果。

<details>
<summary>推导完成后，点这里核对</summary>

$$
\frac{dy}{dx} = 1 - \tanh^2 x = 1 - y^2,\qquad
\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\odot\left(1 - y^2\right).
$$

所以 cache 里放 $y$ 即可。注意是 $1 - y^2$，不是 $1 - x^2$。
</details>
"""),
    code('''
class MyTanh(Module):
    def forward(self, x):
        # TODO: 返回 (y, cache)
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 返回 (dx, {})
        raise NotImplementedError
''', tag="answer"),
    code('check("tanh", MyTanh)', tag="grade"),
    md(r"""
## 2.3 Sigmoid

$$
\sigma(x) = \frac{1}{1+e^{-x}}\;\in(0, 1).
$$

判别器的最后一步输出 $D(x) = \sigma(\text{logits})$（文章第 4.2 节）。

1. 推导 $\sigma'(x)$，并只用 $s = \sigma(x)$ 表示。
2. 数值稳定性：$x = -10^4$ 时，$e^{-x} = e^{10^4}$ 会溢出。把分子分母同乘 $e^{x}$，可以得到一个在 $x < 0$ 时不会溢出的等价形式；\
两种写法各管半条数轴。注意 `np.where(cond, A, B)` 会先把 `A`、`B` **都**算出来再挑选，\
所以只要 `A` 或 `B` 里对很大的正数求了指数，照样溢出（并给出 RuntimeWarning）。\
评分器在 $x = \pm 10^4$ 处检查：结果有限、精确，而且没有溢出警告。

<details>
<summary>推导完成后，点这里核对</summary>

$$
\sigma'(x) = \sigma(x)\,\bigl(1-\sigma(x)\bigr) = s(1-s),\qquad
\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\odot s(1-s).
$$

稳定的写法：令 $e = \exp(-|x|)\in(0, 1]$，则 $x \ge 0$ 时 $\sigma(x) = 1/(1+e)$，$x < 0$ 时 $\sigma(x) = e/(1+e)$，\
指数函数只作用在非正数上。
</details>
"""),
    code('''
class MySigmoid(Module):
    def forward(self, x):
        # TODO: 返回 (y, cache)；对任意大小的 |x| 都不能溢出
        raise NotImplementedError

    def backward(self, dy, cache):
        # TODO: 返回 (dx, {})
        raise NotImplementedError
''', tag="answer"),
    code('check("sigmoid", MySigmoid)', tag="grade"),
    md(READING_THE_REPORT + r"""
这三个评分器专门识别的典型错误包括：leaky ReLU 在负半轴的导数写成 0（而不是 $\alpha$）、把 $\alpha$ 写死成 0.2、\
tanh 的导数写成 $1 - x^2$、sigmoid 的导数写成 $s$、在缓存的输出上又套了一次激活函数、\
$|x|$ 很大时溢出（提示会指出是 $+10^4$ 一侧、$-10^4$ 一侧还是两侧）、恰好为 0 的输入（$x = 0$ 与 $x = -0.0$）\
得到 NaN（例如把导数写成 `y / x`）、float32 被提升为 float64 或 float64 被降成 float32、\
把激活值存在 `self` 上（包括队列或复用的缓冲区）、原地修改输入。在 $x = 0$ 处 leaky ReLU 不可导，导数取 1 或 $\alpha$ 都算对。

参考实现在 `minigan/nn/activations.py`。下一个练习：`03_bce_with_logits.ipynb`。
"""),
]

# --------------------------------------------------------------------------------------
# 03: BCE with logits

BCE = [
    md(r"""
# 练习 3：从 logits 计算二元交叉熵（BCE with logits）

文章第 3.4 节用期望写出了生成器和判别器的损失，其中的 $\log D(x)$、$\log(1 - D(G(z)))$ 正是二元交叉熵\
（binary cross-entropy）的两个组成部分。第 4.2 节的判别器同时返回概率和 logits；第 4.3 节的训练代码用\
`tf.nn.sigmoid_cross_entropy_with_logits` 直接从 logits 计算损失，再用 `tf.reduce_mean` 取平均。本练习实现这个函数。

顺带一提：第 3.4 节的 $L_D$ 如果当作要最小化的量，符号是反的——它是判别器要**最大化**的价值函数。\
第 4.3 节代码实际最小化的是 $\mathrm{BCE}(D(x), 1) + \mathrm{BCE}(D(G(z)), 0)$。详见 `minigan/losses.py` 开头的说明。
"""),
    md(r"""
## 定义

logits $z$ 可以是任意形状，共 $N$ 个元素；目标（标签）$y \in [0, 1]$ 与 $z$ 形状相同；$s = \sigma(z)$：

$$
\begin{aligned}
\ell(z, y) &= -\,y\log s \;-\; (1-y)\log(1-s),
\\ L &= \frac{1}{N}\sum_{k=1}^{N}\ell(z_k, y_k)\;\in\mathbb{R}.
\end{aligned}
$$

**函数签名**：`my_bce_with_logits(logits, targets) -> (loss, dlogits)`。`loss` 是一个数（Python `float`），\
`dlogits` $= \partial L/\partial z$ 与 `logits` 的形状、dtype 都相同。

## 推导一：不要对概率取对数

按定义直接算 `np.log(sigmoid(z))` 会出问题：$z = -10^4$ 时 $s$ 舍入成 0，$\log 0 = -\infty$；$z = +10^4$ 时 $1 - s$ 变成 0，\
还会出现 $0 \cdot \infty = \text{nan}$。加一个 `eps`（例如 `log(s + 1e-7)`）虽然不再出现 nan，却把真实的损失（可以达到 $10^4$）\
截成了十几。判别器很有把握时，logits 的绝对值确实可能很大。

请利用
$$
\log\sigma(z) = -\log\left(1+e^{-z}\right),\qquad \log\bigl(1-\sigma(z)\bigr) = -z-\log\left(1+e^{-z}\right)
$$
化简 $\ell$，再设法让指数函数只作用在非正数上（提示：分 $z \ge 0$ 与 $z < 0$ 两种情况，最后合成一个用 $\max(z, 0)$ 和 $|z|$ 表示的式子；\
参数很小时 `np.log1p(u)` 比 `np.log(1 + u)` 精确）。

## 推导二：梯度

对 $z_k$ 求导，得到 $\partial L/\partial z_k$（与 $z$ 同形状）。别忘了 $L$ 是平均值。

<details>
<summary>推导完成后，点这里核对</summary>

$$
\ell(z, y) = \max(z, 0) - z\,y + \log\left(1+e^{-|z|}\right),
\qquad
\frac{\partial L}{\partial z_k} = \frac{\sigma(z_k) - y_k}{N}.
$$

梯度里的 $\sigma(z_k)$ 也要用练习 2 里稳定的写法计算。
</details>
"""),
    code("""
import numpy as np

from minigan.exercises import check
"""),
    md("## 作答"),
    code('''
def my_bce_with_logits(logits, targets):
    """二元交叉熵，对所有元素取平均。返回 (loss, dlogits)。"""
    # TODO: 用数值稳定的式子算出每个元素的损失，再取平均（loss 是一个 float）
    # TODO: 计算 dlogits，形状和 dtype 都与 logits 相同
    raise NotImplementedError
''', tag="answer"),
    md(r"""
## 评分

评分器会检查：损失值（与 `minigan.losses.bce_with_logits` 比较）；`dlogits` 与有限差分一致（float64）；\
$z = \pm 100$、$\pm 800$、$\pm 10^4$ 时损失和梯度有限、精确、没有溢出警告（float64 和 float32 都测）；不修改输入；float32 保持 float32；\
以及 hypothesis 在随机形状、dtype、软/硬标签上的性质测试。
"""),
    code('check("bce_with_logits", my_bce_with_logits)', tag="grade"),
    md(READING_THE_REPORT + r"""
这个评分器专门识别的典型错误包括：梯度漏了 $1/N$、损失用了求和而不是平均、除以行数而不是元素个数、符号反了、\
$y$ 与 $1-y$ 对调、梯度多乘了 $s(1-s)$、对概率取对数导致溢出或 nan、`eps` 截断了损失、原地裁剪 logits、float32 被提升为 float64。

参考实现在 `minigan/losses.py`。下一个练习：`04_generator_gradient.ipynb`。
"""),
]

# --------------------------------------------------------------------------------------
# 04: generator gradient through D

GENERATOR = [
    md(r"""
# 练习 4：穿过判别器求生成器的梯度

文章第 3.3 节列出了训练的九个步骤，前五步训练生成器：采样噪声 → 生成图像 → 交给判别器打分 → 计算生成器的损失 → \
更新生成器的参数。难点在最后一步：生成器的损失是在**判别器的输出**上计算的，梯度必须先穿过判别器，才能回到生成器的参数。\
这时判别器只是传递梯度的通道，它自己的参数不更新。

这条链很容易悄悄写错：生成器的梯度恒为 0，网络照样"能跑"，只检查判别器的测试也照样全部通过。这个练习专门检查穿过判别器的这条链。
"""),
    md(r"""
## 用哪个生成器损失？

第 3.4 节的 $L_G$ 里，第一项与 $G$ 无关（对 $G$ 的梯度为 0）；与 $G$ 有关的部分是 $\mathbb{E}_z[\log(1 - D(G(z)))]$，\
即"极小极大"（minimax）形式。而第 4.3 节的代码把生成图像的 logits 与全 1 标签做交叉熵，最小化的是**非饱和**（non-saturating）损失：

$$
L_G = -\frac{1}{N}\sum_{n=1}^{N}\log D\bigl(G(z_n)\bigr) = \frac{1}{N}\sum_{n=1}^{N}\mathrm{BCE}(\ell_n, 1),
$$

其中 $\ell_n$ 是判别器对第 $n$ 个生成样本给出的 logit，$D = \sigma(\ell)$。判别器很有把握地判为"假"时（$D(G(z)) \approx 0$），\
minimax 形式的梯度几乎为零，非饱和形式的梯度却仍然明显——这正是代码没有照搬公式的原因。**本练习求非饱和损失的梯度。**

## 计算图与形状

$$
z\in\mathbb{R}^{N\times d_z}
\;\xrightarrow{\;G_\theta\;}\;
\tilde{x}\in\mathbb{R}^{N\times d_x}
\;\xrightarrow{\;D\;}\;
\ell\in\mathbb{R}^{N\times 1}
\;\xrightarrow{\;\text{BCE}(\cdot,\,1)\text{，取平均}\;}\;
L_G\in\mathbb{R}
$$

请依次推导：

1. $\partial L_G/\partial \ell$（形状 $N\times 1$）——可以直接用练习 3 的结论；
2. $\partial L_G/\partial \tilde{x}$（形状 $N\times d_x$）——把第 1 步的结果送进判别器的 `backward`，它返回的 `dx` 就是；
3. $\partial L_G/\partial \theta$（与 `G.params()` 一一对应）——把第 2 步的结果送进生成器的 `backward`。

<details>
<summary>推导完成后，点这里核对</summary>

$$
\begin{aligned}
\frac{\partial L_G}{\partial \ell_n} &= \frac{\sigma(\ell_n) - 1}{N},
\\ \frac{\partial L_G}{\partial \tilde{x}} &= \Bigl(\frac{\partial \ell}{\partial \tilde{x}}\Bigr)^{\!\top}\frac{\partial L_G}{\partial \ell}
\quad(\text{判别器的 backward}),
\\ \frac{\partial L_G}{\partial \theta} &= \Bigl(\frac{\partial \tilde{x}}{\partial \theta}\Bigr)^{\!\top}\frac{\partial L_G}{\partial \tilde{x}}
\quad(\text{生成器的 backward}).
\end{aligned}
$$
</details>

## 可用的工具

`G`、`D` 是 minigan 的网络（`minigan.build_generator`、`minigan.build_discriminator`，结构与文章第 4.1、4.2 节相同，只是更小），\
都遵守模块协议：`y, cache = net.forward(x)`；`dx, grads = net.backward(dy, cache)`，`grads` 的键与 `net.params()` 相同\
（`"0.W"`、`"0.b"`、`"2.W"`……）。`D` 输出的是 logits，没有最后那个 sigmoid。

**函数签名**：`my_generator_gradient(G, D, z) -> grads`，返回与 `G.params()` 同键、同形状的字典；不要修改 `G`、`D` 的参数和 `z`。
"""),
    code("""
import numpy as np

from minigan import build_discriminator, build_generator
from minigan.exercises import check

# 一个小例子：看看网络的结构、参数名和 logits 的形状
G = build_generator(z_dim=4, hidden=(8,), out_dim=3, dtype=np.float64, rng=0)
D = build_discriminator(in_dim=3, hidden=(8,), dtype=np.float64, rng=1)
z = np.random.default_rng(2).standard_normal((5, 4))
print(G)
print(D)
print({name: p.shape for name, p in G.params().items()})
print("logits 的形状:", D(G(z)).shape)
"""),
    md("## 作答"),
    code('''
def my_generator_gradient(G, D, z):
    """非饱和生成器损失 -mean(log D(G(z))) 对 G 参数的梯度：与 G.params() 同键的字典。"""
    # TODO 1: 生成器前向，保留它的 cache
    # TODO 2: 判别器前向，得到 logits，保留它的 cache
    # TODO 3: 计算 dL/dlogits（别忘了平均带来的 1/N）
    # TODO 4: 经判别器反向，得到 dL/d(生成的样本)
    # TODO 5: 经生成器反向，得到参数梯度并返回
    raise NotImplementedError
''', tag="answer"),
    md(r"""
## 评分

评分器在两个小网络上，用 float64 把你的梯度与"生成器参数 → 损失"的有限差分比较；检查 `G`、`D`、`z` 没有被改动；\
float32 的网络得到 float32 的梯度；判别器饱和时（把 D 的最后一层放大，使 logits 达到 $\pm 10^2$ 到 $\pm 2\times10^3$，\
float32 与 float64）梯度仍然有限且精确——第 4 章的训练里 $D(G(z))$ 会有成千上万步接近 0；\
并用 hypothesis 在随机的网络结构、批大小和 dtype 上与参考实现比较。
"""),
    code('check("generator_gradient", my_generator_gradient)', tag="grade"),
    md(READING_THE_REPORT + r"""
这个评分器专门识别的典型错误包括：用了第 3.4 节的 minimax 损失而不是第 4.3 节代码的非饱和损失、把生成样本的标签写成 0\
（那是判别器的标签）、符号反了、漏了 $1/N$、对概率 $D$ 而不是对 logits 求导、返回了判别器的参数梯度、\
梯度没有穿过判别器（全为 0，或把 dlogits 直接交给生成器）、顺手更新了判别器的参数；\
还有一种平时看不出来的错误：经由概率 $p = \sigma(\ell)$ 求导（例如 $-\frac{1}{Np}\cdot p(1-p)$），\
数学上没错，但 $D$ 饱和时 $p$ 下溢为 0，$1/p$ 溢出，得到 NaN。直接对 logits 求导：$\partial L/\partial \ell = (\sigma(\ell) - 1)/N$。

参考实现见 `minigan/gan.py` 的 `GAN.g_step` 和 `minigan/selfcheck.py` 的 `generator_through_discriminator`。
"""),
]

NOTEBOOKS = {
    "01_dense.ipynb": DENSE,
    "02_activations.ipynb": ACTIVATIONS,
    "03_bce_with_logits.ipynb": BCE,
    "04_generator_gradient.ipynb": GENERATOR,
    "05_discriminator_gradient.ipynb": discriminator_cells(READING_THE_REPORT),
    "06_minimax_gradient.ipynb": minimax_cells(READING_THE_REPORT),
    "07_adam_step.ipynb": ADAM,
    "08_train_step.ipynb": train_step_cells(READING_THE_REPORT),
    "09_mode_coverage.ipynb": COVERAGE,
    "10_batchnorm_backward.ipynb": batchnorm_cells(READING_THE_REPORT),
    "11_conv_backward.ipynb": conv_cells(READING_THE_REPORT),
}


def build(name: str, cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    stem = name.split("_")[0]
    for i, cell in enumerate(nb.cells):
        cell.id = f"ex{stem}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def run(nb: nbformat.NotebookNode, path: Path) -> None:
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata["language_info"] = {"name": "python"}  # no interpreter version in the file


def main(argv: list[str]) -> None:
    execute = "--no-run" not in argv
    # optional subset: notebook names or their number prefixes, e.g. "07 09"
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = [w for w in wanted if not any(n == w or n.startswith(w) for n in NOTEBOOKS)]
    if unknown:
        raise SystemExit(f"unknown notebook(s) {unknown}; expected names or prefixes of {list(NOTEBOOKS)}")
    for name, cells in NOTEBOOKS.items():
        if wanted and not any(name == w or name.startswith(w) for w in wanted):
            continue
        path = HERE / name
        nb = build(name, cells)
        if execute:
            run(nb, path)
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print("wrote", path.relative_to(HERE.parent.parent))


if __name__ == "__main__":
    main(sys.argv[1:])
