"""Bridges from minigan's NumPy modules to other frameworks.

:mod:`minigan.interop.torch` converts a minigan network to an equivalent
``torch.nn.Module`` and back.  PyTorch is optional (``pip install -e '.[torch]'``):
importing :mod:`minigan` or this package never imports it; only
``import minigan.interop.torch`` does.
"""

from __future__ import annotations

from ..errors import MiniganError

#: The one line printed when PyTorch is needed but missing.
TORCH_MISSING = "PyTorch is not installed; install it with: pip install -e '.[torch]'"


def require_torch(device: str | None = None):
    """Import and return ``torch``, or raise :class:`MiniganError` with one line saying how
    to install it.  ``device="cuda"`` also requires a CUDA device PyTorch can use."""
    try:
        import torch
    except ImportError:
        raise MiniganError(TORCH_MISSING) from None
    if device is not None and str(device).startswith("cuda") and not torch.cuda.is_available():
        raise MiniganError("--device cuda: PyTorch finds no CUDA device here (torch.cuda.is_available() is False; "
                           "a CPU-only PyTorch build?); use --device cpu")
    return torch
