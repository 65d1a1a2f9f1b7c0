"""Chapter 4 notebook: the article's TF1 code (section 4) translated into minigan, its bugs, and a training run."""

# ruff: noqa: E501

from __future__ import annotations

import _cells
from _cells import code, md

TITLE = "04_code"

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
# 4 具体代码实例和详细解释说明

文章第 4 节给了三段 TensorFlow 1（TF1）代码：生成器（Generator）、判别器（Discriminator）和一个训练函数。\
这个 notebook 逐行把它们翻译成 minigan（纯 NumPy），边翻译边检查：

- **4.1 / 4.2**：两个网络的每一行 `tf.layers.dense` 对应 minigan 的哪一行，TF1 隐含的默认值（初始化、斜率）\
在 minigan 里在哪里，参数一共多少个；
- **4.3**：训练函数里哪些地方跑不起来、哪些地方能跑但会算错，改正后的一步训练怎么写，\
并验证它与 `GAN.train_step` 的结果完全一致；
- 最后在自带的手写数字（`mnist5k`）上真正训练：一次用 minigan 的默认配方（它在几处偏离文章的代码，下文说明原因），\
一次用文章代码的配方作对照，看样本、曲线和一个数字分类器给出的分数。

不需要安装 TensorFlow：文中出现的 TF1 代码只作对照引用。对应的书中章节是第 4 章。
"""),
    _cells.setup(r'''
import dataclasses
import json
import logging
import shutil
from pathlib import Path

import minigan
from minigan import GAN, build_discriminator, build_generator
from minigan.data import load
from minigan.losses import bce_with_logits, discriminator_loss, equilibrium, generator_loss
from minigan.nn import Dense, LeakyReLU, Sequential, Tanh, sigmoid
from minigan.optim import Adam
from minigan.viz import image_grid

# 图中的文字都用英文；没有装 CJK 字体的机器上，matplotlib 的“找不到字体”日志会刷屏，这里关掉它
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

RUNS = Path("_runs/04_code")          # 本 notebook 写的所有文件都在这里（git 忽略）
shutil.rmtree(RUNS, ignore_errors=True)
RUNS.mkdir(parents=True)
train_set, test_set = load("mnist5k", "train"), load("mnist5k", "test")
print(f"minigan {minigan.__version__}, FAST = {FAST}")
print(f"mnist5k: train {train_set.x.shape}, test {test_set.x.shape}, 像素范围 [{train_set.x.min()}, {train_set.x.max()}]")
'''),
    md(r"""
`mnist5k` 是随包附带的 5,000 张 MNIST 手写数字（训练 4,000、验证 500、测试 500，每类各占十分之一），\
每张展平成 784 维、缩放到 $[-1, 1]$——正好是生成器 `tanh` 输出的范围。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 4.1 生成器代码实例

文章的 `generator(z, reuse)` 在作用域 `generator` 里叠了四个全连接层。逐行对照如下：

| 文章（TF1） | minigan | 说明 |
|---|---|---|
| `with tf.variable_scope("generator", reuse=reuse):` | （无） | 网络是一个对象 `G`；“复用”就是再调用一次 `G(z)` |
| `tf.layers.dense(z, 128, activation=tf.nn.leaky_relu)` | `Dense(100, 128), LeakyReLU(0.2)` | `z` 的维数文章没给，取 100 |
| `tf.layers.dense(hidden1, 128, activation=tf.nn.leaky_relu)` | `Dense(128, 128), LeakyReLU(0.2)` | `tf.nn.leaky_relu` 默认 `alpha=0.2` |
| `tf.layers.dense(hidden2, 128, activation=tf.nn.leaky_relu)` | `Dense(128, 128), LeakyReLU(0.2)` | |
| `tf.layers.dense(hidden3, output_shape, activation=tf.tanh)` | `Dense(128, 784), Tanh()` | `output_shape` 文章**未定义**；MNIST 图像 28×28 = 784 |
| `dense` 的默认 `kernel_initializer`（glorot_uniform） | `Dense(..., init="glorot_uniform")`（默认值） | $W \sim U(-a, a)$，$a=\sqrt{6/(n_\text{in}+n_\text{out})}$ |
| `dense` 的默认 `bias_initializer`（zeros） | `b = 0` | |

下面先按表格一行一行地搭，再和 `build_generator` 搭出来的比较。
"""),
    code(r'''
Z_DIM, OUT_DIM = 100, 28 * 28   # 文章没给 z 的维数；output_shape 未定义，取 784

rng = np.random.default_rng(0)
G_by_hand = Sequential(
    Dense(Z_DIM, 128, rng=rng), LeakyReLU(0.2),    # hidden1
    Dense(128, 128, rng=rng), LeakyReLU(0.2),      # hidden2
    Dense(128, 128, rng=rng), LeakyReLU(0.2),      # hidden3
    Dense(128, OUT_DIM, rng=rng), Tanh(),          # output（tanh）
)
G = build_generator(z_dim=Z_DIM, hidden=(128, 128, 128), out_dim=OUT_DIM, rng=0)
print(G)

z = np.random.default_rng(1).standard_normal((5, Z_DIM), dtype=np.float32)
print("逐行搭的 G 与 build_generator 的输出逐位相同:", np.array_equal(G_by_hand(z), G(z)))
'''),
    md(r"""
**注意：** 同一个种子、同样的层序，两种写法得到同一组权重。`build_generator` 就是这张表，\
没有藏别的东西。TF1 里 `activation=` 是 `dense` 的参数，minigan 里激活函数是单独的一层（和 PyTorch 的写法一样），\
所以 `Sequential` 有 8 个成员而不是 4 个。
"""),
    code(r'''
W0, b0 = G.params()["0.W"], G.params()["0.b"]
a = np.sqrt(6 / (Z_DIM + 128))
print(f"第一层 W {W0.shape}: glorot_uniform 的界 a = {a:.4f}, 实际 max|W| = {np.abs(W0).max():.4f}, "
      f"std = {W0.std():.4f}（均匀分布理论值 a/sqrt(3) = {a / np.sqrt(3):.4f}）")
print("第一层偏置全为 0:", not b0.any())
print("LeakyReLU(0.2) 把 [-1, 2] 变成", LeakyReLU(0.2)(np.array([[-1.0, 2.0]], dtype=np.float32)))

x = G(np.random.default_rng(2).standard_normal((1000, Z_DIM), dtype=np.float32))
print(f"G(z): 形状 {x.shape}, dtype {x.dtype}, 取值范围 [{x.min():.3f}, {x.max():.3f}]")
'''),
    md(r"""
**注意：** 这些就是 TF1 替文章“悄悄”选定的默认值：Glorot 均匀初始化、零偏置、斜率 0.2。\
（Keras 的 `LeakyReLU` 层默认斜率是 0.3，换框架时容易不一致。）`tanh` 保证输出落在 $(-1, 1)$，\
所以训练数据也必须缩放到 $[-1, 1]$。

参数个数不必猜：每个全连接层有 $n_\text{in} \times n_\text{out}$ 个权重加 $n_\text{out}$ 个偏置。
"""),
    code(r'''
def param_table(net, name):
    """每个 Dense 层一行：形状与参数个数；返回总数。"""
    total = 0
    for i, layer in enumerate(net):
        if isinstance(layer, Dense):
            n = layer.num_params()
            total += n
            print(f"  {name}[{i}] Dense({layer.in_features:>3} -> {layer.out_features:>3}): "
                  f"{layer.in_features} x {layer.out_features} + {layer.out_features} = {n:>7,}")
    assert total == net.num_params()
    print(f"  {name} 合计 {total:,}")
    return total

n_G = param_table(G, "G")
'''),
    md(r"""
