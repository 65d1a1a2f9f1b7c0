"""minigan networks as PyTorch modules and back: :func:`to_torch`, :func:`from_torch`.

PyTorch is optional (``pip install -e '.[torch]'``); this module imports it, nothing
else in minigan does at import time.

Layer mapping (minigan -> PyTorch; :func:`from_torch` inverts it)::

    Dense(in, out)              nn.Linear(in, out)       weight = W.T (out, in), bias = b
    SpectralNorm(Dense)         nn.utils.parametrizations.spectral_norm(nn.Linear)
                                                         parametrizations.weight.original = W.T,
                                                         parametrizations.weight.0._u = u (out,),
                                                         parametrizations.weight.0._v = v (in,)
    Conv2d((H, W, C), F, k,     Conv2d((H, W, C), F, k,  (below) an nn.Conv2d(C, F, k, s, p):
      stride=s, padding=p)        s, p)                  weight = W.transpose(3, 0, 1, 2) (F, C, k, k),
                                                         bias = b
    ConvTranspose2d((H, W, C),  ConvTranspose2d(...)     (below) an nn.ConvTranspose2d(C, F, k, s, p, op):
      F, k, s, p, op)                                    weight = W.transpose(3, 0, 1, 2) (C, F, k, k),
                                                         bias = b
    BatchNorm1d(F)              nn.BatchNorm1d(F)        weight = gamma, bias = beta, running_mean,
                                                         running_var (num_batches_tracked: PyTorch's own)
    BatchNorm2d(C)              BatchNorm2d(C)           (below) an nn.BatchNorm2d(C): the same names
    MaxPool2d((H, W, C))        MaxPool2d((H, W, C))     (below) an nn.MaxPool2d(2, 2)
    LeakyReLU(alpha)            nn.LeakyReLU(alpha)
    ReLU / Tanh / Sigmoid       nn.ReLU / nn.Tanh / nn.Sigmoid
    Sequential(m0, m1, ...)     nn.Sequential(...)       same indices: "0.W" <-> "0.weight"
    Pack(D, m)                  Pack(D', m)              (below) "0.W" <-> "module.0.weight"
    Dropout(p)                  Dropout(p)               (below; from_torch also takes nn.Dropout)
    InstanceNoise(sigma)        InstanceNoise(sigma)     (below)
    RandomTranslate(shape, s)   RandomTranslate(shape, s) (below)

**Images.**  minigan's image layers read and write flattened channels-last rows, (N, H W C)
(see :mod:`minigan.nn.conv`); PyTorch's convolutions want (N, C, H, W).  So the image
layers become this module's :class:`Conv2d`, :class:`ConvTranspose2d`,
:class:`BatchNorm2d` and :class:`MaxPool2d`: subclasses of the PyTorch classes (same
parameters, buffers and state-dict names, e.g. ``"3.weight"``, ``"4.running_var"``) that
also carry ``in_shape`` and whose ``forward`` takes and returns minigan's rows (view as
(N, H, W, C), permute to NCHW, the PyTorch layer, permute back, flatten).
:func:`from_torch` needs these subclasses: a plain ``nn.Conv2d`` does not say which
image its rows hold.

A layer made with ``bias=False`` (Dense, Conv2d, ConvTranspose2d) becomes the PyTorch layer
with ``bias=False``, and back.  The weights are copied (never shared) and keep their
dtype: a float32 minigan network becomes a float32 PyTorch module.  Anything else (e.g. a
learner's own module, a plain ``nn.Conv2d``, a grouped or dilated convolution) raises
:class:`~minigan.errors.MiniganError` naming the layer's type and its position (the
dotted path of parameter names, e.g. ``"3"`` or ``"module.2"``).

Training versus inference: minigan's ``module(x)`` is the inference pass, so
:func:`to_torch` returns the module in ``eval()`` mode (dropout, noise and translation
are the identity, batch norm uses its running averages, spectral norm does no power
iteration); in ``train()`` mode batch norm normalises with the batch's statistics and
updates its running averages exactly as minigan's ``forward`` does.  In ``train()`` mode the
random layers draw their randomness from PyTorch's generator, or, with
``numpy_rng=True``, from the minigan layer's own NumPy generator, exactly as the NumPy
layer would (the ``--engine torch`` trainer uses this, so both engines see the same
masks, noise and shifts).  ``nn.utils.parametrizations.spectral_norm`` does one power
iteration per forward pass in train mode; minigan does one per discriminator update
(:meth:`minigan.nn.SpectralNorm.update_buffers`, see :func:`power_iteration`).

Beyond the two conversions: :func:`state_dict` / :func:`load_state_dict` move weights and buffers
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

__all__ = ["BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "InstanceNoise", "MaxPool2d", "Pack",
           "RandomTranslate", "entries", "from_torch", "from_torch_layout", "load_state_dict", "load_state_dicts",
           "power_iteration", "save_state_dicts", "state_dict", "to_torch", "to_torch_layout", "torch_dtype"]

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


#: The axes permutation from a minigan weight to its PyTorch tensor: Dense W (in, out) ->
#: weight (out, in); Conv2d W (C, k, k, F) -> weight (F, C, k, k); ConvTranspose2d W
#: (F, k, k, C) -> weight (C, F, k, k).  None: the same layout.
DENSE_LAYOUT = (1, 0)
CONV_LAYOUT = (3, 0, 1, 2)


def to_torch_layout(array: np.ndarray, layout) -> np.ndarray:
    """``array`` (a minigan parameter) in the layout of its PyTorch tensor (a view);
    ``layout`` is an entry's axes permutation (see :func:`entries`) or None."""
    return array if layout is None else array.transpose(layout)


