"""Checkers for the layer exercises: ``dense``, ``leaky_relu``, ``tanh``, ``sigmoid``.

Each exercise is a :class:`ModuleExercise` (how to build the learner's layer, the
reference maths, and the specific wrong formulas worth recognising); :func:`run` grades
a learner's class against it, one :class:`~._kit.Row` per check.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..nn.activations import sigmoid as stable_sigmoid
from ._kit import (
    ExerciseResult,
    Failure,
    Probe,
    Session,
    call_learner,
    changed,
    close,
    diagnose_gradient,
    numeric_gradient,
    original,
    run_property,
    same,
    shape_str,
    snapshot,
    worst_error,
)

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)

UPCAST = ("dtype 被提升了：输入 float32，输出却是 float64。计算中混进了一个 float64 数组或 np.float64 标量，"
          "NumPy 就把整个结果提升为 float64。常见的原因：{culprits}。常数请用普通的 Python 浮点数，"
          "新建数组时沿用 x 的 dtype（np.ones_like(x)、.astype(x.dtype)）。")

DOWNCAST = ("dtype 被降低了：输入 float64，输出却是 float32。代码里把数组转成了 float32"
            "（例如 .astype(np.float32)、np.float32(...) 或 dtype=np.float32），float64 的精度就丢了，"
            "梯度检验也会因此不准。不要写死 dtype：输出沿用输入的 dtype（x.dtype、np.ones_like(x)）。")

SELF_STATE = ("不可重入：中间又运行了一次 forward 之后，backward(dy, cache) 的结果变了，说明 backward 读的是"
              "后来的 forward 覆盖掉的东西（存在 self 上的激活值，例如 self.x = x 或 self.y = y），而不是 cache。"
              "backward 需要的一切都要放进 cache 返回：判别器 D 会先对真实批和生成批各做一次前向，然后才反向。")

SELF_QUEUE = ("backward 没有使用传给它的 cache：{which} 的梯度用的是另一次 forward 的输入。你的层把输入存在 self 上"
              "（例如一个列表或队列，按顺序取出），只在「前向、前向、反向、反向」的固定顺序下碰巧对。"
              "GAN.train_step 在两次训练前向之间还会用 G 做一次只前向、不反向的推理，反向的顺序也不一定与前向相同。"
              "backward 只能从 cache 读取它需要的东西。")

CACHE_BUFFER = ("cache 被下一次 forward 覆盖了：forward 返回的 cache 是存在 self 上、每次复用的缓冲区"
                "（例如 self.buf[...] = x; return y, self.buf），下一次 forward 改写了它，之前那次的 backward "
                "就拿到了错误的数据。每次 forward 都返回新的数组作为 cache。")

PARAMS_IN_BACKWARD = ("backward 改动了参数（例如 self.W -= lr * dW）：backward 只计算梯度，"
                      "更新参数是优化器（optimiser）的事。")

MATMUL = ("矩阵形状对不上：x 是 (N, in)，W 是 (in, out)，dy 是 (N, out)。"
          "y = x @ W + b，dx = dy @ W.T，dW = x.T @ dy：W 转置了或者乘法顺序写反了，正好会报这个错。")


@dataclass
class Case:
    """One configuration of the layer: a label, the input shape and constructor settings."""

    label: str
    shape: tuple
    settings: dict = field(default_factory=dict)


def _accepts(cls, name: str) -> bool:
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


def _params(layer) -> dict:
    fn = getattr(layer, "params", None)
    if fn is None:
        return {}
    p = call_learner("params()", fn)
    if not isinstance(p, dict):
        raise Failure(f"params() 返回的是 {type(p).__name__}",
                      "params() 必须返回字典 {名字: 数组}（没有参数的层返回 {}）。")
    return p


def _forward(layer, x):
    out = call_learner("forward", layer.forward, x)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"forward 返回的是 {type(out).__name__}，不是一对 (y, cache)",
                      "forward 必须返回两样东西：输出 y 和留给 backward 的 cache（return y, cache）。")
    y, cache = out
    if not isinstance(y, np.ndarray):
        raise Failure(f"forward 返回的 y 是 {type(y).__name__}", "forward 必须把 y 作为 NumPy 数组返回。")
    return y, cache


def _backward(layer, dy, cache):
    out = call_learner("backward", layer.backward, dy, cache)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"backward 返回的是 {type(out).__name__}，不是一对 (dx, grads)",
                      "backward 必须返回两样东西：dx 和参数梯度的字典（return dx, grads；没有参数的层 grads 是 {}）。")
    return out


class ModuleExercise:
    """Base: subclasses fill in the reference maths and the probes for typical mistakes."""

    name = ""
    description = ""
    param_names: tuple = ()
    extremes = False
    upcast_culprits = "np.float64(0.2) * x；np.where(x > 0, 1.0, alpha)（用 Python 浮点数构造出的 float64 数组）"
    prop_scales = (0.01, 1.0, 10.0)

    # -- building --------------------------------------------------------------------
    def cases(self) -> list[Case]:
        raise NotImplementedError

    def build(self, answer, case: Case, dtype, rng):
        """The learner's layer; by default the constructor called with no arguments."""
        return call_learner(f"构造函数 {answer.__name__}()", answer)

    def constructor_detail(self, layer) -> str:
        return f"构造了 {type(layer).__name__}"

    def inputs(self, rng, shape, dtype, scale=1.0) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(dtype)

    # -- reference maths (float64) -----------------------------------------------------
    def ref_forward(self, layer, case, x):
        raise NotImplementedError

    def ref_backward(self, layer, case, x, dy):
        """(dx, {param: grad}) of the correct layer."""
        raise NotImplementedError

    # -- typical mistakes --------------------------------------------------------------
    def forward_probes(self, layer, case, x) -> list[Probe]:
        return []

    def dx_probes(self, layer, case, x, dy) -> list[Probe]:
        return []

    def param_probes(self, name, layer, case, x, dy) -> list[Probe]:
        return []

    def param_shape_hints(self, name, case, x) -> dict:
        return {}

    def forward_hint(self) -> str:
        return "forward 的数值与定义不符：重新读一遍前向公式。"

    def explain(self, exc: BaseException) -> str:
        exc = original(exc)
        text = str(exc)
        if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
            return "数组形状对不上：dx 的形状必须和 x 相同，由 dy 逐元素计算得到。"
        return ""

    def extreme_hint(self, where: str = "both") -> str:
        return ""

    def slopes_at_zero(self, case) -> tuple:
        """The derivatives accepted at x = 0: the derivative, or at a kink the two one-sided
        derivatives, every value between them being a subgradient."""
        raise NotImplementedError

    def zero_hint(self) -> str:
        return ("x = 0 处出现了 NaN/inf 或 RuntimeWarning：代码里有除以 x 或除以 y 的运算（例如导数写成 y / x），"
                "在 x = 0 处成了 0 / 0 = NaN。直接按导数公式计算，不要用除法反推。")

    def zero_slope_hint(self) -> str:
        return "x = 0 处的导数不对：" + self.forward_hint()


