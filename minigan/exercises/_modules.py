"""Checkers for the layer exercises ``dense`` (``y = x @ W + b``: x (N, in), W (in, out), b (out,); ``dx = dy @ W.T``,
``dW = x.T @ dy``, ``db = dy.sum(axis=0)``), ``leaky_relu`` (x or alpha x), ``tanh`` and ``sigmoid``: a class with
``forward(x) -> (y, cache)``, ``backward(dy, cache) -> (dx, grads)``.  Each is a :class:`LayerExercise` (reference
layer, fixed cases, a table of mistakes, each a wrong layer from :func:`wrong_layer`) whose ``run`` derives every
check; a wrong y, dx or gradient gets the hint of the mistake whose output on the same inputs equals it.  The
checker passes ``rng=`` / ``dtype=`` to a constructor only if it takes them, then replaces the parameters
(``self.W``, ...) by its own arrays; ``params()`` must return those arrays themselves."""

from __future__ import annotations

import inspect
import warnings
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..nn.activations import sigmoid as stable_sigmoid
from ..nn.module import Module
from . import _kit as kit
from ._kit import DOWNCAST, UPCAST, Failure, Mistake, shape_str

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)

SELF_STATE = "不可重入：中间又运行了一次 forward 之后，backward(dy, cache) 的结果变了，说明 backward 读的是后来的 forward 覆盖掉的东西（存在 self 上的激活值，例如 self.x = x 或 self.y = y），而不是 cache。backward 需要的一切都要放进 cache 返回：判别器 D 会先对真实批和生成批各做一次前向，然后才反向。"
QUEUE = "你的层把输入存在 self 上（例如一个列表或队列，按顺序取出），只在「前向、前向、反向、反向」的固定顺序下碰巧对。GAN.train_step 在两次训练前向之间还会用 G 做一次只前向、不反向的推理，反向的顺序也不一定与前向相同。backward 只能从 cache 读取它需要的东西。"
CACHE_BUFFER = "cache 被下一次 forward 覆盖了：forward 返回的 cache（或 y）是存在 self 上、每次复用的缓冲区（例如 self.buf[...] = x; return y, self.buf），下一次 forward 改写了它，之前那次的 backward 就拿到了错误的数据。每次 forward 都返回新的数组作为 y 和 cache。"
STALE = "forward 没有用当前的参数：y 与你的层刚构造时的参数算出的结果一样，而评分器已经换上了自己的参数（优化器也会原地改动它们）。你在别处存了一份参数（例如 __init__ 里的 self._W = self.W.copy()，或放进了另一个字典），forward、backward 都要每次从 self.<参数名> 读取。"
PARAMS_IN_BACKWARD = "backward 改动了参数（例如 self.W -= lr * dW）：backward 只计算梯度，更新参数是优化器（optimiser）的事。"
MODIFIES_INPUT = "forward 原地修改了输入 x（例如 x[x < 0] *= alpha、x *= ... 或 out=x）：把结果算到新数组里；调用者之后还要用 x。"
W_OUT_IN = "权重转置了：W 的形状是 (out, in)。这里（与 minigan 和 tf.layers.dense 一样）W 是 (in_features, out_features)，这样才有 y = x @ W + b。"
SHAPES = "数组形状对不上：dx 与 x 同形。Dense 的 x 是 (N, in)，W 是 (in, out)，dy 是 (N, out)：y = x @ W + b，dx = dy @ W.T，dW = x.T @ dy，W 转置了或者乘法顺序写反了，正好会报这个错；逐元素的层由 dy 逐元素算出 dx。"
EXTREME_DX = "backward 在这些输入上算错了（那里的导数约为 0 或处于峰值）；如果 dx 的梯度检验也失败，先修那一项。"
#: hard inputs, each row run alone: (x rows, dy rows)
REGIMES = {"zeros": ([[0.0, -0.0, 1.5, -0.0], [-2.0, 0.0, 0.0, 0.5]], [[1.0, -2.0, 0.5, 3.0], [1.0, 1.0, -1.0, 2.0]]),
           "extremes": ([[-1e4, -800.0, -50.0, -1.0, -0.0], [0.0, 1.0, 50.0, 800.0, 1e4]], [[1.0] * 5] * 2)}
PRECISION = "数值几乎一致（相对误差 {error:.1e}）：不是公式错了，而是精度丢了，float64 的计算中途被舍入成了 float32（例如 np.float32(eps)、np.float32(n)、float32 的常数或缓冲区）。float64 进来就全程用 float64：常数用普通的 Python 数，新数组沿用输入的 dtype。"
MEAN_ROWS = "dx 的每一行都相同，都是整批梯度的平均值：backward 逐个样本计算，第 i 行的 dx 只由第 i 行的输入和 dy 决定，不要对批取平均再复制到每一行。对批取平均（1/N）只在损失函数里做一次，它已经包含在 dy 里了。"


class Formula(Module):
    """A layer given by its formulas: ``y = f(x)``, ``dx = d(x, y, dy)``, ``grads = g(x, dy)`` (none: ``{}``)."""

    def forward(self, x):
        y = self.f(x)
        return y, (x, y)

    def backward(self, dy, cache):
        return self.d(*cache, dy), self.g(cache[0], dy) if hasattr(self, "g") else {}


def wrong_layer(base, forward=None, dx=None, grads=None, mixin=None, **methods):
    """``base`` with formulas replaced (``forward(self, x) -> y``, ``dx(self, x, y, dy)``, ``grads(self, x, dy)``)."""
    methods.update({k: v for k, v in (("f", forward), ("d", dx), ("g", grads)) if v is not None})
    return type(methods.pop("name", f"Wrong{base.__name__}"), ((mixin,) if mixin else ()) + (base,), methods)


DenseLayer = wrong_layer(Formula, lambda s, x: x @ s.W + s.b, lambda s, x, y, dy: dy @ s.W.T,
                         lambda s, x, dy: {"W": x.T @ dy, "b": dy.sum(axis=0)}, name="DenseLayer",
                         params=lambda s: {"W": s.W, "b": s.b}, __init__=lambda s, n_in, n_out, *, rng=None, dtype=None:
                         s.__dict__.update(W=np.zeros((n_in, n_out), dtype), b=np.zeros(n_out, dtype)))
