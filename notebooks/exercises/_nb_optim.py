"""Cells of the exercise notebooks 07 (``adam_step``) and 09 (``mode_coverage``).

``build_notebooks.py`` imports :data:`ADAM` and :data:`COVERAGE` and registers them in
its ``NOTEBOOKS`` dict.  Answer cells are tagged "answer" and hold only skeletons
(``raise NotImplementedError``); grading cells are tagged "grade".
"""

# The Chinese prose is kept in long source lines (one per paragraph sentence group);
# CJK characters count double towards the line-length limit.
# ruff: noqa: E501

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from _cells import code, md  # noqa: E402  (the chapter notebooks' cell helpers)

REPORT = """\
## 怎样读评分报告

- 每一行是一项检查：`[通过]`、`[失败]`，或 `[跳过]`（例如没有安装 hypothesis）。
- 失败的检查下面有一行 `提示：`，说明评分器判断出的**最可能的错误**。它不只是比较数字：\
评分器把每一种常见错误都按错误的写法算一遍，结果恰好吻合时就直接说出是哪一种。
- 还没动手时，最后一行是 `尚未完成`；全部做对时是 `全部通过`。\
`check(...)` 的返回值在全部通过时为真值，也可以写 `assert check(...)`；加参数 `max_examples=200` 可以多跑一些随机用例。
"""

# --------------------------------------------------------------------------------------
# 07: one Adam step