**注意：** 生成器约 14.7 万个参数，其中约 10.1 万个在最后一层（128 → 784）：输出每个像素都要 129 个参数。

> **练习**：这一节的积木请你亲手写一遍。[`01_dense.ipynb`](exercises/01_dense.ipynb) 写全连接层 $y = xW + b$ 的前向与反向传播；
> [`02_activations.ipynb`](exercises/02_activations.ipynb) 写 leaky ReLU、tanh 和（数值稳定的）sigmoid。评分器会自动检查你的实现。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 4.2 判别器代码实例

判别器的结构和生成器镜像对称：784 → 128 → 128 → 128 → 1。

| 文章（TF1） | minigan | 说明 |
|---|---|---|
| `with tf.variable_scope("discriminator", reuse=reuse):` | （无） | 同上：`D` 是对象，复用 = 调用两次 |
| `tf.layers.dense(image, 128, activation=tf.nn.leaky_relu)` | `Dense(784, 128), LeakyReLU(0.2)` | 输入必须是展平的 $(N, 784)$ |
| `tf.layers.dense(hidden1, 128, ...)`、`tf.layers.dense(hidden2, 128, ...)` | `Dense(128, 128), LeakyReLU(0.2)` ×2 | |
| `logits = tf.layers.dense(hidden3, 1, activation=None)` | `Dense(128, 1)` | 网络到 logit 为止 |
| `output = tf.nn.sigmoid(logits)` | `sigmoid(D(x))`，**只在报告 $D(x)$ 时用** | 损失直接用 logit 计算 |
| `return output, logits` | `D(x)` 只返回 logit，形状 $(N, 1)$ | 见下面的“二元组”问题 |

判别器函数本身没有错。问题出在 4.3 节怎么用它的返回值：`discriminator` 返回的是**二元组**\
`(output, logits)`，而训练函数把整个返回值当成 logit，传给了 `tf.nn.sigmoid_cross_entropy_with_logits(logits=...)`。\
minigan 干脆让 D 只返回 logit，免得调用方拿错。
"""),
    code(r'''
rng = np.random.default_rng(1)
D_by_hand = Sequential(
    Dense(OUT_DIM, 128, rng=rng), LeakyReLU(0.2),   # hidden1
    Dense(128, 128, rng=rng), LeakyReLU(0.2),       # hidden2
    Dense(128, 128, rng=rng), LeakyReLU(0.2),       # hidden3
    Dense(128, 1, rng=rng),                         # logits（没有激活）
)
D = build_discriminator(in_dim=OUT_DIM, hidden=(128, 128, 128), rng=1)
print(D)
real = train_set.x[:64]
print("逐行搭的 D 与 build_discriminator 的输出逐位相同:", np.array_equal(D_by_hand(real), D(real)))
print("D(real) 的形状:", D(real).shape, "| 前 3 个 logit:", D(real)[:3, 0], "| 对应的 D(x):", sigmoid(D(real)[:3, 0]))

n_D = param_table(D, "D")
print(f"G + D 共 {n_G + n_D:,} 个参数")
'''),
    md(r"""
**注意：** 判别器约 13.4 万个参数，绝大部分在第一层（784 → 128）。两个网络合计约 28 万个参数，\
在 NumPy 里 CPU 上就能训练。未训练的判别器输出的 logit 接近 0，也就是 $D(x) \approx 0.5$：它还什么都分不出来。

### 把二元组当 logit 会怎样

TF 遇到一个由张量组成的二元组时，会把它打包（pack）成一个新张量，形状 $(2, N, 1)$：\
前一半是**概率**，后一半才是 logit。损失照算、不报错，但前一半是“把概率当 logit”算出来的。\
下面用一个按文章方式返回二元组的小函数演示。
"""),
    code(r'''
def discriminator_as_in_article(x):
    """模仿文章 4.2：返回 (output, logits)。"""
    logits = D(x)
    return sigmoid(logits), logits

returned = discriminator_as_in_article(real)
print("返回值类型:", type(returned).__name__, "，长度", len(returned))
packed = np.stack(returned)                      # TF 对二元组做的事：打包成一个张量
print("打包后的形状:", packed.shape)
wrong, _ = bce_with_logits(packed, 1.0)          # 文章 4.3 实际算的：logits=二元组
right, _ = bce_with_logits(returned[1], 1.0)     # 应该算的：logits=二元组的第二项
print(f"真实批的 BCE: 文章的写法 {wrong:.4f}，正确写法 {right:.4f}")

# 判别器越有把握（真实样本的 logit 越大），两种写法差得越远：
for s in (0.0, 3.0, 10.0):
    lg = np.full((64, 1), s, dtype=np.float32)
    w, _ = bce_with_logits(np.stack([sigmoid(lg), lg]), 1.0)
    r, _ = bce_with_logits(lg, 1.0)
    print(f"  logit = {s:>4}: 正确的损失 {r:.4f}，打包后的损失 {w:.4f}")
'''),
    md(r"""
**注意：** 正确的损失在判别器有把握时趋于 0；打包后的损失却停在约 0.157 降不下去——\
概率只在 $(0, 1)$ 之间，把它当 logit 时交叉熵至少是 $\log(1+e^{-1}) \approx 0.313$，占一半就是 0.157。\
梯度也有一半是从这条错误的路径来的。这种错不会报错，只会让训练“差一点”，最难发现。\
改法是取第二项：`_, real_logits = discriminator(image)`。

### “reuse” 在 minigan 里是什么

TF1 用 `variable_scope` 和 `reuse` 标志决定第二次调用 `discriminator` 时是**新建**一套变量还是**共享**已有的那套。\
minigan 没有这个问题：`D` 是一个对象，参数就在它身上，调用两次自然用的是同一套参数。\
要小心的是另一件事——反向传播需要的中间结果（缓存）。minigan 的每一层在 `forward` 里把缓存**返回**给调用者，\
而不是存在层对象上，所以对真实批和生成批各调用一次 D，两份缓存互不覆盖。下面验证：\
“调用两次、分别反向、梯度相加”（`GAN.d_step` 的做法）与“两批拼起来调用一次”得到相同的梯度。
"""),
    code(r'''
fake = G(np.random.default_rng(3).standard_normal((64, Z_DIM), dtype=np.float32))

# 写法一：D 调用两次（文章里靠 reuse 共享变量），各自的缓存各自反向
logits_r, cache_r = D.forward(real)
logits_f, cache_f = D.forward(fake)
_, g_r, g_f = discriminator_loss(logits_r, logits_f)
_, grads_r = D.backward(g_r, cache_r)
_, grads_f = D.backward(g_f, cache_f)
two_calls = {k: grads_r[k] + grads_f[k] for k in grads_r}

# 写法二：两批拼成一批，调用一次
logits, cache = D.forward(np.concatenate([real, fake]))
_, g_r2, g_f2 = discriminator_loss(logits[:64], logits[64:])
_, one_call = D.backward(np.concatenate([g_r2, g_f2]), cache)

rel = max(float(np.abs(two_calls[k] - one_call[k]).max() / np.abs(one_call[k]).max()) for k in one_call)
print("D 的参数个数仍是", f"{D.num_params():,}", "（调用两次不会多出第二套变量）")
print(f"两种写法的梯度，最大相对差 {rel:.1e}（float32 舍入的量级）")
'''),
    md(r"""
