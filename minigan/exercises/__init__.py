"""Exercises that grade themselves: write a layer, a loss or a gradient, then ``check`` it.

::

    from minigan.exercises import check, EXERCISES
    result = check("dense", MyDense)   # prints as a report; truthy iff every check passed
    result                             # in a notebook: one line per check, a hint per failure

Each checker runs the learner's code on fixed and random inputs (a hypothesis property over shapes and
dtypes): values against minigan's own implementation, gradients in float64 against central differences
(:mod:`minigan.gradcheck`), dtypes kept, inputs unchanged, re-entrancy as ``GAN.train_step`` needs it, and
the hard regimes (exact zeros, |z| up to 1e4, saturated discriminators, points on a boundary).  Anything
the learner's code raises becomes a failed check; ``check`` itself raises only for an unknown name.  A
failed check carries a hint naming the mistake: each exercise holds a table of typical mistakes
(:func:`mistakes`), executable wrong answers matched against the learner's output on the same inputs,
and a constant factor, a sign or a dtype is named when no entry matches.  The report a learner reads is
Simplified Chinese.  Layers subclass :class:`minigan.nn.Module` (``params()``, ``layer(x)``).

The answer contracts (each checker module's docstring gives the maths; the notebooks in
``notebooks/exercises/`` state them too):

- ``"dense"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"`` (:mod:`._modules`): classes ``MyDense(in_features,
  out_features)``, ``MyLeakyReLU(alpha=0.2)``, ``MyTanh()``, ``MySigmoid()`` with ``forward(x) -> (y, cache)``,
  ``backward(dy, cache) -> (dx, grads)`` (``{"W": dW, "b": db}``; else ``{}``).
- ``"bce_with_logits"`` (:mod:`._bce`): ``(logits, targets) -> (loss, dlogits)``, the mean BCE and its gradient.
- ``"generator_gradient"``, ``"minimax_gradient"`` (:mod:`._generator`): ``(G, D, z) -> grads``,
  dL/dθ_G through D for the non-saturating / minimax loss, keyed like ``G.params()``.
- ``"discriminator_gradient"`` (:mod:`._discriminator`): ``(D, x_real, x_fake) -> (loss, grads)``.
- ``"adam_step"`` (:mod:`._adam`): ``(params, grads, state, *, lr, beta1, beta2, eps) -> (new_params, new_state)``.
- ``"train_step"`` (:mod:`._train_step`): ``(G, D, opt_G, opt_D, x_real, z_d, z_g, real_label=1.0) -> dict``.
- ``"mode_coverage"`` (:mod:`._coverage`): ``(samples, centres, std) -> (modes, high_quality, reverse_kl)``.
- ``"batchnorm_backward"`` (:mod:`._batchnorm`): ``MyBatchNorm(features, eps=1e-5)``, training mode (the batch's
  mean and biased variance, eps inside the root), params ``gamma``, ``beta``; ``backward -> (dx, {"gamma", "beta"})``.
- ``"conv_backward"`` (:mod:`._conv`): ``MyConv2d(in_shape, out_channels, kernel, *, stride=1, padding=0)`` on rows
  of flattened (H, W, C) images, ``W`` (C_in, k, k, C_out), ``b`` (C_out,), as :class:`minigan.nn.Conv2d`.
"""

from __future__ import annotations

from . import _adam, _batchnorm, _bce, _conv, _coverage, _discriminator, _generator, _modules, _train_step
from ._kit import ExerciseResult, Mistake, Row

#: name -> its declaration (a LayerExercise or FunctionExercise: description, run, table of mistakes), in the
#: order of the notebooks.  A new exercise is one module and one line here.
_DECLARED = {"dense": _modules.DENSE, "leaky_relu": _modules.LEAKY_RELU, "tanh": _modules.TANH,
             "sigmoid": _modules.SIGMOID, "bce_with_logits": _bce.EXERCISE, "generator_gradient": _generator.EXERCISE,
             "discriminator_gradient": _discriminator.EXERCISE, "minimax_gradient": _generator.MINIMAX,
             "adam_step": _adam.EXERCISE, "train_step": _train_step.EXERCISE, "mode_coverage": _coverage.EXERCISE,
             "batchnorm_backward": _batchnorm.BATCHNORM, "conv_backward": _conv.CONV}

#: name -> one-line description, in the order of the notebooks
EXERCISES: dict[str, str] = {name: exercise.description for name, exercise in _DECLARED.items()}


def mistakes(name: str) -> list:
    """The table of typical mistakes of exercise ``name``: :class:`~._kit.Mistake` s, each an executable wrong answer
    with the hint ``check`` gives it."""
    if name not in EXERCISES:
        raise ValueError(f"mistakes: unknown exercise {name!r}; expected one of {list(EXERCISES)}")
    exercise = _DECLARED[name]
    return list(getattr(exercise, "MISTAKES", None) or exercise.mistakes)


def check(name: str, answer, *, seed: int = 0, max_examples: int = 25) -> ExerciseResult:
    """Grade ``answer`` for exercise ``name`` (one of :data:`EXERCISES`).

    Returns an :class:`ExerciseResult`: truthy iff every check passed; ``str()`` of it (or displaying it in a
    notebook) is the report, with a hint under each failed check; ``.hints`` lists those hints.  ``seed`` fixes the
    random inputs; ``max_examples`` is the number of cases of the hypothesis property test.  Raises ``ValueError``
    only for an unknown ``name``.
    """
    if name not in EXERCISES:
        raise ValueError(f"check: unknown exercise {name!r}; expected one of {list(EXERCISES)}")
    result = ExerciseResult(name, EXERCISES[name])
    _DECLARED[name].run(answer, result, seed=seed, max_examples=max_examples)
    return result


__all__ = ["EXERCISES", "ExerciseResult", "Mistake", "Row", "check", "mistakes"]
