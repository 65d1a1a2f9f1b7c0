"""Checkers for the layer exercises: ``dense``, ``leaky_relu``, ``tanh``, ``sigmoid``.

Each exercise is a :class:`ModuleExercise` (how to build the learner's layer, the
reference maths, and the specific wrong formulas worth recognising); :func:`run` grades
a learner's class against it, one :class:`~._report.Row` per check.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..nn.activations import sigmoid as stable_sigmoid
from ._report import (
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
)

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)

UPCAST = ("dtype upcast: float32 in, float64 out. A float64 array or an np.float64 scalar entered the "
          "computation, and NumPy promotes the whole result to float64. Typical culprits: "
          "{culprits}. Use plain Python floats for constants and build arrays with x.dtype "
          "(np.ones_like(x), .astype(x.dtype)).")

SELF_STATE = ("Not re-entrant: backward(dy, cache) gave a different answer after another forward ran in "
              "between, so it reads something a later forward overwrote (an activation stored on self, "
              "e.g. self.x = x or self.y = y, instead of in the cache). Return everything backward needs "
              "in the cache: D is run on a real and a fake batch before either backward.")

MATMUL = ("Matrix shapes do not line up: x is (N, in), W is (in, out), dy is (N, out). "
          "y = x @ W + b, dx = dy @ W.T, dW = x.T @ dy: a transposed W or a swapped product order fails "
          "with exactly this error.")


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
        raise Failure(f"params() returned a {type(p).__name__}",
                      "params() must return a dict {name: array} ({} for a layer without parameters).")
    return p


def _forward(layer, x):
    out = call_learner("forward", layer.forward, x)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"forward returned {type(out).__name__}, not a pair (y, cache)",
                      "forward must return two things: the output y and a cache for backward "
                      "(return y, cache).")
    y, cache = out
    if not isinstance(y, np.ndarray):
        raise Failure(f"forward's y is a {type(y).__name__}", "forward must return y as a NumPy array.")
    return y, cache


def _backward(layer, dy, cache):
    out = call_learner("backward", layer.backward, dy, cache)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"backward returned {type(out).__name__}, not a pair (dx, grads)",
                      "backward must return two things: dx and a dict of parameter gradients "
                      "(return dx, grads; grads is {} for a layer without parameters).")
    return out


class ModuleExercise:
    """Base: subclasses fill in the reference maths and the probes for typical mistakes."""

    name = ""
    description = ""
    param_names: tuple = ()
    extremes = False
    upcast_culprits = "np.float64(0.2) * x; np.where(x > 0, 1.0, alpha) (a float64 array built from Python floats)"
    prop_scales = (0.01, 1.0, 10.0)

    # -- building --------------------------------------------------------------------
    def cases(self) -> list[Case]:
        raise NotImplementedError

    def build(self, answer, case: Case, dtype, rng):
        """The learner's layer; by default the constructor called with no arguments."""
        return call_learner(f"the constructor {answer.__name__}()", answer)

    def constructor_detail(self, layer) -> str:
        return f"built {type(layer).__name__}"

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
        return "forward values differ from the definition; re-read the forward formula."

    def explain(self, exc: BaseException) -> str:
        exc = original(exc)
        text = str(exc)
        if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
            return "Array shapes do not line up: dx must have x's shape and be computed element-wise from dy."
        return ""

    def extreme_hint(self) -> str:
        return ""


# --------------------------------------------------------------------------------------
# The four layers.

