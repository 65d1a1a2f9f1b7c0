"""Checkpoints: one ``.npz`` file of plain arrays, written atomically, read without pickle.

A checkpoint is a flat mapping ``key -> array`` saved with :func:`numpy.savez` and read
back with ``np.load(path, allow_pickle=False)``, so loading a file can never execute
code.  Everything in it is a number, an array of numbers or a unicode string:

==========================  ============================================================
key                         content
==========================  ============================================================
``format``                  ``"minigan-checkpoint"`` (str)
``format_version``          ``1`` (int)
``minigan_version``         the version that wrote the file (str)
``config``                  the run's configuration as a JSON string
``G/<param>``               generator weights, e.g. ``G/0.W`` (float32)
``D/<param>``               discriminator weights, e.g. ``D/6.b``
``g_opt/<key>``             the generator optimiser's ``state_dict()`` (``t``, ``lr``,
                            ``m.0.W``, ...)
``d_opt/<key>``             the discriminator optimiser's ``state_dict()``
``rng/<name>``              ``Generator.bit_generator.state`` as a JSON string (its
                            128-bit integers survive exactly: JSON integers are
                            arbitrary-precision decimal)
``loop/<name>``             loop counters and arrays (step, epoch, position, the
                            current epoch's permutation, ...)
``metrics/<column>``        the metrics recorded so far, one array per column
==========================  ============================================================

:func:`save` writes to a temporary file in the destination's directory, flushes and
``fsync``\\ s it, renames it over the destination with :func:`os.replace` (atomic on
POSIX) and ``fsync``\\ s the directory, so a crash (``kill -9``, power loss) at any
moment leaves either the previous checkpoint or the new one, never a torn file.

:func:`load` turns every way a file can be bad (missing, truncated, corrupt, not a
minigan checkpoint, from an unknown format version) into a one-line
:class:`~minigan.errors.MiniganError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import MiniganError

FORMAT = "minigan-checkpoint"
FORMAT_VERSION = 1
TEMP_PREFIX = ".tmp-"


# -- atomic files ------------------------------------------------------------------------


def fsync_dir(directory: str | os.PathLike) -> None:
    """``fsync`` a directory so a rename inside it survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> None:
    """Create or replace ``path`` atomically: ``write(fileobj)`` fills a temporary file in
    the same directory, which is flushed, ``fsync``\\ ed and renamed over ``path``.

    If ``write`` raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """:func:`atomic_write` of a ``bytes`` value."""
    atomic_write(path, lambda f: f.write(data))


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete temporary files that a killed process left behind in ``directory``."""
    removed = []
    for p in Path(directory).glob(TEMP_PREFIX + "*"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


# -- encoding helpers ----------------------------------------------------------------------


def encode_rng(rng: np.random.Generator) -> np.ndarray:
    """A Generator's complete state as a 0-d unicode array holding JSON."""
    return np.array(json.dumps(rng.bit_generator.state))


def decode_rng(value) -> np.random.Generator:
    """The inverse of :func:`encode_rng`: a Generator in exactly the saved state."""
    state = json.loads(str(np.asarray(value)[()]))
    try:
        bit_generator = getattr(np.random, state["bit_generator"])()
    except (AttributeError, KeyError, TypeError):
        raise MiniganError(f"unknown random bit generator in checkpoint: {state.get('bit_generator')!r}") from None
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def encode_json(obj) -> np.ndarray:
    """Any JSON-serialisable object as a 0-d unicode array."""
    return np.array(json.dumps(obj, sort_keys=True))


def decode_json(value):
    return json.loads(str(np.asarray(value)[()]))


def flatten(prefix: str, mapping: dict) -> dict[str, np.ndarray]:
    """``{"a": x}`` -> ``{"<prefix>/a": np.asarray(x)}`` (arrays are copied)."""
    return {f"{prefix}/{k}": np.array(v) for k, v in mapping.items()}


def unflatten(prefix: str, arrays: dict) -> dict[str, np.ndarray]:
    """The keys of ``arrays`` under ``<prefix>/``, with the prefix removed."""
    start = prefix + "/"
    return {k[len(start):]: v for k, v in arrays.items() if k.startswith(start)}


# -- save / load ------------------------------------------------------------------------------


def save(path: str | os.PathLike, arrays: dict[str, np.ndarray], *, config: dict | None = None) -> Path:
    """Write ``arrays`` (plus the format header and ``config``) to ``path`` atomically.

    Every value must be a non-object NumPy array (or convertible to one); ``config`` is
    stored as a JSON string under ``"config"``.  Returns the path written.
    """
    from . import __version__

    path = Path(path)
    payload = {"format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
               "minigan_version": np.array(__version__)}
    if config is not None:
        payload["config"] = encode_json(config)
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(f"checkpoint.save: {key!r} is an object array; only plain arrays can be saved")
        payload[key] = arr
    atomic_write(path, lambda f: np.savez(f, **payload))
    return path


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a checkpoint written by :func:`save` into a dict of arrays (fully in memory).

    Raises :class:`MiniganError` with one line naming the file for a missing,
    unreadable, truncated or corrupt file, or one that is not a minigan checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.npz"
    if not path.exists():
        raise MiniganError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:  # zipfile.BadZipFile, EOFError, OSError, ValueError, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MiniganError(f"cannot read checkpoint {path} (truncated or corrupt?): {reason}") from None
    try:
        fmt = str(arrays["format"][()])
        version = int(arrays["format_version"][()])
    except (KeyError, ValueError, TypeError, IndexError):
        raise MiniganError(f"{path} is not a minigan checkpoint (no format header)") from None
    if fmt != FORMAT:
        raise MiniganError(f"{path} is not a minigan checkpoint (format {fmt!r})")
    if version != FORMAT_VERSION:
        raise MiniganError(f"{path} has checkpoint format version {version}; this minigan reads {FORMAT_VERSION}")
    return arrays


def load_config(arrays: dict[str, np.ndarray]) -> dict:
    """The JSON config stored in a loaded checkpoint."""
    try:
        return decode_json(arrays["config"])
    except (KeyError, ValueError) as exc:
        raise MiniganError(f"checkpoint has no readable config: {exc}") from None


# -- models ------------------------------------------------------------------------------------


def model_arrays(prefix: str, model) -> dict[str, np.ndarray]:
    """``{"<prefix>/<name>": copy of parameter}`` for every parameter of ``model``."""
    return flatten(prefix, model.params())


def load_model(prefix: str, model, arrays: dict[str, np.ndarray]) -> None:
    """Copy the saved ``<prefix>/*`` parameters into ``model`` in place.

    Raises :class:`MiniganError` if the names, shapes or dtypes do not match the model
    (a checkpoint from another architecture); nothing is modified in that case.
    """
    saved = unflatten(prefix, arrays)
    params = model.params()
    if saved.keys() != params.keys():
        missing = sorted(params.keys() - saved.keys())
        extra = sorted(saved.keys() - params.keys())
        raise MiniganError(
            f"checkpoint's {prefix} does not match the network (missing {missing}, unexpected {extra}); "
            "was it saved from a different architecture?"
        )
    for name, p in params.items():
        src = saved[name]
        if src.shape != p.shape or src.dtype != p.dtype:
            raise MiniganError(
                f"checkpoint's {prefix}/{name} has shape {src.shape} {src.dtype}, the network's is "
                f"{p.shape} {p.dtype}: a different architecture"
            )
    for name, p in params.items():
        np.copyto(p, saved[name])


def load_optimizer(prefix: str, optimizer, arrays: dict[str, np.ndarray]) -> None:
    """Restore ``optimizer`` from the ``<prefix>/*`` entries (see ``Optimizer.state_dict``)."""
    try:
        optimizer.load_state_dict(unflatten(prefix, arrays))
    except ValueError as exc:
        raise MiniganError(f"checkpoint's {prefix} does not fit this optimiser: {exc}") from None


def buffer_arrays(prefix: str, model) -> dict[str, np.ndarray]:
    """``{"<prefix>/<name>": copy of buffer}`` for every buffer of ``model`` (see
    ``Module.buffers``: state such as spectral-norm vectors, saved but not trained)."""
    return flatten(prefix, model.buffers() if hasattr(model, "buffers") else {})


def load_buffers(prefix: str, model, arrays: dict[str, np.ndarray]) -> None:
    """Copy the saved ``<prefix>/*`` buffers into ``model`` in place (same checks as
    :func:`load_model`; a model without buffers expects none)."""

    class _Buffers:
        def params(self):
            return model.buffers() if hasattr(model, "buffers") else {}

    load_model(prefix, _Buffers(), arrays)


def network_arrays(name: str, model) -> dict[str, np.ndarray]:
    """A network's parameters under ``<name>/`` and its buffers (batch norm's running
    averages, spectral norm's vectors) under ``<name>_buffers/``."""
    return {**model_arrays(name, model), **buffer_arrays(f"{name}_buffers", model)}


def load_network(name: str, model, arrays: dict[str, np.ndarray]) -> None:
    """Load what :func:`network_arrays` saved into ``model`` in place (a network without
    buffers expects none, so checkpoints from before buffers existed still load)."""
    load_model(name, model, arrays)
    load_buffers(f"{name}_buffers", model, arrays)
