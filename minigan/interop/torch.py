"""minigan networks as PyTorch modules and back: :func:`to_torch`, :func:`from_torch`.

PyTorch is optional (``pip install -e '.[torch]'``); this module imports it, nothing
else in minigan does at import time.

Layer mapping (minigan -> PyTorch; :func:`from_torch` inverts it)::

    Dense(in, out)              nn.Linear(in, out)       weight = W.T (out, in), bias = b
    SpectralNorm(Dense)         nn.utils.parametrizations.spectral_norm(nn.Linear)
                                                         parametrizations.weight.original = W.T,
                                                         parametrizations.weight.0._u = u (out,),
                                                         parametrizations.weight.0._v = v (in,)
    LeakyReLU(alpha)            nn.LeakyReLU(alpha)
    ReLU / Tanh / Sigmoid       nn.ReLU / nn.Tanh / nn.Sigmoid
    Sequential(m0, m1, ...)     nn.Sequential(...)       same indices: "0.W" <-> "0.weight"
    Pack(D, m)                  Pack(D', m)              (below) "0.W" <-> "module.0.weight"
    Dropout(p)                  Dropout(p)               (below; from_torch also takes nn.Dropout)
    InstanceNoise(sigma)        InstanceNoise(sigma)     (below)
    RandomTranslate(shape, s)   RandomTranslate(shape, s) (below)

The weights are copied (never shared) and keep their dtype: a float32 minigan network
becomes a float32 PyTorch module.  Anything else (e.g. ``Conv2d``, a learner's own
module, an ``nn.Linear`` without bias) raises :class:`~minigan.errors.MiniganError`
naming the layer's type and its position (the dotted path of parameter names, e.g.
``"3"`` or ``"module.2"``).

Training versus inference: minigan's ``module(x)`` is the inference pass, so
:func:`to_torch` returns the module in ``eval()`` mode (dropout, noise and translation
are the identity, spectral norm does no power iteration).  In ``train()`` mode the
random layers draw their randomness from PyTorch's generator, or, with
``numpy_rng=True``, from the minigan layer's own NumPy generator, exactly as the NumPy
layer would (the ``--engine torch`` trainer uses this, so both engines see the same
masks, noise and shifts).  ``nn.utils.parametrizations.spectral_norm`` does one power
iteration per forward pass in train mode; minigan does one per discriminator update
(:meth:`minigan.nn.SpectralNorm.update_buffers`, see :func:`power_iteration`).

Beyond the two conversions: :func:`state_dict` / :func:`load_state_dict` move weights
between a minigan module and a PyTorch state dict (the names of the mapping above)
without building a module, :func:`save_state_dicts` / :func:`load_state_dicts` are the
``.pt`` files of ``minigan export`` and ``minigan import-torch``.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from .. import checkpoint as ckpt
from .. import nn as mnn
from ..errors import MiniganError

__all__ = ["Dropout", "InstanceNoise", "Pack", "RandomTranslate", "from_torch", "load_state_dict",
           "load_state_dicts", "power_iteration", "save_state_dicts", "state_dict", "to_torch", "torch_dtype"]

#: The ``format`` entry of the ``.pt`` files written by :func:`save_state_dicts`.
PT_FORMAT = "minigan-torch-state-dicts-1"

_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_dtype(dtype) -> torch.dtype:
    """The PyTorch dtype of a NumPy float32 or float64 dtype."""
    try:
        return _DTYPES[np.dtype(dtype)]
    except KeyError:
        raise MiniganError(f"no PyTorch conversion for dtype {np.dtype(dtype)} (float32 or float64 only)") from None


def _numpy_dtype(dtype: torch.dtype, where: str) -> np.dtype:
    for np_dtype, t_dtype in _DTYPES.items():
        if t_dtype == dtype:
            return np_dtype
    raise MiniganError(f"from_torch: {where} has dtype {dtype}; minigan layers are float32 or float64")


def _sub(path: str, child) -> str:
    return f"{path}.{child}" if path else str(child)


def _where(path: str) -> str:
    return f"position {path!r}" if path else "the top level"


# -- PyTorch modules for minigan's own layers -------------------------------------------------------


class Pack(nn.Module):
    """PacGAN packing (:class:`minigan.nn.Pack`): x (N, d) -> packs (N/m, m d) -> ``module``."""

    def __init__(self, module: nn.Module, m: int):
        super().__init__()
        self.module = module
        self.m = int(m)

    def extra_repr(self) -> str:
        return f"m={self.m}"

    def forward(self, x):
        if x.shape[0] % self.m:
            raise ValueError(f"Pack(m={self.m}): the batch of {x.shape[0]} samples is not a multiple of {self.m}")
        return self.module(x.reshape(x.shape[0] // self.m, self.m * x.shape[1]))


def _rng_state(rng):
    return "numpy" if rng is not None else "torch"


class Dropout(nn.Module):
    """Inverted dropout (:class:`minigan.nn.Dropout`): in training ``y = x * m / q`` with
    ``m ~ Bernoulli(q = 1 - p)``; identity in eval mode.  With ``rng`` (a NumPy
    Generator) the mask is drawn as minigan draws it: ``rng.random(shape, float32) < q``."""

    def __init__(self, p: float, rng: np.random.Generator | None = None):
        super().__init__()
        self.p, self.rng = float(p), rng

    def extra_repr(self) -> str:
        return f"p={self.p}, rng={_rng_state(self.rng)}"

    def forward(self, x):
        if not self.training:
            return x
        keep = 1.0 - self.p
        if self.rng is None:
            return x * ((torch.rand(x.shape, device=x.device) < keep).to(x.dtype) / keep)
        mask = (self.rng.random(tuple(x.shape), dtype=np.float32) < keep).astype(_np(x.dtype))
        mask *= 1.0 / keep
        return x * torch.from_numpy(mask).to(x.device)


class InstanceNoise(nn.Module):
    """``y = x + sigma * e``, ``e ~ N(0, I)`` in training (:class:`minigan.nn.InstanceNoise`);
    identity in eval mode.  ``sigma`` is a plain attribute (the trainer anneals it)."""

    def __init__(self, sigma: float, rng: np.random.Generator | None = None):
        super().__init__()
        self.sigma, self.rng = float(sigma), rng

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}, rng={_rng_state(self.rng)}"

    def forward(self, x):
        if not self.training or self.sigma == 0.0:
            return x
        if self.rng is None:
            return x + self.sigma * torch.randn_like(x)
        noise = self.rng.standard_normal(tuple(x.shape), dtype=_np(x.dtype))
        noise *= self.sigma
        return torch.from_numpy(noise).to(x.device) + x


class RandomTranslate(nn.Module):
    """Shift each (H, W) image of every row by random integers in ``[-max_shift, max_shift]``
    (rows, columns), ``fill`` shifted in (:class:`minigan.nn.RandomTranslate`); identity
    in eval mode.  One gather, so autograd's backward is the inverse shift."""

    def __init__(self, image_shape, max_shift: int, fill: float = -1.0, rng: np.random.Generator | None = None):
        super().__init__()
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.max_shift, self.fill, self.rng = int(max_shift), float(fill), rng

    def extra_repr(self) -> str:
        H, W = self.image_shape
        return f"{H}x{W}, max_shift={self.max_shift}, fill={self.fill:g}, rng={_rng_state(self.rng)}"

    def forward(self, x):
        if not self.training:
            return x
        H, W = self.image_shape
        images = x.reshape(-1, H * W)
        n, s = images.shape[0], self.max_shift
        if self.rng is None:
            shifts = torch.randint(-s, s + 1, (n, 2)).numpy()
        else:
            shifts = self.rng.integers(-s, s + 1, size=(n, 2))
        rows = np.arange(H)[None, :, None] - shifts[:, 0, None, None]
        cols = np.arange(W)[None, None, :] - shifts[:, 1, None, None]
        inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
        index = np.where(inside, rows * W + cols, H * W).reshape(n, H * W)
        padded = torch.cat([images, images.new_full((n, 1), self.fill)], dim=1)
        return padded.gather(1, torch.from_numpy(index).to(x.device)).reshape(x.shape)