class DenseExercise(ModuleExercise):
    name = "dense"
    description = "Dense layer y = x @ W + b: forward and backward (dx, dW, db)"
    param_names = ("W", "b")
    upcast_culprits = ("np.float64 scalars, .astype(float) or dtype=float in a sum, np.zeros(shape) "
                       "(float64 by default) used as an accumulator")
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
        layer = call_learner(f"the constructor {answer.__name__}({n_in}, {n_out})", answer, n_in, n_out,
                             **kwargs)
        W, b = getattr(layer, "W", None), getattr(layer, "b", None)
        if not isinstance(W, np.ndarray) or not isinstance(b, np.ndarray):
            raise Failure("the layer has no array attributes W and b",
                          "Store the weights as self.W, shape (in_features, out_features), and the bias as "
                          "self.b, shape (out_features,); params() returns {'W': self.W, 'b': self.b}.")
        if W.shape != (n_in, n_out):
            hint = (f"Transposed weights: W has shape (out, in) = {shape_str(W.shape)}. Here (as in minigan "
                    "and tf.layers.dense) W is (in_features, out_features) so that y = x @ W + b."
                    if W.shape == (n_out, n_in) else
                    "W must have shape (in_features, out_features).")
            raise Failure(f"Dense({n_in}, {n_out}).W has shape {shape_str(W.shape)}, expected "
                          f"{shape_str((n_in, n_out))}", hint)
        if b.shape != (n_out,):
            raise Failure(f"Dense({n_in}, {n_out}).b has shape {shape_str(b.shape)}, expected ({n_out},)",
                          "b has one entry per output unit: shape (out_features,), added to every row of x @ W.")
        # Non-zero, known parameters in the requested dtype (a zero bias would hide bugs).
        layer.W = (rng.standard_normal((n_in, n_out)) * 0.7).astype(dtype)
        layer.b = rng.standard_normal(n_out).astype(dtype)
        params = _params(layer)
        if set(params) != {"W", "b"}:
            raise Failure(f"params() has keys {sorted(params)}", "params() must return {'W': self.W, 'b': self.b}.")
        if params["W"] is not layer.W or params["b"] is not layer.b:
            raise Failure("params() does not return the arrays self.W and self.b",
                          "params() must return the live arrays {'W': self.W, 'b': self.b} (not copies): "
                          "optimisers and gradient checks change them in place.")
        return layer

    def constructor_detail(self, layer):
        return f"W {shape_str(layer.W.shape)}, b {shape_str(layer.b.shape)}; params() returns the live W and b"

    def ref_forward(self, layer, case, x):
        return x.astype(np.float64) @ layer.W.astype(np.float64) + layer.b.astype(np.float64)

    def ref_backward(self, layer, case, x, dy):
        x, dy, W = (a.astype(np.float64) for a in (x, dy, layer.W))
        return dy @ W.T, {"W": x.T @ dy, "b": dy.sum(axis=0)}

    def forward_probes(self, layer, case, x):
        W, b = layer.W, layer.b
        probes = [Probe(x @ W, "Bias missing: y = x @ W + b, the bias b is not added."),
                  Probe(x @ W - b, "Sign of the bias: y = x @ W + b, the bias is subtracted.")]
        if W.shape[0] == W.shape[1]:
            probes.append(Probe(x @ W.T + b, "Transposed weights: forward uses x @ W.T; with W of shape "
                                             "(in, out) it is y = x @ W + b."))
        return probes

    def forward_hint(self):
        return "forward values differ from y = x @ W + b (x (N, in), W (in, out), b (out,))."

    def dx_probes(self, layer, case, x, dy):
        W = layer.W
        if W.shape[0] != W.shape[1]:
            return []
        return [Probe(dy @ W, "Wrong matmul: dx = dy @ W; the gradient w.r.t. x needs the transpose, "
                              "dx = dy @ W.T ((N, out) @ (out, in)).")]

    def param_probes(self, name, layer, case, x, dy):
        if name == "W" and x.shape[1] == dy.shape[1]:
            return [Probe((x.T @ dy).T, "dW is transposed: dW = x.T @ dy has the shape of W, (in, out); "
                                         "dy.T @ x is (out, in).")]
        if name == "b" and dy.shape[0] == dy.shape[1]:
            return [Probe(dy.sum(axis=1), "Bias gradient summed over the wrong axis: db = dy.sum(axis=0) sums "
                                          "over the batch (rows); axis=1 sums over output units.")]
        return []

    def param_shape_hints(self, name, case, x):
        n, n_in, n_out = x.shape[0], case.settings["n_in"], case.settings["n_out"]
        if name == "W":
            return {(n_out, n_in): "Transposed dW: dW = x.T @ dy, shape (in, out) like W; dy.T @ x is (out, in)."}
        not_summed = ("Bias gradient not summed over the batch: b is added to every row, so db = dy.sum(axis=0), "
                      "shape (out,) like b; dy itself is (N, out).")
        hints = {(n, n_out): not_summed, (n,): "Bias gradient summed over the wrong axis: db = dy.sum(axis=0) "
                                               "(over the batch), not axis=1."}
        if n == 1:
            hints[(1, n_out)] = not_summed + " (keepdims=True gives (1, out) too: drop it.)"
        else:
            hints[(1, n_out)] = "db has shape (1, out): drop keepdims=True, db = dy.sum(axis=0) has b's shape (out,)."
        return hints

    def explain(self, exc):
        exc = original(exc)
        text = str(exc)
        if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
            return MATMUL
        return ""