# --------------------------------------------------------------------------------------
# The four layers.

class DenseExercise(ModuleExercise):
    name = "dense"
    description = "全连接层 y = x @ W + b：前向与反向（dx、dW、db）"
    param_names = ("W", "b")
    upcast_culprits = ("np.float64 标量、.astype(float) 或求和时写了 dtype=float、用 np.zeros(shape)"
                       "（默认 float64）做累加器")
    prop_scales = (0.1, 1.0, 10.0)

    def cases(self):
        return [Case(f"x {shape_str((n, i))}, Dense({i} -> {o})", (n, i), {"n_in": i, "n_out": o})
                for n, i, o in ((4, 3, 2), (3, 3, 3), (1, 2, 3), (2, 4, 5))]

    def build(self, answer, case, dtype, rng):
        n_in, n_out = case.settings["n_in"], case.settings["n_out"]
        kwargs = {}
        if _accepts(answer, "rng"):
            kwargs["rng"] = np.random.default_rng(rng.integers(2**31))
        if _accepts(answer, "dtype"):
            kwargs["dtype"] = dtype
        layer = call_learner(f"构造函数 {answer.__name__}({n_in}, {n_out})", answer, n_in, n_out,
                             **kwargs)
        W, b = getattr(layer, "W", None), getattr(layer, "b", None)
        if not isinstance(W, np.ndarray) or not isinstance(b, np.ndarray):
            raise Failure("这个层没有数组属性 W 和 b",
                          "把权重存为 self.W，形状 (in_features, out_features)；偏置存为 self.b，形状 (out_features,)；"
                          "params() 返回 {'W': self.W, 'b': self.b}。")
        if W.shape != (n_in, n_out):
            hint = (f"权重转置了：W 的形状是 (out, in) = {shape_str(W.shape)}。这里（与 minigan 和 tf.layers.dense "
                    "一样）W 是 (in_features, out_features)，这样才有 y = x @ W + b。"
                    if W.shape == (n_out, n_in) else
                    "W 的形状必须是 (in_features, out_features)。")
            raise Failure(f"Dense({n_in}, {n_out}).W 的形状是 {shape_str(W.shape)}，应为 "
                          f"{shape_str((n_in, n_out))}", hint)
        if b.shape != (n_out,):
            raise Failure(f"Dense({n_in}, {n_out}).b 的形状是 {shape_str(b.shape)}，应为 ({n_out},)",
                          "每个输出单元一个偏置：形状 (out_features,)，加到 x @ W 的每一行上。")
        # Non-zero, known parameters in the requested dtype (a zero bias would hide bugs).
        layer.W = (rng.standard_normal((n_in, n_out)) * 0.7).astype(dtype)
        layer.b = rng.standard_normal(n_out).astype(dtype)
        params = _params(layer)
        if set(params) != {"W", "b"}:
            raise Failure(f"params() 的键是 {sorted(params)}", "params() 必须返回 {'W': self.W, 'b': self.b}。")
        if params["W"] is not layer.W or params["b"] is not layer.b:
            raise Failure("params() 返回的不是 self.W 和 self.b 这两个数组本身",
                          "params() 必须返回数组本身 {'W': self.W, 'b': self.b}（不是副本）："
                          "优化器和梯度检验会原地修改它们。")
        return layer

    def constructor_detail(self, layer):
        return f"W {shape_str(layer.W.shape)}，b {shape_str(layer.b.shape)}；params() 返回的就是 W 和 b 本身"

    def ref_forward(self, layer, case, x):
        return x.astype(np.float64) @ layer.W.astype(np.float64) + layer.b.astype(np.float64)

    def ref_backward(self, layer, case, x, dy):
        x, dy, W = (a.astype(np.float64) for a in (x, dy, layer.W))
        return dy @ W.T, {"W": x.T @ dy, "b": dy.sum(axis=0)}

    def forward_probes(self, layer, case, x):
        W, b = layer.W, layer.b
        probes = [Probe(x @ W, "漏了偏置：y = x @ W + b，偏置 b 没有加上。"),
                  Probe(x @ W - b, "偏置的符号：y = x @ W + b，你把偏置减掉了。")]
        if W.shape[0] == W.shape[1]:
            probes.append(Probe(x @ W.T + b, "权重转置了：forward 用了 x @ W.T；W 的形状是 (in, out)，"
                                             "应为 y = x @ W + b。"))
        return probes

    def forward_hint(self):
        return "forward 的数值与 y = x @ W + b 不符（x (N, in)，W (in, out)，b (out,)）。"

    def dx_probes(self, layer, case, x, dy):
        W = layer.W
        if W.shape[0] != W.shape[1]:
            return []
        return [Probe(dy @ W, "矩阵乘法写错了：dx = dy @ W；对 x 的梯度需要转置，"
                              "dx = dy @ W.T（(N, out) @ (out, in)）。")]

    def param_probes(self, name, layer, case, x, dy):
        if name == "W" and x.shape[1] == dy.shape[1]:
            return [Probe((x.T @ dy).T, "dW 转置了：dW = x.T @ dy 与 W 同形，是 (in, out)；"
                                         "dy.T @ x 是 (out, in)。")]
        if name == "b" and dy.shape[0] == dy.shape[1]:
            return [Probe(dy.sum(axis=1), "偏置梯度求和的轴错了：db = dy.sum(axis=0) 对批（行）求和；"
                                          "axis=1 是对输出单元求和。")]
        return []

    def param_shape_hints(self, name, case, x):
        n, n_in, n_out = x.shape[0], case.settings["n_in"], case.settings["n_out"]
        if name == "W":
            return {(n_out, n_in): "dW 转置了：dW = x.T @ dy，与 W 同形 (in, out)；dy.T @ x 是 (out, in)。"}
        not_summed = ("偏置梯度没有对批求和：b 加到了每一行上，所以 db = dy.sum(axis=0)，"
                      "与 b 同形 (out,)；dy 本身是 (N, out)。")
        hints = {(n, n_out): not_summed, (n,): "偏置梯度求和的轴错了：db = dy.sum(axis=0)（对批求和），"
                                               "不是 axis=1。"}
        if n == 1:
            hints[(1, n_out)] = not_summed + "（keepdims=True 也会得到 (1, out)：去掉它。）"
        else:
            hints[(1, n_out)] = "db 的形状是 (1, out)：去掉 keepdims=True，db = dy.sum(axis=0) 与 b 同形 (out,)。"
        return hints

    def explain(self, exc):
        exc = original(exc)
        text = str(exc)
        if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
            return MATMUL
        return ""


