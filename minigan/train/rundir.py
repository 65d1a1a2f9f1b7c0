"""The one reader of a run's files: :func:`open_run` reads a run directory or its checkpoint
(``--resume``, ``minigan sample``, ``eval`` and ``export``); :meth:`SavedRun.from_stored`
reads the configuration a ``.pt`` file of ``minigan export`` carries (``import-torch``)."""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt
from ..errors import MiniganError
from .config import CHECKPOINT_NAME, TrainConfig
from .networks import build_networks


@dataclass
class SavedRun:
    """A run as its files hold it: ``stored`` is its ``config.json`` (``config``, ``data``,
    ...), ``config`` the :class:`TrainConfig` in it, ``arrays`` the checkpoint's arrays
    (none for a ``.pt`` file) and ``source`` the file they came from."""

    source: Path
    stored: dict
    config: TrainConfig
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: dict, source: Path, arrays: dict | None = None) -> SavedRun:
        """The run whose ``config.json`` is ``stored``; :class:`MiniganError` if it holds no
        usable configuration."""
        try:
            config = TrainConfig.from_dict(stored["config"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MiniganError(f"{source} has no usable run configuration: {exc}") from None
        return cls(Path(source), stored, config, arrays or {})

    @property
    def directory(self) -> Path:
        return self.source.parent

    @property
    def data(self) -> dict:
        """What the run trained on (:func:`~minigan.train.config.data_info`)."""
        return self.stored.get("data") or {}

    def fresh_networks(self, dtype: str | None = None) -> dict:
        """``{"G": G, "D": D}``, with ``"G_ema"`` when the run keeps a moving average of G,
        newly built for this run in ``dtype`` (default: the run's)."""
        config = self.config if dtype is None else dataclasses.replace(self.config, dtype=dtype)
        try:
            shape = self.data.get("image_shape")
            G, D = build_networks(config, int(self.data["dim"]), np.random.default_rng(0),
                                  image_shape=tuple(shape) if shape else None)
            nets = {"G": G, "D": D, **({"G_ema": copy.deepcopy(G)} if config.ema else {})}
        except (KeyError, TypeError, ValueError) as exc:
            raise MiniganError(f"{self.source} has no usable network configuration: {exc}") from None
        return nets

    def networks(self, dtype: str | None = None) -> dict:
        """:meth:`fresh_networks` with the checkpoint's weights (rounded to ``dtype`` when
        it is not the run's)."""
        nets = self.fresh_networks(dtype)
        arrays = self.arrays
        if dtype is not None and dtype != self.config.dtype:
            arrays = {k: (v.astype(dtype) if v.dtype.kind == "f" and k.split("/")[0].removesuffix("_buffers") in nets
                          else v) for k, v in arrays.items()}
        for name, net in nets.items():
            try:
                ckpt.load_network(name, net, arrays)
            except MiniganError as exc:
                raise MiniganError(f"{self.source}: {exc}") from None
        return nets


def open_run(path: str | os.PathLike, option: str | None = None) -> SavedRun:
    """The run in ``path``, a run directory or its checkpoint, read without pickle.

    Raises :class:`MiniganError` with one line, starting with ``option`` (the command-line
    option that named ``path``) when given, for a missing path, a directory without a
    checkpoint, a file that is truncated, corrupt or not a minigan checkpoint, or one
    without a usable configuration.
    """
    given = Path(path)
    try:
        file = given / CHECKPOINT_NAME if given.is_dir() else given
        if not given.exists():
            raise MiniganError(f"not found; expected a run directory or its {CHECKPOINT_NAME}")
        if not file.exists():
            raise MiniganError(f"holds no {CHECKPOINT_NAME}: not a minigan run directory, or its run stopped "
                               "before the first checkpoint")
        arrays = ckpt.load(file)
        return SavedRun.from_stored(ckpt.load_config(arrays), file, arrays)
    except MiniganError as exc:
        raise MiniganError(f"{option + ' ' if option else ''}{given}: {exc}") from None


def load_networks(path: str | os.PathLike, option: str | None = None):
    """``(G, D, config, data_info)`` of the run at ``path`` (see :func:`open_run`), in
    float32 (a float64 run's weights are rounded) for sampling and evaluation; G is the
    moving average of the generator's weights when the run kept one (``config.ema``)."""
    run = open_run(path, option)
    nets = run.networks("float32")
    return nets.get("G_ema", nets["G"]), nets["D"], run.config, run.data


def read_run(run_dir: str | os.PathLike) -> tuple[Path, TrainConfig, dict[str, np.ndarray]]:
    """``(directory, config, checkpoint arrays)`` of the run in ``run_dir`` (see
    :func:`open_run`)."""
    run = open_run(run_dir, "--resume")
    return run.directory, run.config, run.arrays