ADAM = [
    md(r"""
# 练习 7：Adam 优化器的一步更新

文章第 3.3 节的九个训练步骤里，第 5 步和第 8 步都是"优化参数，使损失最小"；第 4.3 节的训练代码把这件事交给了两个\
从外面传进来的对象 `D_optimizer`、`G_optimizer`，用 `sess.run([D_optimizer], ...)` 和 `sess.run([G_optimizer], ...)` 执行，\
却没有说它们是什么优化器（第 6.1 节的建议里提到了随机梯度下降 SGD）。要最小化的目标就是第 3.4 节的损失，例如

$$
L_{D} = E_{x \sim p_{data}(x)}[\log D(x)] + E_{z \sim p_{z}(z)}[\log (1 - D(G(z)))]
$$

（作为要最小化的量，它的符号是反的，见练习 3 的说明）。训练 GAN 时最常用的优化器是 Adam，\
minigan 默认也用它（`minigan.optim.Adam`，学习率 $2\times10^{-4}$、$\beta_1 = 0.5$，即 DCGAN 的设置）。\
这个练习亲手写出 Adam 的**一步**更新：给定参数、梯度和优化器的状态，返回新的参数和新的状态。
"""),
    md(r"""
## Adam 的更新规则

对每一个参数数组 $\theta$（逐元素计算），记本步的梯度为 $g = \partial L/\partial\theta$。优化器保存三样东西：\
步数 $t$、梯度的指数滑动平均 $m$（一阶矩）、梯度平方的指数滑动平均 $v$（二阶矩）。开始时 $t = 0$、$m = v = 0$。每一步：

$$
\begin{aligned}
t &\leftarrow t + 1,
\\ m &\leftarrow \beta_1\, m + (1-\beta_1)\, g,
\\ v &\leftarrow \beta_2\, v + (1-\beta_2)\, g^2,
\\ \hat m &= \frac{m}{1-\beta_1^{\,t}},\qquad \hat v = \frac{v}{1-\beta_2^{\,t}},
\\ \theta &\leftarrow \theta - \mathrm{lr}\cdot\frac{\hat m}{\sqrt{\hat v} + \epsilon}.
\end{aligned}
$$

三个容易写错的细节，minigan 的约定都在上面：

1. **先把 $t$ 加 1，再用它做偏差修正。** 第一步用的是 $t = 1$。
2. **$\epsilon$ 加在平方根外面**：$\sqrt{\hat v} + \epsilon$，不是 $\sqrt{\hat v + \epsilon}$（与 PyTorch 相同）。
3. **$g^2$ 是逐元素平方**，不是 $|g|$。

## 请你推导：为什么要做偏差修正？

假设每一步的梯度都是同一个随机变量的独立样本，均值为 $\mathbb{E}[g]$。从 $m_0 = 0$ 出发展开 $m_t$，\
求 $\mathbb{E}[m_t]$；再想一想：没有修正时，第一步 $m_1$、$v_1$ 各是多少？用 $\beta_1 = 0.5$、$\beta_2 = 0.999$ 时，\
第一步的更新量 $\mathrm{lr}\cdot m_1/\sqrt{v_1}$ 是 $\mathrm{lr}$ 的多少倍？

<details>
<summary>推导完成后，点这里核对</summary>

$$
\begin{aligned}
m_t &= (1-\beta_1)\sum_{i=1}^{t}\beta_1^{\,t-i}\, g_i,
\\ \mathbb{E}[m_t] &= (1-\beta_1)\,\frac{1-\beta_1^{\,t}}{1-\beta_1}\,\mathbb{E}[g]
\\ &= \left(1-\beta_1^{\,t}\right)\mathbb{E}[g].
\end{aligned}
$$

所以除以 $1-\beta_1^{\,t}$ 正好抵消了从 0 开始带来的偏小；$v_t$ 同理。第一步 $m_1 = (1-\beta_1)g$、$v_1 = (1-\beta_2)g^2$，\
不修正时更新量是 $\mathrm{lr}\cdot(1-\beta_1)/\sqrt{1-\beta_2} \approx 15.8\,\mathrm{lr}$；修正之后 $\hat m_1 = g$、$\hat v_1 = g^2$，\
每个坐标都只移动约 $\mathrm{lr}$（方向与梯度相反），与梯度的大小无关。评分器会专门检查这一点。
</details>

## 函数签名（约定）

```python
my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8) -> (new_params, new_state)
```

| 参数 | 含义 |
|---|---|
| `params` | 字典：参数名 → 浮点数组（例如 `G.params()`：`{"0.W": ..., "0.b": ..., ...}`） |
| `grads` | 字典：与 `params` 同键、同形状的梯度（`backward` 返回的那种） |
| `state` | `{"t": 整数, "m": {名字: 数组}, "v": {名字: 数组}}`，与 `minigan.optim.Adam` 内部的 `t`、`state` 结构相同；第一步之前 `t = 0`，`m`、`v` 全为 0 |

- 返回**新的**字典 `new_params` 和 `new_state`（`new_state["t"]` 等于 `state["t"] + 1`），不要修改传入的 `params`、`grads`、`state`\
（minigan 自己的 `Adam.step` 为了速度是原地更新的，这里要求写成纯函数，方便检查）。
- 默认值与 `minigan.optim.Adam` 相同；float32 的输入得到 float32 的输出（超参数当作普通的 Python 浮点数使用）。
"""),
    code('''
import numpy as np

from minigan.exercises import check


def zero_state(params):
    """第一步之前的状态：t = 0，m、v 是与参数同形状的零数组。"""
    return {"t": 0,
            "m": {k: np.zeros_like(p) for k, p in params.items()},
            "v": {k: np.zeros_like(p) for k, p in params.items()}}


params = {"W": np.array([[0.5, -1.0]]), "b": np.array([0.1])}
print(zero_state(params))
'''),
    md("## 作答"),
    code('''
def my_adam_step(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
    """一步带偏差修正的 Adam 更新，返回 (new_params, new_state)；不修改任何输入。"""
    # TODO 1: 新的步数 t = state["t"] + 1
    # TODO 2: 对每个参数名 k：由 grads[k] 和 state 里的旧 m、v 算出新的 m、v（新数组，不要原地修改）
    # TODO 3: 偏差修正得到 m_hat、v_hat，再算出新参数 params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
    # TODO 4: 返回 (新参数字典, {"t": t, "m": {...}, "v": {...}})
    raise NotImplementedError
''', tag="answer"),
    md(r"""
## 评分

评分器会：从零状态出发，用两组超参数连续走 4 步，每一步都把你的参数、$m$、$v$、$t$ 与 `minigan.optim.Adam` 比较（float64）；\
检查第一步每个坐标移动约 $\mathrm{lr}$；float32 的参数和状态得到 float32 的结果；`params`、`grads`、`state` 都没有被改动；\
默认超参数与 minigan 相同；最后用 hypothesis 在随机的形状、超参数、起始步数和 dtype 上与参考实现比较。
"""),
    code('check("adam_step", my_adam_step)', tag="grade"),
    md(REPORT + r"""
这个评分器专门识别的典型错误包括：没有偏差修正（或只修正了 $m$、$v$ 中的一个）、偏差修正用了加 1 之前的 $t$（第一步除以零）、\
步数没有加 1、$\epsilon$ 放进了平方根里或加在未修正的 $\sqrt{v}$ 上、$\beta_1$ 与 $\beta_2$ 用反、$v$ 累积了 $|g|$ 或 $g$ 而不是 $g^2$、\
$m$、$v$ 没有写回新状态或每步从 0 重来、原地修改了参数或状态、符号反了（梯度上升）、float32 被提升为 float64、默认值与 minigan 不同。
"""),
    md(r"""
## 看一看：第一步走多远

下面这张图不用你的代码，用的是 `minigan.optim.Adam`：把梯度的大小从 $10^{-4}$ 变到 $10^{2}$，比较第一步各坐标移动的距离。\
SGD 的步长与 $|g|$ 成正比；Adam 的第一步几乎总是 $\mathrm{lr}$；少了偏差修正，第一步会大约 16 倍。\
这就是 Adam 对梯度尺度不敏感的原因——生成器和判别器的梯度尺度在训练中变化很大，这一点很有用。
"""),
    code('''
import matplotlib.pyplot as plt

from minigan.optim import SGD, Adam

lr, beta1, beta2 = 0.01, 0.5, 0.999
g = np.logspace(-4, 2, 61)
first = {}
for name, make in (("SGD", lambda p: SGD(p, lr=lr)), ("Adam", lambda p: Adam(p, lr=lr, betas=(beta1, beta2)))):
    p = {"w": np.zeros_like(g)}
    make(p).step({"w": g})
    first[name] = np.abs(p["w"])
first["Adam without bias correction"] = lr * (1 - beta1) * g / (np.sqrt((1 - beta2) * g**2) + 1e-8)

plt.figure(figsize=(6, 3.5))
for name, step in first.items():
    plt.loglog(g, step, label=name)
plt.axhline(lr, color="grey", lw=0.8, ls=":")
plt.xlabel("|gradient|")
plt.ylabel("|first step|")
plt.title(f"first update, lr = {lr}")
plt.legend()
plt.show()
'''),
    md(r"""
全部通过后，可以对照 `minigan/optim.py` 里的 `Adam._update`：它原地更新，并把最后一行改写成\
$\mathrm{lr}\sqrt{1-\beta_2^t}/(1-\beta_1^t)\cdot m/(\sqrt{v} + \epsilon\sqrt{1-\beta_2^t})$，数值相同、少一次数组运算。\
训练时 `GAN` 每一步调用的就是它。
"""),
]