class LeakyReLUExercise(ModuleExercise):
    name = "leaky_relu"
    description = "LeakyReLU：x > 0 时 f(x) = x，否则 f(x) = alpha * x；前向与反向"
    upcast_culprits = ("np.where(x > 0, 1.0, alpha)（两个分支都是 Python 浮点数：得到 float64 数组）、"
                       "np.float64(alpha) * x、np.ones(x.shape)（默认 float64）")

    def cases(self):
        return [Case(f"x {shape_str(s)}, alpha={a}", s, {"alpha": a})
                for s, a in (((4, 3), 0.2), ((3, 5), 0.05), ((2, 4), 0.0), ((5, 2), 0.7))]

    def build(self, answer, case, dtype, rng):
        alpha = case.settings.get("alpha", 0.2)
        return call_learner(f"构造函数 {answer.__name__}({alpha})", answer, alpha)

    def constructor_detail(self, layer):
        return f"{type(layer).__name__}(alpha) 和 {type(layer).__name__}()（alpha = 0.2）都能构造"

    def inputs(self, rng, shape, dtype, scale=1.0):
        x = rng.standard_normal(shape) * 2.0
        x = np.where(np.abs(x) < 0.05, np.copysign(0.05, x), x) * scale  # away from the kink at 0
        # both signs in every case
        x.flat[0], x.flat[-1] = abs(x.flat[0]), -abs(x.flat[-1])
        return x.astype(dtype)

    def ref_forward(self, layer, case, x):
        a = case.settings.get("alpha", 0.2)
        x = x.astype(np.float64)
        return np.where(x > 0, x, a * x)

    def ref_backward(self, layer, case, x, dy):
        a = case.settings.get("alpha", 0.2)
        return dy.astype(np.float64) * np.where(x > 0, 1.0, a), {}

    def forward_probes(self, layer, case, x):
        a = case.settings.get("alpha", 0.2)
        probes = [Probe(np.maximum(x, 0), "负半轴输出了 0（那是 ReLU）：leaky ReLU 在 x < 0 时保留 alpha * x。"),
                  Probe(np.where(x > 0, a * x, x), "两边写反了：x > 0 时 f(x) = x，x <= 0 时 f(x) = alpha * x。"),
                  Probe(x, "alpha 根本没有用上：x <= 0 时 f(x) = alpha * x。")]
        if a != 0.2:
            probes.insert(0, Probe(np.where(x > 0, x, 0.2 * x),
                                   f"forward 里把 alpha 写死成了 0.2：要用构造函数传进来的 alpha"
                                   f"（self.alpha，这里是 {a}）。"))
        return probes

    def forward_hint(self):
        return "forward 的数值与 f(x) 不符：x > 0 时为 x，否则为 alpha * x。"

    def slopes_at_zero(self, case):
        return (1.0, case.settings.get("alpha", 0.2))

    def zero_hint(self):
        return ("x = 0 处出现了 NaN/inf 或 RuntimeWarning：导数写成了 y / x 这类除以 x 的形式，在 x = 0 处是 "
                "0 / 0 = NaN。恰好为 0 的输入很常见（书中的例子就有，ReLU 类网络里也常出现）。"
                "导数直接写成 np.where(x > 0, 1, alpha)。")

    def zero_slope_hint(self):
        return ("x = 0 处 leaky ReLU 不可导：导数（次梯度）可以取 alpha 与 1 之间的任何值，通常取其中一端，"
                "例如 dx = dy * np.where(x > 0, 1, alpha)。取 0（例如 (x > 0) + alpha * (x < 0)）不对。")

    def dx_probes(self, layer, case, x, dy):
        a = case.settings.get("alpha", 0.2)
        y = np.where(x > 0, x, a * x)
        one = ("只在 alpha = 0 时出错：这时每个负的 x 都给出 y = 0，所以对缓存的输出做的判断，"
               "例如 np.where(y >= 0, 1, alpha)，对它们全都走了正分支（负半轴斜率成了 1）。"
               "缓存 x，或者判断 y > 0。") if a == 0 else (
               "负半轴的斜率成了 1：那里的导数是 alpha，dx = dy * where(x > 0, 1, alpha)。")
        probes = [Probe(dy * (x > 0), "leaky ReLU 的导数在负半轴写成了 0（那是 ReLU 的）；那里是 alpha："
                                      "dx = dy * where(x > 0, 1, alpha)。"),
                  Probe(dy * np.where(x > 0, a, 1.0), "导数的两边写反了：x > 0 时为 1，x <= 0 时为 alpha。"),
                  Probe(dy.copy(), one),
                  Probe(dy * y, "dx = dy * y 乘的是输出，不是导数 f'(x)（1 或 alpha）。"),
                  Probe(dy * x, "dx = dy * x 乘的是输入，不是导数 f'(x)（1 或 alpha）。")]
        if a != 0.2:
            probes.insert(0, Probe(dy * np.where(x > 0, 1.0, 0.2),
                                   f"backward 里把 alpha 写死成了 0.2：要用 self.alpha（这里是 {a}）。"))
        return probes