**注意：** 差别只在 $10^{-7}$ 左右，来自 float32 加法顺序不同。D 里没有依赖整批统计量的层\
（比如批归一化），所以拼起来算和分开算在数学上是同一件事。第 8 章的 DCGAN 判别器有批归一化，\
两种算法就不再相同了——所以 `GAN.d_step` 一律分两次调用 D。

> **练习**：[`03_bce_with_logits.ipynb`](exercises/03_bce_with_logits.ipynb) 请你写出从 logit 计算的二元交叉熵
> （文章代码里的 `sigmoid_cross_entropy_with_logits`）和它的梯度，在 $\pm 10^4$ 这样的极端 logit 上也要有限且准确。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 4.3 训练代码实例

文章的 `train(...)` 想做的事是对的：判别器损失是“真实标 1 + 生成标 0”的两项交叉熵，\
生成器损失是“生成标 1”的交叉熵（即非饱和损失（non-saturating loss），而不是第 3.4 节公式里的 $\log(1-D(G(z)))$），\
先更新判别器、再更新生成器。但按原样它跑不起来，改到能跑之后还会算错。逐条看：

1. **未定义的名字。** `feed_dict={image: real_image, z: noise}` 中的 `real_image` 和 `noise` 既不是参数也不是全局变量，\
   执行到 `sess.run` 就是 `NameError`。它们应当是这一步的一批真实图像和一批噪声，由调用者传入。
2. **二元组当 logit。** `real_image_logits = discriminator(image, None)` 拿到的是 `(output, logits)`，\
   随后传给 `sigmoid_cross_entropy_with_logits(logits=real_image_logits, ...)`（上一节已演示后果）。\
   `generated_image_logits` 同样如此。
3. **作用域嵌套、`reuse` 标志给错。** `generator` 和 `discriminator` 函数内部已经各自打开同名作用域，\
   `train` 又在外面套了 `variable_scope("discriminator")` 和 `variable_scope("generator")`，变量名变成\
   `discriminator/discriminator/...`、`generator/discriminator/...` 等；而且“生成器”那一段里对判别器的调用，\
   以及判别器那一段里第二次调用判别器，传的都是 `reuse_generator`。下面用一个小模型把后果逐一列出来。
4. **优化器从未和损失连上。** `D_optimizer`、`G_optimizer` 是从外面传进来的，函数里没有\
   `D_optimizer.minimize(D_loss, var_list=d_vars)` 这样的语句，`sess.run([D_optimizer])` 运行的东西与这里算出的\
   `D_loss`、`G_loss` 毫无关系。即使补上 `minimize`，若不写 `var_list`，TF1 默认更新**所有**可训练变量：\
   照原样，G 那一步和 D 那一步都不会只更新自己的参数。
5. **每调用一次就建一遍图。** 图模式下 `train` 每执行一次都往图里再加一整套网络和损失，应当只建一次图、循环里只 `sess.run`。
6. **API 已被移除。** `tf.layers`、`tf.variable_scope`、`tf.Session` 在 TensorFlow 2 中都不在主命名空间了，\
   只能通过 `tf.compat.v1` 并关闭即时执行（eager execution）才能用。TF2 的写法是两个 Keras 模型，\
   用 `tf.GradientTape` 求梯度，再 `optimizer.apply_gradients(zip(grads, model.trainable_variables))`——\
   `trainable_variables` 的作用正是 `var_list`。

### 第 3 条：作用域和 reuse 的后果

TF1 的相关规则有这么几条：子作用域继承父作用域的 `reuse`（`reuse=None` 或 `False` 都等于“照父作用域”）；\
`reuse=True` 时变量必须已存在；不复用时变量必须还不存在；`tf.AUTO_REUSE` 则“有就用、没有就建”。\
下面的小类**只模拟这几条规则**（它不是 TensorFlow，每层只记一个权重名），然后按文章 `train` 的结构依次调用，\
看第一次建图时每种标志组合会发生什么。
"""),
    code(r'''
from contextlib import contextmanager

AUTO_REUSE = "AUTO_REUSE"

class TF1VariableScopes:
    """TF1 变量作用域规则的最小模型（不是 TensorFlow）。"""

    def __init__(self):
        self.variables, self.stack = [], [("", False)]

    @contextmanager
    def variable_scope(self, name, reuse=None):
        prefix, parent_reuse = self.stack[-1]
        self.stack.append((f"{prefix}{name}/", reuse or parent_reuse))   # reuse 被子作用域继承
        try:
            yield
        finally:
            self.stack.pop()

    def get_variable(self, name):
        prefix, reuse = self.stack[-1]
        full = prefix + name
        if reuse is True and full not in self.variables:
            raise ValueError(f"Variable {full} does not exist")
        if not reuse and full in self.variables:
            raise ValueError(f"Variable {full} already exists")
        if full not in self.variables:
            self.variables.append(full)

def network(tf, scope, reuse):
    """文章的 generator / discriminator：一个作用域里 4 个 dense 层。"""
    with tf.variable_scope(scope, reuse=reuse):
        for layer in ("dense", "dense_1", "dense_2", "dense_3"):
            tf.get_variable(f"{layer}/kernel")

def article_train_graph(tf, reuse_generator, reuse_discriminator):
    """文章 4.3 中建图的部分，调用顺序和标志照原样。"""
    with tf.variable_scope("discriminator", reuse=reuse_discriminator):
        network(tf, "discriminator", None)              # discriminator(image, None)
        network(tf, "generator", reuse_generator)       # generator(z, reuse_generator)
        network(tf, "discriminator", reuse_generator)   # discriminator(..., reuse_generator)
    with tf.variable_scope("generator", reuse=reuse_generator):
        network(tf, "generator", reuse_generator)
        network(tf, "discriminator", reuse_generator)

def summary(tf):
    groups = sorted({v.rsplit("/", 2)[0] for v in tf.variables})
    return f"建图成功，{len(groups)} 套网络: {', '.join(groups)}"

for rg, rd in [(False, False), (True, False), (False, True), (True, True), (AUTO_REUSE, AUTO_REUSE)]:
    tf = TF1VariableScopes()
    try:
        article_train_graph(tf, rg, rd)
        outcome = summary(tf)
    except ValueError as err:
        outcome = f"出错: {err}"
    print(f"reuse_generator={rg!s:<10} reuse_discriminator={rd!s:<10} -> {outcome}")

# 对照：不套外层作用域，第一次调用新建、之后复用
tf = TF1VariableScopes()
network(tf, "generator", False)          # G(z)
network(tf, "discriminator", False)      # D(x)
network(tf, "discriminator", True)       # D(G(z))：与 D(x) 共享
print("对照（正确的写法）:", summary(tf))
'''),
    md(r"""
**注意：** 只要标志是布尔值，第一次建图在四种组合下**都会**报错——判别器那一段需要\
`reuse_discriminator=False`（第一次调用才能新建）和 `reuse_generator=True`（第二次调用才能复用），\
可 `reuse_generator=True` 又让作用域里的生成器找不到自己的变量。\
用 `tf.AUTO_REUSE` 能把错误“抹掉”，却建出了**四套**网络：计算 `G_loss` 的是 `generator/discriminator`，\
一个 `D_loss` 从来没训练过的判别器；`D_loss` 里的生成图像来自 `discriminator/generator`，\
不是 `G_loss` 在训练的那个生成器。对抗的双方根本没有碰面。正确的写法只有两套网络，判别器被调用两次、共享变量。

