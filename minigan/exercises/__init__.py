"""Exercises that grade themselves: write a layer, a loss or a gradient, then ``check`` it.

::

    from minigan.exercises import check, EXERCISES
    result = check("dense", MyDense)   # prints as a report; truthy iff every check passed
    result                             # in a notebook: one line per check, a hint per failure

Each checker runs, on the learner's code: gradient checks in float64 against central
differences (:mod:`minigan.gradcheck`) on several random inputs, forward values against
minigan's own implementation, dtypes kept (float32 stays float32, float64 stays float64),
no modification of inputs, re-entrancy as ``GAN.train_step`` needs it (forward(x1), an
inference forward that is never backpropagated, forward(x2), then the two backwards in
reverse order, each with its own cache), exact zeros (0 and -0.0) for the activations,
extreme inputs where they matter (|z| up to 1e4), saturated discriminators (logits of
±1e2 to ±2e3) for the GAN gradients, and a hypothesis property test over random shapes
and dtypes.  Anything the learner's code raises becomes a failed check with the
exception's message: ``check`` itself does not raise (an unknown exercise name aside).
A failed check carries a *hint* naming the likely mistake, found by testing for that
mistake specifically (a gradient exactly N times too large is a missing 1/N; exactly
minus the right one is a flipped sign; a tanh derivative equal to ``1 - x**2`` is written
with the input instead of the output; a gradient equal to another batch's read inputs
kept on ``self``; ...).  The report a learner reads is Simplified Chinese (check names,
details, hints, verdict); library exception messages are quoted as they are.

The answer contracts (the notebooks in ``notebooks/exercises/`` state them too):

``"dense"``
    A class ``MyDense(in_features, out_features, *, rng=None, dtype=np.float32)``
    (``rng`` and ``dtype`` optional: the checker passes them only if the constructor
    accepts them) that stores ``self.W`` of shape (in, out) and ``self.b`` of shape
    (out,), and whose ``params()`` returns ``{"W": self.W, "b": self.b}``.  The checker
    replaces ``W`` and ``b`` by its own arrays (float64 for the gradient checks, float32
    for the dtype check) after construction.  ``forward(x) -> (y, cache)``,
    ``backward(dy, cache) -> (dx, {"W": dW, "b": db})``.
``"leaky_relu"``
    A class ``MyLeakyReLU(alpha=0.2)`` (built as ``MyLeakyReLU(alpha)`` and
    ``MyLeakyReLU()``); ``backward`` returns ``(dx, {})``.
``"tanh"``, ``"sigmoid"``
    Classes built with no arguments; ``backward`` returns ``(dx, {})``.
``"bce_with_logits"``
    A function ``(logits, targets) -> (loss, dlogits)``: ``targets`` has the logits'
    shape, ``loss`` is one number (the mean over all elements), ``dlogits`` has the
    logits' shape and dtype.
``"generator_gradient"``
    A function ``(G, D, z) -> grads``: the gradient of the non-saturating generator
    loss ``-mean log D(G(z))`` (``BCE(D's logits, 1)``) with respect to G's parameters,
    through D, as a dict keyed like ``G.params()``.  ``G`` and ``D`` are minigan
    networks (:func:`minigan.build_generator`, :func:`minigan.build_discriminator`; D
    outputs logits); the function must not change them or ``z``.
``"discriminator_gradient"``
    A function ``(D, x_real, x_fake) -> (loss, grads)``: D's loss
    ``BCE(D(x_real), 1) + BCE(D(x_fake), 0)`` (each BCE a mean over its own batch, as
    :func:`minigan.losses.discriminator_loss` and ``GAN.d_step``; the batches may differ
    in size) as one number, and its gradient with respect to D's parameters as a dict
    keyed like ``D.params()``.  Must not change D, ``x_real`` or ``x_fake``; must stay
    exact when D is saturated (logits of +-1e2 and beyond in float32).
``"minimax_gradient"``
    A function ``(G, D, z) -> grads``: the gradient of the minimax generator loss
    ``mean log(1 - D(G(z)))`` (:func:`minigan.losses.generator_loss` with
    ``kind="minimax"``: ``dL/dlogits = -sigmoid(logits) / N``) with respect to G's
    parameters, through D, keyed like ``G.params()``; same rules as
    ``"generator_gradient"``, plus a saturated D.
``"adam_step"``
    A function ``(params, grads, state, *, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8)
    -> (new_params, new_state)``: one bias-corrected step of :class:`minigan.optim.Adam`
    (its defaults, the DCGAN settings).  ``params`` and ``grads`` are dicts name ->
    floating array; ``state = {"t": int, "m": {name: array}, "v": {name: array}}`` is
    Adam's own ``t`` and ``state`` (``t = 0`` and zero moments before the first step).
    ``t`` is incremented *before* the bias correction uses it; ``eps`` is added outside
    the square root: ``p - lr * m_hat / (sqrt(v_hat) + eps)``.  Returns new dicts
    (``new_state["t"] = t + 1``), keeps the dtype (float32 stays float32) and must not
    change ``params``, ``grads`` or ``state``.
``"train_step"``
    A function ``(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict``: one
    step of ``GAN.train_step`` with ``order="d_first"``, ``loss="non_saturating"``:
    ``k = len(z_d)`` discriminator updates (the i-th on ``x_real`` and ``G(z_d[i])``,
    real label ``real_label``, fake label 0, one ``opt_D.step`` each), then one generator
    update on ``G(z_g)`` through D (target 1, one ``opt_G.step``; D not updated).
    ``opt_G`` / ``opt_D`` are minigan optimisers on ``G.params()`` / ``D.params()``.
    Returns ``{"d_loss", "g_loss", "d_real", "d_fake"}`` like ``StepStats.as_dict()``
    (the D numbers from the last D update, before it).  Must not change ``x_real``,
    ``z_d`` or ``z_g``, and updates the parameters in place (through the optimisers).
``"mode_coverage"``
    A function ``(samples, centres, std) -> (modes, high_quality, reverse_kl)``:
    PacGAN's metric as :func:`minigan.metrics.mode_coverage` computes it, for samples
    (N, 2) and mode centres (K, 2) with std ``std`` each.  A sample belongs to its nearest
    centre (Euclidean; of equally near centres the first, as ``np.argmin``) and is high
    quality if within ``3 * std`` of it (``dist <= 3 * std``); ``modes`` counts
    the modes with at least one high-quality sample; ``high_quality`` is the fraction of
    all N samples that are high quality; ``reverse_kl = sum_k q_k log(q_k K)`` (nats,
    0 log 0 = 0) with q the histogram of the high-quality samples over the modes, and
    ``inf`` when there is none.  An object with those three attributes (what minigan's
    function returns) is accepted too.  Must not change ``samples`` or ``centres``.

Subclass :class:`minigan.nn.Module` for the layer classes: it supplies ``params()``
(returning ``{}``) and ``layer(x)``.
"""