class LeakyReLUExercise(ModuleExercise):
    name = "leaky_relu"
    description = "LeakyReLU f(x) = x if x > 0 else alpha * x: forward and backward"
    upcast_culprits = ("np.where(x > 0, 1.0, alpha) (both branches Python floats: a float64 array), "
                       "np.float64(alpha) * x, np.ones(x.shape) (float64 by default)")

    def cases(self):
        return [Case(f"x {shape_str(s)}, alpha={a}", s, {"alpha": a})
                for s, a in (((4, 3), 0.2), ((3, 5), 0.05), ((2, 4), 0.0), ((5, 2), 0.7))]

    def build(self, answer, case, dtype, rng):
        alpha = case.settings.get("alpha", 0.2)
        return call_learner(f"the constructor {answer.__name__}({alpha})", answer, alpha)

    def constructor_detail(self, layer):
        return f"{type(layer).__name__}(alpha) and {type(layer).__name__}() (alpha = 0.2) both construct"

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
        probes = [Probe(np.maximum(x, 0), "Negative side is 0 (that is ReLU): leaky ReLU keeps alpha * x for x < 0."),
                  Probe(np.where(x > 0, a * x, x), "Sides swapped: f(x) = x for x > 0 and alpha * x for x <= 0."),
                  Probe(x, "alpha is never applied: f(x) = alpha * x for x <= 0.")]
        if a != 0.2:
            probes.insert(0, Probe(np.where(x > 0, x, 0.2 * x),
                                   f"alpha is hard-coded as 0.2 in forward: use the alpha given to the constructor "
                                   f"(self.alpha, here {a})."))
        return probes

    def forward_hint(self):
        return "forward values differ from f(x) = x for x > 0, alpha * x otherwise."

    def dx_probes(self, layer, case, x, dy):
        a = case.settings.get("alpha", 0.2)
        y = np.where(x > 0, x, a * x)
        one = ("Wrong only at alpha = 0: every negative x gives y = 0 there, so a test on the cached output "
               "such as np.where(y >= 0, 1, alpha) takes the positive branch for all of them (slope 1 on the "
               "negative side). Cache x, or test y > 0.") if a == 0 else (
               "Slope 1 on the negative side: the derivative there is alpha, dx = dy * where(x > 0, 1, alpha).")
        probes = [Probe(dy * (x > 0), "Leaky ReLU derivative is 0 on the negative side (ReLU's); it is alpha there: "
                                      "dx = dy * where(x > 0, 1, alpha)."),
                  Probe(dy * np.where(x > 0, a, 1.0), "Derivative sides swapped: 1 for x > 0, alpha for x <= 0."),
                  Probe(dy.copy(), one),
                  Probe(dy * y, "dx = dy * y multiplies by the output, not by the derivative f'(x) (1 or alpha)."),
                  Probe(dy * x, "dx = dy * x multiplies by the input, not by the derivative f'(x) (1 or alpha).")]
        if a != 0.2:
            probes.insert(0, Probe(dy * np.where(x > 0, 1.0, 0.2),
                                   f"alpha is hard-coded as 0.2 in backward: use self.alpha (here {a})."))
        return probes