### 第 4 条：为什么 `var_list` 不能省

`minimize(G_loss)` 若不限定 `var_list`，也会按 `G_loss` 的梯度去更新判别器：方向是让判别器**把假样本判成真**，\
等于判别器在帮生成器作弊；反过来 `minimize(D_loss)` 也会更新生成器，让假样本**更假**。\
在 minigan 里可以直接演示：把一方损失的梯度用到另一方的参数上，走 10 步 Adam，看 $D(G(z))$ 往哪边走。
"""),
    code(r'''
def mean_d_fake(G, D, z):
    return float(sigmoid(D(G(z))).mean())

z_demo = np.random.default_rng(4).standard_normal((64, Z_DIM), dtype=np.float32)

# (a) 用 G_loss 的梯度更新 D（minimize(G_loss) 不写 var_list 时 D 也会这样被更新）
G_a, D_a = build_generator(rng=0), build_discriminator(rng=1)
before = mean_d_fake(G_a, D_a, z_demo)
opt = Adam(D_a.params(), lr=2e-4, betas=(0.5, 0.999))
for _ in range(10):
    fake_a, _ = G_a.forward(z_demo)
    logits_a, cache_a = D_a.forward(fake_a)
    _, dlogits = generator_loss(logits_a, "non_saturating")
    _, grads = D_a.backward(dlogits, cache_a)       # 对 D 的参数求 G_loss 的梯度
    opt.step(grads)
print(f"(a) G_loss 更新 D 10 步: D(G(z)) 均值 {before:.3f} -> {mean_d_fake(G_a, D_a, z_demo):.3f}（D 开始把假的判成真的）")

# (b) 用 D_loss 的梯度更新 G（minimize(D_loss) 不写 var_list 时 G 也会这样被更新）
G_b, D_b = build_generator(rng=0), build_discriminator(rng=1)
opt = Adam(G_b.params(), lr=2e-4, betas=(0.5, 0.999))
for _ in range(10):
    fake_b, cache_g = G_b.forward(z_demo)
    logits_b, cache_d = D_b.forward(fake_b)
    _, _, dlogits = discriminator_loss(D_b(real), logits_b)   # 只有“生成标 0”那一项与 G 有关
    dfake, _ = D_b.backward(dlogits, cache_d)
    _, grads = G_b.backward(dfake, cache_g)
    opt.step(grads)
print(f"(b) D_loss 更新 G 10 步: D(G(z)) 均值 {before:.3f} -> {mean_d_fake(G_b, D_b, z_demo):.3f}（G 在把假样本做得更假）")
'''),
    md(r"""
**注意：** 两个方向都和训练目标相反。minigan 在结构上避免了这件事：`GAN` 为 G 和 D 各建一个优化器，\
每个优化器只拿到自己网络的参数字典（`Adam(G.params())`、`Adam(D.params())`），这就是 `var_list`。

### 改正后的一步训练

把上面几条都改掉，一步训练就是文章第 3.3 节的步骤 1–8（步骤 9 是外面的循环；顺序按 4.3 的代码先 D 后 G，\
而 3.3 节的编号是先 G 后 D）：先用一批真实图像和一批新生成的图像\
更新 D 一次，再用一批**新的**噪声、让梯度穿过 D 更新 G 一次（非饱和损失）。下面只用公开的积木——\
`forward` / `backward`、`discriminator_loss` / `generator_loss`、`Adam.step`——把它写出来。\
函数多了一个参数 `real_label`：判别器给真实图像的目标标签。文章的代码用 `tf.ones_like(...)`，即 1；\
后面训练用的 minigan 默认配方取 0.9（单边标签平滑，见“用默认配方训练”一节）。生成图像的目标始终是 0。
"""),
    code(r'''
def manual_train_step(G, D, g_opt, d_opt, rng, real, real_label=1.0):
    """一步训练：一次 D 更新（真实批 + 生成批），一次 G 更新（非饱和损失，梯度穿过 D）。"""
    n = real.shape[0]
    # --- D 步（§3.3 步骤 1、2、6、7、8）---
    z = rng.standard_normal((n, G[0].in_features), dtype=np.float32)   # 步骤 1：噪声
    fake = G(z)                                                        # 步骤 2：这一步不需要 G 的梯度
    logits, d_cache = D.forward(np.concatenate([real, fake]))          # 同一个 D，两批一起
    d_loss, g_real, g_fake = discriminator_loss(logits[:n], logits[n:], real_label)  # 真实标 real_label、生成标 0，都从 logit 算
    _, d_grads = D.backward(np.concatenate([g_real, g_fake]), d_cache)
    d_opt.step(d_grads)                                                # 只更新 D（var_list = D 的参数）
    p = sigmoid(logits)                                                # sigmoid 只用于报告 D(x)、D(G(z))
    d_real, d_fake = float(p[:n].sum()) / n, float(p[n:].sum()) / n
    # --- G 步（§3.3 步骤 1–5）---
    z = rng.standard_normal((n, G[0].in_features), dtype=np.float32)   # 新的一批噪声
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)                                  # 更新后的 D
    g_loss, dlogits = generator_loss(logits, "non_saturating")         # 生成标 1
    dfake, _ = D.backward(dlogits, d_cache)                            # 梯度穿过 D；D 的参数梯度丢弃
    _, g_grads = G.backward(dfake, g_cache)
    g_opt.step(g_grads)                                                # 只更新 G（var_list = G 的参数）
    return d_loss, g_loss, d_real, d_fake
'''),
    md(r"""