def from_torch_layout(value: np.ndarray, layout) -> np.ndarray:
    """The inverse of :func:`to_torch_layout`: a PyTorch tensor's values (as NumPy) in the
    layout of the minigan array."""
    return value if layout is None else value.transpose(np.argsort(layout))


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


def _nchw(layer: nn.Module, x, shape):
    """Rows (N, H W C) of channels-last images as an (N, C, H, W) tensor (a view)."""
    H, W, C = shape
    if x.dim() != 2 or x.shape[1] != H * W * C:
        raise ValueError(f"{type(layer).__name__}: expected rows of {H}x{W}x{C} = {H * W * C} values "
                         f"(channels-last, (N, H W C)), got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], H, W, C).permute(0, 3, 1, 2)


def _rows(y):
    """An (N, C, H, W) tensor as minigan's rows (N, H W C), channels last."""
    return y.permute(0, 2, 3, 1).reshape(y.shape[0], -1)


def _shape_repr(shape) -> str:
    return "x".join(map(str, shape))


class Conv2d(nn.Conv2d):
    """:class:`minigan.nn.Conv2d` as an ``nn.Conv2d(C, out_channels, kernel_size, stride,
    padding)`` (same parameters and state-dict names) on minigan's rows: ``forward`` takes
    (N, H W C) channels-last rows of ``in_shape`` = (H, W, C) images and returns
    (N, Ho Wo F) rows.  ``weight`` (F, C, k, k) is minigan's ``W.transpose(3, 0, 1, 2)``."""

    def __init__(self, in_shape, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 bias: bool = True, *, dtype=None, device=None):
        H, W, C = (int(v) for v in in_shape)
        super().__init__(C, out_channels, kernel_size, stride=stride, padding=padding, bias=bias, dtype=dtype,
                         device=device)
        self.in_shape = (H, W, C)

    def extra_repr(self) -> str:
        return f"in_shape={_shape_repr(self.in_shape)}, {super().extra_repr()}"

    def forward(self, x):
        return _rows(super().forward(_nchw(self, x, self.in_shape)))


class ConvTranspose2d(nn.ConvTranspose2d):
    """:class:`minigan.nn.ConvTranspose2d` as an ``nn.ConvTranspose2d(C, out_channels,
    kernel_size, stride, padding, output_padding)`` on minigan's rows (see
    :class:`Conv2d`).  ``weight`` (C, F, k, k) is minigan's ``W.transpose(3, 0, 1, 2)``."""

    def __init__(self, in_shape, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, bias: bool = True, *, dtype=None, device=None):
        H, W, C = (int(v) for v in in_shape)
        super().__init__(C, out_channels, kernel_size, stride=stride, padding=padding, output_padding=output_padding,
                         bias=bias, dtype=dtype, device=device)
        self.in_shape = (H, W, C)

    def extra_repr(self) -> str:
        return f"in_shape={_shape_repr(self.in_shape)}, {super().extra_repr()}"

    def forward(self, x, output_size=None):
        return _rows(super().forward(_nchw(self, x, self.in_shape), output_size))


class BatchNorm2d(nn.BatchNorm2d):
    """:class:`minigan.nn.BatchNorm2d` as an ``nn.BatchNorm2d(C)`` (same parameters, buffers
    and state-dict names) on minigan's rows: x (N, H W C) is viewed as (N, H W, C) and
    permuted to (N, C, H W, 1), so the statistics of channel c run over the batch and
    every position, as minigan's (and PyTorch's on NCHW images) do."""

    def forward(self, x):
        C = self.num_features
        if x.dim() != 2 or x.shape[1] % C:
            raise ValueError(f"BatchNorm2d({C}): expected rows of whole channels-last images with {C} channels, "
                             f"got shape {tuple(x.shape)}")
        n = x.shape[0]
        y = super().forward(x.reshape(n, -1, C).transpose(1, 2).unsqueeze(-1))
        return y.squeeze(-1).transpose(1, 2).reshape(n, -1)


class MaxPool2d(nn.MaxPool2d):
    """:class:`minigan.nn.MaxPool2d` (2 x 2, stride 2) as an ``nn.MaxPool2d(2, 2)`` on
    minigan's rows of ``in_shape`` = (H, W, C) images (see :class:`Conv2d`)."""

    def __init__(self, in_shape):
        super().__init__(2, 2)
        self.in_shape = tuple(int(v) for v in in_shape)

    def extra_repr(self) -> str:
        return f"in_shape={_shape_repr(self.in_shape)}, {super().extra_repr()}"

    def forward(self, x):
        return _rows(super().forward(_nchw(self, x, self.in_shape)))


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


def _copy_in(tensor: torch.Tensor | None, array: np.ndarray | None, layout=None) -> None:
    if array is None:  # a layer without bias
        return
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(to_torch_layout(array, layout))))


