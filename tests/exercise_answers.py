"""Answers to the exercises in notebooks/exercises, for tests/test_exercises.py only.

``CORRECT``: correct answers written the way a learner would (not minigan's code).
``WRONG``: typical mistakes, one class or function each, with the words the checker's
hint must contain to count as naming that mistake.  Kept out of the package (and of the
notebooks) on purpose: these are the solutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigan.nn import Module

# ======================================================================================
# Correct, learner-style answers.

class MyDense(Module):
    def __init__(self, in_features, out_features, *, rng=None, dtype=np.float32):
        rng = np.random.default_rng(rng)
        limit = np.sqrt(6.0 / (in_features + out_features))
        self.W = rng.uniform(-limit, limit, (in_features, out_features)).astype(dtype)
        self.b = np.zeros(out_features, dtype=dtype)

    def params(self):
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        return x @ self.W + self.b, x

    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": x.T @ dy, "b": dy.sum(axis=0)}


class MyDensePlainConstructor(Module):
    """No rng / dtype keywords: the checker sets W and b itself."""

    def __init__(self, in_features, out_features):
        self.W = np.random.default_rng(0).standard_normal((in_features, out_features)) * 0.1
        self.b = np.zeros(out_features)

    def params(self):
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        y = np.dot(x, self.W)
        return y + self.b, (x,)

    def backward(self, dy, cache):
        (x,) = cache
        return np.dot(dy, self.W.T), {"W": np.dot(x.T, dy), "b": np.sum(dy, axis=0)}


class MyLeakyReLU(Module):
    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, self.alpha * x), x

    def backward(self, dy, cache):
        x = cache
        slope = np.where(x > 0, 1, self.alpha).astype(dy.dtype)
        return dy * slope, {}


class MyTanh(Module):
    def forward(self, x):
        y = np.tanh(x)
        return y, y

    def backward(self, dy, cache):
        y = cache
        return dy * (1 - y ** 2), {}


class MySigmoid(Module):
    def forward(self, x):
        e = np.exp(-np.abs(x))
        pos = 1 / (1 + e)
        s = np.where(x >= 0, pos, e * pos)
        return s, s

    def backward(self, dy, cache):
        s = cache
        return dy * s * (1 - s), {}


def my_bce_with_logits(logits, targets):
    z, y = logits, np.asarray(targets, dtype=logits.dtype)
    n = z.size
    per_element = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return float(per_element.mean()), (s - y) / n


def my_generator_gradient(G, D, z):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    p = 0.5 * (1 + np.tanh(0.5 * logits))  # sigmoid, written stably with tanh
    dlogits = (p - 1) / logits.size
    d_fake, _ = D.backward(dlogits, d_cache)
    _, grads = G.backward(d_fake, g_cache)
    return grads


# ======================================================================================
# Wrong answers: each repeats the correct answer but for one typical mistake.

@dataclass
class Wrong:
    exercise: str
    answer: object
    words: tuple  # every word must appear in the checker's hints (case-insensitive)

    @property
    def id(self) -> str:
        return f"{self.exercise}:{getattr(self.answer, '__name__', 'answer')}"


WRONG: list[Wrong] = []


def wrong(exercise, *words):
    def register(answer):
        WRONG.append(Wrong(exercise, answer, words))
        return answer
    return register


# ---- dense ---------------------------------------------------------------------------

@wrong("dense", "转置", "x @ W")
class DenseForwardTransposed(MyDense):
    def forward(self, x):
        return x @ self.W.T + self.b, x


@wrong("dense", "权重转置了", "(in_features, out_features)")
class DenseStoresWOutIn(MyDense):
    def __init__(self, in_features, out_features, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        self.W = np.ascontiguousarray(self.W.T)  # (out, in), PyTorch's convention

    def forward(self, x):
        return x @ self.W.T + self.b, x


@wrong("dense", "dx = dy @ W.T")
class DenseDxWithoutTranspose(MyDense):
    def backward(self, dy, cache):
        x = cache
        return dy @ self.W, {"W": x.T @ dy, "b": dy.sum(axis=0)}


@wrong("dense", "dW 转置了", "x.T @ dy")
class DenseDWTransposed(MyDense):
    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": dy.T @ x, "b": dy.sum(axis=0)}


@wrong("dense", "恰好有 params() 的这些键 ['w', 'b']", "你的是 ['w', 'b', 'dx']")
class DenseExtraGradKey(MyDense):
    """Right values, but dx is also put into grads: an optimiser would look for a parameter 'dx'."""

    def backward(self, dy, cache):
        x = cache
        dx = dy @ self.W.T
        return dx, {"W": x.T @ dy, "b": dy.sum(axis=0), "dx": dx}


@wrong("dense", "params() 的这些键", "'w'")
class DenseRenamedGradKeys(MyDense):
    """Right values under PyTorch-like names dW, db instead of the keys of params()."""

    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"dW": x.T @ dy, "db": dy.sum(axis=0)}


@wrong("dense", "没有对批求和")
class DenseBiasNotSummed(MyDense):
    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": x.T @ dy, "b": dy}


@wrong("dense", "求和的轴错了")
class DenseBiasWrongAxis(MyDense):
    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": x.T @ dy, "b": dy.sum(axis=1)}


@wrong("dense", "多除了 1/n")
class DenseDividesByN(MyDense):
    def backward(self, dy, cache):
        x = cache
        n = x.shape[0]
        return dy @ self.W.T, {"W": x.T @ dy / n, "b": dy.sum(axis=0)}


@wrong("dense", "符号反了")
class DenseSignFlipped(MyDense):
    def backward(self, dy, cache):
        x = cache
        return -(dy @ self.W.T), {"W": x.T @ dy, "b": dy.sum(axis=0)}


@wrong("dense", "漏了偏置")
class DenseNoBias(MyDense):
    def forward(self, x):
        return x @ self.W, x


@wrong("dense", "不可重入", "self")
class DenseStoresInputOnSelf(MyDense):
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b, None

    def backward(self, dy, cache):
        return dy @ self.W.T, {"W": self.x.T @ dy, "b": dy.sum(axis=0)}


@wrong("dense", "输入 float32，输出却是 float64")
class DenseUpcastsBiasGradient(MyDense):
    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": x.T @ dy, "b": dy.sum(axis=0, dtype=np.float64)}


@wrong("dense", "改动了参数", "优化器")
class DenseUpdatesInBackward(MyDense):
    def backward(self, dy, cache):
        x = cache
        dW = x.T @ dy
        self.W -= 0.01 * dW
        return dy @ self.W.T, {"W": dW, "b": dy.sum(axis=0)}


# ---- leaky_relu ----------------------------------------------------------------------

@wrong("leaky_relu", "负半轴写成了 0", "alpha")
class LeakyDerivativeZeroOnNegativeSide(MyLeakyReLU):
    def backward(self, dy, cache):
        x = cache
        return dy * (x > 0), {}


@wrong("leaky_relu", "输出却是 float64", "np.where(x > 0, 1.0, alpha)")
class LeakyUpcastsInBackward(MyLeakyReLU):
    def backward(self, dy, cache):
        x = cache
        return dy * np.where(x > 0, 1.0, self.alpha), {}


@wrong("leaky_relu", "输出却是 float64", "np.float64")
class LeakyUpcastsInForward(MyLeakyReLU):
    def forward(self, x):
        return np.where(x > 0, x, np.float64(self.alpha) * x), x


@wrong("leaky_relu", "原地修改")
class LeakyModifiesInput(MyLeakyReLU):
    def forward(self, x):
        x[x < 0] *= self.alpha
        return x, x


@wrong("leaky_relu", "不可重入", "self")
class LeakyStoresOnSelf(MyLeakyReLU):
    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x), None

    def backward(self, dy, cache):
        return dy * np.where(self.x > 0, 1, self.alpha).astype(dy.dtype), {}


@wrong("leaky_relu", "写死", "self.alpha")
class LeakyHardCodedAlpha(MyLeakyReLU):
    def forward(self, x):
        return np.where(x > 0, x, 0.2 * x), x

    def backward(self, dy, cache):
        x = cache
        return dy * np.where(x > 0, 1, 0.2).astype(dy.dtype), {}


@wrong("leaky_relu", "alpha = 0", "缓存 x")
class LeakyTestsCachedOutput(MyLeakyReLU):
    """Caches y and tests y >= 0: right for alpha > 0, wrong when alpha = 0."""

    def forward(self, x):
        y = np.where(x > 0, x, self.alpha * x)
        return y, y

    def backward(self, dy, cache):
        y = cache
        return dy * np.where(y >= 0, 1, self.alpha).astype(dy.dtype), {}


# ---- tanh ----------------------------------------------------------------------------

@wrong("tanh", "1 - x**2", "1 - y**2")
class TanhDerivativeOfInput(MyTanh):
    def forward(self, x):
        return np.tanh(x), x

    def backward(self, dy, cache):
        x = cache
        return dy * (1 - x ** 2), {}


@wrong("tanh", "用了两次")
class TanhAppliedTwice(MyTanh):
    def backward(self, dy, cache):
        y = cache
        return dy * (1 - np.tanh(y) ** 2), {}


@wrong("tanh", "溢出", "np.tanh")
class TanhFromExp(MyTanh):
    def forward(self, x):
        y = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
        return y, y


@wrong("tanh", "不可重入", "self")
class TanhStoresOnSelf(MyTanh):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y, None

    def backward(self, dy, cache):
        return dy * (1 - self.y ** 2), {}


@wrong("tanh", "输出却是 float64")
class TanhUpcasts(MyTanh):
    def backward(self, dy, cache):
        y = cache
        return dy * (np.float64(1.0) - y * y), {}


# ---- sigmoid -------------------------------------------------------------------------

@wrong("sigmoid", "s(1 - s)", "写成了 s")
class SigmoidDerivativeIsS(MySigmoid):
    def backward(self, dy, cache):
        return dy * cache, {}


@wrong("sigmoid", "x = -1e4 处溢出", "分段稳定")
class SigmoidNaive(MySigmoid):
    def forward(self, x):
        s = 1 / (1 + np.exp(-x))
        return s, s


@wrong("sigmoid", "两侧都溢出", "两个分支")
class SigmoidWhereEvaluatesBothBranches(MySigmoid):
    def forward(self, x):
        s = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        return s, s


@wrong("sigmoid", "输入 x")
class SigmoidDerivativeOfInput(MySigmoid):
    def forward(self, x):
        return super().forward(x)[0], x

    def backward(self, dy, cache):
        x = cache
        return dy * x * (1 - x), {}


@wrong("sigmoid", "用了两次")
class SigmoidAppliedTwice(MySigmoid):
    def backward(self, dy, cache):
        s = super().forward(cache)[0]
        return dy * s * (1 - s), {}


@wrong("sigmoid", "不可重入", "self")
class SigmoidStoresOnSelf(MySigmoid):
    def forward(self, x):
        self.s = super().forward(x)[0]
        return self.s, None

    def backward(self, dy, cache):
        return dy * self.s * (1 - self.s), {}


@wrong("sigmoid", "输出却是 float64")
class SigmoidUpcasts(MySigmoid):
    def forward(self, x):
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, np.float64(1.0), e) / (1 + e)
        return s, s


# ---- layers: state kept on self, exact zeros, hints that must name the real mistake ----

class _InputQueue:
    """Keeps every forward's input on self and hands them to backward in order, ignoring
    the cache: right for forward, forward, backward, backward -- and only for that."""

    def forward(self, x):
        if not hasattr(self, "queue"):
            self.queue = []
        self.queue.append(x)
        return super().forward(x)[0], None

    def pop(self):
        return self.queue.pop(0)


@wrong("leaky_relu", "队列", "cache")
class LeakyInputQueue(_InputQueue, MyLeakyReLU):
    def backward(self, dy, cache):
        x = self.pop()
        return dy * np.where(x > 0, 1, self.alpha).astype(dy.dtype), {}


@wrong("tanh", "队列", "推理")
class TanhInputQueue(_InputQueue, MyTanh):
    def backward(self, dy, cache):
        y = np.tanh(self.pop())
        return dy * (1 - y ** 2), {}


@wrong("dense", "队列", "cache")
class DenseInputQueue(_InputQueue, MyDense):
    def backward(self, dy, cache):
        x = self.pop()
        return dy @ self.W.T, {"W": x.T @ dy, "b": dy.sum(axis=0)}


@wrong("sigmoid", "队列")
class SigmoidOutputStack(MySigmoid):
    """A stack (last in, first out) of outputs on self: right when backwards come in the
    reverse order of their forwards, wrong once an inference forward sits in between."""

    def forward(self, x):
        s = MySigmoid.forward(self, x)[0]
        self.__dict__.setdefault("stack", []).append(s)
        return s, None

    def backward(self, dy, cache):
        s = self.stack.pop()
        return dy * s * (1 - s), {}


@wrong("leaky_relu", "y / x", "0 / 0", "np.where(x > 0, 1, alpha)")
class LeakyDerivativeYOverX(MyLeakyReLU):
    def forward(self, x):
        y = np.where(x > 0, x, self.alpha * x)
        return y, (x, y)

    def backward(self, dy, cache):
        x, y = cache
        return dy * (y / x), {}


@wrong("tanh", "float64，输出却是 float32", ".astype(np.float32)")
class TanhDowncasts(MyTanh):
    def forward(self, x):
        y = np.tanh(x.astype(np.float32))
        return y, y


@wrong("sigmoid", "x = +1e4 处溢出", "分段稳定")
class SigmoidOverflowsOnThePositiveSide(MySigmoid):
    def forward(self, x):
        e = np.exp(x)
        s = e / (1 + e)
        return s, s


@wrong("tanh", "cache 被下一次 forward 覆盖了", "新的数组")
class TanhCacheBufferOnSelf(MyTanh):
    """Writes the cache into one buffer kept on self: the next forward overwrites it."""

    def forward(self, x):
        y = np.tanh(x)
        if getattr(self, "buffer", None) is None or self.buffer.shape != y.shape or self.buffer.dtype != y.dtype:
            self.buffer = np.empty_like(y)
        self.buffer[...] = y
        return y, self.buffer

    def backward(self, dy, cache):
        return dy * (1 - cache ** 2), {}


# The mean gradient copied to every row (issue 22: it got only "re-derive from the forward formula").

@wrong("dense", "db 的每一行都是 dy 对批的平均值", "dy.sum(axis=0)")
class DenseBiasMeanPerRow(MyDense):
    """db as the batch mean of dy, repeated for every row (as if each sample had a bias of its own)."""

    def backward(self, dy, cache):
        x = cache
        return dy @ self.W.T, {"W": x.T @ dy, "b": np.tile(dy.mean(axis=0), (len(dy), 1))}


@wrong("dense", "dx 的每一行都相同", "整批梯度的平均值")
class DenseDxMeanOfBatch(MyDense):
    def backward(self, dy, cache):
        x = cache
        dx = np.broadcast_to((dy @ self.W.T).mean(axis=0), x.shape).copy()
        return dx, {"W": x.T @ dy, "b": dy.sum(axis=0)}


@wrong("leaky_relu", "dx 的每一行都相同", "整批梯度的平均值")
class LeakyDxMeanOfBatch(MyLeakyReLU):
    def backward(self, dy, cache):
        x = cache
        dx = dy * np.where(x > 0, 1, self.alpha).astype(dy.dtype)
        return np.tile(dx.mean(axis=0), (len(x), 1)), {}


@wrong("tanh", "dx 的每一行都相同", "只在损失函数里做一次")
class TanhDxMeanOfBatch(MyTanh):
    def backward(self, dy, cache):
        y = cache
        return np.ones_like(y) * (dy * (1 - y ** 2)).mean(axis=0), {}


@wrong("sigmoid", "dx 的每一行都相同", "第 i 行的 dx")
class SigmoidDxMeanOfBatch(MySigmoid):
    def backward(self, dy, cache):
        s = cache
        return np.repeat((dy * s * (1 - s)).mean(axis=0, keepdims=True), len(s), axis=0), {}


# Correct answers written differently from the reference: these must pass.

class LeakyReLUWithWhereOnOutput(MyLeakyReLU):
    """Either subgradient at 0: slope alpha there (x >= 0 would give 1; both are right)."""

    def backward(self, dy, cache):
        x = cache
        return np.where(x > 0, dy, self.alpha * dy), {}


class LeakyReLUSlopeOneAtZero(MyLeakyReLU):
    def backward(self, dy, cache):
        x = cache
        return np.where(x >= 0, dy, dy * self.alpha), {}


class LeakyReLUMidpointAtZero(MyLeakyReLU):
    """Slope (1 + alpha) / 2 at 0: unusual, but a subgradient all the same."""

    def backward(self, dy, cache):
        x = cache
        slope = np.where(x > 0, 1.0, np.where(x < 0, self.alpha, (1 + self.alpha) / 2)).astype(dy.dtype)
        return dy * slope, {}


@wrong("leaky_relu", "x = 0 处 leaky ReLU 不可导", "取 0")
class LeakyDerivativeZeroAtZero(MyLeakyReLU):
    """(x > 0) + alpha * (x < 0): slope 0 at exactly 0, which no subgradient has."""

    def backward(self, dy, cache):
        x = cache
        return dy * ((x > 0) + self.alpha * (x < 0)).astype(dy.dtype), {}


class SigmoidFromTanh(MySigmoid):
    def forward(self, x):
        s = (1 + np.tanh(x / 2)) / 2
        return s, s


class SigmoidFromLogaddexp(MySigmoid):
    def forward(self, x):
        s = np.exp(-np.logaddexp(0, -x)).astype(x.dtype)
        return s, s


# ---- bce_with_logits -----------------------------------------------------------------

def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _per_element(z, y):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


@wrong("bce_with_logits", "漏了 1/N")
def bce_gradient_without_mean(logits, targets):
    return float(_per_element(logits, targets).mean()), _sigmoid(logits) - targets


@wrong("bce_with_logits", "和，而不是平均值", "1/N")
def bce_sum_not_mean(logits, targets):
    return float(_per_element(logits, targets).sum()), _sigmoid(logits) - targets


@wrong("bce_with_logits", "符号反了")
def bce_gradient_sign_flipped(logits, targets):
    return float(_per_element(logits, targets).mean()), (targets - _sigmoid(logits)) / logits.size


@wrong("bce_with_logits", "在 z = -1e4", "在 z = +1e4", "处溢出", "不要对概率取对数")
def bce_naive_logs(logits, targets):
    s = 1 / (1 + np.exp(-logits))
    loss = -np.mean(targets * np.log(s) + (1 - targets) * np.log(1 - s))
    return float(loss), (s - targets) / logits.size


@wrong("bce_with_logits", "接近但不精确", "eps")
def bce_eps_inside_log(logits, targets):
    s = _sigmoid(logits)
    eps = 1e-7
    loss = -np.mean(targets * np.log(s + eps) + (1 - targets) * np.log(1 - s + eps))
    return float(loss), (s - targets) / logits.size


@wrong("bce_with_logits", "行数", "logits.size")
def bce_divides_by_rows(logits, targets):
    n = len(logits)
    return float(_per_element(logits, targets).sum() / n), (_sigmoid(logits) - targets) / n


@wrong("bce_with_logits", "dtype 被提升了", "np.asarray(targets, dtype=float)")
def bce_upcasts_targets(logits, targets):
    y = np.asarray(targets, dtype=float)
    return float(_per_element(logits, y).mean()), (_sigmoid(logits) - y) / logits.size


@wrong("bce_with_logits", "原地修改", "np.clip")
def bce_clips_logits_in_place(logits, targets):
    z = np.clip(logits, -50, 50, out=logits)
    return float(_per_element(z, targets).mean()), (_sigmoid(z) - targets) / z.size


@wrong("bce_with_logits", "没有归约")
def bce_unreduced(logits, targets):
    return _per_element(logits, targets), (_sigmoid(logits) - targets) / logits.size


@wrong("bce_with_logits", "多乘了 s(1 - s)")
def bce_extra_sigmoid_derivative(logits, targets):
    s = _sigmoid(logits)
    return float(_per_element(logits, targets).mean()), (s - targets) * s * (1 - s) / logits.size


@wrong("bce_with_logits", "dtype 被降低了", "输出却是 float32")
def bce_downcasts_to_float32(logits, targets):
    z, y = logits.astype(np.float32), np.asarray(targets, dtype=np.float32)
    return float(_per_element(z, y).mean()), (_sigmoid(z) - y) / z.size


@wrong("bce_with_logits", "只在 float32 的精度上正确")
def bce_computes_in_float32(logits, targets):
    """Computes in float32 but casts dlogits back: float64 inputs lose half their digits."""
    z, y = logits.astype(np.float32), np.asarray(targets, dtype=np.float32)
    return float(_per_element(z, y).mean()), ((_sigmoid(z) - y) / z.size).astype(logits.dtype)


@wrong("bce_with_logits", "在 z = -1e4", "处溢出", "np.exp 上溢为 inf")
def bce_softplus_overflows_for_negative_z(logits, targets):
    """-y log s - (1 - y) log(1 - s) = log(1 + exp(-z)) + (1 - y) z: exact, but exp(-z) overflows
    for z << 0 only (the hint must not blame z = +1e4)."""
    loss = np.mean(np.log1p(np.exp(-logits)) + (1 - targets) * logits)
    return float(loss), (_sigmoid(logits) - targets) / logits.size


@wrong("bce_with_logits", "在 z = -1e4", "RuntimeWarning", "np.exp 上溢为 inf")
def bce_naive_sigmoid_in_gradient(logits, targets):
    """Exact values everywhere, but exp(-z) overflows (a RuntimeWarning) for z << 0 only."""
    s = 1 / (1 + np.exp(-logits))
    return float(_per_element(logits, targets).mean()), (s - targets) / logits.size


@wrong("bce_with_logits", "在 z = +1e4", "dlogits 也必须是有限值")
def bce_sigmoid_as_exp_ratio(logits, targets):
    """sigmoid(z) = exp(z) / (1 + exp(z)) is inf / inf = NaN for z >> 0 only."""
    e = np.exp(logits)
    return float(_per_element(logits, targets).mean()), (e / (1 + e) - targets) / logits.size


@wrong("bce_with_logits", "np.where", "两个分支")
def bce_where_computes_both_branches(logits, targets):
    """Finite and exact, but np.where evaluates both branches: exp overflows on each side."""
    z, y = logits, targets
    per = np.where(z >= 0, z - z * y + np.log1p(np.exp(-z)), -z * y + np.log1p(np.exp(z)))
    return float(per.mean()), (_sigmoid(z) - y) / z.size


# ---- generator_gradient --------------------------------------------------------------

def _through(G, D, z, dlogits_of):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    _, grads = G.backward(d_fake, g_cache)
    return grads


@wrong("generator_gradient", "极小极大", "§3.4")
def gg_minimax_loss(G, D, z):
    # d/dlogits of mean log(1 - sigmoid(l)) = -sigmoid(l) / N
    return _through(G, D, z, lambda l: -_sigmoid(l) / l.size)


@wrong("generator_gradient", "标签写成了 0")
def gg_fake_label(G, D, z):
    return _through(G, D, z, lambda l: (_sigmoid(l) - 0.0) / l.size)


@wrong("generator_gradient", "符号反了")
def gg_sign_flipped(G, D, z):
    return _through(G, D, z, lambda l: (1 - _sigmoid(l)) / l.size)


@wrong("generator_gradient", "漏了 1/N")
def gg_sum_over_batch(G, D, z):
    return _through(G, D, z, lambda l: _sigmoid(l) - 1)


@wrong("generator_gradient", "对概率", "对 logits 的梯度")
def gg_derivative_wrt_probability(G, D, z):
    return _through(G, D, z, lambda l: -1 / (l.size * _sigmoid(l)))


@wrong("generator_gradient", "判别器的参数梯度")
def gg_returns_d_gradients(G, D, z):
    fake, _ = G.forward(z)
    logits, d_cache = D.forward(fake)
    _, d_grads = D.backward((_sigmoid(logits) - 1) / logits.size, d_cache)
    return d_grads


@wrong("generator_gradient", "没有传到 G 的参数")
def gg_gradient_does_not_flow(G, D, z):
    fake, g_cache = G.forward(z)
    _, grads = G.backward(np.zeros_like(fake), g_cache)
    return grads


@wrong("generator_gradient", "跳过了 D")
def gg_skips_discriminator(G, D, z):
    fake, g_cache = G.forward(z)
    logits, _ = D.forward(fake)
    _, grads = G.backward((_sigmoid(logits) - 1) / logits.size, g_cache)  # broadcasts over G's outputs
    return grads


@wrong("generator_gradient", "改动了判别器的参数")
def gg_updates_discriminator(G, D, z):
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, d_grads = D.backward((_sigmoid(logits) - 1) / logits.size, d_cache)
    for name, p in D.params().items():
        p -= 0.01 * d_grads[name]
    _, grads = G.backward(d_fake, g_cache)
    return grads


@wrong("generator_gradient", "经过了概率 p", "1/p 上溢为 inf", "dL/dlogit = (sigmoid(l) - 1)/N")
def gg_through_probability(G, D, z):
    """dL/dp = -1/(N p), times sigmoid' = p (1 - p): exact at ordinary logits, NaN once
    p = D(G(z)) underflows to 0 (logits of -1e2 in float32, -8e2 in float64)."""
    def dlogits(l):
        p = _sigmoid(l)
        return -1 / (l.size * p) * p * (1 - p)
    return _through(G, D, z, dlogits)


@wrong("generator_gradient", "判为真", "exp(l) / (1 + exp(l))")
def gg_sigmoid_as_exp_ratio(G, D, z):
    """exp(l) / (1 + exp(l)) is inf / inf = NaN once D confidently accepts (l >> 0)."""
    def dlogits(l):
        e = np.exp(l)
        return (e / (1 + e) - 1) / l.size
    return _through(G, D, z, dlogits)


@wrong("generator_gradient", "几乎为零", "eps")
def gg_eps_in_probability(G, D, z):
    """Through p with an eps against 1/0: finite, but the gradient vanishes where D rejects."""
    def dlogits(l):
        p = _sigmoid(l)
        return -1 / (l.size * (p + 1e-7)) * p * (1 - p)
    return _through(G, D, z, dlogits)


@wrong("generator_gradient", "只在 float32 的精度上正确")
def gg_downcasts_logits(G, D, z):
    """dlogits computed from float32 logits of a float64 network: 7 digits instead of 16."""
    def dlogits(l):
        l32 = l.astype(np.float32)
        return (_sigmoid(l32) - 1) / l32.size
    return _through(G, D, z, dlogits)


@wrong("generator_gradient", "dtype 被降低了")
def gg_returns_float32(G, D, z):
    grads = _through(G, D, z, lambda l: (_sigmoid(l) - 1) / l.size)
    return {k: v.astype(np.float32) for k, v in grads.items()}


@wrong("generator_gradient", "平均值复制到了每一行", "dL/dlogit_i", "不是再对逐样本的梯度取平均")
def gg_mean_gradient_copied(G, D, z):
    """Every row gets the batch mean of (sigmoid(l) - 1) / N instead of its own dL/dlogit_i."""
    return _through(G, D, z, lambda l: np.full_like(l, np.mean((_sigmoid(l) - 1) / l.size)))


# ======================================================================================
# Unfinished answers, as the notebooks' skeletons leave them.

class TodoLayer(Module):
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, cache):
        raise NotImplementedError


class TodoDense(TodoLayer):
    def __init__(self, in_features, out_features, *, rng=None, dtype=np.float32):
        rng = np.random.default_rng(rng)
        self.W = rng.standard_normal((in_features, out_features)).astype(dtype)
        self.b = np.zeros(out_features, dtype=dtype)

    def params(self):
        return {"W": self.W, "b": self.b}


class TodoLeakyReLU(TodoLayer):
    def __init__(self, alpha=0.2):
        self.alpha = alpha


def todo_function(*args):
    raise NotImplementedError