class TanhExercise(ModuleExercise):
    name = "tanh"
    description = "Tanh：y = tanh(x)，前向与反向"
    extremes = True
    upcast_culprits = "np.float64(1) - y ** 2；np.ones(y.shape) - y ** 2（np.ones 默认是 float64）"

    def cases(self):
        return [Case(f"x {shape_str(s)}", s, {"scale": c}) for s, c in (((4, 3), 1.0), ((3, 5), 0.6), ((1, 4), 1.4))]

    def ref_forward(self, layer, case, x):
        return np.tanh(x.astype(np.float64))

    def ref_backward(self, layer, case, x, dy):
        y = np.tanh(x.astype(np.float64))
        return dy.astype(np.float64) * (1 - y * y), {}

    def forward_hint(self):
        return "forward 的数值与 np.tanh(x) 不符。"

    def slopes_at_zero(self, case):
        return (1.0,)

    def zero_slope_hint(self):
        return "x = 0 处 tanh 的导数是 1 - tanh(0)**2 = 1：dx = dy * (1 - y**2)。"

    def dx_probes(self, layer, case, x, dy):
        y = np.tanh(x)
        return [Probe(dy * (1 - x ** 2), "tanh 的导数用输入写成了 1 - x**2。应为 1 - y**2，其中 y = tanh(x) "
                                         "是输出（缓存 y，或者计算 1 - tanh(x)**2）。"),
                Probe(dy * (1 - np.tanh(y) ** 2), "tanh 用了两次：cache 里已经是 y = tanh(x)，所以导数是 "
                                                  "1 - y**2，不是 1 - tanh(y)**2。"),
                Probe(dy * (1 - y), "导数写成了 1 - y：应为 1 - y**2（y 的平方）。"),
                Probe(dy * y, "dx = dy * y 乘的是输出，不是导数 1 - y**2。")]

    def extreme_hint(self, where: str = "both"):
        return ("在 |x| = 1e4 处溢出：(exp(x) - exp(-x)) / (exp(x) + exp(-x)) 在那里是 inf / inf = NaN"
                f"（出问题的输入：{where}）。用 np.tanh(x)，它对任何 x 都精确（tanh 在 ±1 处饱和）。")


class SigmoidExercise(ModuleExercise):
    name = "sigmoid"
    description = "Sigmoid：y = 1 / (1 + exp(-x))，数值稳定的前向与反向"
    extremes = True
    upcast_culprits = ("np.float64(1.0) / (1 + np.exp(-x))；np.where(x >= 0, 1.0, 0.0)（用 Python 浮点数构造出的 "
                       "float64 数组）；np.ones(x.shape)")

    def cases(self):
        return [Case(f"x {shape_str(s)}", s, {"scale": c}) for s, c in (((4, 3), 2.0), ((3, 5), 1.0), ((1, 4), 3.0))]

    def ref_forward(self, layer, case, x):
        return stable_sigmoid(x.astype(np.float64))

    def ref_backward(self, layer, case, x, dy):
        s = stable_sigmoid(x.astype(np.float64))
        return dy.astype(np.float64) * s * (1 - s), {}

    def forward_probes(self, layer, case, x):
        return [Probe(stable_sigmoid(-x), "指数的符号反了：sigmoid(x) = 1 / (1 + exp(-x))，不是 exp(+x)。"),
                Probe(np.tanh(x), "这是 tanh(x)，不是 sigmoid 1 / (1 + exp(-x))。")]

    def forward_hint(self):
        return "forward 的数值与 1 / (1 + exp(-x)) 不符。"

    def slopes_at_zero(self, case):
        return (0.25,)

    def zero_slope_hint(self):
        return "x = 0 处 sigmoid 的导数是 s(1 - s) = 0.5 * 0.5 = 0.25：dx = dy * s * (1 - s)。"

    def dx_probes(self, layer, case, x, dy):
        s = stable_sigmoid(x)
        ss = stable_sigmoid(s)
        return [Probe(dy * s, "sigmoid 的导数写成了 s：应为 s(1 - s)，其中 s = sigmoid(x)，"
                              "dx = dy * s * (1 - s)。"),
                Probe(dy * (1 - s), "sigmoid 的导数写成了 1 - s：应为 s(1 - s)，dx = dy * s * (1 - s)。"),
                Probe(dy * x * (1 - x), "s(1 - s) 是在输入 x 上算的：要用输出 s = sigmoid(x)（缓存它），"
                                        "dx = dy * s * (1 - s)。"),
                Probe(dy * ss * (1 - ss), "sigmoid 用了两次：cache 里已经是 s = sigmoid(x)，所以导数是 "
                                          "s * (1 - s)，不是 sigmoid(s) * (1 - sigmoid(s))。")]

    def extreme_hint(self, where: str = "both"):
        stable = ("改用分段稳定的写法：令 e = exp(-|x|)，x >= 0 时 sigmoid = 1 / (1 + e)，x < 0 时为 e / (1 + e)，"
                  "这样 exp 永远不会碰到很大的正数。")
        if where == "negative":
            return ("在 x = -1e4 处溢出：朴素写法 1 / (1 + np.exp(-x)) 在那里算 exp(1e4) = inf（产生 RuntimeWarning）。"
                    + stable)
        if where == "positive":
            return ("在 x = +1e4 处溢出：exp(x) / (1 + exp(x)) 这类写法在 x 很大时算 exp(1e4) = inf，"
                    "得到 inf / inf = NaN（或 RuntimeWarning）。" + stable)
        return ("在 x = ±1e4 两侧都溢出：常见原因是 np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))"
                "——np.where 会在所有位置把两个分支都算一遍，所以仍然会溢出；或者 exp 的参数在两侧都可能很大。"
                + stable)