from __future__ import annotations

from . import _adam, _bce, _coverage, _discriminator, _generator, _minimax, _modules, _train_step
from ._kit import ExerciseResult, Mistake, Row

#: name -> (one-line description, runner(answer, result, *, seed, max_examples)), in the
#: order of the notebooks.  A new exercise is one line here and one module.
_CHECKERS = {
    "dense": (_modules.DENSE.description, _modules.DENSE.run),
    "leaky_relu": (_modules.LEAKY_RELU.description, _modules.LEAKY_RELU.run),
    "tanh": (_modules.TANH.description, _modules.TANH.run),
    "sigmoid": (_modules.SIGMOID.description, _modules.SIGMOID.run),
    "bce_with_logits": (_bce.EXERCISE.description, _bce.EXERCISE.run),
    "generator_gradient": (_generator.EXERCISE.description, _generator.EXERCISE.run),
    "discriminator_gradient": (_discriminator.EXERCISE.description, _discriminator.EXERCISE.run),
    "minimax_gradient": (_minimax.EXERCISE.description, _minimax.EXERCISE.run),
    "adam_step": (_adam.EXERCISE.description, _adam.EXERCISE.run),
    "train_step": (_train_step.EXERCISE.description, _train_step.EXERCISE.run),
    "mode_coverage": (_coverage.EXERCISE.description, _coverage.EXERCISE.run),
}

_MODULES = {"bce_with_logits": _bce, "generator_gradient": _generator, "discriminator_gradient": _discriminator,
            "minimax_gradient": _minimax, "train_step": _train_step, "mode_coverage": _coverage, "adam_step": _adam}
_MODULES.update(dense=_modules.DENSE, leaky_relu=_modules.LEAKY_RELU, tanh=_modules.TANH, sigmoid=_modules.SIGMOID)
#: name -> the exercise's table of mistakes
_TABLES = {name: getattr(_MODULES.get(name), "MISTAKES", ()) for name in _CHECKERS}

#: name -> one-line description, in the order of the notebooks
EXERCISES: dict[str, str] = {name: description for name, (description, _) in _CHECKERS.items()}


def mistakes(name: str) -> list:
    """The table of typical mistakes of exercise ``name``: :class:`~._kit.Mistake` s, each an
    executable wrong answer with the hint ``check`` gives it."""
    if name not in EXERCISES:
        raise ValueError(f"mistakes: unknown exercise {name!r}; expected one of {list(EXERCISES)}")
    return list(_TABLES[name])


def check(name: str, answer, *, seed: int = 0, max_examples: int = 25) -> ExerciseResult:
    """Grade ``answer`` for exercise ``name`` (one of :data:`EXERCISES`).

    Returns an :class:`ExerciseResult`: truthy iff every check passed; ``str()`` of it
    (or displaying it in a notebook) is the report, with a hint under each failed check;
    ``.hints`` lists those hints.  ``seed`` fixes the random inputs; ``max_examples``
    is the number of cases of the hypothesis property test.  Raises ``ValueError`` only
    for an unknown ``name``.
    """
    if name not in EXERCISES:
        raise ValueError(f"check: unknown exercise {name!r}; expected one of {list(EXERCISES)}")
    result = ExerciseResult(name, EXERCISES[name])
    _CHECKERS[name][1](answer, result, seed=seed, max_examples=max_examples)
    return result


__all__ = ["EXERCISES", "ExerciseResult", "Mistake", "Row", "check", "mistakes"]
