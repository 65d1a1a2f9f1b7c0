"""Optimisers that update parameter arrays in place: SGD (momentum, Nesterov) and Adam.

Both take the live parameter dict of a model (``model.params()``) and, at each
``step(grads)``, a dict with the same keys (what ``backward`` returns).  Both support the
regularisation the article proposes against over-fitting (section 6.1, item 3), added
to the gradient of every parameter ``p``::

    g <- g + weight_decay * p        (L2: the gradient of weight_decay/2 * ||p||^2)
    g <- g + l1 * sign(p)            (L1: a subgradient of l1 * ||p||_1)

``state_dict()`` is a flat dict of numbers and arrays only, so checkpoints can be saved
to ``.npz`` and loaded without pickle.
"""

from __future__ import annotations

import math

import numpy as np


def _check_nonneg(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")


def flat_buffer(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D array of which ``arrays`` are consecutive pieces, in order, or None.

    :class:`~minigan.nn.Sequential` lays a network's parameters out this way.  Then one
    array operation over the whole buffer updates every parameter at once: the same
    arithmetic as a loop over the parameters, with a fraction of the NumPy calls.
    """
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous or base.size != sum(a.size for a in arrays):
        return None
    address = base.ctypes.data
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous or a.ctypes.data != address:
            return None
        address += a.nbytes
    return base


def _zeros_like(params: dict[str, np.ndarray], one_buffer: bool):
    """Zero arrays shaped like ``params``, as ``(flat, {name: array})``.

    With ``one_buffer`` the arrays are consecutive views of ``flat`` (laid out like the
    parameters); otherwise they are separate arrays and ``flat`` is None.
    """
    if not one_buffer:
        return None, {k: np.zeros_like(p) for k, p in params.items()}
    flat = np.zeros(sum(p.size for p in params.values()), dtype=next(iter(params.values())).dtype)
    views, offset = {}, 0
    for k, p in params.items():
        views[k] = flat[offset:offset + p.size].reshape(p.shape)
        offset += p.size
    return flat, views


class Optimizer:
    """Shared bookkeeping: the parameter dict, per-parameter buffers and state_dict.

    A subclass writes its rule once, in :meth:`_update`, for arrays ``p, g`` of any
    shape.  If the parameters are consecutive pieces of one array (see
    :func:`flat_buffer`), :meth:`step` copies the gradients into one matching array and
    calls ``_update`` once for the whole network; otherwise once per parameter.
    """

    #: names of the hyperparameters stored in ``state_dict`` (numbers)
    hyperparameters: tuple[str, ...] = ()
    #: names of the per-parameter buffers stored in ``state_dict`` (arrays)
    buffers: tuple[str, ...] = ()

    def __init__(self, params: dict[str, np.ndarray]):
        if not isinstance(params, dict) or not params:
            raise ValueError(f"{type(self).__name__}: params must be a non-empty dict name -> array")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError(f"{type(self).__name__}: parameter {name!r} is not a floating-point array")
        self.params = params
        self.t = 0
        self._flat = flat_buffer(list(params.values()))
        one = self._flat is not None
        # state[buffer][name] are the arrays state_dict() reports; with one buffer they
        # are views of _flat_state[buffer], which _update works on.
        self.state, self._flat_state = {}, {}
        for b in self.buffers:
            self._flat_state[b], self.state[b] = _zeros_like(params, one)
        # Scratch arrays: our own copy of the gradient (never modify the caller's), and
        # one temporary for the update's intermediate results.
        self._grad_flat, self._grad = _zeros_like(params, one)
        self._tmp_flat, self._tmp = _zeros_like(params, one)

    def _check_grads(self, grads: dict[str, np.ndarray]) -> None:
        if grads.keys() != self.params.keys():
            missing = sorted(self.params.keys() - grads.keys())
            extra = sorted(grads.keys() - self.params.keys())
            raise ValueError(
                f"{type(self).__name__}.step: gradient names do not match the parameters "
                f"(missing {missing}, unexpected {extra})"
            )
        for k, g in grads.items():
            if g.shape != self.params[k].shape:
                raise ValueError(
                    f"{type(self).__name__}.step: gradient {k!r} has shape {g.shape}, "
                    f"parameter has shape {self.params[k].shape}"
                )

    def _regularise(self, p: np.ndarray, g: np.ndarray) -> None:
        """``g += weight_decay * p + l1 * sign(p)`` in place (``g`` is the optimiser's own copy)."""
        if self.weight_decay:
            g += self.weight_decay * p
        if self.l1:
            g += self.l1 * np.sign(p)

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter from ``grads`` (same names and shapes; not modified)."""
        self._check_grads(grads)
        self.t += 1
        if self._flat is not None:
            for name, g in grads.items():
                np.copyto(self._grad[name], g)
            self._regularise(self._flat, self._grad_flat)
            self._update(self._flat, self._grad_flat, self._flat_state, self._tmp_flat)
            return
        for name, p in self.params.items():
            g = grads[name]
            if self.weight_decay or self.l1:
                own = self._grad[name]
                np.copyto(own, g)
                self._regularise(p, own)
                g = own
            self._update(p, g, {b: self.state[b][name] for b in self.buffers}, self._tmp[name])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray) -> None:
        """Update ``p`` in place from gradient ``g``; ``state`` holds this rule's buffers
        (same shape as ``p``) and ``tmp`` is scratch space of that shape."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, float | int | np.ndarray]:
        """Flat dict: ``"t"``, the hyperparameters, and ``"<buffer>.<param name>"`` arrays."""
        state: dict[str, float | int | np.ndarray] = {"t": self.t}
        for h in self.hyperparameters:
            state[h] = getattr(self, h)
        for b in self.buffers:
            for k, arr in self.state[b].items():
                state[f"{b}.{k}"] = arr.copy()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (buffers are copied in place)."""
        expected = {"t", *self.hyperparameters, *(f"{b}.{k}" for b in self.buffers for k in self.params)}
        if set(state) != expected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: keys do not match "
                f"(missing {sorted(expected - set(state))}, unexpected {sorted(set(state) - expected)})"
            )
        for b in self.buffers:
            for k, arr in self.state[b].items():
                src = np.asarray(state[f"{b}.{k}"])
                if src.shape != arr.shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: {b}.{k} has shape {src.shape}, "
                        f"expected {arr.shape}"
                    )
                np.copyto(arr, src)
        for h in self.hyperparameters:
            value = state[h]
            setattr(self, h, type(getattr(self, h))(np.asarray(value).item()))
        self.t = int(np.asarray(state["t"]).item())


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With momentum mu, buffer ``v`` (zero at the start), as in PyTorch::

        v <- mu v + g
        p <- p - lr * v                 (plain momentum)
        p <- p - lr * (g + mu v)        (nesterov=True)
    """

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay", "l1")

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, l1: float = 0.0):
        _check_nonneg("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay, l1=l1)
        if lr == 0:
            raise ValueError("SGD: lr must be > 0, got 0")
        if momentum >= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.lr, self.momentum, self.nesterov = float(lr), float(momentum), bool(nesterov)
        self.weight_decay, self.l1 = float(weight_decay), float(l1)
        self.buffers = ("velocity",) if momentum else ()
        super().__init__(params)

    def _update(self, p, g, state, tmp):
        direction = g
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum
            v += g
            direction = v
            if self.nesterov:
                np.multiply(v, self.momentum, out=tmp)
                tmp += g
                direction = tmp
        np.multiply(direction, self.lr, out=tmp)
        p -= tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; defaults are the DCGAN settings
    (lr 2e-4, beta1 0.5) that GANs are usually trained with.

    At step t = 1, 2, ... (t is incremented *before* it is used)::

        m <- b1 m + (1 - b1) g
        v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The last line is evaluated as ``p -= lr * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2))``
    with ``c1 = 1 - b1^t``, ``c2 = 1 - b2^t``: the same number, one array operation fewer.
    ``weight_decay`` is the classic L2 penalty added to the gradient (as in
    ``torch.optim.Adam``), not AdamW's decoupled decay.
    """

    hyperparameters = ("lr", "beta1", "beta2", "eps", "weight_decay", "l1")
    buffers = ("m", "v")

    def __init__(self, params, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, l1: float = 0.0):
        _check_nonneg("Adam", lr=lr, eps=eps, weight_decay=weight_decay, l1=l1)
        if lr == 0:
            raise ValueError("Adam: lr must be > 0, got 0")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")
        self.lr, self.eps = float(lr), float(eps)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.weight_decay, self.l1 = float(weight_decay), float(l1)
        super().__init__(params)

    def _update(self, p, g, state, tmp):
        b1, b2, t = self.beta1, self.beta2, self.t
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m, v = state["m"], state["v"]
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        sqrt_c2 = math.sqrt(c2)
        np.sqrt(v, out=tmp)
        tmp += self.eps * sqrt_c2
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * sqrt_c2 / c1
        p -= tmp


def make_optimizer(name: str, params, **kwargs) -> Optimizer:
    """``make_optimizer("adam" | "sgd", params, lr=..., ...)`` for configs and the CLI."""
    classes = {"adam": Adam, "sgd": SGD}
    try:
        cls = classes[name]
    except KeyError:
        raise ValueError(f"unknown optimiser {name!r}; expected one of {sorted(classes)}") from None
    return cls(params, **kwargs)
