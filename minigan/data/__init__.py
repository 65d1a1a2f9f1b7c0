"""Data sets for minigan, all returned as float32 rows (:class:`Dataset`).

- toy distributions generated from a seed: ``ring``, ``grid`` (PacGAN's mode-collapse
  benchmarks), ``mixture1d``, ``moons``, ``spiral``;
- image sets bundled with the package (offline): ``mnist5k``, ``digits``;
- full ``mnist`` and ``fashion-mnist``, downloaded into a cache (``minigan data download``).

>>> from minigan.data import load
>>> ds = load("ring", n=1000, seed=0)
>>> ds.x.shape, ds.centres.shape, ds.std
((1000, 2), (8, 2), 0.01)

See ``minigan/data/README.md`` for provenance, licences and split definitions.
"""

from .catalogue import DATASETS, DatasetSpec, catalogue, load
from .dataset import Dataset

__all__ = ["DATASETS", "Dataset", "DatasetSpec", "catalogue", "load"]