现在从**相同的种子**出发各走一步：一边是上面的手写版本，一边是 `GAN.train_step`。两边用同样的初始化、\
同样的噪声种子、同样设置的 Adam（$\beta_1=0.5$）和同样的真实标签，然后比较四个统计量和两个网络的全部参数。\
`GAN` 的真实标签由参数 `real_label` 给出（默认 1.0，即文章的代码），所以两边必须显式地取同一个值。\
比较两组设置：文章代码的（真实标签 1，G、D 的学习率都是 $2\times10^{-4}$），\
以及后面 `TrainConfig()` 默认配方的（真实标签 0.9，D 的学习率 $4\times10^{-4}$、G 的 $8\times10^{-4}$；\
默认配方另外几项改动——D 里的随机失活、对 D 输入的随机平移、G 权重的滑动平均——不在这一步之内，见“用默认配方训练”一节）。
"""),
    code(r'''
def fresh(g_lr, d_lr, seed_noise=2):
    G, D = build_generator(rng=0), build_discriminator(rng=1)
    g_opt = Adam(G.params(), lr=g_lr, betas=(0.5, 0.999))
    d_opt = Adam(D.params(), lr=d_lr, betas=(0.5, 0.999))
    return G, D, g_opt, d_opt, np.random.default_rng(seed_noise)

def gan_step(real_label, g_lr, d_lr):
    G, D, g_opt, d_opt, rng = fresh(g_lr, d_lr)
    gan = GAN(G, D, z_dim=Z_DIM, g_optimizer=g_opt, d_optimizer=d_opt, loss="non_saturating",
              real_label=real_label, rng=rng)
    return gan.train_step(real), G, D

STEP_SETTINGS = {"文章的代码": (1.0, 2e-4, 2e-4), "默认配方": (0.9, 8e-4, 4e-4)}   # (真实标签, G lr, D lr)
for name, (real_label, g_lr, d_lr) in STEP_SETTINGS.items():
    G1, D1, g_opt1, d_opt1, rng1 = fresh(g_lr, d_lr)
    mine = manual_train_step(G1, D1, g_opt1, d_opt1, rng1, real, real_label)
    stats, G2, D2 = gan_step(real_label, g_lr, d_lr)
    print(f"{name}（real_label = {real_label}, G lr = {g_lr:g}, D lr = {d_lr:g}）")
    print("  手写的一步    :", {k: round(float(v), 6) for k, v in zip(("d_loss", "g_loss", "d_real", "d_fake"), mine)})
    print("  GAN.train_step:", {k: round(v, 6) for k, v in stats.as_dict().items()})
    same_stats = np.array_equal(np.array(mine), np.array(list(stats.as_dict().values())))
    pairs = [(f"G.{k}", G1.params()[k], G2.params()[k]) for k in G1.params()] + \
            [(f"D.{k}", D1.params()[k], D2.params()[k]) for k in D1.params()]
    max_diff = max(float(np.abs(a - b).max()) for _, a, b in pairs)
    print(f"  统计量逐位相同: {same_stats}; 全部 {len(pairs)} 个参数数组逐位相同: "
          f"{all(np.array_equal(a, b) for _, a, b in pairs)}（最大差 {max_diff:.1e}）")
    assert max_diff < 1e-6, "手写的一步与 GAN.train_step 不一致"

# 反例：标签不一致时（手写 1.0、GAN 用 0.9），同样的种子给出不同的 D 损失
G1, D1, g_opt1, d_opt1, rng1 = fresh(2e-4, 2e-4)
mismatch = manual_train_step(G1, D1, g_opt1, d_opt1, rng1, real, 1.0)[0]
print(f"\n标签不一致时的 D 损失: 手写（1.0）{mismatch:.6f}，GAN（0.9）{gan_step(0.9, 2e-4, 2e-4)[0].d_loss:.6f}")
print(f"训练开始时的参照值: 2 log 2 = {2 * np.log(2):.4f}（D 损失），log 2 = {np.log(2):.4f}（G 损失）")
'''),
    md(r"""
**注意：** 在两组设置下，手写的一步和库里的 `GAN.train_step` 做的都是同一件事，结果逐位一致（最大差为 0）：\
库的实现里没有这张图之外的东西。最后的反例说明这个比较是敏感的：真实标签差 0.1，D 的损失就不一样。\
第一步时 $D(x)$、$D(G(z))$ 都在 0.5 附近，D 的损失接近 $2\log 2$、G 的损失接近 $\log 2$——两个网络都还“没有主意”。\
（$D=1/2$ 时，真实图像那一项的交叉熵无论目标是 1 还是 0.9 都等于 $\log 2$，所以两组设置的参照值相同。\
这是“判别器还没学”的参照值，不是平衡点：标签平滑下的平衡点在下面画损失曲线时再算。）

> **练习**：上面的一步用到了 `Adam.step`。[`07_adam_step.ipynb`](exercises/07_adam_step.ipynb) 请你写出带偏差校正的一步 Adam 更新；
> 想把整个训练步也自己写一遍，做第 3 章的 [`08_train_step.ipynb`](exercises/08_train_step.ipynb)。

### 用默认配方训练

下面用 `minigan.train.train` 在 `mnist5k` 上训练：它在上面的一步之外加了按轮（epoch）打乱数据、\
定期保存一张固定噪声生成的样本图、记录 `metrics.csv` 和检查点（checkpoint）。

配置取 `TrainConfig()` 的默认值，也就是 minigan 的**默认配方**。网络仍是文章的网络，改的是训练方法，\
它在几处**有意偏离**文章的代码：

1. **单边标签平滑**（one-sided label smoothing，Salimans et al. 2016，“Improved Techniques for Training GANs”）：\
   判别器给真实图像的目标是 0.9，而不是文章 `tf.ones_like(...)` 给的 1（`real_label=0.9`）；生成图像的目标仍是 0\
   （“单边”指只平滑真实的一边）。这样 D 永远得不到“把 $D(x)$ 推到 1”的奖励，不会对真实图像无限自信。
2. **学习率**：Adam（$\beta_1 = 0.5$），D 取 $4\times10^{-4}$，G 取它的两倍 $8\times10^{-4}$（`g_lr` 不给时取 2 × `lr`）。\
   文章没有给学习率；常见的 DCGAN 设置是两者都取 $2\times10^{-4}$。
3. **判别器一侧的两项正则**：D 的每个隐藏层后面的**随机失活**（`dropout=0.3`），以及把送进 D 的每一张真实图像和生成图像\
   都随机平移至多 2 个像素的**可微数据增强**（`translate=2`）。
4. **采样一侧的平滑**：生成样本图和样本时用 G 的权重的**指数滑动平均**（`ema=0.999`）。学习率全程不变\
   （`lr_decay="constant"`；让学习率后半程降到 0 的选项在第 6 章的研究里试过，没有被选进默认配方）。
5. **训练长度**：18,600 步（`mnist5k` 上 300 轮；在空闲的两核机器上一次默认训练约 2 分钟，第 6 章说明怎么定的）。

**为什么要改：** `mnist5k` 只有 4,000 张训练图，每一轮（62 步）判别器就把整个训练集看一遍，\
一次训练要看上百遍，它很容易把这些图“背下来”（过拟合；后面最终判别器在训练图和测试图上的读数可以看出这一点）。\
用文章的配方训练得足够久，判别器就会完胜：$D(x)\to 1$、$D(G(z))\to 0$，生成器从 D 那里得到的梯度不再把样本引向真实数据，\
样本塌缩（下面的对照运行里可以看到塌缩成什么样）。前两项不让 D 过早地、永久地赢下这场博弈；第 3 项让 D 背不下\
训练图；第 4 项去掉最后几步权重的抖动留在样本上的噪点。每一项为什么有效、各自和合起来在多个种子上\
效果如何，由第 6 章 notebook（`06_faq`）最后一节“默认配方的研究”度量；这里只各跑一个种子作对照：\
先用默认配方，再用**文章的配方**（`config_from_preset("article", steps=...)`，即命令行的 `--preset article`：\
真实标签 1、两个学习率相同、不用任何补救，\
步数足以看到判别器获胜）。完整运行用默认的长度；`FAST` 模式两者都只跑几百步，看不到下面描述的现象。
"""),
    code(r'''
from minigan.train import N_GRID, TrainConfig, config_from_preset, list_frames, load_networks, make_noise, train

cfg = TrainConfig()                                   # 默认配方、默认训练长度
cfg_article = config_from_preset("article", steps=8_000)   # 文章的配方（--preset article），足以看到判别器获胜
if FAST:
    cfg = dataclasses.replace(cfg, steps=300)
    cfg_article = dataclasses.replace(cfg_article, steps=300)

resolved_cfg = cfg.resolve(train_set)                 # train() 会按数据补全：g_lr、output、epochs、sample_every
print("默认配方（按数据补全后）:")
for k, v in dataclasses.asdict(resolved_cfg).items():
    print(f"  {k:<16} = {v!r}")

# 文章 4.1–4.3 的代码确定了的设置（真实标签来自 tf.ones_like）；其余（学习率、批大小、z 的分布……）文章没有给
ARTICLE_CODE = {"hidden": (128, 128, 128), "alpha": 0.2, "loss": "non_saturating", "d_steps": 1,
                "order": "d_first", "real_label": 1.0,
                # 文章的代码里没有这些补救（0 / False / "constant" 表示不用）
                "dropout": 0.0, "translate": 0, "instance_noise": 0.0, "spectral_norm": False, "ema": 0.0,
                "lr_decay": "constant"}
same = [k for k, v in ARTICLE_CODE.items() if getattr(resolved_cfg, k) == v]
diff = [f"{k} = {getattr(resolved_cfg, k)!r}（文章代码: {v!r}）" for k, v in ARTICLE_CODE.items()
        if getattr(resolved_cfg, k) != v]
print("\n与文章代码一致:", ", ".join(same))
print("与文章代码不同:", "; ".join(diff) if diff else "无")
print(f"学习率（文章没有给）: D lr = {resolved_cfg.lr:g}, G lr = {resolved_cfg.g_lr:g}"
      f"（G 是 D 的 {resolved_cfg.g_lr / resolved_cfg.lr:g} 倍）")
print("文章代码没有给出、由 minigan 选定:",
      ", ".join(k for k in dataclasses.asdict(resolved_cfg) if k not in ARTICLE_CODE))

resolved_article = cfg_article.resolve(train_set)
print("\n对照运行（文章的配方）与默认配方不同的设置:")
for k, v in dataclasses.asdict(resolved_article).items():
    if v != getattr(resolved_cfg, k):
        print(f"  {k:<16} = {v!r}（默认配方: {getattr(resolved_cfg, k)!r}）")
'''),
    md(r"""
