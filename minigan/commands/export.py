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
    """``(networks, config.json dict)`` of the checkpoint at ``path`` (a run directory or its
    ``.npz``), in the run's dtype: ``{"G", "D"}`` and ``"G_ema"`` when the run keeps a
    moving average."""
    import numpy as np

    from .. import checkpoint as ckpt
    from ..train import CHECKPOINT_NAME, TrainConfig, build_networks

    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise MiniganError(f"--checkpoint {path} does not exist")
    arrays = ckpt.load(path)
    stored = ckpt.load_config(arrays)
    try:
        config = TrainConfig.from_dict(stored["config"])
        data = stored["data"]
        shape = data.get("image_shape")
        G, D = build_networks(config, int(data["dim"]), np.random.default_rng(0),
                              image_shape=tuple(shape) if shape else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise MiniganError(f"checkpoint {path} has no usable network configuration: {exc}") from None
    ckpt.load_network("G", G, arrays)
    ckpt.load_network("D", D, arrays)
    nets = {"G": G, "D": D}
    if config.ema:
        G_ema, _ = build_networks(config, int(data["dim"]), np.random.default_rng(0),
                                  image_shape=tuple(shape) if shape else None)
        ckpt.load_network("G_ema", G_ema, arrays)
        nets["G_ema"] = G_ema
    return nets, stored


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
