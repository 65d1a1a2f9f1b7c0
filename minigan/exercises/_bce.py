"""Checker for the ``bce_with_logits`` exercise: ``(logits, targets) -> (loss, dlogits)``."""

from __future__ import annotations

import warnings

import numpy as np

from .. import losses
from ..nn.activations import sigmoid
from ._modules import UPCAST
from ._report import (
    ExerciseResult,
    Failure,
    Probe,
    Session,
    as_float_array,
    call_learner,
    changed,
    close,
    diagnose_gradient,
    numeric_gradient,
    original,
    run_property,
    shape_str,
)

NAME = "bce_with_logits"
DESCRIPTION = "binary cross-entropy from logits, mean-reduced: (logits, targets) -> (loss, dlogits)"

LOGITS_FORM = "max(z, 0) - z*y + log1p(exp(-|z|))"

NAIVE_LOG = ("Overflow at |z| = 1e4: log(sigmoid(z)) and log(1 - sigmoid(z)) break down there: sigmoid(-1e4) "
             "rounds to 0 (log(0) = -inf) and 1 - sigmoid(1e4) to 0, and 0 * inf = NaN; exp(-z) itself overflows. "
             f"Never take the log of a probability: per element the loss is {LOGITS_FORM}, which is finite and "
             "exact for any z.")
WARNED = ("A RuntimeWarning (overflow / divide by zero) at |z| = 1e4 although the result is finite: some exp(...) "
          "of a large positive number or a log(0) is still computed, e.g. np.exp(-z) at z = -1e4, or both branches "
          f"of an np.where. Use exp(-|z|), which never overflows: loss = {LOGITS_FORM}.")
CLIPPED = ("Not exact at large |z|: an eps or a clip caps the loss. log(p + eps) or np.clip(p, eps, 1 - eps) (or "
           "clipping the logits) turns the true loss 1e4 (z = -1e4, y = 1) into a few dozen. With the logits form "
           f"{LOGITS_FORM} no eps is needed.")

CASES = (((6, 1), "hard", 3.0), ((5,), "soft", 2.0), ((4, 3), "hard", 3.0), ((2, 5), "soft", 1.0))


def _targets(rng, shape, kind, dtype):
    y = rng.integers(0, 2, shape).astype(np.float64) if kind == "hard" else rng.random(shape)
    return y.astype(dtype)


def _call(fn, z, y):
    out = call_learner("bce_with_logits", fn, z, y)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Failure(f"returned {type(out).__name__}, not a pair (loss, dlogits)",
                      "Return two things: the loss (one number, the mean over all elements) and dlogits "
                      "(an array shaped like the logits).")
    loss, dz = out
    if isinstance(loss, np.ndarray) and loss.ndim > 0:
        hint = ("The loss is not reduced: it has one entry per logit. Return one number, the mean over all "
                "elements (np.mean), and put the per-element gradient in dlogits.")
        raise Failure(f"loss has shape {shape_str(loss.shape)}, expected a single number", hint)
    try:
        loss = float(loss)
    except (TypeError, ValueError) as exc:
        raise Failure(f"loss is a {type(loss).__name__}, not a number",
                      "The loss is a single float: the mean of the per-element losses.") from exc
    return loss, as_float_array(dz, "dlogits")


def _explain(exc):
    exc = original(exc)
    if "could not be broadcast" in str(exc):
        return "targets have the logits' shape; every operation is element-wise."
    return ""


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    rng = np.random.default_rng(seed)

    def callable_check():
        if not callable(answer):
            raise Failure(f"the answer is a {type(answer).__name__}", "Pass the function itself: "
                          "check('bce_with_logits', my_bce_with_logits).")
        z = rng.standard_normal((3, 1))
        _call(answer, z, _targets(rng, z.shape, "hard", np.float64))
        return "returns (loss, dlogits) with a scalar loss"

    if not s.run("returns (loss, dlogits)", callable_check) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("loss: values", lambda: _loss_values(answer, rng))
    s.run("dlogits (gradient check)", lambda: _gradient(answer, rng))
    s.run("extreme logits: z = +-1e4 (float64 and float32)", lambda: _extremes(answer))
    s.run("inputs left unchanged", lambda: _no_mutation(answer, rng))
    s.run("float32 in, float32 out", lambda: _dtype(answer, rng))
    s.run("property test (hypothesis): shapes, dtypes, values", lambda: _property(answer, max_examples))


def _label(shape, kind):
    return f"logits {shape_str(shape)}, {kind} targets"


