"""The :class:`Dataset` record every loader in :mod:`minigan.data` returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of one data set, as float32 rows ready for a network.

    Attributes:
        name: catalogue name (``"ring"``, ``"mnist5k"``, ...).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        x: float32 array of shape (N, D), C-contiguous.  Images are flattened row-major,
            so ``x[i].reshape(image_shape)`` is image ``i``.
        y: int64 labels of shape (N,) (digit class, or the mixture component a toy
            sample was drawn from), or ``None``.
        image_shape: ``(28, 28)`` or ``(8, 8)`` for image sets, ``None`` otherwise.
        bounded: ``True`` if every value of ``x`` lies in [-1, 1] (the generator should
            end in ``tanh``); ``False`` for toy sets, which keep their own coordinates.
        centres: (K, D) float32 mode centres of a toy mixture, else ``None``.
        std: standard deviation of every mixture component (isotropic), else ``None``.
        description: one line for people.

    ``len(ds)`` is N and ``ds.dim`` is D.  Two datasets compare by identity (``eq=False``:
    element-wise array comparison has no single truth value).
    """

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray | None
    image_shape: tuple[int, ...] | None
    bounded: bool
    centres: np.ndarray | None
    std: float | None
    description: str

    def __post_init__(self):
        x = self.x
        if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and x.flags.c_contiguous):
            raise TypeError(f"Dataset {self.name}: x must be a C-contiguous float32 (N, D) array")
        if self.y is not None and (self.y.dtype != np.int64 or self.y.shape != (x.shape[0],)):
            raise TypeError(f"Dataset {self.name}: y must be int64 of shape ({x.shape[0]},)")
        if self.image_shape is not None and int(np.prod(self.image_shape)) != x.shape[1]:
            raise TypeError(f"Dataset {self.name}: image_shape {self.image_shape} does not match D = {x.shape[1]}")
        if self.centres is not None and (
            self.centres.dtype != np.float32 or self.centres.ndim != 2 or self.centres.shape[1] != x.shape[1]
        ):
            raise TypeError(f"Dataset {self.name}: centres must be float32 of shape (K, {x.shape[1]})")

    @property
    def dim(self) -> int:
        """D, the length of one row of ``x``."""
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"split={self.split!r}", f"x=float32{self.x.shape}"]
        if self.y is not None:
            parts.append(f"classes={len(np.unique(self.y))}")
        if self.image_shape is not None:
            parts.append(f"image_shape={self.image_shape}")
        if self.centres is not None:
            parts.append(f"modes={len(self.centres)}, std={self.std}")
        parts.append(f"bounded={self.bounded}")
        return f"Dataset({', '.join(parts)})"
