"""Checker for the ``generator_gradient`` exercise: ``(G, D, z) -> grads``.

The answer returns d L_G / d(G's parameters) for the non-saturating generator loss
``L_G = -mean log D(G(z)) = BCE(D's logits on G(z), 1)`` (the article's code, section
4.3), differentiated *through* the discriminator: a dict keyed like ``G.params()``.
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..gan import build_discriminator, build_generator
from ..nn.activations import sigmoid
from ._modules import UPCAST
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
    shape_str,
    snapshot,
)

NAME = "generator_gradient"
DESCRIPTION = "gradient of the non-saturating G loss -mean log D(G(z)) w.r.t. G's parameters, through D"

CHAIN = ("The chain: fake, g_cache = G.forward(z); logits, d_cache = D.forward(fake); "
         "dlogits = (sigmoid(logits) - 1) / N; d_fake, _ = D.backward(dlogits, d_cache); "
         "_, grads = G.backward(d_fake, g_cache).")


def _setups(seed):
    """Two small float64 (G, D, z) triples whose parameter shapes differ between G and D."""
    rng = np.random.default_rng(seed)
    out = []
    for z_dim, g_hidden, x_dim, d_hidden, n in ((3, (5, 4), 2, (6,), 7), (2, (3,), 3, (4, 4), 4)):
        G = build_generator(z_dim, g_hidden, x_dim, dtype=np.float64, rng=rng)
        D = build_discriminator(x_dim, d_hidden, dtype=np.float64, rng=rng)
        z = rng.standard_normal((n, z_dim))
        out.append((f"G {z_dim}->{'->'.join(map(str, g_hidden))}->{x_dim}, D {x_dim}->"
                    f"{'->'.join(map(str, d_hidden))}->1, z {shape_str(z.shape)}", G, D, z))
    return out


def _chain(G, D, z, dlogits_of):
    """G's gradients when ``dlogits_of(logits)`` is fed back through D (minigan's modules)."""
    fake, g_cache = G.forward(z)
    logits, d_cache = D.forward(fake)
    d_fake, _ = D.backward(dlogits_of(logits), d_cache)
    _, grads = G.backward(d_fake, g_cache)
    return grads


def _skip_d(G, z, logits):
    fake, g_cache = G.forward(z)
    _, grads = G.backward(np.broadcast_to(losses.generator_loss(logits)[1], fake.shape).copy(), g_cache)
    return grads


def reference(G, D, z):
    return _chain(G, D, z, lambda logits: losses.generator_loss(logits, "non_saturating")[1])


def _loss(G, D, z):
    return losses.generator_loss(D(G(z)), "non_saturating")[0]


def _explain(exc):
    exc = original(exc)
    text = str(exc)
    if "matmul" in text or "not aligned" in text or "could not be broadcast" in text:
        return ("Shapes do not line up in the chain: G.backward needs the gradient w.r.t. G's output, shape "
                "(N, out_dim): the dx that D.backward returns, not dlogits (N, 1). " + CHAIN)
    return ""


def _call(answer, G, D, z):
    grads = call_learner("your function", answer, G, D, z)
    params = G.params()
    if isinstance(grads, tuple) and any(isinstance(g, dict) for g in grads):
        raise Failure(f"returned a tuple of {len(grads)}",
                      "Return only the dict of G's gradients, keyed like G.params().")
    if not isinstance(grads, dict):
        raise Failure(f"returned a {type(grads).__name__}, not a dict",
                      "Return a dict keyed like G.params() ({'0.W': ..., '0.b': ..., ...}): what G.backward returns.")
    d_params = D.params()
    if grads and all(k in d_params and np.shape(v) == d_params[k].shape for k, v in grads.items()) and \
            any(k not in d_params or params[k].shape != d_params[k].shape for k in params):
        raise Failure("the returned gradients have the shapes of D's parameters",
                      "These are the discriminator's parameter gradients. The exercise asks for G's: take D's dx "
                      "(the gradient w.r.t. D's input, the fake batch) and pass it on to G.backward. " + CHAIN)
    if set(grads) != set(params):
        raise Failure(f"keys {sorted(grads)} != G.params() keys {sorted(params)}",
                      "Return one gradient per generator parameter, keyed like G.params().")
    for k, v in grads.items():
        if not isinstance(v, np.ndarray) or v.shape != params[k].shape:
            raise Failure(f"grads[{k!r}] has shape {shape_str(np.shape(v))}, G.params()[{k!r}] has "
                          f"{shape_str(params[k].shape)}", "Each gradient has the shape of its parameter.")
    return grads


def run(answer, result: ExerciseResult, *, seed: int = 0, max_examples: int = 25) -> None:
    s = Session(result, _explain)
    setups = _setups(seed)

    def first():
        if not callable(answer):
            raise Failure(f"the answer is a {type(answer).__name__}",
                          "Pass the function itself: check('generator_gradient', my_generator_gradient).")
        _, G, D, z = setups[0]
        _call(answer, G, D, z)
        return "a dict with G.params()'s keys and shapes"

    if not s.run("returns G's gradients (keys and shapes of G.params())", first) and not s.todo_seen:
        return  # nothing else can run (an unfinished answer still lists every check)
    s.run("gradient through D (gradient check)", lambda: _gradient(answer, setups))
    s.run("G, D and z left unchanged", lambda: _no_mutation(answer, seed))
    s.run("float32 in, float32 out", lambda: _dtype(answer, seed))
    s.run("property test (hypothesis): random networks, dtypes", lambda: _property(answer, max_examples))


def _flat(grads, keys):
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in keys])


def _gradient(answer, setups):
    details = []
    for label, G, D, z in setups:
        grads = _call(answer, G, D, z)
        params = G.params()
        keys = list(params)
        nums, noises = [], []
        for k in keys:
            num, noise = numeric_gradient(lambda G=G, D=D, z=z: _loss(G, D, z), params[k])
            nums.append(num.ravel())
            noises.append(noise.ravel())
        n = z.shape[0]
        ref = _flat(reference(G, D, z), keys)
        def via(dlogits_of, G=G, D=D, z=z, keys=keys):
            return _flat(_chain(G, D, z, dlogits_of), keys)

        probes = [
            Probe(via(lambda l: losses.generator_loss(l, "minimax")[1]),
                  "This is the gradient of the minimax loss mean log(1 - D(G(z))) (the formula of article section "
                  "3.4), not of the non-saturating loss -mean log D(G(z)) that the article's code (section 4.3) "
                  "minimises: BCE(logits, 1), dlogits = (sigmoid(logits) - 1) / N."),
            Probe(via(lambda l: losses.bce_with_logits(l, 0.0)[1]),
                  "Target 0: this is BCE(D(G(z)), 0), the discriminator's label for fakes. The generator wants D to "
                  "say 'real': its loss is BCE(logits, 1), dlogits = (sigmoid(logits) - 1) / N."),
            Probe(via(lambda l: -1.0 / (l.size * sigmoid(l))),
                  "dL/dD = -1 / (N D(G(z))) is the derivative w.r.t. the probability D = sigmoid(logits), but "
                  "D.backward expects the gradient w.r.t. the logits: multiply by sigmoid'(logits) = D (1 - D), "
                  "giving (D - 1) / N."),
            Probe(_flat(_skip_d(G, z, D(G(z))), keys),
                  "Skipped D: dlogits (N, 1) went straight into G.backward (NumPy broadcast it over G's outputs). "
                  "G.backward needs the gradient w.r.t. G's output, which is what D.backward returns as dx. " + CHAIN),
        ]
        scale_hints = {
            -1.0: "Sign flipped: this is the gradient of +mean log D(G(z)); a descent step on it would make G "
                  "worse. dlogits = (sigmoid(logits) - 1) / N.",
            0.0: "All zero: the gradient never reached G's parameters. " + CHAIN,
        }
        if n > 1:
            scale_hints[float(n)] = (f"Missing 1/N: the gradient is N = {n} times too large. The loss is a mean over "
                                     "the batch, so dlogits = (sigmoid(logits) - 1) / N.")
        try:
            details.append(diagnose_gradient("G's gradient", _flat(grads, keys), np.concatenate(nums),
                                             np.concatenate(noises), ref, n=n, probes=probes,
                                             scale_hints=scale_hints))
        except Failure as f:
            raise Failure(f"{label}: {f.detail}", f.hint) from None
    return f"{len(setups)} networks, " + max(details, key=lambda d: float(d.split()[3]))


def _no_mutation(answer, seed):
    _, G, D, z = _setups(seed)[0]
    g0, d0, z0 = snapshot(G.params()), snapshot(D.params()), z.copy()
    _call(answer, G, D, z)
    if changed(d0, D.params()):
        raise Failure("D's parameters changed",
                      "Your function changed the discriminator's parameters: it must only compute G's gradients "
                      "(in the GAN step, D is not updated while G is).")
    if changed(g0, G.params()):
        raise Failure("G's parameters changed",
                      "Your function changed the generator's parameters: return the gradients, and leave the update "
                      "to the optimiser.")
    if changed(z0, z):
        raise Failure("z was modified", "Your function modified z in place: leave the noise batch unchanged.")
    return "parameters of G and D, and z, are unchanged"


def _dtype(answer, seed):
    rng = np.random.default_rng(seed)
    G = build_generator(3, (4,), 2, dtype=np.float32, rng=rng)
    D = build_discriminator(2, (3,), dtype=np.float32, rng=rng)
    z = rng.standard_normal((5, 3), dtype=np.float32)
    grads = _call(answer, G, D, z)
    bad = {k: v.dtype for k, v in grads.items() if v.dtype != np.float32}
    if bad:
        k = next(iter(bad))
        raise Failure(f"grads[{k!r}] is {bad[k]} for float32 networks",
                      UPCAST.format(culprits="a loss gradient built from Python/NumPy float64 arrays, e.g. "
                                             "np.ones(logits.shape) as targets or np.float64(1 / N)"))
    return "every gradient stays float32"


def _property(answer, max_examples):
    from hypothesis import strategies as st

    sizes = st.lists(st.integers(1, 5), min_size=1, max_size=2)
    strategy = st.tuples(st.integers(1, 4), sizes, st.integers(1, 3), sizes, st.integers(1, 6),
                         st.sampled_from(["float32", "float64"]), st.integers(0, 2**16))

    def describe(example):
        z_dim, gh, x_dim, dh, n, dtype, seed = example
        return (f"G {z_dim}->{'->'.join(map(str, gh))}->{x_dim}, D {x_dim}->{'->'.join(map(str, dh))}->1, "
                f"z ({n}, {z_dim}) {dtype}")

    def prop(example):
        z_dim, gh, x_dim, dh, n, dtype, seed = example
        rng = np.random.default_rng(seed)
        G = build_generator(z_dim, tuple(gh), x_dim, dtype=dtype, rng=rng)
        D = build_discriminator(x_dim, tuple(dh), dtype=dtype, rng=rng)
        z = rng.standard_normal((n, z_dim)).astype(dtype)
        g0, d0, z0 = snapshot(G.params()), snapshot(D.params()), z.copy()
        grads = _call(answer, G, D, z)
        if changed(g0, G.params()) or changed(d0, D.params()) or changed(z0, z):
            raise Failure("G, D or z changed", "Leave G, D and z unchanged: only compute the gradients.")
        ref = reference(G, D, z)
        for k, g in ref.items():
            if grads[k].dtype != np.dtype(dtype):
                raise Failure(f"grads[{k!r}] is {grads[k].dtype}", "dtype upcast: see the float32 check above.")
            if not close(grads[k], g, dtype):
                raise Failure(f"grads[{k!r}] differs from the reference", "see the gradient check above.")

    return run_property(strategy, prop, describe, _explain, max_examples=max_examples,
                        what="keys, shapes, dtype and values match; G, D, z unchanged")