LeakyLayer = wrong_layer(Formula, lambda s, x: np.where(x > 0, x, s.alpha * x),
                         lambda s, x, y, dy: dy * np.where(x > 0, 1, s.alpha).astype(dy.dtype), name="LeakyLayer",
                         __init__=lambda s, alpha=0.2: setattr(s, "alpha", alpha))
TanhLayer = wrong_layer(Formula, lambda s, x: np.tanh(x), lambda s, x, y, dy: dy * (1 - y * y), name="TanhLayer")
SigmoidLayer = wrong_layer(Formula, lambda s, x: stable_sigmoid(x), lambda s, x, y, dy: dy * y * (1 - y), name="SigmoidLayer")


class Kept:
    """Keeps the caches on self; forward returns ``hand()`` as the cache, backward uses ``take(cache)``."""

    def forward(self, x):
        y, cache = super().forward(x)
        self.__dict__.setdefault("kept", []).append(cache)
        return y, self.hand()

    def backward(self, dy, cache):
        return super().backward(dy, self.take(cache))


def step(layer, grads):
    """An optimiser's step inside backward: the parameters updated in place; returns ``grads``."""
    for k, p in layer.params().items():
        p -= 0.01 * grads[k]
    return grads


def behaviours(base, culprits):
    """What any layer can get wrong (``culprits``: the usual causes of an upcast)."""
    def kept(hand, take):
        return wrong_layer(base, mixin=Kept, hand=hand, take=take)

    def modifying(self, x):
        y = base.f(self, x.copy())
        x[x < 0] *= 0.5
        return y

    return [Mistake("state_on_self", SELF_STATE, kept(lambda s: None, lambda s, c: s.kept[-1]), "reentrant"),
            Mistake("queue_on_self", QUEUE, kept(lambda s: None, lambda s, c: s.kept.pop(0)), "reentrant"),
            Mistake("cache_buffer", CACHE_BUFFER, kept(lambda s: s.kept, lambda s, c: c[-1]), "reentrant"),
            Mistake("modifies_input", MODIFIES_INPUT, wrong_layer(base, modifying), "forward"),
            Mistake("dx_mean_rows", MEAN_ROWS,
                    wrong_layer(base, dx=lambda s, x, *a: np.ones_like(x) * base.d(s, x, *a).mean(0))),
            Mistake("upcast", UPCAST.format(culprits=culprits),
                    wrong_layer(base, dx=lambda s, *a: base.d(s, *a) * np.float64(1)), "dtype"),
            Mistake("downcast", DOWNCAST, wrong_layer(base, lambda s, x: base.f(s, x).astype(np.float32)), "dtype")]


#: one configuration: a label, x's shape, the constructor's settings, the seed of x, dy and the parameters, x's
#: scale, and the memory layout of x and dy ("C"; "F": Fortran order; "view": every other column of a wider array)
LayerCase = namedtuple("LayerCase", "label shape settings seed scale layout", defaults=("C",))
LAYOUTS = {"C": "", "F": "，x 与 dy 按列存储（Fortran 顺序）", "view": "，x 与 dy 是更宽数组的隔列视图（不连续）"}
NONCONTIGUOUS = "你的代码假定 x（或 dy）在内存里是按行连续存储的：同样的数值，连续存储时结果对，不连续时（例如 x.T、x[:, ::2] 这类视图，或 Fortran 顺序的数组）就错了。常见原因是 np.lib.stride_tricks.as_strided 按 itemsize 自己算步长：用数组自己的 x.strides，或者先 x = np.ascontiguousarray(x)（sliding_window_view 没有这个问题）。"


def layer_case(shape, settings, seed, scale, dtype="float64", layout="C"):
    extra = "".join(f"，{k}={v if isinstance(v, tuple) else format(v, 'g')}" for k, v in settings.items())
    return LayerCase(f"x {shape_str(shape)}，{dtype}，尺度 {scale:g}{extra}{LAYOUTS[layout]}", shape, settings, seed,
                     scale, layout)


def laid_out(a, layout):
    """``a`` with the same values in the memory ``layout`` (see :data:`LayerCase`)."""
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "view":
        wide = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
        wide[:, ::2] = a
        return wide[:, ::2]
    return a


def _call(layer, what, *args):
    """``layer.forward(x)``, ``layer.backward(dy, cache)`` or ``layer.params()``, its form checked."""
    out = kit.call_learner(f"{what}()" if what == "params" else what, getattr(layer, what, dict), *args)
    if what == "params" and not isinstance(out, dict):
        raise Failure(f"params() 返回的是 {type(out).__name__}", "params() 必须返回字典 {名字: 数组}（没有参数的层返回 {}）。")
    if what != "params" and not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"{what} 返回的是 {type(out).__name__}，不是一对 " + ("(y, cache)" if what == "forward" else "(dx, grads)"), "forward 必须返回两样东西：输出 y 和留给 backward 的 cache（return y, cache）。" if what == "forward" else "backward 必须返回两样东西：dx 和参数梯度的字典（return dx, grads；没有参数的层 grads 是 {}）。")
    if what == "forward" and not isinstance(out[0], np.ndarray):
        raise Failure(f"forward 返回的 y 是 {type(out[0]).__name__}", "forward 必须把 y 作为 NumPy 数组返回。")
    return out


def library_layer(layer) -> bool:
    """``layer`` is an instance of one of minigan's own layers (a subclass of one), which keep their dtype in
    ``self.dtype`` and refuse inputs of another."""
    return any(c.__module__.startswith("minigan.nn.") and c is not Module for c in type(layer).__mro__) and \
        isinstance(vars(layer).get("dtype"), np.dtype)


def require_keys(grads, ref) -> None:
    """``grads`` must be a dict with exactly the keys of ``ref`` (the reference's grads)."""
    if not (isinstance(grads, dict) and grads.keys() == ref.keys()):
        raise Failure(f"grads 是 {grads!r:.60}，params() 的键是 {sorted(ref)}", f"backward 返回的 grads 必须恰好有 params() 的这些键 {sorted(ref)}，不多也不少、不能改名；你的是 {sorted(grads) if isinstance(grads, dict) else grads!r:.40}（优化器按名字把梯度对应到参数上；没有参数的层返回 {{}}）。")


#: float64 values agree to 1e-7 relative: a constant rounded to float32 such as np.float32(eps) (amplified where a
#: batch norm's variance is small) is no mistake; an intermediate array rounded to float32 fails the gradient check
VALUES_RTOL = {F64: 1e-7}