def _bias(m) -> np.ndarray | None:
    """A layer's bias, None for a layer made with ``bias=False``."""
    return getattr(m, "b", None)


def _linear(dense: mnn.Dense) -> nn.Linear:
    lin = nn.Linear(dense.in_features, dense.out_features, bias=_bias(dense) is not None,
                    dtype=torch_dtype(dense.dtype))
    _copy_in(lin.weight, dense.W, DENSE_LAYOUT)
    _copy_in(lin.bias, _bias(dense))
    return lin


def _conv(m, cls) -> nn.Module:
    extra = {"output_padding": m.output_padding} if cls is ConvTranspose2d else {}
    t = cls(m.in_shape, m.out_channels, m.k, stride=m.stride, padding=m.padding, bias=_bias(m) is not None,
            dtype=torch_dtype(m.dtype), **extra)
    _copy_in(t.weight, m.W, CONV_LAYOUT)
    _copy_in(t.bias, _bias(m))
    return t


def _batchnorm(m, cls) -> nn.Module:
    t = cls(m.num_features, eps=m.eps, momentum=m.momentum, dtype=torch_dtype(m.dtype))
    for name, array in (("weight", m.gamma), ("bias", m.beta), ("running_mean", m.running_mean),
                        ("running_var", m.running_var)):
        _copy_in(getattr(t, name), array)
    return t


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
    if isinstance(m, mnn.Conv2d):
        return _conv(m, Conv2d)
    if isinstance(m, mnn.ConvTranspose2d):
        return _conv(m, ConvTranspose2d)
    if isinstance(m, mnn.BatchNorm2d):  # before BatchNorm1d, its base class
        return _batchnorm(m, BatchNorm2d)
    if isinstance(m, mnn.BatchNorm1d):
        return _batchnorm(m, nn.BatchNorm1d)
    if isinstance(m, mnn.MaxPool2d):
        return MaxPool2d(m.in_shape)
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
                       "SpectralNorm, Conv2d, ConvTranspose2d, BatchNorm1d, BatchNorm2d, MaxPool2d, LeakyReLU, ReLU, "
                       "Tanh, Sigmoid, Sequential, Pack, Dropout, InstanceNoise, RandomTranslate)")


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