class TanhExercise(ModuleExercise):
    name = "tanh"
    description = "Tanh y = tanh(x): forward and backward"
    extremes = True
    upcast_culprits = "np.float64(1) - y ** 2; np.ones(y.shape) - y ** 2 (np.ones is float64 by default)"

    def cases(self):
        return [Case(f"x {shape_str(s)}", s, {"scale": c}) for s, c in (((4, 3), 1.0), ((3, 5), 0.6), ((1, 4), 1.4))]

    def ref_forward(self, layer, case, x):
        return np.tanh(x.astype(np.float64))

    def ref_backward(self, layer, case, x, dy):
        y = np.tanh(x.astype(np.float64))
        return dy.astype(np.float64) * (1 - y * y), {}

    def forward_hint(self):
        return "forward values differ from np.tanh(x)."

    def dx_probes(self, layer, case, x, dy):
        y = np.tanh(x)
        return [Probe(dy * (1 - x ** 2), "Tanh derivative written with the input: 1 - x**2. It is 1 - y**2 with "
                                         "y = tanh(x) the output (cache y, or compute 1 - tanh(x)**2)."),
                Probe(dy * (1 - np.tanh(y) ** 2), "tanh applied twice: the cache already holds y = tanh(x), so the "
                                                  "derivative is 1 - y**2, not 1 - tanh(y)**2."),
                Probe(dy * (1 - y), "Derivative 1 - y: it is 1 - y**2 (y squared)."),
                Probe(dy * y, "dx = dy * y multiplies by the output, not by the derivative 1 - y**2.")]

    def extreme_hint(self):
        return ("Overflow at |x| = 1e4: (exp(x) - exp(-x)) / (exp(x) + exp(-x)) is inf / inf = NaN there. Use "
                "np.tanh(x), which is exact for any x (tanh saturates at +-1).")


class SigmoidExercise(ModuleExercise):
    name = "sigmoid"
    description = "Sigmoid y = 1 / (1 + exp(-x)): stable forward and backward"
    extremes = True
    upcast_culprits = ("np.float64(1.0) / (1 + np.exp(-x)); np.where(x >= 0, 1.0, 0.0) (a float64 array from "
                       "Python floats); np.ones(x.shape)")

    def cases(self):
        return [Case(f"x {shape_str(s)}", s, {"scale": c}) for s, c in (((4, 3), 2.0), ((3, 5), 1.0), ((1, 4), 3.0))]

    def ref_forward(self, layer, case, x):
        return stable_sigmoid(x.astype(np.float64))

    def ref_backward(self, layer, case, x, dy):
        s = stable_sigmoid(x.astype(np.float64))
        return dy.astype(np.float64) * s * (1 - s), {}

    def forward_probes(self, layer, case, x):
        return [Probe(stable_sigmoid(-x), "Sign in the exponent: sigmoid(x) = 1 / (1 + exp(-x)), not exp(+x)."),
                Probe(np.tanh(x), "That is tanh(x), not the sigmoid 1 / (1 + exp(-x)).")]

    def forward_hint(self):
        return "forward values differ from 1 / (1 + exp(-x))."

    def dx_probes(self, layer, case, x, dy):
        s = stable_sigmoid(x)
        ss = stable_sigmoid(s)
        return [Probe(dy * s, "Sigmoid derivative written as s: it is s(1 - s) with s = sigmoid(x), "
                              "dx = dy * s * (1 - s)."),
                Probe(dy * (1 - s), "Sigmoid derivative written as 1 - s: it is s(1 - s), dx = dy * s * (1 - s)."),
                Probe(dy * x * (1 - x), "s(1 - s) evaluated at the input x: use the output s = sigmoid(x) "
                                        "(cache it), dx = dy * s * (1 - s)."),
                Probe(dy * ss * (1 - ss), "Sigmoid applied twice: the cache already holds s = sigmoid(x), so the "
                                          "derivative is s * (1 - s), not sigmoid(s) * (1 - sigmoid(s)).")]

    def extreme_hint(self):
        return ("Overflow at x = -1e4: the naive 1 / (1 + np.exp(-x)) computes exp(1e4) = inf (a RuntimeWarning; "
                "other formulas give inf / inf = NaN). Use the piecewise-stable form: with e = exp(-|x|), "
                "sigmoid = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, so exp never sees a large positive "
                "number. (np.where(x >= 0, 1 / (1 + np.exp(-x)), ...) still evaluates both branches everywhere "
                "and still overflows.)")


EXERCISES = {cls.name: cls() for cls in (DenseExercise, LeakyReLUExercise, TanhExercise, SigmoidExercise)}


# --------------------------------------------------------------------------------------
# The checks.