EXERCISES = {cls.name: cls() for cls in (DenseExercise, LeakyReLUExercise, TanhExercise, SigmoidExercise)}


# --------------------------------------------------------------------------------------
# The checks.

def run(ex: ModuleExercise, answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, ex.explain)
    rng = np.random.default_rng(seed)
    cases = ex.cases()

    def constructor():
        if not isinstance(answer, type):
            hint = (f"要传入类本身，例如 check({ex.name!r}, MyLayer)，而不是实例 MyLayer(...)。"
                    if hasattr(answer, "forward") else
                    "答案是一个类，带有 forward(x) -> (y, cache) 和 backward(dy, cache) -> (dx, grads)。")
            raise Failure(f"答案是 {type(answer).__name__}，不是类", hint)
        for name in ("forward", "backward"):
            if not callable(getattr(answer, name, None)):
                raise Failure(f"{answer.__name__} 没有方法 {name}",
                              "模块协议：forward(x) -> (y, cache)，backward(dy, cache) -> (dx, grads)。")
        layer = ex.build(answer, cases[0], F64, rng)
        if isinstance(ex, LeakyReLUExercise):
            try:
                default = answer()
            except Exception as exc:
                raise Failure(f"{answer.__name__}() 抛出了 {type(exc).__name__}",
                              "给 alpha 一个默认值 0.2（tf.nn.leaky_relu 的默认值，文章的代码用的就是它）："
                              "def __init__(self, alpha=0.2)。") from exc
            y, _ = _forward(default, np.array([[-1.0, 2.0]]))
            if not np.allclose(y, [[-0.2, 2.0]], rtol=1e-6, atol=0):
                raise Failure(f"{answer.__name__}() 把 [-1, 2] 映射成了 {np.round(y, 4).tolist()[0]}",
                              "alpha 的默认值是 0.2（tf.nn.leaky_relu 的默认值）：f(-1) = -0.2。")
        return ex.constructor_detail(layer)

    if not s.run("构造函数", constructor):
        return

    s.run("forward：数值", lambda: _forward_values(ex, answer, cases, rng))
    s.run("backward：dx（梯度检验）", lambda: _grad_dx(ex, answer, cases, rng))
    for name in ex.param_names:
        s.run(f"backward：d{name}（梯度检验）", lambda name=name: _grad_param(ex, answer, cases, rng, name))
    s.run("backward：grads 的键 = params() 的键", lambda: _grads_keys(ex, answer, cases[0], rng))
    s.run("可重入：穿插推理前向、逆序反向", lambda: _reentrant(ex, answer, cases[0], rng))
    s.run("输入、cache 与参数保持不变", lambda: _no_mutation(ex, answer, cases[0], rng))
    s.run("dtype 保持（float32 与 float64）", lambda: _dtype(ex, answer, cases[0], rng))
    if ex.param_names == ():
        s.run("恰好为零的输入：x = ±0", lambda: _zeros(ex, answer, cases[0], rng))
    if ex.extremes:
        s.run("极端输入：x = ±1e4（float64 与 float32）", lambda: _extremes(ex, answer, cases[0], rng))
    s.run("性质测试（hypothesis）：形状、dtype、数值", lambda: _property(ex, answer, max_examples))


def _require_dtype(what: str, array, dtype, ex) -> None:
    """:class:`Failure` naming the direction of a dtype change (up- or downcast)."""
    got = getattr(array, "dtype", None)
    if got is None or np.dtype(got) == np.dtype(dtype):
        return
    got = np.dtype(got)
    if np.dtype(dtype) == F64 and got == F32:
        raise Failure(f"float64 的输入得到了 float32 的 {what}", DOWNCAST)
    if np.dtype(dtype) == F32 and got == F64:
        raise Failure(f"float32 的输入得到了 float64 的 {what}", UPCAST.format(culprits=ex.upcast_culprits))
    raise Failure(f"{np.dtype(dtype).name} 的输入得到了 {got.name} 的 {what}",
                  f"{what} 的 dtype 要与输入相同（{np.dtype(dtype).name}）。")


def _forward_values(ex, answer, cases, rng):
    worst = 0.0
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, _ = _forward(layer, x.copy())  # copies: modifying x is the subject of another check
        ref = ex.ref_forward(layer, case, x)
        if y.shape != ref.shape:
            hint = ("y 的形状与输入相同：缺了矩阵乘法，或者乘法顺序不对（y = x @ W + b 是 (N, out)）。"
                    if isinstance(ex, DenseExercise) else "逐元素作用的层，输出形状与输入相同。")
            raise Failure(f"{case.label}：y 的形状是 {shape_str(y.shape)}，应为 {shape_str(ref.shape)}", hint)
        _require_dtype("y", y, F64, ex)
        if not close(y, ref, F64):
            err = float(np.max(np.abs(np.asarray(y, np.float64) - ref)))
            for probe in ex.forward_probes(layer, case, x):
                if np.shape(probe.value) == y.shape and same(y, probe.value):
                    raise Failure(f"{case.label}：最大绝对误差 {err:.2e}", probe.hint)
            raise Failure(f"{case.label}：最大绝对误差 {err:.2e}", ex.forward_hint())
        worst = max(worst, float(np.max(np.abs(y - ref), initial=0.0)))
    return f"{len(cases)} 个用例与 minigan 的参考实现一致（最大绝对误差 {worst:.1e}）"


def _grad_dx(ex, answer, cases, rng):
    worst = []
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, cache = _forward(layer, x.copy())
        dy = rng.standard_normal(y.shape)
        dx, _ = _backward(layer, dy.copy(), cache)
        _require_dtype("dx", dx, F64, ex)
        num, noise = numeric_gradient(lambda layer=layer, x=x: _forward(layer, x.copy())[0], x, dy)
        ref_dx, _ = ex.ref_backward(layer, case, x, dy)
        try:
            worst.append(diagnose_gradient("dx", dx, num, noise, ref_dx, n=x.shape[0],
                                           probes=ex.dx_probes(layer, case, x, dy)))
        except Failure as f:
            raise Failure(f"{case.label}：{f.detail}", f.hint) from None
    return f"{len(cases)} 个用例，" + worst_error(worst)