def _copy_out(array: np.ndarray | None, tensor: torch.Tensor | None, layout=None) -> None:
    if tensor is not None:
        np.copyto(array, from_torch_layout(tensor.detach().cpu().numpy(), layout))


def _dense(lin: nn.Linear, weight: torch.Tensor, path: str) -> mnn.Dense:
    dtype = _numpy_dtype(weight.dtype, f"nn.Linear at {_where(path)}")
    dense = mnn.Dense(lin.in_features, lin.out_features, bias=lin.bias is not None, dtype=dtype, rng=0)
    _copy_out(dense.W, weight, DENSE_LAYOUT)
    _copy_out(dense.b, lin.bias)
    return dense


def _pair(value, what: str, name: str, path: str) -> int:
    """The one int of a square kernel / equal stride / symmetric padding, else MiniganError."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    if isinstance(value, str) or len(set(values)) != 1 or not isinstance(values[0], int):
        raise MiniganError(f"from_torch: {name} at {_where(path)} has {what}={value!r}; minigan's layer takes one "
                           "integer for both axes")
    return values[0]


def _conv_layer(t: nn.Module, path: str):
    name = type(t).__name__
    for what, value, want in (("groups", t.groups, 1), ("dilation", tuple(t.dilation), (1, 1)),
                              ("padding_mode", t.padding_mode, "zeros")):
        if value != want:
            raise MiniganError(f"from_torch: {name} at {_where(path)} has {what}={value!r}; minigan's {name} "
                               f"has {what}={want!r} only")
    k, s, p = (_pair(getattr(t, a), a, name, path) for a in ("kernel_size", "stride", "padding"))
    if t.in_channels != t.in_shape[2]:
        raise MiniganError(f"from_torch: {name} at {_where(path)} has {t.in_channels} input channels but "
                           f"in_shape {t.in_shape}")
    dtype = _numpy_dtype(t.weight.dtype, f"{name} at {_where(path)}")
    common = dict(stride=s, padding=p, bias=t.bias is not None, dtype=dtype, rng=0)
    try:
        if isinstance(t, ConvTranspose2d):
            op = _pair(t.output_padding, "output_padding", name, path)
            m = mnn.ConvTranspose2d(t.in_shape, t.out_channels, k, output_padding=op, **common)
        else:
            m = mnn.Conv2d(t.in_shape, t.out_channels, k, **common)
    except ValueError as exc:
        raise MiniganError(f"from_torch: {name} at {_where(path)}: {exc}") from None
    _copy_out(m.W, t.weight, CONV_LAYOUT)
    _copy_out(m.b, t.bias)
    return m


def _batchnorm_layer(t: nn.Module, path: str):
    name = type(t).__name__
    if not t.affine or not t.track_running_stats or t.momentum is None:
        raise MiniganError(f"from_torch: {name} at {_where(path)} needs affine=True, track_running_stats=True and "
                           "a momentum (minigan's batch norm has all three)")
    dtype = _numpy_dtype(t.weight.dtype, f"{name} at {_where(path)}")
    cls = mnn.BatchNorm2d if isinstance(t, BatchNorm2d) else mnn.BatchNorm1d
    try:
        m = cls(t.num_features, eps=t.eps, momentum=t.momentum, dtype=dtype)
    except ValueError as exc:
        raise MiniganError(f"from_torch: {name} at {_where(path)}: {exc}") from None
    for array, tensor in ((m.gamma, t.weight), (m.beta, t.bias), (m.running_mean, t.running_mean),
                          (m.running_var, t.running_var)):
        np.copyto(array, tensor.detach().cpu().numpy())
    return m


#: PyTorch's image layers work on (N, C, H, W) tensors: as such they cannot be minigan layers.
_NCHW_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.MaxPool2d)


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
    if isinstance(t, (Conv2d, ConvTranspose2d)):
        return _conv_layer(t, path)
    if isinstance(t, BatchNorm2d) or type(t) is nn.BatchNorm1d:
        return _batchnorm_layer(t, path)
    if isinstance(t, MaxPool2d):
        for what, want in (("kernel_size", 2), ("stride", 2), ("padding", 0), ("dilation", 1), ("ceil_mode", False),
                           ("return_indices", False)):
            value = getattr(t, what)
            if (value if isinstance(value, bool) else _pair(value, what, "MaxPool2d", path)) != want:
                raise MiniganError(f"from_torch: MaxPool2d at {_where(path)} has {what}={value!r}; "
                                   f"minigan's MaxPool2d has {what}={want!r} only")
        try:
            return mnn.MaxPool2d(t.in_shape)
        except ValueError as exc:
            raise MiniganError(f"from_torch: MaxPool2d at {_where(path)}: {exc}") from None
    if type(t) in _NCHW_LAYERS:
        raise MiniganError(f"from_torch: cannot convert a plain torch.nn.{type(t).__name__} at {_where(path)}: it "
                           f"works on (N, C, H, W) tensors and does not say which images minigan's rows hold; "
                           f"use minigan.interop.torch.{type(t).__name__}(in_shape, ...) (what to_torch makes)")
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
                       "spectral_norm(nn.Linear), nn.BatchNorm1d, nn.LeakyReLU, nn.ReLU, nn.Tanh, nn.Sigmoid, "
                       "nn.Sequential, nn.Dropout and minigan.interop.torch's Conv2d, ConvTranspose2d, BatchNorm2d, "
                       "MaxPool2d, Pack, Dropout, InstanceNoise, RandomTranslate)")


def from_torch(module: nn.Module):
    """The minigan module stack equivalent to ``module`` (the inverse of :func:`to_torch`),
    weights copied, same dtype (float32 or float64).  The random layers get the NumPy
    generator of the PyTorch layer when it has one (a fresh one otherwise).  Raises
    :class:`MiniganError` for a layer it cannot convert (type and position)."""
    return _from_torch(module, "")


# -- state dicts --------------------------------------------------------------------------------------


def _entries(m, mg: str, tp: str, path: str):
    """(kind, minigan name, torch name, live array, layout) for every parameter (kind
    "param") and buffer ("buffer") of a minigan module, in the names of the mapping, and
    ("counter", None, torch name, None, None) for each batch norm's ``num_batches_tracked``
    (PyTorch's own buffer, which minigan does not keep)."""
    if isinstance(m, mnn.Sequential):
        for i, c in enumerate(m.modules):
            yield from _entries(c, f"{mg}{i}.", f"{tp}{i}.", f"{path}.{i}" if path else str(i))
    elif isinstance(m, mnn.Pack):
        yield from _entries(m.module, mg, f"{tp}module.", f"{path}.module" if path else "module")
    elif isinstance(m, mnn.SpectralNorm):
        p = f"{tp}parametrizations.weight."
        yield "param", f"{mg}W", f"{p}original", m.dense.W, DENSE_LAYOUT
        if _bias(m.dense) is not None:
            yield "param", f"{mg}b", f"{tp}bias", m.dense.b, None
        yield "buffer", f"{mg}u", f"{p}0._u", m.u, None
        yield "buffer", f"{mg}v", f"{p}0._v", m.v, None
    elif isinstance(m, (mnn.Dense, mnn.Conv2d, mnn.ConvTranspose2d)):
        yield "param", f"{mg}W", f"{tp}weight", m.W, DENSE_LAYOUT if isinstance(m, mnn.Dense) else CONV_LAYOUT
        if _bias(m) is not None:
            yield "param", f"{mg}b", f"{tp}bias", m.b, None
    elif isinstance(m, mnn.BatchNorm1d):  # and BatchNorm2d
        yield "param", f"{mg}gamma", f"{tp}weight", m.gamma, None
        yield "param", f"{mg}beta", f"{tp}bias", m.beta, None
        yield "buffer", f"{mg}running_mean", f"{tp}running_mean", m.running_mean, None
        yield "buffer", f"{mg}running_var", f"{tp}running_var", m.running_var, None
        yield "counter", None, f"{tp}num_batches_tracked", None, None
    elif not isinstance(m, (mnn.LeakyReLU, mnn.ReLU, mnn.Tanh, mnn.Sigmoid, mnn.Dropout, mnn.InstanceNoise,
                            mnn.RandomTranslate, mnn.MaxPool2d)):
        raise MiniganError(f"cannot map {type(m).__name__} at {_where(path)} to PyTorch names")


def entries(module) -> list[tuple[str, str, str, np.ndarray, tuple | None]]:
    """``(kind, minigan_name, torch_name, array, layout)`` for each parameter and buffer
    of a minigan module: ``kind`` is "param" or "buffer", ``array`` the live array and
    ``layout`` the axes permutation that turns it into the PyTorch tensor (``(1, 0)``
    for Dense weights, ``(3, 0, 1, 2)`` for convolution weights, None for the rest; see
    :func:`to_torch_layout` and :func:`from_torch_layout`).  Batch norm's
    ``num_batches_tracked`` is PyTorch's only and not listed."""
    return [e for e in _entries(module, "", "", "") if e[0] != "counter"]


def _counters(module) -> list[str]:
    """The PyTorch names of the batch norms' ``num_batches_tracked`` (see :func:`_entries`)."""
    return [tn for kind, _, tn, _, _ in _entries(module, "", "", "") if kind == "counter"]


def state_dict(module) -> dict[str, torch.Tensor]:
    """The PyTorch state dict (names as :func:`to_torch`'s module has them, CPU tensors,
    copies) of a minigan module: ``to_torch(m).state_dict()`` without building it (batch
    norm's ``num_batches_tracked``, which minigan does not count, is 0 as in a new
    PyTorch module)."""
    out = {}
    for kind, _, tn, a, layout in _entries(module, "", "", ""):
        if kind == "counter":
            out[tn] = torch.tensor(0, dtype=torch.long)
        else:
            out[tn] = torch.from_numpy(np.ascontiguousarray(to_torch_layout(a, layout)).copy())
    return out


def load_state_dict(module, state: dict) -> None:
    """Copy a PyTorch state dict (of the module :func:`to_torch` makes, e.g. after training
    it in PyTorch) into the minigan ``module`` in place, buffers (batch norm's running
    averages, spectral norm's vectors) included.  The names and shapes must match exactly
    (else :class:`MiniganError`, and nothing is changed), except batch norm's
    ``num_batches_tracked``, which may be there or not and is ignored; values are cast to
    the minigan arrays' dtype."""
    items = entries(module)
    expected = {tn for _, _, tn, _, _ in items}
    optional = set(_counters(module))
    missing, unexpected = expected - set(state), set(state) - expected - optional
    if missing or unexpected:
        raise MiniganError(f"state dict does not match the network (missing {sorted(missing)}, "
                           f"unexpected {sorted(unexpected)})")
    for tn in optional & set(state):
        if not isinstance(state[tn], torch.Tensor):
            raise MiniganError(f"state dict entry {tn!r} is a {type(state[tn]).__name__}, not a tensor")
    values = []
    for _, _, tn, a, layout in items:
        v = state[tn]
        if not isinstance(v, torch.Tensor):
            raise MiniganError(f"state dict entry {tn!r} is a {type(v).__name__}, not a tensor")
        want = to_torch_layout(a, layout).shape
        if tuple(v.shape) != want:
            raise MiniganError(f"state dict entry {tn!r} has shape {tuple(v.shape)}, the network needs {want}")
        values.append(from_torch_layout(v.detach().cpu().numpy(), layout))
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
