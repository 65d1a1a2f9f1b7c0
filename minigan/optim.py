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


class Optimizer:
    """Shared bookkeeping: the parameter dict, per-parameter buffers and state_dict.

    A subclass writes its rule once, in :meth:`_update`, for arrays ``p, g`` of any
    shape; :meth:`step` calls it for each parameter, and for a large one on slices of
    ``chunk`` elements.
    """

    #: names of the hyperparameters stored in ``state_dict`` (numbers)
    hyperparameters: tuple[str, ...] = ()
    #: names of the per-parameter buffers stored in ``state_dict`` (arrays)
    buffers: tuple[str, ...] = ()
    #: largest slice of one parameter per ``_update`` call.  Adam makes 12 passes over
    #: p, g, m, v and a temporary; on slices of 128 Ki elements (0.5 MiB of float32
    #: each) most passes hit the core's caches instead of main memory: about 10 % faster
    #: at hidden width 1024.  The article's largest layer (100,352 weights) is whole.
    chunk: int = 131072

    def __init__(self, params: dict[str, np.ndarray]):
        if not isinstance(params, dict) or not params:
            raise ValueError(f"{type(self).__name__}: params must be a non-empty dict name -> array")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError(f"{type(self).__name__}: parameter {name!r} is not a floating-point array")
        self.params = params
        self.t = 0
        self.state = {b: {k: np.zeros_like(p) for k, p in params.items()} for b in self.buffers}
        # Scratch arrays: the regularised gradient (never modify the caller's), and a
        # temporary for the update's intermediate results.
        self._scratch = {k: np.empty_like(p) for k, p in params.items()}
        self._tmp = {k: np.empty_like(p) for k, p in params.items()}

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

    def _regularised(self, name: str, g: np.ndarray) -> np.ndarray:
        """``g + weight_decay * p + l1 * sign(p)``, or ``g`` itself when both are 0."""
        wd, l1 = self.weight_decay, self.l1
        if not wd and not l1:
            return g
        p = self.params[name]
        out = self._scratch[name]
        np.copyto(out, g)
        if wd:
            out += wd * p
        if l1:
            out += l1 * np.sign(p)
        return out

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter from ``grads`` (same names and shapes; not modified)."""
        self._check_grads(grads)
        self.t += 1
        for name, p in self.params.items():
            g = self._regularised(name, grads[name])
            state = {b: self.state[b][name] for b in self.buffers}
            tmp = self._tmp[name]
            if p.size <= self.chunk or not p.flags.c_contiguous:
                self._update(p, g, state, tmp)
                continue
            # A large parameter in slices (see ``chunk``); reshape(-1) of p, of its
            # buffers and of tmp are views, as all are C-contiguous.
            p, g, tmp = p.reshape(-1), g.reshape(-1), tmp.reshape(-1)
            state = {b: s.reshape(-1) for b, s in state.items()}
            for start in range(0, p.size, self.chunk):
                part = slice(start, start + self.chunk)
                self._update(p[part], g[part], {b: s[part] for b, s in state.items()}, tmp[part])

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

    :func:`adam_reference` writes these three lines as they are.  :meth:`_update` computes
    them in place, in preallocated scratch memory, and evaluates the last as
    ``p -= lr * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2))`` with ``c1 = 1 - b1^t``,
    ``c2 = 1 - b2^t``: the same number, one array operation fewer (tests/test_optim.py
    shows the two equal).
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


def adam_reference(p, g, m, v, t: int, lr: float, b1: float, b2: float, eps: float):
    """One Adam step as its definition reads (Kingma & Ba 2015, Algorithm 1), on new
    arrays: returns the updated ``(p, m, v)``.  The plain form of :meth:`Adam._update`::

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
    """
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def make_optimizer(name: str, params, **kwargs) -> Optimizer:
    """``make_optimizer("adam" | "sgd", params, lr=..., ...)`` for configs and the CLI."""
    classes = {"adam": Adam, "sgd": SGD}
    try:
        cls = classes[name]
    except KeyError:
        raise ValueError(f"unknown optimiser {name!r}; expected one of {sorted(classes)}") from None
    return cls(params, **kwargs)
