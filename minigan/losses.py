"""Cross-entropy losses computed from logits, and the two GAN objectives.

Every function returns the loss as a Python ``float`` and the gradient of that loss
with respect to each logits argument, with the same shape and dtype as the logits.
All losses are means over the elements, so every gradient carries a ``1/N``.

The article (section 3.4) writes::

    L_G = - E_x[log D(x)] + E_z[log(1 - D(G(z)))]
    L_D =   E_x[log D(x)] + E_z[log(1 - D(G(z)))]

Read as quantities to *minimise*, both are wrong:

* ``L_D`` is the value function V(D, G) of Goodfellow et al. (2014), which D must
  *maximise*; the loss D minimises is its negative, ``-E_x[log D(x)] - E_z[log(1 - D(G(z)))]``
  = BCE(D(x), 1) + BCE(D(G(z)), 0).  That is :func:`discriminator_loss`, and it is what
  the article's own code (section 4.3) computes.
* In ``L_G`` the first term does not depend on G, so whatever its sign it contributes no
  gradient; what G minimises is ``E_z[log(1 - D(G(z)))]`` (the "minimax" loss).  The
  article's code instead minimises ``-E_z[log D(G(z))]`` = BCE(D(G(z)), 1), the
  "non-saturating" loss Goodfellow et al. recommend because the minimax loss has almost
  no gradient when D confidently rejects G's samples.  See :func:`generator_loss`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

GENERATOR_LOSSES = ("non_saturating", "minimax")


def _as_logits(z, name: str) -> np.ndarray:
    if not isinstance(z, np.ndarray) or z.dtype.kind != "f":
        got = z.dtype if isinstance(z, np.ndarray) else type(z).__name__
        raise ValueError(f"{name}: expected a floating-point NumPy array of logits, got {got}")
    if z.size == 0:
        raise ValueError(f"{name}: logits are empty")
    return z


def softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` computed as ``max(z, 0) + log1p(exp(-|z|))``: no overflow."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def bce_with_logits(logits: np.ndarray, targets) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of ``sigmoid(logits)`` against ``targets``, mean-reduced.

    With z the logits and y in [0, 1] the targets (an array of the same shape, or a
    scalar), per element::

        l = -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z))
          = max(z, 0) - z y + log1p(exp(-|z|))

    The second form never takes the log of a rounded-to-zero probability, so it is
    finite and exact for |z| up to 1e4 and beyond, in float32 and float64.

    Returns ``(loss, dlogits)`` with ``dlogits = (sigmoid(z) - y) / N``, N = ``z.size``.
    """
    z = _as_logits(logits, "bce_with_logits")
    y = np.asarray(targets, dtype=z.dtype)
    if y.ndim and y.shape != z.shape:
        raise ValueError(
            f"bce_with_logits: targets of shape {y.shape} do not match logits of shape {z.shape}"
        )
    n = z.size
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows; shared by the loss and sigmoid(z)
    loss = float((np.maximum(z, 0) + np.log1p(e) - z * y).sum()) / n
    dz = np.where(z >= 0, 1, e)  # sigmoid(z) = dz / (1 + e), as in minigan.nn.sigmoid
    dz /= 1 + e
    dz -= y
    dz /= n
    return loss, dz


def discriminator_loss(real_logits: np.ndarray, fake_logits: np.ndarray,
                       real_label: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """D's loss ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` (each term a mean over its own batch).

    This is minus the value function V(D, G), i.e. the article's ``L_D`` (section 3.4)
    with its sign corrected, and exactly the loss of the article's code (section 4.3).
    Returns ``(loss, d_real, d_fake)``: gradients w.r.t. each batch of logits.

    ``real_label < 1`` is one-sided label smoothing (Salimans et al. 2016): real images
    are labelled e.g. 0.9, so D is never rewarded for pushing D(x) all the way to 1 and
    its gradient towards G's samples stays informative.  Fakes keep label 0.
    """
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"discriminator_loss: real_label must be in (0, 1], got {real_label}")
    loss_real, d_real = bce_with_logits(real_logits, real_label)
    loss_fake, d_fake = bce_with_logits(fake_logits, 0.0)
    return loss_real + loss_fake, d_real, d_fake


def generator_loss(fake_logits: np.ndarray, kind: str = "non_saturating") -> tuple[float, np.ndarray]:
    """G's loss from D's logits on generated samples, mean-reduced.  Returns ``(loss, d_fake)``.

    ``kind="non_saturating"`` (default; the article's code, section 4.3)::

        L = -mean log D(G(z)) = BCE(fake, 1),   dL/dz = (sigmoid(z) - 1) / N

    ``kind="minimax"`` (the article's formula ``L_G`` of section 3.4, the part that
    depends on G; the article's leading minus sign on the E_x term changes nothing)::

        L = mean log(1 - D(G(z))) = -mean softplus(z),   dL/dz = -sigmoid(z) / N

    When D rejects fakes confidently (z very negative, D(G(z)) near 0) the minimax
    gradient -sigmoid(z)/N vanishes while the non-saturating one stays near -1/N; this
    is why the code, not the formula, is what trains.
    """
    z = _as_logits(fake_logits, "generator_loss")
    if kind == "non_saturating":
        return bce_with_logits(z, 1.0)
    if kind == "minimax":
        loss, dz = bce_with_logits(z, 0.0)
        dz *= -1
        return -loss, dz
    raise ValueError(f"generator_loss: unknown kind {kind!r}; expected one of {GENERATOR_LOSSES}")


class Equilibrium(NamedTuple):
    """The values the training curves would settle at if G matched the data (see
    :func:`equilibrium`): D's output everywhere, D's loss, and G's loss."""

    d_star: float
    d_loss: float
    g_loss: float


def equilibrium(real_label: float = 1.0, kind: str = "non_saturating", fake_label: float = 0.0) -> Equilibrium:
    """The game's equilibrium values for D's targets ``real_label`` / ``fake_label``.

    D minimising ``E_data[BCE(D; a)] + E_g[BCE(D; b)]`` pointwise, with
    ``BCE(p; t) = -t log p - (1 - t) log(1 - p)``, gives
    ``D*(x) = (a p_data(x) + b p_g(x)) / (p_data(x) + p_g(x))``; at ``p_g = p_data``
    that is ``(a + b) / 2`` everywhere.  Then D's loss is ``BCE(D*; a) + BCE(D*; b)``
    and G's loss is ``-log D*`` (non-saturating) or ``log(1 - D*)`` (minimax, with
    :func:`generator_loss`'s sign).  Labels 1/0 (the article's code): 1/2, 2 log 2 ~ 1.386,
    log 2 ~ 0.693.  Real label 0.9 (one-sided smoothing): 0.45, ~1.376, ~0.799.
    """
    a, b = float(real_label), float(fake_label)
    if not (0.0 <= b < a <= 1.0):
        raise ValueError(f"equilibrium: need 0 <= fake_label < real_label <= 1, got {b!r} and {a!r}")
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"equilibrium: unknown kind {kind!r}; expected one of {GENERATOR_LOSSES}")
    d = (a + b) / 2

    def bce(p: float, t: float) -> float:
        return -t * math.log(p) - (1 - t) * math.log1p(-p)

    g = -math.log(d) if kind == "non_saturating" else math.log1p(-d)
    return Equilibrium(d, bce(d, a) + bce(d, b), g)
