"""``minigan export``: a run's networks as PyTorch state dicts in one ``.pt`` file.

The file is ``{"format": ..., "config": <config.json as text>, "G": state dict, "D": state
dict[, "G_ema": state dict]}`` written with ``torch.save``: tensors, dicts and strings
only, so ``torch.load(path, weights_only=True)`` reads it.  The state dicts are those of
``minigan.interop.torch.to_torch(G)`` and ``to_torch(D)`` (Dense ``W`` becomes
``weight = W.T``), in the run's dtype.  ``minigan import-torch`` reads it back.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import MiniganError

NAME = "export"
HELP = "write a run's G and D as PyTorch state dicts (a .pt file for torch.load(..., weights_only=True))"


def add_arguments(p):
    p.add_argument("--checkpoint", required=True, metavar="RUN", help="a run directory or its checkpoint.npz")
    p.add_argument("-o", "--output", default="model.pt", metavar="PT", help="file to write (default model.pt)")


def read_networks(path):
    """``(networks, config.json dict)`` of the run at ``path`` in the run's dtype (see
    :meth:`minigan.train.SavedRun.networks`)."""
    from ..train import open_run

    run = open_run(path, "--checkpoint")
    return run.networks(), run.stored


def run(args) -> int:
    from ..interop import require_torch

    out = Path(args.output)
    if out.suffix.lower() not in (".pt", ".pth"):
        raise MiniganError(f"-o {out}: give a name ending in .pt")
    nets, stored = read_networks(args.checkpoint)
    require_torch()
    from ..interop.torch import save_state_dicts

    try:
        save_state_dicts(out, nets, stored)
    except OSError as exc:
        raise MiniganError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    print(f"minigan: wrote {out} ({', '.join(nets)}; load with torch.load(path, weights_only=True))", file=sys.stdout)
    return 0