def run(ex: ModuleExercise, answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, ex.explain)
    rng = np.random.default_rng(seed)
    cases = ex.cases()

    def constructor():
        if not isinstance(answer, type):
            hint = (f"Pass the class itself, e.g. check({ex.name!r}, MyLayer), not an instance MyLayer(...)."
                    if hasattr(answer, "forward") else
                    "The answer is a class with forward(x) -> (y, cache) and backward(dy, cache) -> (dx, grads).")
            raise Failure(f"the answer is a {type(answer).__name__}, not a class", hint)
        for name in ("forward", "backward"):
            if not callable(getattr(answer, name, None)):
                raise Failure(f"{answer.__name__} has no method {name}",
                              "The module protocol: forward(x) -> (y, cache) and backward(dy, cache) -> (dx, grads).")
        layer = ex.build(answer, cases[0], F64, rng)
        if isinstance(ex, LeakyReLUExercise):
            try:
                default = answer()
            except Exception as exc:
                raise Failure(f"{answer.__name__}() raised {type(exc).__name__}",
                              "Give alpha a default of 0.2 (tf.nn.leaky_relu's, used in the article's code): "
                              "def __init__(self, alpha=0.2).") from exc
            y, _ = _forward(default, np.array([[-1.0, 2.0]]))
            if not np.allclose(y, [[-0.2, 2.0]], rtol=1e-6, atol=0):
                raise Failure(f"{answer.__name__}() maps [-1, 2] to {np.round(y, 4).tolist()[0]}",
                              "The default alpha is 0.2 (tf.nn.leaky_relu's default): f(-1) = -0.2.")
        return ex.constructor_detail(layer)

    if not s.run("constructor", constructor):
        return

    s.run("forward: values", lambda: _forward_values(ex, answer, cases, rng))
    s.run("backward: dx (gradient check)", lambda: _grad_dx(ex, answer, cases, rng))
    for name in ex.param_names:
        s.run(f"backward: d{name} (gradient check)", lambda name=name: _grad_param(ex, answer, cases, rng, name))
    s.run("backward: grads keys = params() keys", lambda: _grads_keys(ex, answer, cases[0], rng))
    s.run("re-entrant: two forwards, then both backwards", lambda: _reentrant(ex, answer, cases[0], rng))
    s.run("inputs, cache and parameters left unchanged", lambda: _no_mutation(ex, answer, cases[0], rng))
    s.run("float32 in, float32 out", lambda: _dtype(ex, answer, cases[0], rng))
    if ex.extremes:
        s.run("extreme inputs: x = +-1e4 (float64 and float32)", lambda: _extremes(ex, answer, cases[0], rng))
    s.run("property test (hypothesis): shapes, dtypes, values", lambda: _property(ex, answer, max_examples))


def _forward_values(ex, answer, cases, rng):
    worst = 0.0
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, _ = _forward(layer, x.copy())  # copies: modifying x is the subject of another check
        ref = ex.ref_forward(layer, case, x)
        if y.shape != ref.shape:
            hint = ("y has the input's shape: the product is missing or in the wrong order (y = x @ W + b is (N, out))."
                    if isinstance(ex, DenseExercise) else "An element-wise layer's output has the input's shape.")
            raise Failure(f"{case.label}: y has shape {shape_str(y.shape)}, expected {shape_str(ref.shape)}", hint)
        if not close(y, ref, F64):
            err = float(np.max(np.abs(np.asarray(y, np.float64) - ref)))
            for probe in ex.forward_probes(layer, case, x):
                if np.shape(probe.value) == y.shape and same(y, probe.value):
                    raise Failure(f"{case.label}: max abs error {err:.2e}", probe.hint)
            raise Failure(f"{case.label}: max abs error {err:.2e}", ex.forward_hint())
        worst = max(worst, float(np.max(np.abs(y - ref), initial=0.0)))
    return f"{len(cases)} cases agree with minigan's reference (max abs error {worst:.1e})"


def _grad_dx(ex, answer, cases, rng):
    worst = []
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, cache = _forward(layer, x.copy())
        dy = rng.standard_normal(y.shape)
        dx, _ = _backward(layer, dy.copy(), cache)
        num, noise = numeric_gradient(lambda layer=layer, x=x: _forward(layer, x.copy())[0], x, dy)
        ref_dx, _ = ex.ref_backward(layer, case, x, dy)
        try:
            worst.append(diagnose_gradient("dx", dx, num, noise, ref_dx, n=x.shape[0],
                                           probes=ex.dx_probes(layer, case, x, dy)))
        except Failure as f:
            raise Failure(f"{case.label}: {f.detail}", f.hint) from None
    return f"{len(cases)} cases, " + max(worst, key=lambda d: float(d.split()[3]))