def _loss_values(answer, rng):
    worst = 0.0
    for shape, kind, scale in CASES:
        z = rng.standard_normal(shape) * scale
        y = _targets(rng, shape, kind, np.float64)
        loss, _ = _call(answer, z.copy(), y.copy())
        ref, _ = losses.bce_with_logits(z, y)
        err = abs(loss - ref) / max(abs(ref), 1e-12)
        if err > 1e-9:
            n, rows = z.size, z.shape[0]
            checks = [(n * ref, "The loss is the sum over elements, not the mean: missing 1/N (divide by N = "
                                "logits.size, or use np.mean)."),
                      (-ref, "Sign flipped: BCE = -[y log s + (1 - y) log(1 - s)] is >= 0; the minus sign is missing."),
                      (losses.bce_with_logits(z, 1 - y)[0], "Targets swapped: y and 1 - y are exchanged (the y = 1 "
                                                            "term is -log sigmoid(z))."),
                      (ref * n / rows if rows != n else None,
                       "Divided by the number of rows (len(logits) or logits.shape[0]) instead of the number of "
                       "elements N = logits.size: the mean is over every element.")]
            detail = f"{_label(shape, kind)}: loss {loss:.10g}, expected {ref:.10g} (rel error {err:.1e})"
            for value, hint in checks:
                if value is not None and abs(loss - value) <= 1e-9 * max(abs(value), 1e-12):
                    raise Failure(detail, hint)
            if err < 1e-3:
                raise Failure(detail, "Close but not exact: an eps inside the log (log(p + eps)) or a clip of p or z "
                                      "shifts every term a little. The logits form " + LOGITS_FORM +
                                      " is exact and needs no eps.")
            raise Failure(detail,
                          f"Per element the loss is -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = {LOGITS_FORM}; "
                          "the loss is their mean.")
        worst = max(worst, err)
    return f"{len(CASES)} cases agree with minigan.losses (max rel error {worst:.1e})"


def _gradient(answer, rng):
    details = []
    for shape, kind, scale in CASES:
        z = rng.standard_normal(shape) * scale
        y = _targets(rng, shape, kind, np.float64)
        _, dz = _call(answer, z.copy(), y.copy())
        num, noise = numeric_gradient(lambda z=z, y=y: _call(answer, z.copy(), y.copy())[0], z)
        _, ref = losses.bce_with_logits(z, y)
        s_ = sigmoid(z)
        n, rows = z.size, z.shape[0]
        probes = [Probe((s_ - y) * s_ * (1 - s_) / n,
                        "Extra factor s(1 - s): with the loss written on logits, the sigmoid's derivative cancels: "
                        "dL/dz = (sigmoid(z) - y) / N."),
                  Probe((s_ - (1 - y)) / n, "Targets swapped in the gradient: dL/dz = (sigmoid(z) - y) / N."),
                  Probe((y - s_), "Sign flipped and missing 1/N: dL/dz = (sigmoid(z) - y) / N.")]
        if rows != n:
            probes.insert(0, Probe((s_ - y) / rows,
                                   "Divided by the number of rows (len(logits)) instead of the number of elements "
                                   "N = logits.size: dL/dz = (sigmoid(z) - y) / N."))
        try:
            details.append(diagnose_gradient("dlogits", dz, num, noise, ref, n=n, probes=probes, forward="loss"))
        except Failure as f:
            raise Failure(f"{_label(shape, kind)}: {f.detail}", f.hint) from None
    return f"{len(CASES)} cases, " + max(details, key=lambda d: float(d.split()[3]))


EXTREME_Z = np.array([1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 30.0, -30.0, 0.0])
EXTREME_Y = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5])


