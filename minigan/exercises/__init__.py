"""Exercises that grade themselves: write a layer, a loss or a gradient, then ``check`` it.

::

    from minigan.exercises import check, EXERCISES
    result = check("dense", MyDense)   # prints as a report; truthy iff every check passed
    result                             # in a notebook: one line per check, a hint per failure

Each checker runs, on the learner's code: gradient checks in float64 against central
differences (:mod:`minigan.gradcheck`) on several random inputs, forward values against
minigan's own implementation, float32-in / float32-out, no modification of inputs,
re-entrancy (two forwards, then both backwards with their own caches), extreme inputs
where they matter (|z| = 1e4), and a hypothesis property test over random shapes and
dtypes.  Anything the learner's code raises becomes a failed check with the exception's
message: ``check`` itself does not raise (an unknown exercise name aside).  A failed
check carries a *hint* naming the likely mistake, found by testing for that mistake
specifically (a gradient exactly N times too large is a missing 1/N; exactly minus the
right one is a flipped sign; a tanh derivative equal to ``1 - x**2`` is written with the
input instead of the output; ...).

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

Subclass :class:`minigan.nn.Module` for the layer classes: it supplies ``params()``
(returning ``{}``) and ``layer(x)``.
"""

from __future__ import annotations

from functools import partial

from . import _bce, _generator, _modules
from ._report import ExerciseResult, Row

#: name -> (one-line description, runner(answer, result, *, seed, max_examples)), in the
#: order of the notebooks.  A new exercise is one line here and one module.
_CHECKERS = {
    "dense": (_modules.DenseExercise.description, partial(_modules.run, _modules.EXERCISES["dense"])),
    "leaky_relu": (_modules.LeakyReLUExercise.description, partial(_modules.run, _modules.EXERCISES["leaky_relu"])),
    "tanh": (_modules.TanhExercise.description, partial(_modules.run, _modules.EXERCISES["tanh"])),
    "sigmoid": (_modules.SigmoidExercise.description, partial(_modules.run, _modules.EXERCISES["sigmoid"])),
    "bce_with_logits": (_bce.DESCRIPTION, _bce.run),
    "generator_gradient": (_generator.DESCRIPTION, _generator.run),
}

#: name -> one-line description, in the order of the notebooks
EXERCISES: dict[str, str] = {name: description for name, (description, _) in _CHECKERS.items()}


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


__all__ = ["EXERCISES", "ExerciseResult", "Row", "check"]