# --------------------------------------------------------------------------------------
# 09: mode coverage (PacGAN's metric)

COVERAGE = [
    md(r"""
# 练习 9：模式覆盖——PacGAN 的评估指标

文章第 5.2 节第 2 条和第 6.1 节都提到了模式崩溃（Mode Collapse）：生成器只学会了数据分布中的一部分"模式"，\
反复生成相似的样本。文章没有说怎样**测量**它。在图像上很难数清"模式"，所以 PacGAN（Lin 等，2018）等论文用二维的高斯混合分布做实验：\
每个模式的中心已知，数一数生成的样本落在了几个模式上即可。

| 数据 | 模式中心 | 每个模式的标准差 $\sigma$ |
|---|---|---|
| ring（环） | 半径 1 的圆上 8 个点，角度 $2\pi k/8$ | 0.01 |
| grid（网格） | $\{-4,-2,0,2,4\}^2$ 上 25 个点 | 0.05 |

论文对每个模型生成 2,500 个样本，报告三个数：覆盖了几个模式、高质量样本的比例、reverse KL。\
这个练习实现这三个数（minigan 里是 `minigan.metrics.mode_coverage`）。
"""),
    md(r"""
## 定义

生成的样本 $x_1,\dots,x_N \in \mathbb{R}^2$，模式中心 $\mu_1,\dots,\mu_K$，每个模式的标准差 $\sigma$。

1. 每个样本归到离它最近的中心（欧氏距离）：$c(x) = \arg\min_k \lVert x - \mu_k\rVert_2$。
2. 样本是**高质量**的，当且仅当 $\lVert x - \mu_{c(x)}\rVert_2 \le 3\sigma$。记 $n_k$ 为归到模式 $k$ 的高质量样本数。
3. 模式 $k$ 被**覆盖**，当且仅当 $n_k \ge 1$（至少有一个高质量样本）：

$$
\text{modes} = \#\{k : n_k \ge 1\},\qquad \text{high\_quality} = \frac{1}{N}\sum_{k} n_k .
$$

4. 高质量样本在各模式上的直方图 $q_k = n_k / \sum_j n_j$，与 $K$ 个模式上的均匀分布 $u_k = 1/K$ 比较：

$$
\text{reverse\_kl} = \mathrm{KL}(q\,\Vert\,u) = \sum_{k:\,q_k>0} q_k \log\frac{q_k}{1/K} = \sum_{k:\,q_k>0} q_k \log(K q_k),
$$

用自然对数（单位 nat），$0\log 0$ 按 0 计；一个高质量样本也没有时，$q$ 没有定义，约定 reverse_kl $= \infty$。\
（PacGAN 论文没有写明 KL 的确切定义；以上是 minigan 的定义，见 `minigan/metrics/coverage.py`。）

## 请你想一想

1. 所有高质量样本都落在同一个模式上时，reverse KL 是多少？每个模式分到的一样多时呢？
2. 反方向的 $\mathrm{KL}(u\,\Vert\,q)$ 在有模式完全没被覆盖时是多少？为什么报告模式崩溃时用 $q$ 在前的方向？
3. 为什么门槛是 $3\sigma$？一个真正来自某个模式的二维高斯样本，落在 $3\sigma$ 以内的概率是多少？

<details>
<summary>想好之后，点这里核对</summary>

1. 全部在一个模式上：$q = (1, 0, \dots, 0)$，reverse KL $= \log K$（环上 $\log 8 \approx 2.08$）；均匀时为 0。所以 $0 \le$ reverse KL $\le \log K$。
2. 有 $q_k = 0$ 时，$\mathrm{KL}(u\,\Vert\,q)$ 含 $\tfrac1K\log\tfrac{1/K}{0} = \infty$：只要丢了一个模式就是无穷大，无法区分"丢了一个"和"丢了七个"；\
$q$ 在前的方向有限，并随着样本越来越集中而增大。
3. 二维标准高斯的半径服从 Rayleigh 分布，$P(r \le 3\sigma) = 1 - e^{-9/2} \approx 98.9\%$。
</details>

## 函数签名（约定）

```python
my_mode_coverage(samples, centres, std) -> (modes, high_quality, reverse_kl)
```

`samples` 形状 $(N, 2)$，`centres` 形状 $(K, 2)$，`std` 是 $\sigma$。返回三个数：`modes` 是整数，`high_quality` 是 $[0, 1]$ 中的比例\
（不是个数），`reverse_kl` 是浮点数（nat）。不要修改 `samples` 和 `centres`。
"""),
    code('''
import matplotlib.pyplot as plt
import numpy as np

from minigan.data.toy import grid_centres, ring_centres
from minigan.exercises import check

# 一个"丢了模式"的样本集：环上 8 个模式只生成了其中 6 个，权重不均，另有几个离群点
rng = np.random.default_rng(0)
centres, std = ring_centres(), 0.01
weights = np.array([0.3, 0.25, 0.15, 0.1, 0.1, 0.1, 0.0, 0.0])
which = rng.choice(8, size=400, p=weights)
samples = centres[which] + std * rng.standard_normal((400, 2)) * rng.choice([1.0, 2.0], size=(400, 1))
samples = np.concatenate([samples, rng.uniform(-1.2, 1.2, (15, 2))])

d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
good = d.min(axis=1) <= 3 * std
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, zoom in zip(axes, (None, 0)):
    ax.scatter(*samples[good].T, s=6, label="high quality (<= 3 std)")
    ax.scatter(*samples[~good].T, s=6, c="tab:red", label="low quality")
    for k, c in enumerate(centres):
        ax.add_patch(plt.Circle(c, 3 * std, fill=False, color="k", lw=0.8))
        if zoom is None:
            ax.annotate(str(k), c * 1.12, ha="center", va="center")
    ax.set_aspect("equal")
    if zoom is not None:
        ax.set_xlim(centres[zoom, 0] - 6 * std, centres[zoom, 0] + 6 * std)
        ax.set_ylim(centres[zoom, 1] - 6 * std, centres[zoom, 1] + 6 * std)
        ax.set_title(f"mode {zoom}, circle = 3 std")
    else:
        ax.set_title("ring of 8: modes 6 and 7 dropped")
axes[0].legend(loc="center", fontsize=8)
plt.show()
'''),
    md(r"""
左图是整个环：黑色小圆是每个模式的 $3\sigma$ 范围（半径只有 0.03，所以很小），模式 6、7 上没有样本；右图放大了模式 0，\
可以看清圆内的高质量样本和圆外的低质量样本。你的函数对这组样本应该给出 6 个模式；它的 reverse KL 反映了前 6 个模式之间权重的不均。

## 作答
"""),
    code('''
def my_mode_coverage(samples, centres, std):
    """PacGAN 的模式覆盖指标。samples: (N, 2)，centres: (K, 2)。返回 (modes, high_quality, reverse_kl)。"""
    # TODO 1: 每个样本到每个中心的欧氏距离，形状 (N, K)；最近的中心和到它的距离
    # TODO 2: 高质量样本：到最近中心的距离 <= 3 * std
    # TODO 3: 每个模式的高质量样本数 n_k；modes（n_k >= 1 的个数）和 high_quality（比例）
    # TODO 4: q_k = n_k / sum(n)，reverse_kl = sum(q_k * log(K * q_k))，只对 q_k > 0 求和；没有高质量样本时为 inf
    raise NotImplementedError
''', tag="answer"),
    md(r"""
## 评分

评分器用四组逐点构造的样本检查三个数：环上丢了两个模式、权重不均、带离群点；四个模式排成一行，有样本恰好落在 $3\sigma$ 的边界上（算高质量，$\le$），有样本离两个中心一样近（归第一个中心，和 `np.argmin` 一样）；环上完全塌缩到一个模式；网格上全部覆盖但权重不均。\
样本离中心的距离是特意挑的（例如斜方向上 $2.5\sigma$、只有低质量样本的模式），每一种常见错误都会让某个数变掉。\
另外检查没有高质量样本时的约定 $(0, 0, \infty)$、不修改输入，并用 hypothesis 在随机的环、网格、丢掉的模式、离群点和 dtype 上与 \
`minigan.metrics.mode_coverage` 比较。
"""),
    code('check("mode_coverage", my_mode_coverage)', tag="grade"),
    md(REPORT + r"""
这个评分器专门识别的典型错误包括：门槛用了 $\sigma$ 或 $3\sigma^2$ 而不是 $3\sigma$（或把距离的平方与 $3\sigma$ 比较）、用了 L1 距离、\
边界上用了严格的 $<$、门槛取自样本自身的离散程度、用正方形代替圆、把「至少一个」写成 $n_k > 1$、并列时归给最后一个中心、只有低质量样本的模式也算作覆盖、modes 返回了比例、high_quality 返回了个数、KL 方向反了、直方图里算进了低质量样本、\
用了以 2 为底的对数、直方图没有归一化、$0\log 0$ 得到 nan、没有高质量样本时返回 nan。

做完之后：PacGAN 论文表 1 里，普通 GAN 在环上平均覆盖约 6.3 个模式、reverse KL 约 0.45，打包两个样本的 PacGAN2 约 7.9 个模式、0.07\
。minigan 的 `minigan eval` 命令对混合分布上训练的检查点报告的正是这三个数；参考实现在 `minigan/metrics/coverage.py`。
"""),
]