def _np(dtype: torch.dtype) -> np.dtype:
    return _numpy_dtype(dtype, "a tensor")


def power_iteration(module: nn.Module) -> None:
    """One power-iteration step of every spectral-normalised layer in ``module``, in
    minigan's order (``u <- W^T v / |W^T v|``, ``v <- W u / |W u|`` for minigan's W,
    i.e. PyTorch's ``u <- normalize(weight v)``, ``v <- normalize(weight^T u)``): what
    :meth:`minigan.nn.SpectralNorm.update_buffers` does once per discriminator update."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear) and parametrize.is_parametrized(m, "weight"):
                sn = m.parametrizations.weight[0]
                weight = m.parametrizations.weight.original
                sn._u.copy_(nn.functional.normalize(weight.mv(sn._v), dim=0, eps=sn.eps))
                sn._v.copy_(nn.functional.normalize(weight.t().mv(sn._u), dim=0, eps=sn.eps))


# -- minigan -> PyTorch -----------------------------------------------------------------------------


def _linear(dense: mnn.Dense) -> nn.Linear:
    lin = nn.Linear(dense.in_features, dense.out_features, dtype=torch_dtype(dense.dtype))
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(dense.W.T)))
        lin.bias.copy_(torch.from_numpy(dense.b))
    return lin


def _to_torch(m, path: str, numpy_rng: bool) -> nn.Module:
    def rng(layer):
        return layer.rng if numpy_rng else None

    if isinstance(m, mnn.Sequential):
        return nn.Sequential(*(_to_torch(c, _sub(path, i), numpy_rng) for i, c in enumerate(m.modules)))
    if isinstance(m, mnn.Pack):
        return Pack(_to_torch(m.module, _sub(path, "module"), numpy_rng), m.m)
    if isinstance(m, mnn.SpectralNorm):
        lin = spectral_norm(_linear(m.dense), n_power_iterations=1)
        sn = lin.parametrizations.weight[0]
        with torch.no_grad():
            sn._u.copy_(torch.from_numpy(m.u))
            sn._v.copy_(torch.from_numpy(m.v))
        return lin
    if isinstance(m, mnn.Dense):
        return _linear(m)
    if isinstance(m, mnn.LeakyReLU):
        return nn.LeakyReLU(m.alpha)
    for ours, theirs in ((mnn.ReLU, nn.ReLU), (mnn.Tanh, nn.Tanh), (mnn.Sigmoid, nn.Sigmoid)):
        if type(m) is ours:
            return theirs()
    if isinstance(m, mnn.Dropout):
        return Dropout(m.p, rng(m))
    if isinstance(m, mnn.InstanceNoise):
        return InstanceNoise(m.sigma, rng(m))
    if isinstance(m, mnn.RandomTranslate):
        return RandomTranslate(m.image_shape, m.max_shift, m.fill, rng(m))
    raise MiniganError(f"to_torch: cannot convert {type(m).__name__} at {_where(path)} (supported: Dense, "
                       "SpectralNorm, LeakyReLU, ReLU, Tanh, Sigmoid, Sequential, Pack, Dropout, InstanceNoise, "
                       "RandomTranslate)")


def to_torch(module, *, numpy_rng: bool = False, device=None) -> nn.Module:
    """An equivalent ``torch.nn.Module`` of a minigan module stack, weights copied, same dtype.

    ``G = to_torch(build_generator())`` gives ``nn.Sequential(Linear, LeakyReLU, ...,
    Tanh)`` with ``G(torch.from_numpy(z))`` equal to the minigan G's ``G(z)``.  The
    result is in ``eval()`` mode (minigan's ``module(x)``).  ``numpy_rng=True``: in
    ``train()`` mode the random layers draw from the minigan layers' NumPy generators
    (the same objects, shared), so they produce the same masks, noise and shifts as
    ``module.forward`` would.  ``device``: where to put the result (default CPU).
    Raises :class:`MiniganError` for a layer it cannot convert (type and position).
    """
    out = _to_torch(module, "", numpy_rng).eval()
    return out.to(device) if device is not None else out


# -- PyTorch -> minigan -----------------------------------------------------------------------------


def _dense(lin: nn.Linear, weight: torch.Tensor, path: str) -> mnn.Dense:
    if lin.bias is None:
        raise MiniganError(f"from_torch: nn.Linear at {_where(path)} has no bias; minigan's Dense always has one")
    dtype = _numpy_dtype(weight.dtype, f"nn.Linear at {_where(path)}")
    dense = mnn.Dense(lin.in_features, lin.out_features, dtype=dtype, rng=0)
    np.copyto(dense.W, weight.detach().cpu().numpy().T)
    np.copyto(dense.b, lin.bias.detach().cpu().numpy())
    return dense


def _from_torch(t: nn.Module, path: str):
    if isinstance(t, nn.Sequential):
        return mnn.Sequential(*(_from_torch(c, _sub(path, i)) for i, c in enumerate(t)))
    if isinstance(t, Pack):
        return mnn.Pack(_from_torch(t.module, _sub(path, "module")), t.m)
    if isinstance(t, nn.Linear):
        if not parametrize.is_parametrized(t):
            return _dense(t, t.weight, path)
        plist = t.parametrizations["weight"] if "weight" in t.parametrizations else None
        if (len(t.parametrizations) != 1 or plist is None or len(plist) != 1
                or type(plist[0]).__name__ != "_SpectralNorm"):
            raise MiniganError(f"from_torch: nn.Linear at {_where(path)} has a parametrization other than one "
                               "spectral_norm of its weight")
        sn = plist[0]
        dense = _dense(t, plist.original, path)
        out = mnn.SpectralNorm(dense, rng=0, power_iterations=0)
        np.copyto(out.u, sn._u.detach().cpu().numpy())
        np.copyto(out.v, sn._v.detach().cpu().numpy())
        return out
    if type(t) is nn.LeakyReLU:
        return mnn.LeakyReLU(t.negative_slope)
    for theirs, ours in ((nn.ReLU, mnn.ReLU), (nn.Tanh, mnn.Tanh), (nn.Sigmoid, mnn.Sigmoid)):
        if type(t) is theirs:
            return ours()
    if isinstance(t, (Dropout, nn.Dropout)):
        return mnn.Dropout(t.p, rng=t.rng if isinstance(t, Dropout) else None)
    if isinstance(t, InstanceNoise):
        return mnn.InstanceNoise(t.sigma, rng=t.rng)
    if isinstance(t, RandomTranslate):
        return mnn.RandomTranslate(t.image_shape, t.max_shift, fill=t.fill, rng=t.rng)
    raise MiniganError(f"from_torch: cannot convert {type(t).__name__} at {_where(path)} (supported: nn.Linear, "
                       "spectral_norm(nn.Linear), nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Sequential, "
                       "nn.Dropout and minigan.interop.torch's Pack, Dropout, InstanceNoise, RandomTranslate)")


def from_torch(module: nn.Module):
    """The minigan module stack equivalent to ``module`` (the inverse of :func:`to_torch`),
    weights copied, same dtype (float32 or float64).  The random layers get the NumPy
    generator of the PyTorch layer when it has one (a fresh one otherwise).  Raises
    :class:`MiniganError` for a layer it cannot convert (type and position)."""
    return _from_torch(module, "")


# -- state dicts --------------------------------------------------------------------------------------


def _entries(m, mg: str, tp: str, path: str):
    """(kind, minigan name, torch name, live array, transposed) for every parameter
    (kind "param") and buffer ("buffer") of a minigan module, in the names of the mapping."""
    if isinstance(m, mnn.Sequential):
        for i, c in enumerate(m.modules):
            yield from _entries(c, f"{mg}{i}.", f"{tp}{i}.", f"{path}.{i}" if path else str(i))
    elif isinstance(m, mnn.Pack):
        yield from _entries(m.module, mg, f"{tp}module.", f"{path}.module" if path else "module")
    elif isinstance(m, mnn.SpectralNorm):
        p = f"{tp}parametrizations.weight."
        yield "param", f"{mg}W", f"{p}original", m.dense.W, True
        yield "param", f"{mg}b", f"{tp}bias", m.dense.b, False
        yield "buffer", f"{mg}u", f"{p}0._u", m.u, False
        yield "buffer", f"{mg}v", f"{p}0._v", m.v, False
    elif isinstance(m, mnn.Dense):
        yield "param", f"{mg}W", f"{tp}weight", m.W, True
        yield "param", f"{mg}b", f"{tp}bias", m.b, False
    elif not isinstance(m, (mnn.LeakyReLU, mnn.ReLU, mnn.Tanh, mnn.Sigmoid, mnn.Dropout, mnn.InstanceNoise,
                            mnn.RandomTranslate)):
        raise MiniganError(f"cannot map {type(m).__name__} at {_where(path)} to PyTorch names")


def entries(module) -> list[tuple[str, str, str, np.ndarray, bool]]:
    """``(kind, minigan_name, torch_name, array, transposed)`` for each parameter and buffer
    of a minigan module: ``kind`` is "param" or "buffer", ``array`` the live array and
    ``transposed`` whether the PyTorch tensor is its transpose (Dense weights)."""
    return list(_entries(module, "", "", ""))


def state_dict(module) -> dict[str, torch.Tensor]:
    """The PyTorch state dict (names as :func:`to_torch`'s module has them, CPU tensors,
    copies) of a minigan module: ``to_torch(m).state_dict()`` without building it."""
    return {tn: torch.from_numpy(np.ascontiguousarray(a.T if tr else a).copy())
            for _, _, tn, a, tr in entries(module)}


def load_state_dict(module, state: dict) -> None:
    """Copy a PyTorch state dict (of the module :func:`to_torch` makes, e.g. after training
    it in PyTorch) into the minigan ``module`` in place.  The names and shapes must match
    exactly (else :class:`MiniganError`, and nothing is changed); values are cast to the
    minigan arrays' dtype."""
    items = entries(module)
    expected = {tn for _, _, tn, _, _ in items}
    if set(state) != expected:
        raise MiniganError(f"state dict does not match the network (missing {sorted(expected - set(state))}, "
                           f"unexpected {sorted(set(state) - expected)})")
    values = []
    for _, _, tn, a, tr in items:
        v = state[tn]
        if not isinstance(v, torch.Tensor):
            raise MiniganError(f"state dict entry {tn!r} is a {type(v).__name__}, not a tensor")
        v = v.detach().cpu().numpy()
        v = v.T if tr else v
        if v.shape != a.shape:
            raise MiniganError(f"state dict entry {tn!r} has shape {tuple(state[tn].shape)}, the network needs "
                               f"{a.T.shape if tr else a.shape}")
        values.append(v)
    for (_, _, _, a, _), v in zip(items, values):
        np.copyto(a, v, casting="unsafe")


# -- .pt files (minigan export / import-torch) ------------------------------------------------------------


def save_state_dicts(path, modules: dict, config: dict) -> None:
    """Write ``{"format", "config": JSON text, name: state dict, ...}`` to ``path``
    atomically with ``torch.save``: tensors, dicts and strings only, so
    ``torch.load(path, weights_only=True)`` reads it.  ``modules`` maps a name ("G",
    "D", "G_ema") to a minigan module; ``config`` is the run's ``config.json``."""
    payload = {"format": PT_FORMAT, "config": json.dumps(config)}
    for name, m in modules.items():
        payload[name] = state_dict(m)
    buf = io.BytesIO()
    torch.save(payload, buf)
    ckpt.atomic_write_bytes(path, buf.getvalue())


def load_state_dicts(path: str | os.PathLike) -> tuple[dict, dict[str, dict]]:
    """``(config, {name: state dict})`` of a ``.pt`` file of :func:`save_state_dicts`, read
    with ``torch.load(..., weights_only=True)`` (no pickle of arbitrary objects)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MiniganError(f"{path} does not exist") from None
    except Exception as exc:  # torch raises many kinds for a damaged or foreign file
        raise MiniganError(f"cannot read {path} as a PyTorch state-dict file: {str(exc).splitlines()[0]}") from None
    if not isinstance(payload, dict) or payload.get("format") != PT_FORMAT:
        raise MiniganError(f"{path} is not a file written by 'minigan export' (no format {PT_FORMAT!r})")
    try:
        config = json.loads(payload["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MiniganError(f"{path} has no readable run configuration: {exc}") from None
    dicts = {k: v for k, v in payload.items() if k not in ("format", "config")}
    for k, v in dicts.items():
        if not isinstance(v, dict):
            raise MiniganError(f"{path}: entry {k!r} is not a state dict")
    return config, dicts