def _grad_param(ex, answer, cases, rng, name):
    worst = []
    for case in cases:
        layer = ex.build(answer, case, F64, rng)
        x = ex.inputs(rng, case.shape, F64, case.settings.get("scale", 1.0))
        y, cache = _forward(layer, x.copy())
        dy = rng.standard_normal(y.shape)
        _, grads = _backward(layer, dy.copy(), cache)
        if not isinstance(grads, dict):
            raise Failure(f"backward returned grads as a {type(grads).__name__}",
                          "backward returns (dx, grads) with grads = {'W': dW, 'b': db}.")
        if name not in grads:
            raise Failure(f"grads has no key {name!r} (keys: {sorted(grads)})",
                          "grads must have the keys of params(): {'W': dW, 'b': db}.")
        p = _params(layer)[name]
        num, noise = numeric_gradient(lambda layer=layer, x=x: _forward(layer, x.copy())[0], p, dy)
        _, ref = ex.ref_backward(layer, case, x, dy)
        try:
            worst.append(diagnose_gradient(f"d{name}", grads[name], num, noise, ref[name], n=x.shape[0],
                                           probes=ex.param_probes(name, layer, case, x, dy),
                                           shape_hints=ex.param_shape_hints(name, case, x)))
        except Failure as f:
            raise Failure(f"{case.label}: {f.detail}", f.hint) from None
    return f"{len(cases)} cases, " + max(worst, key=lambda d: float(d.split()[3]))


def _grads_keys(ex, answer, case, rng):
    layer = ex.build(answer, case, F64, rng)
    x = ex.inputs(rng, case.shape, F64)
    y, cache = _forward(layer, x)
    _, grads = _backward(layer, np.ones_like(y), cache)
    params = _params(layer)
    if grads is None or not isinstance(grads, dict):
        hint = ("Return an empty dict {} as grads for a layer without parameters: return dx, {}."
                if not params else "grads is a dict keyed like params(): {'W': dW, 'b': db}.")
        raise Failure(f"grads is {type(grads).__name__}, not a dict", hint)
    if set(grads) != set(params):
        raise Failure(f"grads keys {sorted(grads)} != params() keys {sorted(params)}",
                      f"backward's grads must have exactly the keys of params() {sorted(params)}, no more and no "
                      f"other; yours has {sorted(grads)} (optimisers match gradients to parameters by name).")
    return f"keys {sorted(grads)}" if grads else "grads = {} (no parameters)"


def _reentrant(ex, answer, case, rng):
    layer = ex.build(answer, case, F64, rng)
    x1, x2 = ex.inputs(rng, case.shape, F64), ex.inputs(rng, case.shape, F64)
    x2 = -x2 if np.allclose(x1, x2) else x2
    dy1 = rng.standard_normal(ex.ref_forward(layer, case, x1).shape)
    dy2 = rng.standard_normal(dy1.shape)

    def fresh(x, dy):
        y, cache = _forward(layer, x.copy())
        dx, grads = _backward(layer, dy.copy(), cache)
        return y.copy(), snapshot(dx), snapshot(grads)

    y1_ref, dx1_ref, g1_ref = fresh(x1, dy1)
    y2_ref, dx2_ref, g2_ref = fresh(x2, dy2)
    y1, c1 = _forward(layer, x1.copy())
    y1_copy = y1.copy()
    y2, c2 = _forward(layer, x2.copy())
    if not np.array_equal(y1, y1_copy):
        raise Failure("the first forward's output changed when forward ran again",
                      "forward returned an array that a later forward overwrote (a buffer kept on self and reused): "
                      "return a new array each call.")
    dx1, g1 = _backward(layer, dy1.copy(), c1)
    dx1_copy = snapshot(dx1)
    dx2, g2 = _backward(layer, dy2.copy(), c2)
    if changed(dx1_copy, dx1):
        raise Failure("the first backward's dx changed when backward ran again",
                      "backward returned an array that a later backward overwrote (a reused buffer): "
                      "return new arrays.")
    ok1 = same(dx1, dx1_ref, 1e-12) and not changed(g1_ref, g1 if isinstance(g1, dict) else {})
    ok2 = same(dx2, dx2_ref, 1e-12) and not changed(g2_ref, g2 if isinstance(g2, dict) else {})
    if not ok1:
        raise Failure("forward(x1), forward(x2), backward(dy1, cache1): dx1 differs from forward(x1) + backward alone",
                      SELF_STATE)
    if not ok2:
        raise Failure("forward(x1), forward(x2), then backward(dy2, cache2) differs from running it alone", SELF_STATE)
    return "each backward used its own cache"