**注意：** 网络结构、leaky ReLU 斜率、非饱和的生成器损失、“每步 D 一次、G 一次、先 D 后 G”都来自文章代码；\
文章的输出层 `tanh` 由数据范围决定（`output=None` 表示按数据自动选，`mnist5k` 在 $[-1,1]$ 里，选 `tanh`）。\
与文章代码不同的是 `real_label` 和上面列出的几项补救，外加文章没有给的 G 学习率——这就是上面说的几处偏离。\
学习率、Adam 的 $\beta$、批大小、噪声分布和维数、训练多久，文章都没说，是 minigan 的选择。\
`sample_every`（每隔几轮存一张样本图）按训练长度自动选，使一次运行大约存 50 张图。

两次训练（完整运行约几分钟，取决于机器）：
"""),
    code(r'''
def run_summary(name, result):
    resolved = json.loads((result.out_dir / "config.json").read_text())["config"]
    print(f"{name}: 状态 {result.status}, {result.step} 步 = {result.epochs:.2f} 轮 × {result.steps_per_epoch} 步/轮, "
          f"用时 {result.seconds:.0f} s")
    print(f"  按数据补全后: epochs = {resolved['epochs']}, steps = {resolved['steps']}, g_lr = {resolved['g_lr']:g}, "
          f"real_label = {resolved['real_label']}, output = {resolved['output']}, sample_every = {resolved['sample_every']}")
    print("  最后一步:", {k: round(v, 3) for k, v in result.last.items() if k not in ("step", "epoch", "seconds")})

result = train(cfg, RUNS / "default", progress="none")
run_summary("默认配方", result)
article = train(cfg_article, RUNS / "article", progress="none")
run_summary("文章的配方", article)
print("运行目录:", sorted(p.name for p in result.out_dir.iterdir()))
'''),
    md(r"""
**注意：** 一轮是 4,000 张训练图 ÷ 64 = 62 步（上面的“步/轮”）。默认长度是 18,600 步，正好 300 轮\
（轮数和总步数见上面的输出）。最后一步的四个数只是一个批次的值，波动很大，要看整条曲线。\
运行目录里 `samples/` 是每隔 `sample_every` 轮一张的样本图，`training.gif` 是它们的动画。

#### 训练过程中的样本

