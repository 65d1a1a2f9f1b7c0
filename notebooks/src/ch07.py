"""Chapter 7 notebook: from minigan to PyTorch (section 3.3's step side by side, autograd, parity, speed)."""

# ruff: noqa: E501

from __future__ import annotations

import _cells
from _cells import code, md

TITLE = "07_pytorch"

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
# 7 从 minigan 到 PyTorch

前六章里，每一个反向传播都是亲手写、亲手用数值梯度检查过的。想换更大的网络、用完整的 MNIST、上 GPU 时，\
就该换成 PyTorch 了。这个 notebook 把两边放在一起对照：

- **一步训练，逐行对照**：文章 §3.3 的九个步骤，在 minigan 的 `GAN.train_step` 里是哪几行，在 PyTorch 里又是哪几行；
- **自动求导替掉了什么**：Dense、leaky ReLU、tanh、sigmoid、从 logit 算的交叉熵，每一个手写的 `backward`，\
在 PyTorch 里都由 `loss.backward()` 代劳；`.detach()`、`requires_grad_(False)`、`zero_grad()` 分别对应 minigan 的什么；
- **逐位核对**：同一组权重、同一批噪声，在 float64 下两边的前向输出和梯度相差约 $10^{-15}$，\
连续训练若干步后参数仍然一致；
- **速度**与**在 GPU 上用完整 MNIST 训练**的命令。

**PyTorch 是可选的。** minigan 本身只依赖 NumPy；要运行这个 notebook，先在仓库根目录安装带 torch 的附加依赖：

```bash
pip install -e '.[torch]'      # 或者直接 pip install torch（CI 用的是 torch==2.13.0）
```