def _no_mutation(ex, answer, case, rng):
    layer = ex.build(answer, case, F64, rng)
    params0 = snapshot(_params(layer))
    x = ex.inputs(rng, case.shape, F64)
    x0 = x.copy()
    y, cache = _forward(layer, x)
    if changed(x0, x):
        raise Failure("forward modified its input x",
                      "forward modified its input x in place (e.g. x[x < 0] *= alpha, x *= ..., or out=x): compute "
                      "into a new array; the caller still needs x.")
    if changed(params0, _params(layer)):
        raise Failure("forward changed the parameters", "forward must not change the parameters.")
    cache0 = snapshot(cache)
    dy = rng.standard_normal(y.shape)
    dy0 = dy.copy()
    _backward(layer, dy, cache)
    if changed(dy0, dy):
        raise Failure("backward modified its input dy",
                      "backward modified dy in place (e.g. dy *= slope or dy[x < 0] *= alpha): return a new array; "
                      "the caller may use dy again (D's gradient feeds two branches).")
    if changed(cache0, cache):
        raise Failure("backward modified the cache",
                      "backward modified the cache in place: treat the cache as read-only (a second backward from "
                      "the same cache must give the same answer).")
    if changed(params0, _params(layer)):
        raise Failure("backward changed the parameters",
                      "backward changed the parameters (e.g. self.W -= lr * dW): backward only computes gradients; "
                      "the optimiser applies them.")
    return "x, dy, the cache and the parameters are unchanged"