def precision_hint(mine, want) -> str:
    """:data:`PRECISION` when ``mine`` is ``want`` up to float32 rounding (relative 1e-11 to 1e-6), else ``""``."""
    if np.shape(mine) != np.shape(want) or getattr(mine, "dtype", None) != F64 or not kit.finite(mine):
        return ""
    error = float(np.max(np.abs(mine - want), initial=0.0)) / max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return PRECISION.format(error=error) if 1e-11 < error < 1e-6 else ""


def _pick(out, part):
    return out[part == "dx"] if part in ("y", "dx") else (out[2].get(part) if isinstance(out[2], dict) else None)


@dataclass
class LayerExercise:
    """A layer exercise, declared: ``specs`` the fixed cases (x's shape, constructor settings, x's scale); ``MISTAKES``
    the table (its "upcast" gives the hint for float32 made float64); ``zero_slopes(case)`` the slopes accepted at x
    = 0 (``None``: no exact-zero check); ``extreme_hint(side)`` the hint for overflow at x = side 1e4 (``None``: no
    extreme inputs); ``default_hint``: the constructor lacks a default."""

    name: str
    description: str
    reference: type
    specs: list
    MISTAKES: list  # the name ``mistakes(name)`` reads
    forward_hint: str
    inputs: Callable = lambda rng, shape, dtype, scale: (rng.standard_normal(shape) * scale).astype(dtype)
    zero_slopes: Callable | None = None
    zero_hint: str = "x = 0 处出现了 NaN/inf 或 RuntimeWarning：代码里有除以 x 或除以 y 的运算（例如导数写成 y / x），在 x = 0 处成了 0 / 0 = NaN。直接按导数公式计算，不要用除法反推。"
    zero_slope_hint: str = ""
    extreme_hint: Callable | None = None
    default_hint: str = ""
    keywords: tuple = ()  # the settings passed by keyword (the others positionally, in order)
    dy_width: Callable = lambda settings, width: settings.get("n_out", width)  # dy's columns
    draw: Callable | None = None  # the property's (n, d, out, alpha, seed) -> (x's shape, settings)
    shapes_hint: str = SHAPES  # said for a matmul or broadcasting error
    y_shape_hint: str = ""  # said when y has the wrong shape (default: forward_hint)
    diagnose: Callable | None = None  # (exercise, part, got, case, x, dy) -> a hint when no mistake matches
    own_dtype: bool = False  # the layer's own parameters must be float32 (its constructor takes no dtype)

    def build(self, cls, settings, **kwargs):
        return cls(*(v for k, v in settings.items() if k not in self.keywords),
                   **{k: v for k, v in settings.items() if k in self.keywords}, **kwargs)

    def hint(self, key, default=""):
        """The hint of the table's mistake ``key`` (``default`` if the table has none)."""
        return next((m.hint for m in self.MISTAKES if m.key == key), default)

    def layer(self, answer, case, dtype):
        """The answer built with the case's settings, its parameters (checked) replaced by the case's in ``dtype``
        (and, for a subclass of one of minigan's layers, its ``self.dtype``, so that it takes the case's inputs).
        ``rng=0`` and ``dtype=`` are passed if the constructor names them (or takes ``**kwargs`` and the contract
        has them)."""
        ref = self.build(self.reference, case.settings).params()
        sig = inspect.signature(answer).parameters if ref else {}
        var = any(p.kind is p.VAR_KEYWORD for p in sig.values()) and not self.own_dtype
        kwargs = {k: v for k, v in (("rng", 0), ("dtype", dtype)) if var or k in sig}
        args = ", ".join([f"{k}={v}" if k in self.keywords else str(v) for k, v in case.settings.items()]
                         + [f"{k}={np.dtype(v).name if k == 'dtype' else v}" for k, v in kwargs.items()])
        layer = kit.call_learner(f"构造函数 {answer.__name__}({args})", self.build, answer, case.settings, **kwargs)
        rng = np.random.default_rng([case.seed, 1])
        for name, want in ref.items():
            if not hasattr(layer, name):
                raise Failure(f"{answer.__name__}({args}) 没有属性 self.{name}", f"参数要存为 self.{name}（形状 {shape_str(want.shape)}），params() 返回 " + "{" + ", ".join(f"'{k}': self.{k}" for k in ref) + "}：评分器和优化器按这些名字找参数（不要改名，例如 weight、bias）。")
            have = np.shape(getattr(layer, name))
            if have != want.shape:
                raise Failure(f"{answer.__name__}({args}).{name} 的形状是 {shape_str(have)}，应为 {shape_str(want.shape)}", self.hint("transposed", W_OUT_IN) if sorted(have) == sorted(want.shape) else f"把参数存为 self.{name}，形状 {shape_str(want.shape)}。")
            setattr(layer, name, (rng.standard_normal(want.shape) * 0.7).astype(dtype))
        if ref and library_layer(layer):
            layer.dtype = np.dtype(dtype)
        params = _call(layer, "params")
        wanted = "{" + ", ".join(f"'{k}': self.{k}" for k in ref) + "}"
        if params.keys() != ref.keys():
            raise Failure(f"params() 的键是 {sorted(params)}，应为 {sorted(ref)}", f"params() 返回 {wanted}：键名是约定的一部分（不要改名，例如 weight、bias），优化器按名字把梯度对应到参数上，backward 返回的 grads 也用同样的键（没有参数的层返回 {{}}）。")
        if any(p is not getattr(layer, k) for k, p in params.items()):
            raise Failure(f"params() 返回的不是参数数组本身（{sorted(params)}）", f"params() 必须返回数组本身 {wanted}（不是副本）：优化器和梯度检验会原地修改它们。")
        return layer

    def data(self, case, dtype=F64, layout=None):
        rng = np.random.default_rng(case.seed)
        x = self.inputs(rng, case.shape, dtype, case.scale)
        dy = rng.standard_normal((case.shape[0], self.dy_width(case.settings, case.shape[1]))).astype(dtype)
        return tuple(laid_out(a, case.layout if layout is None else layout) for a in (x, dy))

    def trip(self, answer, case, x=None, dy=None, dtype=F64, backward=True):
        """``(y, dx, grads)`` of a fresh layer on x and dy (default: the case's), which it must not change."""
        (x, dy), layer = (x, dy) if x is not None else self.data(case, dtype), self.layer(answer, case, dtype)
        (x0, dy0, params0), (y, cache) = kit.snapshot((x, dy, _call(layer, "params"))), _call(layer, "forward", x)
        if kit.changed((x0, params0), (x, _call(layer, "params"))):
            raise Failure("forward 修改了它的输入 x 或参数", MODIFIES_INPUT if kit.changed(x0, x) else "forward 不能改动参数。")
        cache0 = kit.snapshot(cache)
        out = _call(layer, "backward", dy, cache) if backward else (None, None)
        for what, before, after, hint in (
                ("它的输入 dy", dy0, dy, "backward 原地修改了 dy（例如 dy *= slope、dy *= gamma 或 dy[x < 0] *= alpha）：返回新数组；调用者可能还要再用 dy（D 的梯度会流向两个分支）。"),
                ("cache", cache0, cache, "backward 原地修改了 cache：把 cache 当作只读（从同一个 cache 再做一次 backward 必须得到同样的结果）。"),
                ("参数", params0, _call(layer, "params"), PARAMS_IN_BACKWARD)):
            if kit.changed(before, after):
                raise Failure(f"backward 修改了{what}", hint)
        return (y, *out)

    def match(self, got, case, part, x=None, dy=None, dtype=F64) -> str:
        """The hint of the first mistake whose ``part`` on the same inputs equals ``got``'s, not the reference's."""
        ref = _pick(self.trip(self.reference, case, x, dy, dtype), part)
        for m in (m for m in self.MISTAKES if m.check is None):
            try:
                with np.errstate(all="ignore"):
                    wrong = _pick(self.trip(m.answer, case, x, dy, dtype), part)
                if kit.tree_equal(_pick(got, part), wrong, kit.tolerance(dtype)) and not kit.tree_equal(wrong, ref):
                    return m.hint
            except Exception:  # noqa: BLE001 - a wrong layer that fails on these inputs, or a part that is no array
                continue
        return ""

    def value_hint(self, answer, got, case, part, x, dy, dtype, want) -> str:
        """The hint for a wrong ``part`` of ``got``: the table's mistake, the exercise's diagnosis, lost precision,
        stale parameters (y), y's shape, or the forward's formula (y) / a pointer to the gradient check."""
        mine, name = _pick(got, part), part if part in ("y", "dx") else "d" + part
        hint = (self.match(got, case, part, x, dy, dtype) or self.diagnosis(part, got, case, x, dy)
                or precision_hint(mine, want))
        if hint or part != "y":
            return hint or f"见上面 {name} 的梯度检验。"
        return self.stale_params(answer, case, x, dtype, mine) or (
            self.y_shape_hint if np.shape(mine) != want.shape else "") or self.forward_hint

    def agrees_contiguous(self, answer, case, dtype) -> bool:
        """The answer gives the reference's y, dx and grads on the case's values laid out contiguously."""
        try:
            x, dy = self.data(case, dtype, layout="C")
            got, ref = self.trip(answer, case, x, dy, dtype), self.trip(self.reference, case, x, dy, dtype)
            return kit.tree_equal(got, ref, VALUES_RTOL.get(dtype) or kit.tolerance(dtype))
        except Exception:  # noqa: BLE001 - it fails there too: not a matter of layout
            return False

    def stale_params(self, answer, case, x, dtype, y) -> str:
        """:data:`STALE` when y is the reference's with the answer's own initial parameters (the constructor's),
        not those the checker put in ``self.<name>``."""
        try:
            own = kit.snapshot(_call(self.build(answer, case.settings), "params"))
            ref = self.layer(self.reference, case, dtype)
            for name, p in own.items():
                setattr(ref, name, np.asarray(p, dtype))
            stale = _call(ref, "forward", x)[0]
        except Exception:  # noqa: BLE001 - a constructor that needs what the checker passes, parameters of odd shapes
            return ""
        return STALE if np.shape(stale) == np.shape(y) and kit.tree_equal(y, stale, kit.tolerance(dtype)) else ""

    def diagnosis(self, part, got, case, x=None, dy=None) -> str:
        """The exercise's own reading of a wrong ``part`` no mistake explains (``""``: none)."""
        if self.diagnose is None:
            return ""
        (x, dy) = (x, dy) if x is not None else self.data(case)
        try:
            with np.errstate(all="ignore"):
                return self.diagnose(self, part, _pick(got, part), case, x, dy)
        except Exception:  # noqa: BLE001 - an answer's output the diagnosis cannot read (a list, a wrong shape ...)
            return ""

    def dtypes(self, answer, case) -> str:
        """float32 and float64 kept, grads' keys, inputs unchanged; with ``own_dtype``, the layer's own parameters."""
        detail = self.values(answer, [case], (F32, F64))
        if self.own_dtype:
            self.params_dtype(answer, case)
        return detail

    def params_dtype(self, answer, case) -> None:
        """The layer's own parameters (before the checker replaces them) are float32, as minigan's layers are."""
        takes = inspect.signature(answer).parameters
        layer = self.build(answer, case.settings, **({"dtype": F32} if "dtype" in takes else {}))
        for name, p in _call(layer, "params").items():
            if getattr(p, "dtype", F32) != F32:
                raise Failure(f"{answer.__name__} 自己创建的参数 {name} 是 {np.dtype(p.dtype).name}", "参数要建成 float32（例如 np.ones(n, dtype=np.float32)，或 .astype(np.float32)）：np.ones、np.zeros、rng.standard_normal 默认得到 float64，float32 的网络经过这一层就被提升为 float64 了。评分器测数值时会换上自己的参数，所以只在这里看得出来。")

    def explain(self, exc: BaseException) -> str:
        text = str(kit.original(exc))
        return self.default_hint if "required positional argument" in text else self.shapes_hint if any(
            s in text for s in ("matmul", "not aligned", "could not be broadcast")) else ""

    def require_dtype(self, what: str, array, dtype) -> None:
        got = getattr(array, "dtype", dtype)
        if got != dtype:
            hint = {(F64, F32): DOWNCAST, (F32, F64): self.hint("upcast")}
            raise Failure(f"{dtype.name} 的输入得到了 {np.dtype(got).name} 的 {what}", hint.get((dtype, got), f"{what} 的 dtype 要与输入相同（{dtype.name}）。"))

    # -- the checks --------------------------------------------------------------------
    def run(self, answer, result: kit.ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
        s = kit.Session(result, self.explain)
        cases = [layer_case(*spec[:2], seed * 100 + 10 * k, spec[2]) for k, spec in enumerate(self.specs)]
        if not s.run("构造函数", lambda: self.constructor(answer, cases)) and not s.todo_seen:
            return
        s.run("forward：数值", lambda: self.values(answer, cases, parts=("y",)))
        for part in ("dx", *self.build(self.reference, cases[0].settings).params()):
            s.run(f"backward：{'d' * (part != 'dx')}{part}（梯度检验）", lambda part=part: self.gradient(answer, cases, part))
        s.run("可重入：穿插推理前向、逆序反向", lambda: self.reentrant(answer, cases[0]))
        s.run("dtype（float32 与 float64）、grads 的键、输入不变", lambda: self.dtypes(answer, cases[0]))
        if self.zero_slopes is not None:
            s.run("恰好为零的输入：x = ±0", lambda: self.regime(answer, cases[0], "zeros"))
        if self.extreme_hint is not None:
            s.run("极端输入：x = ±1e4（float64 与 float32）", lambda: self.regime(answer, cases[0], "extremes"))
        s.run("性质测试（hypothesis）：形状、dtype、数值",
              lambda: self.property(answer, max_examples, shrink=not result.failed))

    def constructor(self, answer, cases):
        if not (isinstance(answer, type) and all(callable(getattr(answer, n, None)) for n in ("forward", "backward"))):
            raise Failure(f"答案是 {answer!r:.50}，不是带 forward 与 backward 方法的类", f"要传入类本身，例如 check({self.name!r}, MyLayer)，而不是实例 MyLayer(...)。" if hasattr(answer, "forward") and not isinstance(answer, type) else "答案是一个类，带有 forward(x) -> (y, cache) 和 backward(dy, cache) -> (dx, grads)（模块协议）。")
        params = [_call(self.layer(answer, case, F64), "params") for case in cases][0]
        return f"构造了 {answer.__name__}" + "".join(f"，{k} {shape_str(v.shape)}" for k, v in params.items())

    def values(self, answer, cases, dtypes=(F64,), parts=None) -> str:
        """``parts`` (default: y, dx, grads) of each case in each dtype: the reference's dtype, keys and values."""
        for case, dtype in ((case, dtype) for case in cases for dtype in dtypes):
            x, dy = self.data(case, dtype)
            got, ref = self.trip(answer, case, x, dy, dtype, not parts), self.trip(self.reference, case, x, dy, dtype)
            if not parts:
                require_keys(got[2], ref[2])
            for part in parts or ("y", "dx", *ref[2]):
                (mine, want), name = (_pick(got, part), _pick(ref, part)), part if part in ("y", "dx") else "d" + part
                if isinstance(mine, np.ndarray) and mine.shape == want.shape:
                    self.require_dtype(name, mine, dtype)
                    if kit.tree_equal(mine, want, VALUES_RTOL.get(dtype) or kit.tolerance(dtype)):
                        continue
                if case.layout != "C" and self.agrees_contiguous(answer, case, dtype):
                    raise Failure("：".join(filter(None, (case.label, f"{name} 与参考实现不同"))), NONCONTIGUOUS)
                shown = (f"最大绝对误差 {np.max(np.abs(mine - want)):.2e}" if np.shape(mine) == want.shape else f"形状是 {shape_str(np.shape(mine))}，应为 {shape_str(want.shape)}")
                raise Failure("：".join(filter(None, (case.label, f"{name} 的{shown}"))),
                              self.value_hint(answer, got, case, part, x, dy, dtype, want))
        return f"{len(cases)} 个用例（{'、'.join(d.name for d in dtypes)}）：dtype 与数值都与 minigan 的参考实现一致"

    def gradient(self, answer, cases, part):
        worst, what = [], part if part == "dx" else f"d{part}"
        for case in cases:
            (x, dy), got, layer = self.data(case), self.trip(answer, case), self.layer(answer, case, F64)
            if part != "dx":
                require_keys(got[2], self.trip(self.reference, case)[2])
            self.require_dtype(what, _pick(got, part), F64)
            num, noise = kit.numeric_gradient(lambda layer=layer, x=x: _call(layer, "forward", x.copy())[0],
                                              x if part == "dx" else _call(layer, "params")[part], dy)
            ref = _pick(self.trip(self.reference, case), part)
            try:
                worst.append(kit.gradient_verdict(what, _pick(got, part), num, noise, ref, n=x.shape[0]))
            except Failure as f:
                raise Failure(f"{case.label}：{f.detail}", self.match(got, case, part) or self.diagnosis(part, got, case)
                              or precision_hint(_pick(got, part), ref) or f.hint) from None
        return f"{len(cases)} 个用例，与有限差分相比，最大相对误差 {max(worst):.1e}"

    def reentrant(self, answer, case, dtype=F64):
        """forward(x1); an inference forward(x_inf), never backpropagated; forward(x2); then backward(dy2, cache2) and
        backward(dy1, cache1), as ``GAN.train_step`` interleaves them: each must equal its batch run alone."""
        layer, rtol = self.layer(answer, case, dtype), kit.tolerance(dtype)
        (x1, dy1), (x_inf, _), (x2, dy2) = (self.data(case._replace(seed=case.seed + i), dtype) for i in range(3))

        def alone(x, dy):
            return kit.snapshot(_call(layer, "backward", dy.copy(), _call(layer, "forward", x.copy())[1]))

        ref1, ref2, (y1, c1) = alone(x1, dy1), alone(x2, dy2), _call(layer, "forward", x1.copy())
        kept = kit.snapshot((y1, c1))
        _call(layer, "forward", x_inf.copy())
        c2 = _call(layer, "forward", x2.copy())[1]
        if kit.changed(kept, (y1, c1)):
            raise Failure("forward(x1) 返回的 y 或 cache 被之后的 forward 改写了", CACHE_BUFFER)
        out2 = _call(layer, "backward", dy2.copy(), c2)
        kept, out1 = kit.snapshot(out2), _call(layer, "backward", dy1.copy(), c1)
        if kit.changed(kept, out2):
            raise Failure("再次运行 backward 后，前一次 backward 返回的 dx 变了", "backward 返回的数组被后来的 backward 覆盖了（反复使用的缓冲区）：返回新数组。")

        def agrees(out, ref):
            return kit.same(out[0], ref[0], rtol) and isinstance(out[1], dict) and not kit.changed(ref[1], out[1])

        order = "forward(x1)、forward(x_推理)、forward(x2)，然后 backward(dy2, cache2)、backward(dy1, cache1)"
        for label, out, ref, dy, own in (("backward(dy2, cache2)", out2, ref2, dy2, 2),
                                         ("backward(dy1, cache1)", out1, ref1, dy1, 0)):
            if agrees(out, ref):
                continue
            others = [i for i, x in enumerate((x1, x_inf, x2))
                      if i != own and agrees(out, self.trip(self.reference, case, x, dy, dtype)[1:])]
            if others and others[0] != 2:  # the gradient of an earlier batch: inputs kept on self in a queue
                raise Failure(f"{order}：{label} 得到的是另一批输入的梯度", f"backward 没有使用传给它的 cache：{label} 的梯度用的是另一次 forward 的输入。{QUEUE}")
            raise Failure(f"{order}：{label} " + ("得到的是最后一次 forward 那一批的梯度" if others else "与单独运行这一批的结果不同"), self.hint("state_on_self", SELF_STATE))
        return "每次 backward 都只用了自己的 cache（含穿插的推理前向与逆序反向）"

    def regime(self, answer, case, which):
        """Each row of ``REGIMES[which]`` alone, float64 and float32: finite, no RuntimeWarning (else the side that
        broke), y and dx/dy the reference's (at exact zeros any slope between ``zero_slopes``: the subgradients)."""
        (rows, dys), at_zero = REGIMES[which], which == "zeros"
        for dtype in (F64, F32):
            atol, broken, what = (1e-12 if dtype == F64 else 1e-6), [], []
            for i, (x, dy) in enumerate(zip(np.array(rows)[:, None], np.array(dys)[:, None])):
                with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
                    warnings.simplefilter("always")
                    y, dx, _ = self.trip(answer, case, x.astype(dtype), dy.astype(dtype), dtype)
                bad = [f"x = {x.ravel().tolist()} 时{text}" for text, ok in (("出现 NaN/inf", kit.finite((y, dx))), *((f"出现 RuntimeWarning（{w.message}）", False) for w in caught[:1])) if not ok]
                broken, what = broken + [i] * bool(bad), what + bad
                ref_y, ref_dx, _ = self.trip(self.reference, case, x, dy)
                lo, hi = (np.where(x == 0, f(self.zero_slopes(case)), ref_dx / dy) if at_zero else ref_dx / dy
                          for f in (min, max))
                slope, mask = np.asarray(dx, np.float64) / dy, (x == 0) | (not at_zero)
                off = mask & ((slope < lo - 1e-5 * np.abs(lo) - atol) | (slope > hi + 1e-5 * np.abs(hi) + atol))
                if not bad and not np.allclose(y[mask], ref_y[mask], rtol=1e-6, atol=atol):
                    raise Failure(f"{dtype.name}：x = {x[mask].tolist()} 处 y = {y[mask].tolist()}，应为 {ref_y[mask].tolist()}", "结果有限，但不精确：" + self.forward_hint)
                if not bad and np.any(off):
                    raise Failure(f"{dtype.name}：x = {x[off].tolist()} 处 dx/dy = {slope[off].tolist()}，应为 {lo[off].tolist()}" + (f" 到 {hi[off].tolist()} 之间（含两端）" if np.any(lo[off] != hi[off]) else ""), self.zero_slope_hint if at_zero else EXTREME_DX)
            if broken:
                raise Failure(f"{dtype.name}：" + "；".join(what), self.zero_hint if at_zero else
                              self.extreme_hint("-+"[broken[0]] if len(broken) == 1 else "±"))
        return "有限、精确，没有 RuntimeWarning"

    def property(self, answer, max_examples, shrink=True):
        """Random shapes, dtypes, scales and settings: values, dtypes and keys, inputs unchanged, re-entrancy."""
        from hypothesis import strategies as st

        def make(drawn):
            n, d, out, dtype, scale, alpha, seed, layout = drawn
            shape, settings = self.draw(n, d, out, alpha, seed) if self.draw else ((n, d), {k: v for k, v in (
                ("n_in", d), ("n_out", out), ("alpha", alpha)) if k in self.specs[0][1]})
            return layer_case(shape, settings, seed, scale, dtype, layout), np.dtype(dtype)

        def prop(drawn):
            case, dtype = make(drawn)  # its label is said once, before the failure's detail
            self.values(answer, [case._replace(label="")], (dtype,))
            self.reentrant(answer, case, dtype)

        strategy = st.tuples(*[st.integers(1, 6)] * 3, st.sampled_from(["float32", "float64"]),
                             st.sampled_from((0.01, 1.0, 10.0)), st.floats(0.0, 1.0), st.integers(0, 2**16),
                             st.sampled_from(list(LAYOUTS)))
        return kit.run_property(strategy, prop, lambda drawn: make(drawn)[0].label, self.explain, max_examples=max_examples, what="形状、dtype 保持、数值一致、输入不变、可重入", shrink=shrink)


DENSE = LayerExercise("dense", "全连接层 y = x @ W + b：前向与反向（dx、dW、db）", DenseLayer, [
    ((n, i), {"n_in": i, "n_out": o}, 1.0) for n, i, o in ((3, 3, 3), (4, 3, 2), (1, 2, 3), (2, 4, 5))], [
    Mistake("no_bias", "漏了偏置：y = x @ W + b，偏置 b 没有加上。", wrong_layer(DenseLayer, lambda s, x: x @ s.W)),
    Mistake("bias_subtracted", "偏置的符号：y = x @ W + b，你把偏置减掉了。", wrong_layer(DenseLayer, lambda s, x: x @ s.W - s.b)),
    Mistake("forward_transposed", "权重转置了：forward 用了 x @ W.T；W 的形状是 (in, out)，应为 y = x @ W + b。", wrong_layer(DenseLayer, lambda s, x: x @ s.W.T + s.b)),
    Mistake("dx_not_transposed", "矩阵乘法写错了：dx = dy @ W；对 x 的梯度需要转置，dx = dy @ W.T（(N, out) @ (out, in)）。", wrong_layer(DenseLayer, dx=lambda s, x, y, dy: dy @ s.W)),
    Mistake("dW_transposed", "dW 转置了：dW = x.T @ dy 与 W 同形，是 (in, out)；dy.T @ x 是 (out, in)。", wrong_layer(DenseLayer, grads=lambda s, x, dy: {"W": dy.T @ x, "b": dy.sum(axis=0)})),
    Mistake("db_not_summed", "偏置梯度没有对批求和：b 加到了每一行上，所以 db = dy.sum(axis=0)，与 b 同形 (out,)；dy 本身是 (N, out)。", wrong_layer(DenseLayer, grads=lambda s, x, dy: {"W": x.T @ dy, "b": dy})),
    Mistake("db_axis", "偏置梯度求和的轴错了：db = dy.sum(axis=0) 对批（行）求和；axis=1 是对输出单元求和。", wrong_layer(DenseLayer, grads=lambda s, x, dy: {"W": x.T @ dy, "b": dy.sum(axis=1)})),
    Mistake("db_keepdims", "db 的形状是 (1, out)：去掉 keepdims=True，db = dy.sum(axis=0) 与 b 同形 (out,)。", wrong_layer(DenseLayer, grads=lambda s, x, dy: {"W": x.T @ dy, "b": dy.sum(axis=0, keepdims=True)})),
    Mistake("db_mean_rows", "db 的每一行都是 dy 对批的平均值：偏置加到了每一行上，它的梯度是各行 dy 的和 db = dy.sum(axis=0)，与 b 同形 (out,)；不是平均值，也不要复制到每一行。", wrong_layer(DenseLayer, grads=lambda s, x, dy: {"W": x.T @ dy, "b": np.ones_like(dy) * dy.mean(0)})),
    Mistake("params_in_backward", PARAMS_IN_BACKWARD,
            wrong_layer(DenseLayer, grads=lambda s, x, dy: step(s, DenseLayer.g(s, x, dy))), "backward"),
    *behaviours(DenseLayer, "np.float64 标量、.astype(float) 或求和时写了 dtype=float、用 np.zeros(shape)（默认 float64）做累加器")],
    "forward 的数值与 y = x @ W + b 不符（x (N, in)，W (in, out)，b (out,)）。",)


def _leaky_inputs(rng, shape, dtype, scale):
    x = rng.standard_normal(shape) * 2.0
    x = np.where(np.abs(x) < 0.05, np.copysign(0.05, x), x) * scale  # away from the kink at 0
    x.flat[0], x.flat[-1] = abs(x.flat[0]), -abs(x.flat[-1])  # both signs in every case
    return x.astype(dtype)


def slope(fn):
    """The derivative ``dx = dy * fn(self, x, y)``, in dy's dtype."""
    return lambda s, x, y, dy: dy * np.asarray(fn(s, x, y)).astype(dy.dtype)


LEAKY_RELU = LayerExercise("leaky_relu", "LeakyReLU：x > 0 时 f(x) = x，否则 f(x) = alpha * x；前向与反向", LeakyLayer, [
    (s, {"alpha": a}, 1.0) for s, a in (((4, 3), 0.2), ((3, 5), 0.05), ((2, 4), 0.0), ((5, 2), 0.7))]
    + [((3, 4), {}, 1.0)], [
    Mistake("hard_coded_alpha", "把 alpha 写死成了 0.2：forward 和 backward 都要用构造函数传进来的 alpha（self.alpha）。",
            wrong_layer(LeakyLayer, lambda s, x: np.where(x > 0, x, 0.2 * x),
                        slope(lambda s, x, y: np.where(x > 0, 1, 0.2)))),
    Mistake("relu", "负半轴输出了 0（那是 ReLU）：leaky ReLU 在 x < 0 时保留 alpha * x。", wrong_layer(LeakyLayer, lambda s, x: np.maximum(x, 0))),
    Mistake("sides_swapped", "两边写反了：x > 0 时 f(x) = x，x <= 0 时 f(x) = alpha * x。", wrong_layer(LeakyLayer, lambda s, x: np.where(x > 0, s.alpha * x, x))),
    Mistake("alpha_unused", "alpha 根本没有用上：x <= 0 时 f(x) = alpha * x。", wrong_layer(LeakyLayer, lambda s, x: x.copy())),
    Mistake("relu_derivative", "leaky ReLU 的导数在负半轴写成了 0（那是 ReLU 的）；那里是 alpha：dx = dy * where(x > 0, 1, alpha)。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: x > 0))),
    Mistake("tests_cached_output", "只在 alpha = 0 时出错：这时每个负的 x 都给出 y = 0，所以对缓存的输出做的判断，例如 np.where(y >= 0, 1, alpha)，对它们全都走了正分支（负半轴斜率成了 1）。缓存 x，或者判断 y > 0。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: np.where(y >= 0, 1, s.alpha)))),
    Mistake("derivative_swapped", "导数的两边写反了：x > 0 时为 1，x <= 0 时为 alpha。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: np.where(x > 0, s.alpha, 1)))),
    Mistake("slope_one", "负半轴的斜率成了 1：那里的导数是 alpha，dx = dy * where(x > 0, 1, alpha)。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: 1))),
    Mistake("times_output", "dx = dy * y 乘的是输出，不是导数 f'(x)（1 或 alpha）。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: y))),
    Mistake("times_input", "dx = dy * x 乘的是输入，不是导数 f'(x)（1 或 alpha）。", wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: x))),
    Mistake("y_over_x", "x = 0 处出现了 NaN/inf 或 RuntimeWarning：导数写成了 y / x 这类除以 x 的形式，在 x = 0 处是 0 / 0 = NaN。恰好为 0 的输入很常见（书中的例子就有，ReLU 类网络里也常出现）。导数直接写成 np.where(x > 0, 1, alpha)。",
            wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: y / x)), "zeros"),
    Mistake("zero_slope_at_zero", "x = 0 处 leaky ReLU 不可导：导数（次梯度）可以取 alpha 与 1 之间的任何值，通常取其中一端，例如 dx = dy * np.where(x > 0, 1, alpha)。取 0（例如 (x > 0) + alpha * (x < 0)）不对。",
            wrong_layer(LeakyLayer, dx=slope(lambda s, x, y: (x > 0) + s.alpha * (x < 0))), "zeros"),
    Mistake("no_default_alpha", "给 alpha 一个默认值 0.2（tf.nn.leaky_relu 的默认值，文章的代码用的就是它）：def __init__(self, alpha=0.2)。", wrong_layer(LeakyLayer, __init__=lambda s, alpha: setattr(s, "alpha", alpha)), "constructor"),
    *behaviours(LeakyLayer, "np.where(x > 0, 1.0, alpha)（两个分支都是 Python 浮点数：得到 float64 数组）、np.float64(alpha) * x、np.ones(x.shape)（默认 float64）")],
    "forward 的数值与 f(x) 不符：x > 0 时为 x，否则为 alpha * x（不传 alpha 时 alpha 默认为 0.2）。", inputs=_leaky_inputs,
    zero_slopes=lambda case: (1.0, case.settings["alpha"]))
LEAKY_RELU.zero_hint, LEAKY_RELU.zero_slope_hint, LEAKY_RELU.default_hint = (
    m.hint for m in LEAKY_RELU.MISTAKES if m.check in ("zeros", "constructor"))

TANH_EXP = "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) 在那里是 inf / inf = NaN。用 np.tanh(x)，它对任何 x 都精确（tanh 在 ±1 处饱和）。"
TANH = LayerExercise("tanh", "Tanh：y = tanh(x)，前向与反向", TanhLayer, [((4, 3), {}, 1.0), ((3, 5), {}, 0.6), ((1, 4), {}, 1.4)], [
    Mistake("derivative_of_input", "tanh 的导数用输入写成了 1 - x**2。应为 1 - y**2，其中 y = tanh(x) 是输出（缓存 y，或者计算 1 - tanh(x)**2）。", wrong_layer(TanhLayer, dx=slope(lambda s, x, y: 1 - x ** 2))),
    Mistake("applied_twice", "tanh 用了两次：cache 里已经是 y = tanh(x)，所以导数是 1 - y**2，不是 1 - tanh(y)**2。", wrong_layer(TanhLayer, dx=slope(lambda s, x, y: 1 - np.tanh(y) ** 2))),
    Mistake("one_minus_y", "导数写成了 1 - y：应为 1 - y**2（y 的平方）。", wrong_layer(TanhLayer, dx=slope(lambda s, x, y: 1 - y))),
    Mistake("times_output", "dx = dy * y 乘的是输出，不是导数 1 - y**2。", wrong_layer(TanhLayer, dx=slope(lambda s, x, y: y))),
    Mistake("from_exp", TANH_EXP, wrong_layer(
        TanhLayer, lambda s, x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))), "extremes"),
    *behaviours(TanhLayer, "np.float64(1) - y ** 2；np.ones(y.shape) - y ** 2（np.ones 默认是 float64）")],
    "forward 的数值与 np.tanh(x) 不符。", zero_slopes=lambda case: (1.0,), zero_slope_hint="x = 0 处 tanh 的导数是 1 - tanh(0)**2 = 1：dx = dy * (1 - y**2)。",
    extreme_hint=lambda side: f"在 x = {side}1e4 处溢出：" + TANH_EXP)