def _extremes(answer):
    # First the same call at moderate logits: a loss that is wrong everywhere is not an
    # extreme-value problem, and its hint belongs to the checks above.
    z, y = (EXTREME_Z / 1e4 * 3).reshape(-1, 1), EXTREME_Y.reshape(-1, 1)
    loss, dz = _call(answer, z.copy(), y.copy())
    ref, ref_dz = losses.bce_with_logits(z, y)
    if not (np.isfinite(loss) and abs(loss - ref) <= 1e-6 * abs(ref) and close(dz, ref_dz, np.float64)):
        raise Failure("loss or dlogits already differ at moderate logits (|z| <= 3)",
                      "Fix the loss and dlogits checks above first; this check tests large |z|.")
    for dtype in (np.float64, np.float32):
        z, y = EXTREME_Z.astype(dtype).reshape(-1, 1), EXTREME_Y.astype(dtype).reshape(-1, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                loss, dz = _call(answer, z.copy(), y.copy())
        runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        ref, ref_dz = losses.bce_with_logits(z, y)
        name = np.dtype(dtype).name
        if not np.isfinite(loss):
            raise Failure(f"{name}: loss = {loss} (exact: {ref:.6g})", NAIVE_LOG)
        if not np.all(np.isfinite(dz)):
            raise Failure(f"{name}: dlogits has NaN/inf at z = {z[~np.isfinite(dz)].tolist()}",
                          "dlogits is not finite at large |z|: compute sigmoid stably (with e = exp(-|z|): 1/(1+e) "
                          "for z >= 0, e/(1+e) for z < 0) and dlogits = (sigmoid(z) - y) / N." +
                          (f" ({runtime[0].message})" if runtime else ""))
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        if abs(loss - ref) > rtol * abs(ref):
            hint = CLIPPED if loss < ref else f"Not exact at large |z|: use the logits form {LOGITS_FORM}."
            raise Failure(f"{name}: loss {loss:.6g}, exact {ref:.6g}", hint)
        atol = 1e-12 if dtype == np.float64 else 1e-7
        if dz.shape != ref_dz.shape or not np.allclose(dz, ref_dz, rtol=1e-5, atol=atol):
            raise Failure(f"{name}: dlogits differs from (sigmoid(z) - y) / N at large |z|",
                          "At z = +-1e4 sigmoid is exactly 0 or 1, so dlogits = (sigmoid(z) - y) / N is 0 or +-1/N: "
                          "compute sigmoid with the stable piecewise form (e = exp(-|z|): 1/(1+e) for z >= 0, "
                          "e/(1+e) for z < 0).")
        if runtime:
            raise Failure(f"{name}: RuntimeWarning: {runtime[0].message}", WARNED)
    return f"finite and exact (loss {ref:.6g}), no warnings"


def _no_mutation(answer, rng):
    z = rng.standard_normal((5, 2)) * 60  # large enough to tempt an in-place clip
    y = _targets(rng, z.shape, "soft", np.float64)
    z0, y0 = z.copy(), y.copy()
    _call(answer, z, y)
    if changed(z0, z):
        raise Failure("the logits were modified",
                      "bce_with_logits modified its input logits in place (e.g. np.clip(z, ..., out=z), z -= ..., "
                      "z[z < 0] = ...): compute into new arrays; the caller still needs the logits.")
    if changed(y0, y):
        raise Failure("the targets were modified",
                      "bce_with_logits modified the targets in place: leave them as given.")
    return "logits and targets are unchanged"


def _dtype(answer, rng):
    z = (rng.standard_normal((6, 1)) * 3).astype(np.float32)
    y = _targets(rng, z.shape, "hard", np.float32)
    _, dz = _call(answer, z, y)
    if dz.dtype != np.float32:
        raise Failure(f"dlogits is {dz.dtype} for float32 logits and targets",
                      UPCAST.format(culprits="np.float64(...) factors, np.asarray(targets, dtype=float), "
                                             "np.ones(shape) / np.zeros(shape) (float64 by default)"))
    return "dlogits stays float32"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    strategy = st.tuples(st.integers(1, 8), st.integers(0, 3), st.sampled_from(["float32", "float64"]),
                         st.sampled_from([0.1, 1.0, 10.0, 100.0]), st.sampled_from(["hard", "soft"]),
                         st.integers(0, 2**16))

    def describe(example):
        n, cols, dtype, scale, kind, seed = example
        shape = (n,) if cols == 0 else (n, cols)
        return f"logits {shape_str(shape)} {dtype}, scale {scale:g}, {kind} targets"

    def prop(example):
        n, cols, dtype, scale, kind, seed = example
        rng = np.random.default_rng(seed)
        shape = (n,) if cols == 0 else (n, cols)
        z = (rng.standard_normal(shape) * scale).astype(dtype)
        y = _targets(rng, shape, kind, dtype)
        z0, y0 = z.copy(), y.copy()
        loss, dz = _call(answer, z, y)
        ref, ref_dz = losses.bce_with_logits(z.astype(np.float64), y.astype(np.float64))
        if not np.isfinite(loss) or not close(loss, ref, dtype):
            raise Failure(f"loss {loss:.6g}, expected {ref:.6g}", "see the loss and extreme-logit checks above.")
        if dz.shape != z.shape:
            raise Failure(f"dlogits has shape {shape_str(dz.shape)}", "dlogits has the logits' shape.")
        if dz.dtype != z.dtype:
            raise Failure(f"dlogits is {dz.dtype}", "dtype upcast: see the float32 check above.")
        if not close(dz, ref_dz, dtype):
            raise Failure("dlogits differs from (sigmoid(z) - y) / N", "see the gradient check above.")
        if changed(z0, z) or changed(y0, y):
            raise Failure("the inputs were modified", "leave logits and targets unchanged (no in-place operations).")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="loss and dlogits match, shape and dtype kept, inputs unchanged")