没有装 torch 时，下面第一个代码单元会停下来并给出这条命令。对应的书中章节是第 7 章。
"""),
    _cells.setup(r'''
import logging
import time
from pathlib import Path

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    raise ImportError("这个 notebook 需要 PyTorch：在仓库根目录运行 pip install -e '.[torch]'") from None

import minigan
from minigan import GAN, build_discriminator, build_generator
from minigan.data import load
from minigan.gan import make_noise
from minigan.losses import bce_with_logits, discriminator_loss, generator_loss
from minigan.nn import Dense, LeakyReLU, Sequential, Sigmoid, Tanh, sigmoid
from minigan.nn.module import backward

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

Z_DIM, N = 100, 64
real_all = load("mnist5k", "train").x           # (4000, 784)，取值 [-1, 1]
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
# notebooks/build.py 和测试让 NumPy 的 BLAS 只用 1 个线程（OPENBLAS_NUM_THREADS=1）；
# PyTorch 也用 1 个线程，7.4 节的计时才公平，在繁忙的机器上也不会因线程争抢而变慢。
torch.set_num_threads(1)
print(f"minigan {minigan.__version__}, torch {torch.__version__}, device = {DEVICE}, FAST = {FAST}")
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 7.1 一步训练：§3.3 的九个步骤，两种写法

文章 §3.3 把训练写成九步：1 生成随机噪声；2 噪声进生成器得到图像；3 生成的图像进判别器；4 算生成器的损失；\
5 优化生成器；6 生成图像与真实数据混合、得到新的判断结果；7 算判别器的损失；8 优化判别器；\
9 “重复步骤1-8，直到生成器和判别器的参数收敛”。和文章 §4.3 的代码一样，minigan 默认**先**做判别器那一半\
（第 1、2、6、7、8 步），**再**做生成器那一半（第 1–5 步）——顺序的讨论见第 4 章。

| §3.3 | minigan（`GAN.d_step` / `GAN.g_step` 内部） | PyTorch |
|---|---|---|
| 1 | `z = self.sample_noise(n)` | `z = torch.randn(n, z_dim)` |
| 2 | `fake = self.G.forward(z)[0]`（G 的训练前向，缓存不用） | `fake = G(z).detach()` |
| 6 | `real_logits, real_cache = self.D.forward(real)`；`fake_logits, fake_cache = self.D.forward(fake)` | `logits = D(torch.cat([real, fake]))` |
| 7 | `loss, d_real, d_fake = discriminator_loss(real_logits, fake_logits)` | `d_loss = bce(logits[:n], ones) + bce(logits[n:], zeros)` |
| 7→8 反向 | `_, grads = backward(self.D, d_real, real_cache, need_dx=False)`，生成批同样反向一次，两份梯度相加 | `d_opt.zero_grad()`；`d_loss.backward()` |
| 8 | `self.d_opt.step(grads)` | `d_opt.step()` |
| 1–2 | `z = self.sample_noise(n)`；`fake, g_cache = self.G.forward(z)` | `fake = G(torch.randn(n, z_dim))` |
| 3 | `logits, d_cache = self.D.forward(fake)` | `logits = D(fake)` |
| 4 | `loss, d_logits = generator_loss(logits)` | `g_loss = bce(logits, ones)` |
| 4→5 反向 | `d_fake, _ = backward(self.D, d_logits, d_cache, need_grads=False)`；`_, grads = backward(self.G, d_fake, g_cache, need_dx=False)` | `g_opt.zero_grad()`；`g_loss.backward()` |
| 5 | `self.g_opt.step(grads)` | `g_opt.step()` |
| 9 | `for real in batches: gan.train_step(real)` | `for real in batches: train_step(real)` |

表中 `bce` 是 `torch.nn.functional.binary_cross_entropy_with_logits`，`ones`、`zeros` 是形状 $(n, 1)$ 的标签。\
第 6 步 minigan 让 D 分两次看真实批和生成批（D 里有批归一化时必须如此，见第 8 章），\
PyTorch 这边把两批拼起来一次算完——文章的 D 没有批归一化，两种写法数学上相同。\
两边逐行对得上，只有“反向”那两行不一样：minigan 要把上游梯度一层层手动传回去，\
PyTorch 的前向计算会顺手记下计算图，`backward()` 沿着图自动往回走。

下面是 PyTorch 一侧的完整写法。噪声由参数 `noise(n)` 提供：平时就是 `torch.randn`，\
7.3 节核对时换成和 minigan 同一串随机数。
"""),
    code(r'''
bce = F.binary_cross_entropy_with_logits


def torch_train_step(G, D, g_opt, d_opt, real, noise):
    """§3.3 的一步（先 D 后 G），与 minigan 的 GAN.train_step 同样的数学。返回与 StepStats 相同的四个数。"""
    n = real.shape[0]
    ones = torch.ones(n, 1, dtype=real.dtype, device=real.device)
    zeros = torch.zeros_like(ones)
    # ---- 判别器：步骤 1、2、6、7、8 ----
    fake = G(noise(n)).detach()                      # 1-2：detach，梯度不回到 G
    logits = D(torch.cat([real, fake]))              # 6：真实与生成的拼在一起过 D
    d_loss = bce(logits[:n], ones) + bce(logits[n:], zeros)   # 7
    d_opt.zero_grad()                                # 清掉上一次留在 .grad 里的梯度
    d_loss.backward()                                # 自动求导：D 的每个参数的梯度
    d_opt.step()                                     # 8
    probs = torch.sigmoid(logits.detach())
    # ---- 生成器：步骤 1-5 ----
    logits = D(G(noise(n)))                          # 1-3
    g_loss = bce(logits, ones)                       # 4：非饱和损失 -log D(G(z))
    g_opt.zero_grad()
    g_loss.backward()                                # 梯度穿过 D 流到 G（D 的 .grad 也被填上，见 7.2）
    g_opt.step()                                     # 5：只更新 G 的参数
    return d_loss.item(), g_loss.item(), probs[:n].mean().item(), probs[n:].mean().item()


def torch_mlp(sizes, last=None, dtype=torch.float32):
    """文章 §4 的网络：Linear + LeakyReLU(0.2)，最后一层后面可接 Tanh。"""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(torch.nn.LeakyReLU(0.2))
    if last is not None:
        layers.append(last)
    return torch.nn.Sequential(*layers)


torch.manual_seed(0)
tG = torch_mlp((Z_DIM, 128, 128, 128, 784), torch.nn.Tanh()).to(DEVICE)
tD = torch_mlp((784, 128, 128, 128, 1)).to(DEVICE)
adam = dict(lr=2e-4, betas=(0.5, 0.999))
tg_opt, td_opt = torch.optim.Adam(tG.parameters(), **adam), torch.optim.Adam(tD.parameters(), **adam)
real = torch.from_numpy(real_all[:N]).to(DEVICE)
randn = lambda n: torch.randn(n, Z_DIM, device=DEVICE)
for step in range(3):
    print(f"step {step}: d_loss, g_loss, D(x), D(G(z)) =",
          " ".join(f"{v:.4f}" for v in torch_train_step(tG, tD, tg_opt, td_opt, real, randn)))
'''),
    md(r"""
**注意：** 未训练时 $D(x) \approx D(G(z)) \approx 0.5$，判别器损失约 $2\log 2 \approx 1.386$，生成器损失约 $\log 2 \approx 0.693$，\
和第 3、4 章里 minigan 的第一步一样。`nn.Linear` 的默认初始化不是 TF1 的 Glorot 均匀分布，\
所以具体数值和 minigan 不同；7.3 节会把 minigan 的权重原样搬过来，那时两边就逐位可比了。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 7.2 自动求导替掉了哪些手写的反向传播

minigan 里每一层的 `backward(dy, cache)` 做的是同一件事：已知损失对输出的梯度 `dy`，\
求损失对输入的梯度 `dx` 和对本层参数的梯度（“向量–雅可比积”）。PyTorch 里对应的是 `y.backward(dy)`；\
`loss.backward()` 就是 `dy = 1` 的特例。

| 部件 | minigan 手写的反向 | PyTorch |
|---|---|---|
| `Dense`：$y = xW + b$ | `dx = dy @ W.T`，`dW = x.T @ dy`，`db = dy.sum(0)` | `nn.Linear`（权重存成 $W^\top$，形状 (out, in)） |
| `LeakyReLU(0.2)` | `dx = dy * max([x > 0], 0.2)` | `nn.LeakyReLU(0.2)` |
| `Tanh` | `dx = dy * (1 - y**2)` | `nn.Tanh()` |
| `sigmoid` | `dx = dy * y * (1 - y)` | `torch.sigmoid` |
| `bce_with_logits` | `dz = (sigmoid(z) - y) / N` | `F.binary_cross_entropy_with_logits` |

下面对每一行在 float64 下各算一遍，比较 minigan 的手写结果和 autograd 的结果。
"""),
    code(r'''
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 5))              # float64
dy = rng.standard_normal((8, 3))
t = lambda a: torch.tensor(a, requires_grad=True)   # 把 NumPy 数组变成需要梯度的张量（同为 float64）


def worst(pairs):
    return max(float(np.abs(a - b.detach().numpy()).max()) for a, b in pairs)


rows = []
# Dense：nn.Linear 用 weight = W.T（形状 out x in）
dense = Dense(5, 3, dtype=np.float64, rng=1)
dense.b[:] = rng.standard_normal(3)
y, cache = dense.forward(x)
dx, grads = dense.backward(dy, cache)
xt, Wt, bt = t(x), t(dense.W.T.copy()), t(dense.b.copy())
yt = F.linear(xt, Wt, bt)
yt.backward(dy_t := torch.tensor(dy))
rows.append(("Dense", worst([(y, yt), (dx, xt.grad), (grads["W"], Wt.grad.T), (grads["b"], bt.grad)])))

# 逐元素的激活：LeakyReLU、Tanh、Sigmoid
x3 = rng.standard_normal((8, 3))
for layer, fn in [(LeakyReLU(0.2), lambda a: F.leaky_relu(a, 0.2)), (Tanh(), torch.tanh), (Sigmoid(), torch.sigmoid)]:
    y, cache = layer.forward(x3)
    dx, _ = layer.backward(dy, cache)
    xt = t(x3)
    yt = fn(xt)
    yt.backward(dy_t)
    rows.append((type(layer).__name__, worst([(y, yt), (dx, xt.grad)])))

# 从 logit 算的交叉熵（均值）：连极端的 logit 一起
z = np.concatenate([rng.standard_normal((6, 1)) * 3, [[40.0], [-40.0]]])
target = (rng.random((8, 1)) < 0.5).astype(np.float64)
loss, dz = bce_with_logits(z, target)
zt = t(z)
loss_t = F.binary_cross_entropy_with_logits(zt, torch.tensor(target))
loss_t.backward()                             # 标量的 backward：dy = 1
rows.append(("bce_with_logits", max(abs(loss - loss_t.item()), float(np.abs(dz - zt.grad.numpy()).max()))))

for name, err in rows:
    print(f"{name:<16} 前向与梯度的最大绝对差 {err:.1e}")
'''),
    md(r"""
**注意：** 差别都在 $10^{-16}$ 左右（float64 的舍入），或者干脆是 0。手写的公式和 autograd 算的是同一个东西；\
PyTorch 只是把“每层记下缓存、反向时按相反顺序调用 `backward`”这件事自动化了。

### `.detach()`、`requires_grad_(False)` 与 minigan 的 `need_dx`、`need_grads`

minigan 在 `GAN` 里省掉了两类用不上的梯度（见 `minigan/nn/module.py`）：

- **判别器那一步**：生成的图像只是 D 的“数据”，G 不在这一步更新。minigan 用 `self.G(z)`（不保留缓存，\
根本无法反向）生成假图，并对 D 调 `backward(..., need_dx=False)`，连 D 对输入的梯度都不算。\
PyTorch 里对应的是 `G(z).detach()`（或 `with torch.no_grad():`）：把假图从计算图上摘下来，`backward()` 走到这里就停；\
输入既然不需要梯度，autograd 也就不算 D 第一层的 `dx`。
- **生成器那一步**：梯度要穿过 D 传到 G，但 D 的参数不更新。minigan 对 D 调 `backward(..., need_grads=False)`，\
只算 `dx`、不算 `dW`、`db`。PyTorch 的 `g_loss.backward()` 默认**会**把 D 的参数梯度也算出来、放进 `D` 的 `.grad`；\
不出错（`g_opt.step()` 只动 G，D 下一步开头的 `zero_grad()` 会清掉它们），只是白算。\
要像 minigan 一样省掉，就在这一步前后写 `D.requires_grad_(False)` / `D.requires_grad_(True)`（`minigan bench` 的 PyTorch 对照就是这么写的）。

还有一件 minigan 里没有的事：**`.grad` 会累加**。minigan 的 `backward` 每次返回一个新的梯度字典；\
PyTorch 把梯度*加*到参数的 `.grad` 上，所以每次 `backward()` 之前要 `zero_grad()`。下面逐一验证。
"""),
    code(r'''
def grads_of(net):
    """每个参数的 .grad（None 表示没有算）。"""
    return [None if p.grad is None else p.grad.clone() for p in net.parameters()]


G2 = torch_mlp((Z_DIM, 16, 784), torch.nn.Tanh(), dtype=torch.float64)
D2 = torch_mlp((784, 16, 1), dtype=torch.float64)
zb = torch.randn(4, Z_DIM, dtype=torch.float64)
ones4 = torch.ones(4, 1, dtype=torch.float64)

# 1. detach：判别器的损失不会给 G 留下梯度
bce(D2(G2(zb).detach()), ones4).backward()
print("D 步用了 detach，G 的 .grad:", grads_of(G2)[0])
D2.zero_grad(set_to_none=True)

# 2. 生成器的损失：不冻结时 D 的 .grad 也被算出来；requires_grad_(False) 之后就没有了
bce(D2(G2(zb)), ones4).backward()
print("G 步、D 没冻结，D 的 .grad 已被填上:", grads_of(D2)[0] is not None)
G2.zero_grad(set_to_none=True)
D2.zero_grad(set_to_none=True)
D2.requires_grad_(False)
bce(D2(G2(zb)), ones4).backward()
D2.requires_grad_(True)
print("G 步、D 冻结（相当于 need_grads=False），D 的 .grad:", grads_of(D2)[0],
      "| G 的 .grad 照样有:", grads_of(G2)[0] is not None)

# 3. 不 zero_grad，梯度累加
first = grads_of(G2)[0]
bce(D2(G2(zb)), ones4).backward()
print("不清零再 backward 一次，G 的梯度变成原来的", float((grads_of(G2)[0] / first).mean()), "倍")
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 7.3 逐位核对：minigan 与 PyTorch 的同一个 GAN

下面在 float64 下用 minigan 搭出文章 §4 的 G 和 D，用 `to_torch` 转成 PyTorch 模块\
（`nn.Linear` 的权重是 minigan 的 $W^\top$，激活层一一对应），然后核对三件事：

1. 同一个 $z$，两边 G 和 D 的前向输出；
2. §3.3 第 4 步的生成器损失 $-\frac{1}{n}\sum_i \log D(G(z_i))$ 和第 7 步的判别器损失对每个参数的梯度；
3. 用同一串噪声、同一批真实图像，各自训练若干步之后的损失和参数。
"""),
    code(r'''
from minigan.interop.torch import from_torch, to_torch   # 需要 PyTorch；import minigan 本身不会导入 torch

# 转换规则（见 minigan/interop/torch.py 的文档字符串）：
#   Dense(in, out)  <-> nn.Linear(in, out)，weight = W.T（形状 out x in），bias = b
#   LeakyReLU(a)    <-> nn.LeakyReLU(a)；Tanh <-> nn.Tanh；Sequential <-> nn.Sequential（下标相同："0.W" <-> "0.weight"）
# 权重是复制的（不共享内存），dtype 保持不变：float64 的 minigan 网络变成 float64 的 PyTorch 模块。
print("to_torch:", to_torch.__doc__.splitlines()[0])
print("from_torch:", from_torch.__doc__.splitlines()[0])
'''),
    code(r'''
def pairs(mg_module, torch_module):
    """minigan 的参数与 PyTorch 的参数按顺序配对：0.W <-> 0.weight（转置）、0.b <-> 0.bias ..."""
    out = []
    for (name, p), q in zip(mg_module.params().items(), torch_module.parameters()):
        q = q.detach().cpu().numpy()
        out.append((name, p, q.T if q.ndim == 2 else q))   # nn.Linear.weight 的形状是 (out, in)
    return out


G = build_generator(Z_DIM, dtype=np.float64, rng=0)
D = build_discriminator(dtype=np.float64, rng=1)
tG, tD = to_torch(G), to_torch(D)
print(tG)
print("参数个数 minigan / torch:", G.num_params() + D.num_params(),
      sum(p.numel() for p in [*tG.parameters(), *tD.parameters()]))
print("转换后权重完全相同:", all(np.array_equal(p, q) for _, p, q in pairs(G, tG) + pairs(D, tD)))

z = np.random.default_rng(5).standard_normal((N, Z_DIM))
x_real = real_all[:N].astype(np.float64)
with torch.no_grad():
    fake_t = tG(torch.from_numpy(z))
    logit_t = tD(fake_t)
print(f"前向 G(z) 最大差 {np.abs(G(z) - fake_t.numpy()).max():.1e}，"
      f"D(G(z)) 的 logit 最大差 {np.abs(D(G(z)) - logit_t.numpy()).max():.1e}")
'''),
    code(r'''
# 生成器那一步（§3.3 第 1-4 步）的梯度：minigan 手写反向 vs autograd
fake, g_cache = G.forward(z)
logits, d_cache = D.forward(fake)
g_loss, d_logits = generator_loss(logits)
d_fake, _ = backward(D, d_logits, d_cache, need_grads=False)
_, g_grads = backward(G, d_fake, g_cache, need_dx=False)

tG.zero_grad()
g_loss_t = bce(tD(tG(torch.from_numpy(z))), torch.ones(N, 1, dtype=torch.float64))
g_loss_t.backward()

# 判别器那一步（第 6-7 步）的梯度
logits, cache = D.forward(np.concatenate([x_real, fake]))
d_loss, d_real, d_fake = discriminator_loss(logits[:N], logits[N:])
_, d_grads = backward(D, np.concatenate([d_real, d_fake]), cache, need_dx=False)

tD.zero_grad()
lt = tD(torch.cat([torch.from_numpy(x_real), torch.from_numpy(fake)]))
d_loss_t = bce(lt[:N], torch.ones(N, 1, dtype=torch.float64)) + bce(lt[N:], torch.zeros(N, 1, dtype=torch.float64))
d_loss_t.backward()

print(f"损失之差: G {abs(g_loss - g_loss_t.item()):.1e}, D {abs(d_loss - d_loss_t.item()):.1e}")
print(f"{'参数':<8}{'形状':>12}{'最大|梯度|':>14}{'最大相对差':>12}")
for net, mg, grads, tnet in [("G", G, g_grads, tG), ("D", D, d_grads, tD)]:
    for (name, _, _), q in zip(pairs(mg, tnet), tnet.parameters()):
        g_mg, g_t = grads[name], q.grad.numpy()
        g_t = g_t.T if g_t.ndim == 2 else g_t
        scale = np.abs(g_mg).max()
        print(f"{net}.{name:<6}{str(g_mg.shape):>12}{scale:>14.3e}{np.abs(g_mg - g_t).max() / scale:>12.1e}")
'''),
    md(r"""
**注意：** 每个参数的梯度都对到约 $10^{-15}$，即 float64 的舍入误差：两边是同一个函数、同一个导数，\
差别只在浮点加法的顺序（矩阵乘法按不同的分块求和）。在 float32 下同样的比较只能对到 $10^{-6}$ 左右，\
所以核对实现时用 float64。

### 连续训练几步

接下来让两个引擎各自训练。minigan 一侧就是 `GAN.train_step`；PyTorch 一侧是 7.1 节的 `torch_train_step`，\
Adam 的超参数相同（学习率 $2\times10^{-4}$、$\beta = (0.5, 0.999)$、$\epsilon = 10^{-8}$）。\
为了让两边看到**同一串噪声**，PyTorch 一侧的 `noise(n)` 用和 `GAN` 内部同样种子的 NumPy 生成器、\
按同样的顺序（先 D 步、再 G 步）抽取，再转成张量。
"""),
    code(r'''
STEPS = 10 if FAST else 200
SEED = 2

G = build_generator(Z_DIM, dtype=np.float64, rng=0)
D = build_discriminator(dtype=np.float64, rng=1)
tG, tD = to_torch(G), to_torch(D)                     # 训练前复制：两边从同一组权重出发
gan = GAN(G, D, z_dim=Z_DIM, rng=SEED)                # minigan：默认 Adam(2e-4, (0.5, 0.999))、非饱和损失、先 D 后 G
tg_opt = torch.optim.Adam(tG.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
td_opt = torch.optim.Adam(tD.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
noise_rng = np.random.default_rng(SEED)               # 与 gan.rng 同种子、同顺序
same_noise = lambda n: torch.from_numpy(make_noise(noise_rng, n, Z_DIM, "gaussian", np.float64))

batches = np.random.default_rng(0).integers(0, len(real_all) - N, STEPS)
hist_mg, hist_t = [], []
for start in batches:
    x = real_all[start:start + N].astype(np.float64)
    s = gan.train_step(x)                                                      # minigan 一步
    hist_mg.append((s.d_loss, s.g_loss, s.d_real, s.d_fake))
    hist_t.append(torch_train_step(tG, tD, tg_opt, td_opt, torch.from_numpy(x), same_noise))  # PyTorch 一步
hist_mg, hist_t = np.array(hist_mg), np.array(hist_t)

param_diff = max(float(np.abs(p - q).max()) for _, p, q in pairs(G, tG) + pairs(D, tD))
print(f"{STEPS} 步之后：四个统计量的最大差 {np.abs(hist_mg - hist_t).max():.1e}，参数的最大差 {param_diff:.1e}")
print(f"最后一步 minigan: d_loss {hist_mg[-1, 0]:.6f}, g_loss {hist_mg[-1, 1]:.6f}; "
      f"torch: d_loss {hist_t[-1, 0]:.6f}, g_loss {hist_t[-1, 1]:.6f}")
'''),
    code(r'''
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
steps = np.arange(1, STEPS + 1)
ax1.plot(steps, hist_mg[:, 0], color="C0", lw=4, alpha=0.35, label="D loss, minigan")
ax1.plot(steps, hist_t[:, 0], "--", color="C0", lw=1, label="D loss, PyTorch")
ax1.plot(steps, hist_mg[:, 1], color="C1", lw=4, alpha=0.35, label="G loss, minigan")
ax1.plot(steps, hist_t[:, 1], "--", color="C1", lw=1, label="G loss, PyTorch")
ax1.set_xlabel("step")
ax1.set_title("the same GAN trained by both engines (float64)")
ax1.legend(fontsize=8)
diff = np.abs(hist_mg - hist_t).max(axis=1)          # 每一步四个统计量中的最大差
ax2.semilogy(steps, np.maximum(diff, 1e-18), lw=0.8, alpha=0.6, label="this step")
ax2.semilogy(steps, np.maximum(np.maximum.accumulate(diff), 1e-18), lw=2, label="largest so far")
ax2.set_ylabel("|minigan - PyTorch| (max of the 4 statistics)")
ax2.set_ylim(1e-18, 1e-6)
ax2.set_xlabel("step")
ax2.set_title("difference between the engines")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
'''),
    md(r"""
**注意：** 左图每条粗线和它的虚线完全重合；右图是两边的差：开头几十步多数为 0 或 $10^{-16}$，\
200 步后也只在 $10^{-15}$ 的量级。两个引擎跑的是同一个算法。差别随步数缓慢变大，\
因为 GAN 的训练会放大微小的扰动，舍入误差也不例外；步数足够多时两边终会分开，这不是错误\
（在 float32 或 GPU 上，加法顺序不固定，分开得更早）。

训练后的 PyTorch 模块也可以用 `from_torch` 转回 minigan，继续用 minigan 的工具（采样、评估、查看器）：
"""),
    code(r'''
G_back = from_torch(tG)
z = np.random.default_rng(9).standard_normal((16, Z_DIM))
print("from_torch(tG) 与 minigan 训练出的 G，输出最大差:", f"{np.abs(G_back(z) - G(z)).max():.1e}")
'''),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 7.4 速度

`minigan bench` 在同一个进程里交替计时 `GAN.train_step` 和 PyTorch 写的同一步（float32、批量 64 与 256；\
PyTorch 一侧见 `minigan/bench/reference.py`：和 7.1 节的写法基本一样，只是假图在 `torch.no_grad()` 下生成、\
G 步前后冻结 D（`requires_grad_(False)`），Adam 用融合（`fused=True`）的实现）。\
完整运行要几分钟，这里读出仓库里保存的一次结果（`results/bench.txt`），只看文章那组网络的两行：
"""),
    code(r'''
saved = Path("../results/bench.txt").read_text(encoding="utf-8").splitlines()
for line in saved:
    if line.startswith(("machine", "threads", "the article's")) or line.lstrip().startswith(("batch", "64 ", "256 ")):
        print(line)
    if line.startswith("scaling"):
        break
'''),
    md(r"""
**注意：** 在这台 2 核 CPU 机器上，文章这种小网络每步只要几毫秒，minigan 比 PyTorch 慢约 15–30%；\
`floor ms` 一列是同样的矩阵乘法单独在 NumPy 里的用时，说明差距主要在矩阵乘法以外的逐元素运算和 Python 开销。\
网络越宽、批量越大，PyTorch 的优势越明显。下面在当前机器上快速量一下 float32、批量 64 的一步（只是粗测，\
比 `minigan bench` 少得多的步数，机器忙时会有偏差）：
"""),
    code(r'''
def median_ms(step, n_steps):
    for _ in range(3):
        step()                                        # 预热
    times = []
    for _ in range(n_steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


x32 = real_all[:N]
gan32 = GAN(build_generator(Z_DIM, rng=0), build_discriminator(rng=1), z_dim=Z_DIM, rng=2)
torch.manual_seed(0)
G32 = torch_mlp((Z_DIM, 128, 128, 128, 784), torch.nn.Tanh())
D32 = torch_mlp((784, 128, 128, 128, 1))
o_g, o_d = torch.optim.Adam(G32.parameters(), **adam), torch.optim.Adam(D32.parameters(), **adam)
x32_t = torch.from_numpy(x32)
randn_cpu = lambda n: torch.randn(n, Z_DIM)

n_steps = 10 if FAST else 100
ms_mg = median_ms(lambda: gan32.train_step(x32), n_steps)
ms_t = median_ms(lambda: torch_train_step(G32, D32, o_g, o_d, x32_t, randn_cpu), n_steps)
print(f"float32，批量 {N}，{n_steps} 步的中位数：minigan {ms_mg:.2f} ms/步，PyTorch {ms_t:.2f} ms/步（CPU，{torch.get_num_threads()} 线程）")
print("当前机器的 1 分钟平均负载:", os.getloadavg()[0], f"（{os.cpu_count()} 个 CPU）")
'''),
    md(r"""
**注意：** 这一格只计时几十步，数字随机器负载变化很大。上面打印的平均负载如果接近或超过 CPU 个数\
（本书构建 notebook 的机器上常有其他任务同时运行），两边都会慢好几倍，谁快谁慢也可能颠倒。\
可信的比较要在空闲的机器上运行 `minigan bench`：它报告测量期间其他进程占用了多少 CPU，占用过多时打印警告。
"""),
    # ------------------------------------------------------------------------------------------
    md(r"""
## 7.5 在 GPU 上用完整的 MNIST 训练

完整的 MNIST（训练集 60,000 张）要先下载到本地缓存（默认 `~/.cache/minigan`，可用 `$MINIGAN_DATA` 或 `--dir` 改），\
下载后会核对 SHA-256：

```bash
minigan data list                 # 所有数据集，以及哪些已经可以离线使用
minigan data download mnist       # 或 fashion-mnist
```

然后让训练用 PyTorch 引擎、放到 GPU 上：

```bash
minigan train --dataset mnist --engine torch --device cuda
minigan train --dataset mnist --engine torch --device cpu --dtype float64   # 在 CPU 上、与 minigan 逐位可比
minigan export --checkpoint RUN -o model.pt                                 # 把一次运行的权重导出成 PyTorch 文件
```

（`RUN` 是 `minigan train` 写出的运行目录；`model.pt` 用 `torch.load(path, weights_only=True)` 读，\
其中 `"G"`、`"D"` 是两个 state dict，参数名与 `to_torch` 得到的 `nn.Sequential` 相同，`minigan import-torch` 可把它变回运行目录。）自己写 PyTorch 代码时，搬到 GPU 只需要三处改动，\
7.1 节的 `torch_train_step` 一行都不用改：模型 `.to("cuda")`，真实数据 `.to("cuda")`，\
噪声在 GPU 上生成（`torch.randn(n, z_dim, device="cuda")`）。7.1 节的单元就是这样写的，\
在有 GPU 的机器上 `DEVICE` 会自动变成 `"cuda"`。

文章这组网络很小（两个网络合计约 28 万个参数），批量 64 时一步里的每个矩阵乘法都只是很小的运算，\
GPU 的时间主要花在启动一个个小内核上，未必比 CPU 快多少；加宽网络（`--hidden 1024,1024,1024`）、\
加大批量（`--batch-size 256`），GPU 的优势才显出来。
"""),
]