def _grad_param(ex, answer, cases, rng, name):
    worst = []
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, cache = _forward(layer, x.copy())
        dy = rng.standard_normal(y.shape)
        _, grads = _backward(layer, dy.copy(), cache)
        if not isinstance(grads, dict):
            raise Failure(f"backward 返回的 grads 是 {type(grads).__name__}",
                          "backward 返回 (dx, grads)，其中 grads = {'W': dW, 'b': db}。")
        if name not in grads:
            raise Failure(f"grads 里没有键 {name!r}（现有的键：{sorted(grads)}）",
                          "grads 的键必须与 params() 相同：{'W': dW, 'b': db}。")
        _require_dtype(f"d{name}", grads[name], F64, ex)
        p = _params(layer)[name]
        num, noise = numeric_gradient(lambda layer=layer, x=x: _forward(layer, x.copy())[0], p, dy)
        _, ref = ex.ref_backward(layer, case, x, dy)
        try:
            worst.append(diagnose_gradient(f"d{name}", grads[name], num, noise, ref[name], n=x.shape[0],
                                           probes=ex.param_probes(name, layer, case, x, dy),
                                           shape_hints=ex.param_shape_hints(name, case, x)))
        except Failure as f:
            raise Failure(f"{case.label}：{f.detail}", f.hint) from None
    return f"{len(cases)} 个用例，" + worst_error(worst)


def _grads_keys(ex, answer, case, rng):
    layer = ex.build(answer, case, F64, rng)
    x = ex.inputs(rng, case.shape, F64)
    y, cache = _forward(layer, x)
    _, grads = _backward(layer, np.ones_like(y), cache)
    params = _params(layer)
    if grads is None or not isinstance(grads, dict):
        hint = ("没有参数的层，grads 要返回空字典 {}：return dx, {}。"
                if not params else "grads 是与 params() 同键的字典：{'W': dW, 'b': db}。")
        raise Failure(f"grads 是 {type(grads).__name__}，不是字典", hint)
    if set(grads) != set(params):
        raise Failure(f"grads 的键 {sorted(grads)} != params() 的键 {sorted(params)}",
                      f"backward 返回的 grads 必须恰好有 params() 的这些键 {sorted(params)}，不多也不少、不能改名；"
                      f"你的是 {sorted(grads)}（优化器按名字把梯度对应到参数上）。")
    return f"键 {sorted(grads)}" if grads else "grads = {}（没有参数）"


def _reentrant(ex, answer, case, rng):
    """Three forwards as ``GAN.train_step`` interleaves them, then two backwards in the
    reverse order: forward(x1); forward(x_inference), never backpropagated (G drawing
    samples for D); forward(x2); backward(dy2, cache2); backward(dy1, cache1).  Each
    backward must equal a forward + backward of its own batch run alone."""
    layer = ex.build(answer, case, F64, rng)
    xs = [ex.inputs(rng, case.shape, F64) for _ in range(3)]
    xs[2] = -xs[2] if np.allclose(xs[0], xs[2]) else xs[2]
    x1, x_inf, x2 = xs
    shape = ex.ref_forward(layer, case, x1).shape
    dy1, dy2 = rng.standard_normal(shape), rng.standard_normal(shape)

    def alone(x, dy):
        y, cache = _forward(layer, x.copy())
        dx, grads = _backward(layer, dy.copy(), cache)
        return y.copy(), snapshot(dx), snapshot(grads)

    params0 = snapshot(_params(layer))
    _, *ref1 = alone(x1, dy1)
    if changed(params0, _params(layer)):
        raise Failure("forward + backward 之后参数变了", PARAMS_IN_BACKWARD)
    _, *ref2 = alone(x2, dy2)
    y1, c1 = _forward(layer, x1.copy())
    y1_copy, c1_copy = y1.copy(), snapshot(c1)
    _forward(layer, x_inf.copy())
    y2, c2 = _forward(layer, x2.copy())
    if not np.array_equal(y1, y1_copy):
        raise Failure("再次运行 forward 后，第一次 forward 的输出变了",
                      "forward 返回的数组被后来的 forward 覆盖了（存在 self 上反复使用的缓冲区）："
                      "每次调用都返回新数组。")
    if changed(c1_copy, c1):
        raise Failure("forward(x1) 返回的 cache 被之后的 forward 改写了", CACHE_BUFFER)
    dx2, g2 = _backward(layer, dy2.copy(), c2)
    dx2_copy = snapshot(dx2)
    dx1, g1 = _backward(layer, dy1.copy(), c1)
    if changed(dx2_copy, dx2):
        raise Failure("再次运行 backward 后，前一次 backward 返回的 dx 变了",
                      "backward 返回的数组被后来的 backward 覆盖了（反复使用的缓冲区）：返回新数组。")

    def agrees(dx, grads, ref):
        return same(dx, ref[0], 1e-12) and not changed(ref[1], grads if isinstance(grads, dict) else {})

    order = "forward(x1)、forward(x_推理)、forward(x2)，然后 backward(dy2, cache2)、backward(dy1, cache1)"
    for label, dx, grads, ref, dy, own in (("backward(dy2, cache2)", dx2, g2, ref2, dy2, 2),
                                           ("backward(dy1, cache1)", dx1, g1, ref1, dy1, 0)):
        if agrees(dx, grads, ref):
            continue
        # Equal to the gradient of another forward's batch?  Then it read inputs kept on self.
        for i, other in enumerate(xs):
            if i != own and agrees(dx, grads, ex.ref_backward(layer, case, other, dy)):
                if i == 2:  # the latest forward's input: one attribute on self, overwritten
                    raise Failure(f"{order}：{label} 得到的是最后一次 forward 那一批的梯度", SELF_STATE)
                raise Failure(f"{order}：{label} 得到的是另一批输入的梯度", SELF_QUEUE.format(which=label))
        raise Failure(f"{order}：{label} 与单独运行这一批的结果不同", SELF_STATE)
    return "每次 backward 都只用了自己的 cache（含穿插的推理前向与逆序反向）"


