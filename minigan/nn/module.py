"""The module protocol every layer in minigan follows (and every learner's layer can).

::

    y, cache = m.forward(x)          # the training pass; nothing it computed is kept on m
    dx, grads = m.backward(dy, cache) # grads has exactly the keys of m.params()
    y = m(x)                          # the evaluation pass (pictures, samples, metrics)
    m.params()                        # {name: live ndarray}, updated in place by optimisers
    m.buffers()                       # {name: live ndarray}: state saved with the weights, not trained

Caches are *returned* rather than stored on ``self`` so that one module can be run on
two batches (a real and a fake one, as the discriminator is in every GAN step) and both
backward passes still use their own activations.

**Two modes, two methods.**  ``forward`` is the training pass: random layers draw
(dropout's mask, translation's shift, instance noise) and batch norm normalises with the
batch's own statistics.  ``m(x)`` is the evaluation pass: deterministic, each row on its
own (dropout and the augmentations are the identity, batch norm uses its running
averages).  A layer without such behaviour (Dense, the activations, convolutions) does
the same in both.  The training pass of batch norm also advances its running averages,
the one piece of state a ``forward`` may change: it lives in ``buffers()``, which
``backward`` never reads, so the real/fake independence above still holds.

Two optional keywords let a caller skip work it does not need; a module lists the ones it
understands in ``backward_options`` and :func:`backward` passes only those (so a
learner's module with the plain ``backward(dy, cache)`` keeps working everywhere)::

    dx, grads = m.backward(dy, cache, need_dx=False)    # dx may be None: nobody needs it
    dx, grads = m.backward(dy, cache, need_grads=False) # grads may be {}: only dx is used

A GAN uses both: D's input gradient is not needed in D's own step (its input is data),
and D's parameter gradients are not needed in G's step (only the gradient reaching G).
"""

from __future__ import annotations

import numpy as np


class Module:
    """Base class: subclasses implement :meth:`forward` and :meth:`backward`.

    A module owns its parameters (``params()``) and nothing else that changes between
    calls.  ``backward`` must not modify ``dy`` or anything inside ``cache``, and every
    call returns new arrays (a later call never overwrites what an earlier one returned).
    """

    #: optional keywords of ``backward`` this module understands ("need_dx", "need_grads")
    backward_options: frozenset[str] = frozenset()

    def params(self) -> dict[str, np.ndarray]:
        """Name -> parameter array.  The arrays are the live ones, not copies."""
        return {}

    def buffers(self) -> dict[str, np.ndarray]:
        """Name -> state array that is saved and restored with the weights but not trained
        (e.g. the power-iteration vectors of :class:`~minigan.nn.SpectralNorm`)."""
        return {}

    def update_buffers(self) -> None:
        """Advance the buffers by one training update (called once per D update); most
        modules have none."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0]

    def num_params(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params().values())


def backward(module, dy: np.ndarray, cache: object, **options: bool):
    """``module.backward(dy, cache, **options)`` with only the options the module declares.

    ``options`` are ``need_dx`` and ``need_grads`` (see the top of this file); a module
    that does not list one in ``backward_options`` is called without it and simply does
    the full work.
    """
    supported = getattr(module, "backward_options", None)
    if not supported:
        return module.backward(dy, cache)
    return module.backward(dy, cache, **{k: v for k, v in options.items() if k in supported})


def check_input(module: Module, x: object, features: int | None = None, dtype=None) -> None:
    """Raise ``ValueError`` naming ``module`` unless ``x`` is a 2-D floating array.

    ``features`` (if given) is the required size of axis 1 and ``dtype`` (if given) the
    required dtype.  The message states what was expected and what was received.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{module!r}: expected a NumPy array, got {type(x).__name__}")
    if x.ndim != 2:
        want = f"(batch, {features})" if features is not None else "(batch, features)"
        raise ValueError(f"{module!r}: expected a 2-D input of shape {want}, got shape {x.shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{module!r}: expected a floating-point input, got dtype {x.dtype}")
    if features is not None and x.shape[1] != features:
        raise ValueError(
            f"{module!r}: expected input of shape (batch, {features}), got shape {x.shape}"
        )
    if dtype is not None and x.dtype != dtype:
        raise ValueError(
            f"{module!r}: expected {np.dtype(dtype).name} input (the layer's dtype), got "
            f"{x.dtype}; convert with x.astype(np.{np.dtype(dtype).name})"
        )
