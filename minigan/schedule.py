"""Learning-rate schedules: a factor in (0, 1] that multiplies the base learning rate.

Decaying the learning rate at the end of training lets the two players stop circling
each other: with a constant rate Adam keeps taking steps of about ``lr`` in every
weight, and G's samples keep moving (the flicker and speckle of article section 6.2).

``"constant"``   factor 1 at every step.
``"linear"``     1 until ``start * total``, then linearly down to ``end`` at the last step.
``"geometric"``  1 until ``start * total``, then ``end ** u`` with u going linearly from
                 0 to 1 at the last step (the same ratio per step).
"""

from __future__ import annotations

SCHEDULES = ("constant", "linear", "geometric")


def lr_factor(step: int, total: int, kind: str = "constant", *, start: float = 0.5, end: float = 0.0) -> float:
    """Factor for (0-based) ``step`` of ``total`` (see the module docstring).

    ``end`` is the factor reached at the last step (``step = total - 1``); a geometric
    schedule needs ``end > 0``.
    """
    if kind not in SCHEDULES:
        raise ValueError(f"lr_factor: unknown schedule {kind!r}; expected one of {SCHEDULES}")
    first = int(start * total)
    if kind == "constant" or step < first:
        return 1.0
    u = min(1.0, (step - first) / max(1, total - 1 - first))
    if kind == "linear":
        return 1.0 - u * (1.0 - end)
    if end <= 0:
        raise ValueError("lr_factor: a geometric schedule needs end > 0")
    return end ** u