def _dtype(ex, answer, case, rng):
    layer = ex.build(answer, case, F32, rng)
    x = ex.inputs(rng, case.shape, F32)
    y, cache = _forward(layer, x)
    hint = UPCAST.format(culprits=ex.upcast_culprits)
    if y.dtype != F32:
        raise Failure(f"forward returned {y.dtype} for float32 input", hint)
    dx, grads = _backward(layer, np.ones_like(y), cache)
    if not isinstance(dx, np.ndarray) or dx.dtype != F32:
        raise Failure(f"backward returned dx of dtype {getattr(dx, 'dtype', type(dx).__name__)} for float32 "
                      "input", hint)
    for k, g in (grads or {}).items():
        if getattr(g, "dtype", None) != F32:
            raise Failure(f"backward returned d{k} of dtype {getattr(g, 'dtype', type(g).__name__)} for float32 "
                          "input and parameters", hint)
    return "y, dx" + (" and grads" if grads else "") + " stay float32"


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
        where = f"{dtype.name}"
        if not y_ok or not dx_ok or runtime:
            what = []
            if not y_ok:
                what.append(f"y has NaN/inf at x = {x[~np.isfinite(y)].tolist()}")
            if not dx_ok:
                what.append("dx has NaN/inf")
            if runtime:
                what.append(f"RuntimeWarning: {runtime[0].message}")
            raise Failure(f"{where}: " + "; ".join(what), ex.extreme_hint())
        atol = 1e-12 if dtype == F64 else 1e-6
        if not np.allclose(y, ref_y, rtol=1e-6, atol=atol):
            raise Failure(f"{where}: y = {np.asarray(y).ravel().tolist()} differs from {ref_y.ravel().tolist()}",
                          "Finite but not the exact value at large |x|: " + ex.forward_hint())
        if not np.allclose(dx, ref_dx, rtol=1e-5, atol=atol):
            bad = x[~np.isclose(dx, ref_dx, rtol=1e-5, atol=atol)].tolist()
            raise Failure(f"{where}: dx differs from the exact derivative at x = {bad}",
                          "backward is wrong at these inputs (the derivative there is about 0 or its peak value); "
                          "if the gradient check of dx fails too, fix that first.")
    return "finite, exact, no overflow warnings"


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
        extra = f", Dense({d} -> {out})" if isinstance(ex, DenseExercise) else (
            f", alpha={alpha:g}" if isinstance(ex, LeakyReLUExercise) else "")
        return f"x of shape ({n}, {d}) {dtype}, scale {scale:g}{extra}"

    upcast = UPCAST.format(culprits=ex.upcast_culprits)

    def prop(example):
        case, dtype, scale, rng = make_case(example)
        layer = ex.build(answer, case, dtype, rng)
        params0 = snapshot(_params(layer))
        x = ex.inputs(rng, case.shape, dtype, scale)
        x0 = x.copy()
        y, cache = _forward(layer, x)
        ref = ex.ref_forward(layer, case, x)
        if y.shape != ref.shape:
            raise Failure(f"y has shape {shape_str(y.shape)}, expected {shape_str(ref.shape)}", ex.forward_hint())
        if y.dtype != dtype:
            raise Failure(f"y is {y.dtype}", upcast)
        if not close(y, ref, dtype):
            raise Failure("y differs from the reference", ex.forward_hint())
        if changed(x0, x):
            raise Failure("forward modified x", "forward modified its input x in place: compute into a new array.")
        dy = rng.standard_normal(y.shape).astype(dtype)
        dy0, cache0 = dy.copy(), snapshot(cache)
        # Re-entrancy: a second batch goes forward before the first one comes back.
        _forward(layer, ex.inputs(rng, case.shape, dtype, scale))
        dx, grads = _backward(layer, dy, cache)
        if changed(dy0, dy) or changed(cache0, cache):
            raise Failure("backward modified dy or the cache", "backward must not modify dy or the cache in place.")
        if changed(params0, _params(layer)):
            raise Failure("the parameters changed", "forward and backward must not change the parameters.")
        ref_dx, ref_grads = ex.ref_backward(layer, case, x0, dy)
        problem = _compare_backward(dx, grads, x0, ref_dx, ref_grads, dtype, ex, upcast)
        if problem is not None:
            # Right when nothing runs in between?  Then it read state a later forward replaced.
            _, fresh_cache = _forward(layer, x0.copy())
            fresh = _backward(layer, dy0.copy(), fresh_cache)
            if _compare_backward(*fresh, x0, ref_dx, ref_grads, dtype, ex, upcast) is None:
                raise Failure("backward(dy, cache) is wrong when another forward ran after this cache's forward",
                              SELF_STATE)
            raise problem

    return run_property(strategy, prop, describe, ex.explain, max_examples=max_examples,
                        what="shapes, dtype kept, values match, inputs unchanged, re-entrant")


def _compare_backward(dx, grads, x, ref_dx, ref_grads, dtype, ex, upcast) -> Failure | None:
    """The first way (dx, grads) differs from the reference, as a Failure, or None."""
    if not isinstance(dx, np.ndarray) or dx.shape != x.shape:
        return Failure(f"dx has shape {shape_str(np.shape(dx))}, expected {shape_str(x.shape)}",
                       "dx has the shape of x." + (" " + MATMUL if isinstance(ex, DenseExercise) else ""))
    if dx.dtype != dtype:
        return Failure(f"dx is {dx.dtype}", upcast)
    if not close(dx, ref_dx, dtype):
        return Failure("dx differs from the reference", "see the gradient check of dx above.")
    for k, g in ref_grads.items():
        mine = grads.get(k) if isinstance(grads, dict) else None
        if not isinstance(mine, np.ndarray) or mine.shape != g.shape:
            return Failure(f"d{k} has shape {shape_str(np.shape(mine))}, expected {shape_str(g.shape)}",
                           f"d{k} has the shape of {k}; see the gradient check of d{k} above.")
        if mine.dtype != dtype:
            return Failure(f"d{k} is {mine.dtype}", upcast)
        if not close(mine, g, dtype):
            return Failure(f"d{k} differs from the reference", f"see the gradient check of d{k} above.")
    return None