def _no_mutation(ex, answer, case, rng):
    layer = ex.build(answer, case, F64, rng)
    params0 = snapshot(_params(layer))
    x = ex.inputs(rng, case.shape, F64)
    x0 = x.copy()
    y, cache = _forward(layer, x)
    if changed(x0, x):
        raise Failure("forward 修改了它的输入 x",
                      "forward 原地修改了输入 x（例如 x[x < 0] *= alpha、x *= ... 或 out=x）：把结果算到新数组里；"
                      "调用者之后还要用 x。")
    if changed(params0, _params(layer)):
        raise Failure("forward 改动了参数", "forward 不能改动参数。")
    cache0 = snapshot(cache)
    dy = rng.standard_normal(y.shape)
    dy0 = dy.copy()
    _backward(layer, dy, cache)
    if changed(dy0, dy):
        raise Failure("backward 修改了它的输入 dy",
                      "backward 原地修改了 dy（例如 dy *= slope 或 dy[x < 0] *= alpha）：返回新数组；"
                      "调用者可能还要再用 dy（D 的梯度会流向两个分支）。")
    if changed(cache0, cache):
        raise Failure("backward 修改了 cache",
                      "backward 原地修改了 cache：把 cache 当作只读"
                      "（从同一个 cache 再做一次 backward 必须得到同样的结果）。")
    if changed(params0, _params(layer)):
        raise Failure("backward 改动了参数", PARAMS_IN_BACKWARD)
    return "x、dy、cache 和参数都没有变"


def _dtype(ex, answer, case, rng):
    for dtype in (F32, F64):
        layer = ex.build(answer, case, dtype, rng)
        x = ex.inputs(rng, case.shape, dtype)
        y, cache = _forward(layer, x)
        _require_dtype("y", y, dtype, ex)
        dx, grads = _backward(layer, np.ones_like(y), cache)
        if not isinstance(dx, np.ndarray):
            raise Failure(f"backward 返回的 dx 是 {type(dx).__name__}", "dx 必须是 NumPy 数组。")
        _require_dtype("dx", dx, dtype, ex)
        for k, g in (grads or {}).items():
            _require_dtype(f"d{k}", g, dtype, ex)
    return "y、dx" + ("、grads" if grads else "") + " 都保持输入的 dtype：float32 进 float32 出，float64 进 float64 出"