同一组固定噪声 $z$ 在不同时刻生成的图（每张图取左上角 4×4 个样本）。上一行是默认配方，下一行是文章的配方；\
前几列两行取的是相近步数的图（各取离目标步数最近的一张），上一行多出的几列是文章的配方停下之后默认配方继续训练的样子：
"""),
    code(r'''
RUNS_SHOWN = {"default": result, "article": article}
# 两行在相同的步数附近取图：文章配方的 0、1/4、…、全长，默认配方再加上文章配方停下之后的 3 个时刻
targets = list(np.linspace(0, article.step, 5).round().astype(int))
if result.step > article.step:
    targets_default = targets + list(np.linspace(article.step, result.step, 4).round().astype(int)[1:])
else:
    targets_default = targets
cols = int(np.ceil(np.sqrt(N_GRID)))                  # 样本图是 8×8 格，每格 28 像素加 2 像素边框
fig, axes = plt.subplots(2, len(targets_default), figsize=(1.95 * len(targets_default), 5.0), squeeze=False)
for row, (label, res), wanted in zip(axes, RUNS_SHOWN.items(), (targets_default, targets)):
    frames = list_frames(res.out_dir / "samples", res.steps_per_epoch)
    for ax in row:
        ax.axis("off")
    for ax, t in zip(row, wanted):
        step, path, caption = min(frames, key=lambda f: abs(f[0] - t))   # 离 t 最近的一张样本图
        img = plt.imread(path)
        k = max(1, round(img.shape[1] / (cols * 30 + 2)))  # 存图时放大的倍数
        img = img[::k, ::k][: 4 * 30 + 2, : 4 * 30 + 2]     # 还原原始像素，取左上 4×4
        ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{label}\n{caption}" + ("" if caption.startswith("step") else f", step {step}"), fontsize=8)
plt.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 第 0 轮（训练前）是均匀的灰色噪声。两行的第二列都已是“黑底、中间一团亮笔画”的样子。之后（完整运行的图）：

- **文章的配方**（下一行）：两千步左右样本就变成满格的黑白斑点，之后一直如此；不同的 $z$ 生成的斑点大同小异，\
  看不出数字，对应下面曲线里判别器越来越占上风的过程。
- **默认配方**（上一行）：开头两三千步同样模糊、带斑点，对应下面曲线里判别器占上风的一段；之后斑点逐渐消失，\
  第八千步左右已能认出各不相同的数字，后半程笔画越来越干净。

训练前半程，同一个 $z$ 可能在不同时刻变成另一个数字；后半程它大多保持同一个数字，只是越画越清楚。\
GAN 的训练并不是“每个样本从一开始就逐渐变清楚”。

#### 损失与 $D(x)$、$D(G(z))$ 曲线

直接从 `metrics.csv` 画（细线是每步的值，粗线是滑动平均）。前两幅是默认配方，第三幅是文章配方的 $D$ 输出。\
虚线是**各自配方**的平衡点（$p_g = p_\text{data}$ 时的值，由 `minigan.losses.equilibrium` 计算，图例里写着数值）。\
文章的配方（标签 1/0）：最优判别器处处输出 $D^*(x) = 1/2$，D 的损失为 $2\log 2 \approx 1.386$，非饱和 G 损失为 $\log 2 \approx 0.693$。\
标签平滑改变了平衡点：真实标签为 0.9 时，最优判别器是 $D^*(x) = 0.9\,p_\text{data}/(p_\text{data}+p_g)$，\
$p_g = p_\text{data}$ 时处处为 **0.45**，D 的损失为 $-0.9\log 0.45 - 0.1\log 0.55 - \log 0.55 \approx 1.376$，\
G 的损失为 $-\log 0.45 \approx 0.799$。所以默认配方的曲线要和这三个值比，不是和 $1/2$、$1.386$、$0.693$ 比。\
`minigan train` 存的 `losses.png` 也按所用的真实标签画这几条线。
"""),
    code(r'''
def read_metrics(res):
    return np.genfromtxt(res.out_dir / "metrics.csv", delimiter=",", names=True)

def smooth(y, window):
    return np.convolve(y, np.ones(window) / window, mode="valid")

def plot_d_outputs(ax, m, title, d_star):
    window = max(1, len(m) // 50)
    s = m["step"][window - 1:]
    for key, label, colour in (("d_real", "D(x), real", "tab:green"), ("d_fake", "D(G(z)), generated", "tab:red")):
        ax.plot(m["step"], m[key], color=colour, alpha=0.15, lw=0.5)
        ax.plot(s, smooth(m[key], window), color=colour, label=label)
    ax.axhline(d_star, color="grey", ls=":", lw=1, label=f"D* at equilibrium = {d_star:g}")
    ax.set_ylim(0, 1); ax.set_xlabel("step"); ax.set_title(title); ax.legend(fontsize=8)

m, m_article = read_metrics(result), read_metrics(article)
window = max(1, len(m) // 50)
s = m["step"][window - 1:]
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 3.6))
for key, label, colour in (("d_loss", "D loss", "tab:blue"), ("g_loss", "G loss", "tab:orange")):
    ax1.plot(m["step"], m[key], color=colour, alpha=0.15, lw=0.5)
    ax1.plot(s, smooth(m[key], window), color=colour, label=label)
eq = equilibrium(resolved_cfg.real_label, resolved_cfg.loss)          # 默认配方的平衡点：0.45、1.376、0.799
eq_article = equilibrium(cfg_article.real_label, cfg_article.loss)     # 文章的配方：0.5、1.386、0.693
ax1.axhline(eq.d_loss, color="tab:blue", ls=":", lw=1, label=f"D loss at equilibrium = {eq.d_loss:.3f}")
ax1.axhline(eq.g_loss, color="tab:orange", ls=":", lw=1, label=f"G loss at equilibrium = {eq.g_loss:.3f}")
ax1.set_xlabel("step"); ax1.set_title(f"default recipe (real label {resolved_cfg.real_label:g}): losses"); ax1.legend(fontsize=8)
plot_d_outputs(ax2, m, "default recipe: mean D output per step", eq.d_star)
plot_d_outputs(ax3, m_article, "article's recipe: mean D output per step", eq_article.d_star)
plt.tight_layout()
plt.show()

def phase_table(name, m, width):
    """每 width 步一行：这一段里 D(x)、D(G(z))、两个损失的均值。"""
    print(f"{name}（每行是 {width} 步的均值）")
    print(f"  {'steps':>13}  {'D(x)':>6}  {'D(G(z))':>7}  {'D loss':>6}  {'G loss':>6}")
    for a in range(0, len(m), width):
        p = m[a:a + width]
        print(f"  {int(p['step'][0]):>6}-{int(p['step'][-1]):<6}  {p['d_real'].mean():6.3f}  {p['d_fake'].mean():7.3f}  "
              f"{p['d_loss'].mean():6.3f}  {p['g_loss'].mean():6.3f}")

WIDTH = 30 if FAST else 1000
phase_table("默认配方", m, WIDTH)
print()
phase_table("文章的配方", m_article, WIDTH)
'''),
    md(r"""
**注意：** 如果训练真的到达了平衡点，默认配方的两条 $D$ 曲线会一起贴着 0.45、D 损失贴着 1.376、G 损失贴着 0.799\
（文章的配方则是 0.5、1.386、0.693）：判别器对任何输入都只能猜。两次运行都不是这样，看上面两张表（完整运行的输出）：

- **文章的配方**：$D(G(z))$ 一路降下去，$D(x)$ 一路升上去；到表的最后几行，$D(x)$ 约 0.9、$D(G(z))$ 约 0.1，\
  D 的损失降到 0.4 以下，G 的损失升到 3 以上，没有回头的迹象。这就是“判别器获胜”的过程：D 把真假分得越来越开，\
  G 从 D 那里得到的梯度不再把样本引向真实数据，样本停在斑点的样子。
- **默认配方**：开头也有一段**判别器占上风**的时期——第 1,000–2,000 步 $D(x)$ 约 0.7、$D(G(z))$ 约 0.2、\
  G 的损失冲到 2.5 左右；之后它**恢复了**：$D(G(z))$ 回升、$D(x)$ 回落，从第五千步起两者分别停在 0.48 和 0.42 左右，\
  D 的损失约 1.32、G 的损失约 0.89，一直保持到训练结束。这离上面算出的标签平滑平衡点（0.45、1.376、0.799）已经不远：\
  D 只比“只能猜”好一点点。

这是一个种子上的一次运行；占上风的时期从哪一步开始、持续多久，换一个种子会不同（多个种子的比较见第 6 章）。\
细线还显示每一步的值剧烈摆动，单独一步的读数说明不了什么。

还要记住两点。第一，$D \approx 0.5$ 并不说明样本好——训练的第 0 步它也是 0.5，那时判别器只是还没学；\
平衡点要求的是“判别器**已经尽力**了还只能猜”。第二，GAN 的损失值不像分类器的损失那样越低越好，\
它是两方对抗的读数，不能拿来判断样本质量。判断质量要看样本本身，或者用下面的分类器分数。

#### 最终的样本

从最后的检查点重建生成器（`load_networks`），用同一组新的噪声各生成 64 张：
"""),
    code(r'''
z_final = make_noise(np.random.default_rng(2024), 1000, resolved_cfg.z_dim, resolved_cfg.noise)
final = {}                                          # 每个配方 1000 张样本，下面的分类器检查也用它们
fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.4))
for ax, (label, res) in zip(axes, RUNS_SHOWN.items()):
    G_final, D_final, run_cfg, _ = load_networks(res.checkpoint)
    final[label] = samples = G_final(z_final)
    ax.imshow(image_grid(samples[:64], (28, 28), ncols=8), cmap="gray", interpolation="nearest")
    ax.set_title(f"{label} recipe: 64 samples after {res.step} steps", fontsize=10)
    ax.axis("off")
    p_fake = sigmoid(D_final(samples)).ravel()
    p_train, p_test = sigmoid(D_final(train_set.x)).ravel(), sigmoid(D_final(test_set.x)).ravel()
    print(f"{label} 的最终 D: 1000 个生成样本上 D(G(z)) 均值 {p_fake.mean():.3f}（{(p_fake < 0.5).mean():.0%} 判为假）; "
          f"4000 张训练图上 D(x) 均值 {p_train.mean():.3f}（{(p_train > 0.5).mean():.0%} 判为真）; "
          f"500 张测试图上 D(x) 均值 {p_test.mean():.3f}（{(p_test > 0.5).mean():.0%} 判为真）")
plt.tight_layout()
plt.show()
'''),
    md(r"""
**注意（实话实说）：** 左边（默认配方）几乎每一个都能认出是哪个数字，各类都有，笔画周围没有散落的白点；\
仍有少数样本笔画变形，或像两个数字的混合，离真实数字还有距离。右边（文章的配方）是判别器获胜后的样子：\
64 个样本都是满格的黑白斑点，没有一个是数字——生成器失败了。网络完全相同，差别只在训练方法。

最后两行输出是两个最终判别器的读数。文章配方的 D 对生成样本平均只给 0.05，对训练图和测试图给 0.8 左右：\
它能把真假分开——生成样本是斑点，这并不难；训练图和测试图上的读数相近，说明它分得开靠的不是死记训练集。\
默认配方的 D 对三批图像给出的平均值都在 0.39–0.43 之间（标签平滑下平衡点是 0.45），“判为真”的比例都很低：\
它几乎分不出真假；训练图（0.434）和没见过的测试图（0.428）也几乎一样，随机失活和随机平移让它没有记住训练集。

#### 用数字分类器检查样本

肉眼的印象需要数字佐证。在 `mnist5k` 训练集上训练一个小的 MLP 数字分类器（`MLPClassifier`，同样是 minigan 的引擎），\
用它给每个配方的 1,000 个生成样本分类，计算（`class_scores`）：

- **覆盖的类别数**：10 个数字中至少被分到一个样本的有几个；
- **与均匀分布的 KL 散度**：预测类别的直方图离“每类 10%”有多远（0 最好）；
- **置信度分数**（仿 Inception Score）：$\exp\big(\mathbb{E}_x\,\mathrm{KL}(p(y|x)\,\|\,p(y))\big)$，在 1 到 10 之间，\
  样本个个“像某个数字”且类别均衡时接近 10；
- **Fréchet 距离**：分类器倒数第二层特征上，生成样本与 500 张测试图的两个高斯之间的距离（0 最好）。

同样的数字也对**真实的测试图**算一遍作为参照（它的 Fréchet 距离是对 1,000 张随机训练图计算的，两组大小与上面相同）。
"""),
    code(r'''
from minigan.metrics import MLPClassifier, class_scores

clf = MLPClassifier(784, 10, rng=0).fit(train_set.x, train_set.y, epochs=2 if FAST else 8)
print(f"分类器在 500 张测试图上的准确率: {clf.accuracy(test_set.x, test_set.y):.3f}")

scores = {label: class_scores(clf, samples, real=test_set.x) for label, samples in final.items()}
ref_train = train_set.x[np.random.default_rng(0).choice(len(train_set), 1000, replace=False)]
ref = class_scores(clf, test_set.x, real=ref_train)
columns = {f"默认配方 ({result.step} 步)": scores["default"], f"文章的配方 ({article.step} 步)": scores["article"],
           "真实测试图 (500)": ref}

def pad(text, width):
    """按显示宽度补空格（汉字占两格），让表格在等宽字体里对齐。"""
    return text + " " * (width - sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))

print()
print(pad("", 20), *(pad(c, 24) for c in columns))
for name, fmt in (("覆盖的类别数 / 10", lambda r: f"{r.classes_covered}"),
                  ("KL(直方图 || 均匀)", lambda r: f"{r.kl_to_uniform:.3f}"),
                  ("置信度分数 (1..10)", lambda r: f"{r.confidence_score:.2f}"),
                  ("Fréchet 距离", lambda r: f"{r.frechet:.1f}")):
    print(pad(name, 20), *(pad(fmt(r), 24) for r in columns.values()))

print()
for label, r in scores.items():
    frac = np.array(r.histogram) / sum(r.histogram)
    top = [d for d in np.argsort(frac)[::-1][:3] if frac[d] > 0]
    print(f"{label}: 生成样本中最多的类别", ", ".join(f"{d} ({frac[d]:.0%})" for d in top),
          "| 一个样本也没有的类别:", ", ".join(str(d) for d in np.flatnonzero(frac == 0)) or "无")

fig, ax = plt.subplots(figsize=(7, 2.6))
digits = np.arange(10)
bars = {f"default recipe ({result.step} steps)": scores["default"],
        f"article's recipe ({article.step} steps)": scores["article"], "real test digits (500)": ref}
for i, (label, r) in enumerate(bars.items()):
    ax.bar(digits + (i - 1) * 0.27, np.array(r.histogram) / sum(r.histogram), width=0.27, label=label)
ax.axhline(0.1, color="grey", ls=":", lw=1)
ax.set_xticks(digits); ax.set_xlabel("digit predicted by the classifier"); ax.set_ylabel("fraction"); ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 真实测试图的一列给出了“好”的样子：10 类全覆盖、直方图接近均匀、置信度分数高、Fréchet 距离很小\
（分类器本身的准确率见第一行输出，它不是完美的，所以置信度分数到不了 10）。对照两列生成样本（完整运行的输出）：

- **文章的配方**：样本只落在 8 类里，直方图很偏（KL 约 0.48，最多的一类占三成），置信度分数低，\
  Fréchet 距离比默认配方高近一个数量级。斑点图本来就不是数字，分类器把它们归到哪一类意义不大；\
  这几个数字说的是“样本彼此相似、且都不像数字”，即判别器获胜后的模式崩溃。
- **默认配方**：10 类都有，直方图接近均匀（最多的类别占 16%），置信度分数和 Fréchet 距离都接近真实测试图，\
  但仍差一截——与肉眼看到的少数变形样本一致。

这些现象正是文章第 5.2 节所说的模式崩溃（Mode Collapse）和“噪声”问题在小规模上的样子。

这些分数只在 minigan 内部可比（分类器是我们自己训练的小 MLP，不是 Inception 网络），\
适合比较同一数据上不同配方的好坏，不适合和论文里的数字对比。两个配方的步数也不同\
（文章的配方只跑到看得见判别器获胜为止），而且只有一个种子；配方之间公平的比较（同样步数、多个种子）见第 6 章。

## 小结

- 文章 4.1、4.2 的网络结构是合理的，minigan 原样照搬：每个 `tf.layers.dense` = `Dense` + `LeakyReLU(0.2)`，\
  Glorot 均匀初始化、零偏置，G 以 `tanh` 结尾、输出 784 维；G 147,088 个参数，D 133,633 个，合计约 28 万。
- 判别器应当只把 logit 交给损失；文章返回 `(output, logits)` 而训练函数把整个二元组当 logit，这是一个不报错的错。
- 文章 4.3 的训练函数：`real_image`、`noise` 未定义，作用域嵌套和 `reuse` 标志让图要么建不起来、要么建出四套网络，\
  优化器没有和损失连上、也没有 `var_list`。改正后的一步与 `GAN.train_step` 逐位一致（真实标签和学习率取同样的值时）。
- minigan 的默认配方保留文章的网络，只改训练：单边标签平滑（真实标签 0.9）、G 的学习率是 D 的两倍、\
  两者都是常见值的两倍（D $4\times10^{-4}$、G $8\times10^{-4}$）、D 中的随机失活、对 D 的输入做随机平移、\
  用 G 的权重的滑动平均采样。原因是在 4,000 张训练图上判别器容易背下训练集并获胜：文章的配方下样本变成斑点\
  （上面的对照运行），默认配方下判别器只在开头占过上风，之后训练回到平衡点附近，样本是干净的数字。\
  每一项的作用和多个种子上的比较见第 6 章。
- 即使是默认配方，样本离真实数字也还有差距（少数变形、混合的样本）。这些现象是什么、怎样度量，见第 5 章；\
  文章第 6 节建议的办法为什么不对症、文献中真正有效的办法，见第 6 章。
"""),
]
