"""Gradient checking: compare analytic gradients with central finite differences.

For a scalar function f and a small h, the central difference::

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)

has error O(h^2) from truncation plus O(eps * |f| / h) from rounding.  In float64 with
h = 1e-6 that is about 1e-10 relative, so a correct backward pass agrees to better than
1e-7 and a wrong one (a missing 1/N, a flipped sign, a stale cache) is off by far more.
In float32 the rounding term alone is ~1e-2: always check gradients in float64.

Everything here works on any object that follows the module protocol
(``forward(x) -> (y, cache)``, ``backward(dy, cache) -> (dx, grads)``, ``params()``),
including one written by a learner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

DEFAULT_TOLERANCE = 1e-7


def rel_error(a, b, floor: float = 1e-8) -> float:
    """Largest element-wise relative error ``|a - b| / max(|a| + |b|, floor)`` (CS231n's).

    Rules of thumb in float64: below 1e-7 the two agree; 1e-4 .. 1e-2 suggests a kink
    was crossed or something small is wrong; above 1e-2 the gradient is wrong.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def away_from_kink(x: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """Copy of ``x`` with entries closer than ``margin`` to 0 moved out to +-margin.

    (Leaky) ReLU has a kink at 0, where a central difference straddling 0 averages two
    slopes; test inputs must stay further from 0 than the step h.
    """
    x = np.asarray(x)
    return np.where(np.abs(x) < margin, np.copysign(np.asarray(margin, dtype=x.dtype), x), x)


def central_differences(f: Callable, x: np.ndarray, h: float = 1e-6, df: np.ndarray | None = None, *,
                        relative_step: bool = False, order: int = 2, indices=None) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of ``f`` at the flat ``indices`` of ``x`` (all by default).

    ``order=2``: ``(f(x+h) - f(x-h)) / 2h``, truncation error O(h^2).
    ``order=4``: ``(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h``, error O(h^4), so a
    larger h can be used and rounding error (which grows like 1/h) shrinks.

    Returns ``(gradient, noise)``, float64 arrays of ``len(indices)``: ``noise[j]``
    = eps * (sum of |f| over the stencil, weighted as in the formula) / (its denominator)
    estimates how far rounding of f's *value* alone can move that quotient.  See
    :func:`numerical_gradient` for ``f``, ``df`` and the step.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError("numerical_gradient: x must be a floating-point NumPy array")
    if order not in (2, 4):
        raise ValueError(f"central_differences: order must be 2 or 4, got {order}")
    flat = x.reshape(-1)  # a view: writes go to x
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient: x must be contiguous so it can be perturbed in place")
    indices = range(flat.size) if indices is None else indices
    stencil = ((1, 1.0), (-1, -1.0)) if order == 2 else ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))
    weight = 1.0 if df is None else np.abs(df)
    eps = np.finfo(np.float64).eps
    grad, noise = np.zeros(len(indices)), np.zeros(len(indices))
    for j, i in enumerate(indices):
        old = flat[i]
        step = h * max(1.0, abs(float(old))) if relative_step else h
        total, size = 0.0, 0.0
        try:
            for k, c in stencil:
                flat[i] = old + k * step
                taken = float(flat[i] - old)  # the step actually taken, after rounding
                value = np.asarray(f(x), dtype=np.float64)
                total = total + c * value
                size += abs(c) * float(np.sum(np.abs(value) * weight))
                if k == 1:
                    unit = taken
        finally:
            flat[i] = old
        denominator = (2 if order == 2 else 12) * unit
        grad[j] = float(total if df is None else np.sum(total * df)) / denominator
        noise[j] = eps * size / denominator
    return grad, noise


def numerical_gradient(f: Callable, x: np.ndarray, h: float = 1e-6, df: np.ndarray | None = None,
                       relative_step: bool = False) -> np.ndarray:
    """Central-difference gradient of ``f`` with respect to the array ``x``.

    ``f(x)`` is called with ``x`` perturbed *in place* one element at a time (so ``f``
    may also ignore its argument and read a live parameter array); ``x`` is restored
    exactly afterwards, even if ``f`` raises.

    If ``df`` is None, ``f`` returns a scalar and the result is d f / d x.  Otherwise
    ``f`` returns an array shaped like ``df`` and the result is the gradient of
    ``sum(f(x) * df)``; the difference is taken element-wise *before* weighting, so
    outputs that a perturbation does not touch add no rounding noise.

    With ``relative_step=True`` the step for entry i is ``h * max(1, |x_i|)``: rounding
    error in f grows with the size of its inputs, and a step that grows with them keeps
    the quotient accurate (a fixed h = 1e-6 on x = 1000 loses 9 of 16 digits).
    """
    grad, _ = central_differences(f, x, h, df, relative_step=relative_step)
    return grad.reshape(x.shape)


def gradient_error(analytic, numeric, noise=None, tol: float = DEFAULT_TOLERANCE) -> float:
    """The error the check functions report: :func:`rel_error`, except that no entry is
    judged more strictly than the rounding ``noise`` of its finite difference allows
    (its floor is ``noise / tol``).

    A central difference has an *absolute* rounding error of about eps * |f| / h, so an
    entry much smaller than that cannot be resolved to ``tol`` relative; such an entry
    passes when it agrees to within the noise.  Every typical bug (a missing 1/N, a
    sign, a transposed matrix, a stale cache) still shows up as an error near 1.
    """
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    b = np.asarray(numeric, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"gradient_error: sizes differ: {a.size} vs {b.size}")
    if a.size == 0:
        return 0.0
    floor = 1e-8 if noise is None else np.maximum(1e-8, np.asarray(noise).reshape(-1) / tol)
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


@dataclass
class CheckRow:
    """One line of a gradient-check report."""

    name: str
    shape: tuple
    error: float
    passed: bool
    note: str = ""


@dataclass
class GradCheckReport:
    """Result of a gradient check: truthy when every row passed; prints as a table."""

    title: str
    tolerance: float
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(r.passed for r in self.rows)

    @property
    def max_error(self) -> float:
        errors = [r.error for r in self.rows if np.isfinite(r.error)]
        return max(errors, default=float("nan"))

    def __bool__(self) -> bool:
        return self.passed

    def add(self, name: str, shape, error: float, note: str = "", passed: bool | None = None) -> None:
        if passed is None:
            passed = bool(np.isfinite(error) and error < self.tolerance)
        self.rows.append(CheckRow(name, tuple(shape), float(error), passed, note))

    def __str__(self) -> str:
        head = ("name", "shape", "max rel error", "result")
        body = [
            (r.name, "x".join(map(str, r.shape)) or "scalar", f"{r.error:.2e}",
             ("pass" if r.passed else "FAIL") + (f"  {r.note}" if r.note else ""))
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(3)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        lines = [f"{self.title}  (tolerance {self.tolerance:.0e})", fmt.format(*head)]
        lines += [fmt.format(*row) for row in body]
        verdict = "all passed" if self.passed else "FAILED"
        lines.append(f"{verdict}: {sum(r.passed for r in self.rows)}/{len(self.rows)} checks")
        return "\n".join(lines)

    __repr__ = __str__

    def extend(self, other: GradCheckReport, prefix: str = "") -> None:
        for r in other.rows:
            self.rows.append(CheckRow(prefix + r.name, r.shape, r.error, r.passed, r.note))


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def check_module(module, x: np.ndarray, *, dy: np.ndarray | None = None, h: float = 1e-4,
                 tol: float = DEFAULT_TOLERANCE, rng=0, title: str | None = None) -> GradCheckReport:
    """Check ``module.backward`` against finite differences at input ``x`` (use float64).

    The scalar checked is ``L = sum(module.forward(x)[0] * dy)`` with ``dy`` random
    normal unless given, so ``dL/dy = dy`` is what ``backward`` receives.  Rows: the
    input gradient ``dx``, one row per parameter, and two protocol checks: ``grads``
    has the keys and shapes of ``params()``, and the module is re-entrant (a forward pass
    on another batch between this forward and its backward changes nothing).

    The check uses the fourth-order stencil with steps ``h * max(1, |x_i|)``, h = 1e-4:
    truncation error O(h^4) ~ 1e-16 while rounding error O(eps / h) stays ~1e-12.  (The
    plain two-point difference with h = 1e-6 reaches ~1e-7 relative rounding error on
    gradient entries that are small because of cancellation.)  Inputs must stay more
    than 2h from a ReLU kink.
    """
    report = GradCheckReport(title or f"gradient check: {module!r}", tol)
    x = np.array(x, copy=True)
    y, cache = module.forward(x)
    if dy is None:
        dy = _rng(rng).standard_normal(np.shape(y)).astype(y.dtype)
    dx, grads = module.backward(dy, cache)
    params = module.params() if hasattr(module, "params") else {}

    if np.shape(dx) != x.shape:
        report.add("dx", np.shape(dx), float("inf"), f"dx has shape {np.shape(dx)}, input has {x.shape}", False)
    else:
        num, noise = central_differences(lambda _: module.forward(x)[0], x, h, dy, relative_step=True, order=4)
        report.add("dx", x.shape, gradient_error(dx, num, noise, tol))

    if set(grads) != set(params):
        report.add("grads keys", (), float("inf"),
                   f"backward returned {sorted(grads)}, params() has {sorted(params)}", False)
    for name, p in params.items():
        if name not in grads:
            continue
        if np.shape(grads[name]) != p.shape:
            report.add(name, p.shape, float("inf"), f"gradient has shape {np.shape(grads[name])}", False)
            continue
        num, noise = central_differences(lambda _: module.forward(x)[0], p, h, dy, relative_step=True, order=4)
        report.add(name, p.shape, gradient_error(grads[name], num, noise, tol))

    # Re-entrancy: a second forward in between must not change the first backward.
    other = _rng(rng).standard_normal(x.shape).astype(x.dtype)
    module.forward(other)
    dx2, grads2 = module.backward(dy, cache)
    same = np.array_equal(dx2, dx) and all(np.array_equal(grads2[k], grads[k]) for k in grads)
    report.add("re-entrant", (), 0.0 if same else float("inf"),
               "" if same else "backward used state from a later forward: keep activations in the cache",
               same)
    return report


def check_loss(loss_fn: Callable, *inputs: np.ndarray, h: float = 1e-4, tol: float = DEFAULT_TOLERANCE,
               title: str | None = None, **kwargs) -> GradCheckReport:
    """Check a loss ``loss_fn(*inputs, **kwargs) -> (loss, grad_0, grad_1, ...)``.

    The k returned gradients belong to the first k inputs (for ``bce_with_logits(logits,
    targets)`` that is the logits only).  Use float64 inputs.
    """
    name = getattr(loss_fn, "__name__", "loss")
    report = GradCheckReport(title or f"gradient check: {name}", tol)
    inputs = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in inputs]
    loss, *grads = loss_fn(*inputs, **kwargs)
    if not isinstance(loss, float):
        report.add("loss is a float", (), float("inf"), f"got {type(loss).__name__}", False)
    for k, g in enumerate(grads):
        x = inputs[k]

        def f(_, k=k):
            return loss_fn(*inputs, **kwargs)[0]

        label = f"d{name}/d(input {k})" if len(grads) > 1 else f"d{name}/d(logits)"
        if np.shape(g) != x.shape:
            report.add(label, np.shape(g), float("inf"), f"gradient shape differs from input {x.shape}", False)
            continue
        num, noise = central_differences(f, x, h, relative_step=True, order=4)
        report.add(label, x.shape, gradient_error(g, num, noise, tol))
    return report


def check_function(f: Callable[[], float], arrays: dict[str, np.ndarray], grads: dict[str, np.ndarray], *,
                   h: float = 1e-4, tol: float = DEFAULT_TOLERANCE, title: str = "gradient check",
                   max_entries: int | None = None, rng=0) -> GradCheckReport:
    """Check ``grads[name]`` = d f() / d ``arrays[name]`` for every name.

    ``f`` takes no arguments and reads the live ``arrays`` (perturbed in place).  This is
    how a whole chain is checked, e.g. the generator loss through the discriminator with
    respect to every generator parameter.  With ``max_entries``, each array is checked
    at that many randomly chosen entries instead of all of them (for large networks).

    Same stencil and step as :func:`check_module`.  Keep every pre-activation further
    than ~3 h from a ReLU kink.
    """
    report = GradCheckReport(title, tol)
    gen = _rng(rng)
    for name, arr in arrays.items():
        sampled = max_entries is not None and arr.size > max_entries
        idx = gen.choice(arr.size, size=max_entries, replace=False) if sampled else np.arange(arr.size)
        num, noise = central_differences(lambda _: f(), arr, h, relative_step=True, order=4, indices=idx)
        analytic = np.asarray(grads[name]).reshape(-1)[idx]
        report.add(name, arr.shape, gradient_error(analytic, num, noise, tol),
                   f"{max_entries} sampled entries" if sampled else "")
    return report