def _zeros(ex, answer, case, rng):
    """Exact zeros, both signs: the kink of leaky ReLU, the centre of tanh and sigmoid.
    Any subgradient is accepted at a kink; NaN, inf and warnings are not."""
    base = np.array([[0.0, -0.0, 1.5, -0.0], [-2.0, 0.0, 0.0, 0.5]])
    for dtype in (F64, F32):
        layer = ex.build(answer, case, dtype, rng)
        x = base.astype(dtype)
        dy = np.array([[1.0, -2.0, 0.5, 3.0], [1.0, 1.0, -1.0, 2.0]], dtype=dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(all="warn"):
                y, cache = _forward(layer, x.copy())
                dx, _ = _backward(layer, dy.copy(), cache)
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        zero = x == 0
        bad = []
        if not np.all(np.isfinite(y)):
            bad.append("y 含 NaN/inf")
        if not (isinstance(dx, np.ndarray) and np.all(np.isfinite(dx))):
            bad.append("dx 含 NaN/inf")
        if runtime:
            bad.append(f"出现 RuntimeWarning（{runtime[0].message}）")
        if bad:
            raise Failure(f"{dtype.name}，x 含 0 与 -0.0：" + "；".join(bad), ex.zero_hint())
        ref_y = ex.ref_forward(layer, case, x)
        if not np.allclose(y, ref_y, rtol=1e-6, atol=1e-7):
            raise Failure(f"{dtype.name}：x = 0 处 y = {np.asarray(y)[zero].tolist()}，应为 "
                          f"{ref_y[zero].tolist()}", ex.forward_hint())
        lo, hi = min(ex.slopes_at_zero(case)), max(ex.slopes_at_zero(case))
        slope = np.asarray(dx, np.float64)[zero] / dy.astype(np.float64)[zero]  # dy has no zeros
        if not np.all((slope >= lo - 1e-5 * max(1.0, abs(lo))) & (slope <= hi + 1e-5 * max(1.0, abs(hi)))):
            allowed = f"{lo:g}" if lo == hi else f"{lo:g} 到 {hi:g} 之间（含两端）"
            raise Failure(f"{dtype.name}：x = 0 处 dx/dy = {slope.tolist()}，应为 {allowed}", ex.zero_slope_hint())
    return "x = ±0 时 y 与 dx 有限且正确，没有警告"


def _extremes(ex, answer, case, rng):
    base = np.array([[-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4]])
    for dtype in (F64, F32):
        layer = ex.build(answer, case, dtype, rng)
        x = base.astype(dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                y, cache = _forward(layer, x)
                dx, _ = _backward(layer, np.ones_like(y), cache)
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        ref_y = ex.ref_forward(layer, case, x)
        ref_dx, _ = ex.ref_backward(layer, case, x, np.ones_like(ref_y))
        y_ok = np.all(np.isfinite(y))
        dx_ok = isinstance(dx, np.ndarray) and np.all(np.isfinite(dx))
        if not y_ok or not dx_ok or runtime:
            what = []
            if not y_ok:
                what.append(f"x = {x[~np.isfinite(y)].tolist()} 处 y 为 NaN/inf")
            if not dx_ok:
                what.append("dx 含 NaN/inf")
            if runtime:
                what.append(f"出现 RuntimeWarning（{runtime[0].message}）")
            raise Failure(f"{dtype.name}：" + "；".join(what),
                          ex.extreme_hint(_overflow_side(ex, answer, case, dtype, rng)))
        atol = 1e-12 if dtype == F64 else 1e-6
        if not np.allclose(y, ref_y, rtol=1e-6, atol=atol):
            raise Failure(f"{dtype.name}：y = {np.asarray(y).ravel().tolist()}，应为 {ref_y.ravel().tolist()}",
                          "结果有限，但在 |x| 很大时不是精确值：" + ex.forward_hint())
        if not np.allclose(dx, ref_dx, rtol=1e-5, atol=atol):
            bad = x[~np.isclose(dx, ref_dx, rtol=1e-5, atol=atol)].tolist()
            raise Failure(f"{dtype.name}：x = {bad} 处 dx 与精确导数不同",
                          "backward 在这些输入上算错了（那里的导数约为 0 或处于峰值）；"
                          "如果 dx 的梯度检验也失败，先修那一项。")
    return "有限、精确、没有溢出警告"


def _overflow_side(ex, answer, case, dtype, rng) -> str:
    """Which large inputs break the layer: "positive", "negative" or "both" (each side
    run on its own, so an np.where that evaluates both branches shows up as "both")."""
    broken = []
    for sign in (1.0, -1.0):
        layer = ex.build(answer, case, dtype, rng)
        x = (sign * np.array([[50.0, 800.0, 1e4]])).astype(dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                try:
                    y, cache = _forward(layer, x)
                    dx, _ = _backward(layer, np.ones_like(y), cache)
                    finite = np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
                except Exception:
                    finite = False
        if not finite or any(issubclass(w.category, RuntimeWarning) for w in caught):
            broken.append(sign)
    if broken == [1.0]:
        return "positive"
    if broken == [-1.0]:
        return "negative"
    return "both"


def _property(ex, answer, max_examples):
    from hypothesis import strategies as st

    strategy = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.sampled_from(ex.prop_scales),
                         st.floats(0.0, 1.0), st.integers(0, 2**16))

    def make_case(example):
        n, d, out, dtype, scale, alpha, seed = example
        settings = {"n_in": d, "n_out": out} if isinstance(ex, DenseExercise) else {"alpha": alpha}
        return Case("", (n, d), settings), np.dtype(dtype), scale, np.random.default_rng(seed)

    def describe(example):
        n, d, out, dtype, scale, alpha, seed = example
        extra = f"，Dense({d} -> {out})" if isinstance(ex, DenseExercise) else (
            f"，alpha={alpha:g}" if isinstance(ex, LeakyReLUExercise) else "")
        return f"x 形状 ({n}, {d})，{dtype}，尺度 {scale:g}{extra}"

    def prop(example):
        case, dtype, scale, rng = make_case(example)
        layer = ex.build(answer, case, dtype, rng)
        params0 = snapshot(_params(layer))
        x = ex.inputs(rng, case.shape, dtype, scale)
        x0 = x.copy()
        y, cache = _forward(layer, x)
        ref = ex.ref_forward(layer, case, x)
        if y.shape != ref.shape:
            raise Failure(f"y 的形状是 {shape_str(y.shape)}，应为 {shape_str(ref.shape)}", ex.forward_hint())
        _require_dtype("y", y, dtype, ex)
        if not close(y, ref, dtype):
            raise Failure("y 与参考值不同", ex.forward_hint())
        if changed(x0, x):
            raise Failure("forward 修改了 x", "forward 原地修改了输入 x：把结果算到新数组里。")
        dy = rng.standard_normal(y.shape).astype(dtype)
        dy0, cache0 = dy.copy(), snapshot(cache)
        # Re-entrancy: a second batch goes forward before the first one comes back.
        _forward(layer, ex.inputs(rng, case.shape, dtype, scale))
        if changed(cache0, cache):
            raise Failure("下一次 forward 改写了这一次的 cache", CACHE_BUFFER)
        dx, grads = _backward(layer, dy, cache)
        if changed(dy0, dy):
            raise Failure("backward 修改了 dy", "backward 原地修改了 dy：返回新数组，不要改动传进来的 dy。")
        if changed(cache0, cache):
            raise Failure("backward 修改了 cache", "backward 原地修改了 cache：把 cache 当作只读。")
        if changed(params0, _params(layer)):
            raise Failure("参数变了", "forward 和 backward 都不能改动参数。")
        ref_dx, ref_grads = ex.ref_backward(layer, case, x0, dy)
        problem = _compare_backward(dx, grads, x0, ref_dx, ref_grads, dtype, ex)
        if problem is not None:
            # Right when nothing runs in between?  Then it read state a later forward replaced.
            _, fresh_cache = _forward(layer, x0.copy())
            fresh = _backward(layer, dy0.copy(), fresh_cache)
            if _compare_backward(*fresh, x0, ref_dx, ref_grads, dtype, ex) is None:
                raise Failure("这一批的 forward 之后又运行了一次 forward，backward(dy, cache) 就错了", SELF_STATE)
            raise problem

    return run_property(strategy, prop, describe, ex.explain, max_examples=max_examples,
                        what="形状、dtype 保持、数值一致、输入不变、可重入")


def _compare_backward(dx, grads, x, ref_dx, ref_grads, dtype, ex) -> Failure | None:
    """The first way (dx, grads) differs from the reference, as a Failure, or None."""
    if not isinstance(dx, np.ndarray) or dx.shape != x.shape:
        return Failure(f"dx 的形状是 {shape_str(np.shape(dx))}，应为 {shape_str(x.shape)}",
                       "dx 与 x 同形。" + (" " + MATMUL if isinstance(ex, DenseExercise) else ""))
    try:
        _require_dtype("dx", dx, dtype, ex)
    except Failure as f:
        return f
    if not close(dx, ref_dx, dtype):
        return Failure("dx 与参考值不同", "见上面 dx 的梯度检验。")
    for k, g in ref_grads.items():
        mine = grads.get(k) if isinstance(grads, dict) else None
        if not isinstance(mine, np.ndarray) or mine.shape != g.shape:
            return Failure(f"d{k} 的形状是 {shape_str(np.shape(mine))}，应为 {shape_str(g.shape)}",
                           f"d{k} 与 {k} 同形；见上面 d{k} 的梯度检验。")
        try:
            _require_dtype(f"d{k}", mine, dtype, ex)
        except Failure as f:
            return f
        if not close(mine, g, dtype):
            return Failure(f"d{k} 与参考值不同", f"见上面 d{k} 的梯度检验。")
    return None