STABLE = "改用分段稳定的写法：令 e = exp(-|x|)，x >= 0 时 sigmoid = 1 / (1 + e)，x < 0 时为 e / (1 + e)，这样 exp 永远不会碰到很大的正数。"
OVERFLOW = {"-": "在 x = -1e4 处溢出：朴素写法 1 / (1 + np.exp(-x)) 在那里算 exp(1e4) = inf（产生 RuntimeWarning）。" + STABLE, "+": "在 x = +1e4 处溢出：exp(x) / (1 + exp(x)) 这类写法在 x 很大时算 exp(1e4) = inf，得到 inf / inf = NaN（或 RuntimeWarning）。" + STABLE, "±": "在 x = ±1e4 两侧都溢出：常见原因是 np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))——np.where 会在所有位置把两个分支都算一遍，所以仍然会溢出；或者 exp 的参数在两侧都可能很大。" + STABLE}
SIGMOID = LayerExercise("sigmoid", "Sigmoid：y = 1 / (1 + exp(-x))，数值稳定的前向与反向", SigmoidLayer, [((4, 3), {}, 2.0), ((3, 5), {}, 1.0), ((1, 4), {}, 3.0)], [
    Mistake("exponent_sign", "指数的符号反了：sigmoid(x) = 1 / (1 + exp(-x))，不是 exp(+x)。", wrong_layer(SigmoidLayer, lambda s, x: stable_sigmoid(-x))),
    Mistake("tanh", "这是 tanh(x)，不是 sigmoid 1 / (1 + exp(-x))。", wrong_layer(SigmoidLayer, lambda s, x: np.tanh(x))),
    Mistake("derivative_s", "sigmoid 的导数写成了 s：应为 s(1 - s)，其中 s = sigmoid(x)，dx = dy * s * (1 - s)。", wrong_layer(SigmoidLayer, dx=slope(lambda s, x, y: y))),
    Mistake("derivative_one_minus_s", "sigmoid 的导数写成了 1 - s：应为 s(1 - s)，dx = dy * s * (1 - s)。", wrong_layer(SigmoidLayer, dx=slope(lambda s, x, y: 1 - y))),
    Mistake("derivative_of_input", "s(1 - s) 是在输入 x 上算的：要用输出 s = sigmoid(x)（缓存它），dx = dy * s * (1 - s)。", wrong_layer(SigmoidLayer, dx=slope(lambda s, x, y: x * (1 - x)))),
    Mistake("applied_twice", "sigmoid 用了两次：cache 里已经是 s = sigmoid(x)，所以导数是 s * (1 - s)，不是 sigmoid(s) * (1 - sigmoid(s))。",
            wrong_layer(SigmoidLayer, dx=lambda s, x, y, dy: SigmoidLayer.d(s, x, stable_sigmoid(y), dy))),
    Mistake("naive", OVERFLOW["-"], wrong_layer(SigmoidLayer, lambda s, x: 1 / (1 + np.exp(-x))), "extremes"),
    Mistake("exp_ratio", OVERFLOW["+"], wrong_layer(SigmoidLayer, lambda s, x: np.exp(x) / (1 + np.exp(x))),
            "extremes"),
    Mistake("where_both_branches", OVERFLOW["±"], wrong_layer(SigmoidLayer, lambda s, x: np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))), "extremes"),
    *behaviours(SigmoidLayer, "np.float64(1.0) / (1 + np.exp(-x))；np.where(x >= 0, 1.0, 0.0)（用 Python 浮点数构造出的 float64 数组）；np.ones(x.shape)")],
    "forward 的数值与 1 / (1 + exp(-x)) 不符。", zero_slopes=lambda case: (0.25,), extreme_hint=OVERFLOW.get,
    zero_slope_hint="x = 0 处 sigmoid 的导数是 s(1 - s) = 0.5 * 0.5 = 0.25：dx = dy * s * (1 - s)。")
