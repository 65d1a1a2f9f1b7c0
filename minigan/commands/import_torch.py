"""``minigan import-torch``: a ``.pt`` file of ``minigan export`` back into a run directory.

Reads the file with ``torch.load(..., weights_only=True)``, rebuilds the networks its
``config`` describes, copies the state dicts into them (the names of
:mod:`minigan.interop.torch`) and writes ``--out RUN/checkpoint.npz`` and
``RUN/config.json``.  The checkpoint holds the weights only (no optimiser or generator
state), so ``minigan sample`` and ``minigan eval`` read it but ``--resume`` does not.
Use it to bring back weights trained or edited in PyTorch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import MiniganError

NAME = "import-torch"
HELP = "turn a .pt file of 'minigan export' (G and D state dicts) back into a minigan run directory"


def add_arguments(p):
    p.add_argument("file", metavar="PT", help="the .pt file")
    p.add_argument("--out", required=True, metavar="RUN", help="run directory to create (must be new or empty)")


def run(args) -> int:
    from .. import checkpoint as ckpt
    from ..interop import require_torch
    from ..train import CHECKPOINT_NAME, SavedRun, check_new_run_dir, make_writable_dir

    src = Path(args.file)
    if not src.is_file():
        raise MiniganError(f"{src} does not exist")
    out = Path(args.out)
    check_new_run_dir(out)
    require_torch()
    from ..interop.torch import load_state_dict, load_state_dicts

    stored, dicts = load_state_dicts(src)
    nets = SavedRun.from_stored(stored, src).fresh_networks()
    if set(dicts) != set(nets):
        raise MiniganError(f"{src} holds {sorted(dicts)}; a run of this configuration needs {sorted(nets)}")
    arrays = {}
    for name, net in sorted(nets.items()):
        try:
            load_state_dict(net, dicts[name])
        except MiniganError as exc:
            raise MiniganError(f"{src}: {name}: {exc}") from None
        arrays.update(ckpt.network_arrays(name, net))
    make_writable_dir(out)
    ckpt.save(out / CHECKPOINT_NAME, arrays, config=stored)
    ckpt.atomic_write_bytes(out / "config.json", (json.dumps(stored, indent=2) + "\n").encode())
    print(f"minigan: wrote {out / CHECKPOINT_NAME} (weights only: sample and eval read it, --resume does not)",
          file=sys.stdout)
    return 0
