"""A :class:`~minigan.train.TrainConfig` field declared once: its help, kind, range and
choices (:func:`option`).  The options of ``minigan train`` (:func:`add_options`), the
checks of :meth:`TrainConfig.validate` (:func:`check`), what ``config.json`` records and
what ``--resume`` may change all follow from these declarations."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import MiniganError

#: The groups of ``minigan train --help``, in their order.
GROUPS = {"data": "data", "optimisation": "optimisation", "model": "model", "engine": "engine",
          "remedies": "remedies (article sections 6.1-6.2; see 'minigan.train.TrainConfig')", "run": "run"}


@dataclass(frozen=True)
class Option:
    """A field's declaration (see :func:`declare`).

    ``kind``: ``int``, ``float``, ``str``, ``bool`` or ``tuple`` (of integers).  ``low`` and
    ``high`` bound the value (and each integer of a tuple); ``low_open`` refuses ``low``
    itself, ``high_open`` (the default) ``high``.  ``choices``: the allowed values.
    ``metavar``: the value's name in ``--help``; ``parse``: the command line's converter
    when it is not ``kind``.  ``chooses``: for ``--help``, what a ``None`` default chooses
    (another default is shown as it is).  ``exclusive``: a name shared by options of which
    one at most may be given.  ``resumable``: ``--resume`` may change the value.
    """

    help: str
    group: str
    kind: type = str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = True
    choices: tuple | None = None
    metavar: str | None = None
    parse: Callable | None = None
    chooses: str | None = None
    exclusive: str | None = None
    resumable: bool = False


def declare(default, help: str, group: str, kind: type = str, *, compare: bool = True, **details):
    """A dataclass field with its :class:`Option`: ``batch_size: int = declare(64, "real
    examples per D update", "data", int, low=1)``; ``group`` is one of :data:`GROUPS`."""
    return dataclasses.field(default=default, compare=compare,
                             metadata={"option": Option(help, group, kind, **details)})


def flag(name: str) -> str:
    """The command-line option of field ``name``: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def show(value) -> str:
    """A value as the command line writes it: ``(8, 8)`` -> ``8,8``, ``True`` -> ``yes``."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def declarations(cls) -> dict[str, tuple[dataclasses.Field, Option]]:
    """``{name: (field, option)}`` of every field of the dataclass ``cls``."""
    return {f.name: (f, f.metadata["option"]) for f in dataclasses.fields(cls)}


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``"128,128,128"`` -> ``(128, 128, 128)`` (argparse's converter for ``--hidden``)."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths like 128,128,128, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive integers, got {text!r}")
    return sizes


def _integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _lower(o: Option) -> str:
    return f"{'>' if o.low_open else '>='} {o.low:g}"


def _out_of_range(value, o: Option) -> str | None:
    """The bound ``value`` breaks (``">= 1"``, ``"< 1"``), or None."""
    if o.low is not None and (value < o.low or (o.low_open and value == o.low)):
        return _lower(o)
    if o.high is not None and (value > o.high or (o.high_open and value == o.high)):
        return f"{'<' if o.high_open else '<='} {o.high:g}"
    return None


def check(name: str, value, o: Option, nullable: bool) -> None:
    """Raise :class:`MiniganError` naming ``flag(name)`` unless ``value`` has the declared
    kind, range and choices (``None`` passes when ``nullable``)."""
    if value is None and nullable:
        return
    if o.choices is not None:
        ok, expected = value in o.choices, f"one of {', '.join(o.choices)};"
    elif o.kind is bool:
        ok, expected = isinstance(value, (bool, np.bool_)), "true or false,"
    elif o.kind is str:
        ok, expected = isinstance(value, str) and value != "", "a non-empty string,"
    elif o.kind is tuple:
        ok = isinstance(value, tuple) and len(value) > 0 and all(_integer(v) and not _out_of_range(v, o) for v in value)
        expected = f"one or more integers {_lower(o)},"
    elif o.kind is int:
        ok, expected = _integer(value) and not _out_of_range(value, o), f"an integer {_lower(o)},"
    else:
        finite = (isinstance(value, (float, np.floating)) or _integer(value)) and math.isfinite(value)
        broken = _out_of_range(value, o) if finite else None
        ok, expected = finite and broken is None, f"{broken or 'a finite number'},"
    if not ok:
        raise MiniganError(f"{flag(name)} must be {expected} got {value!r}")


def _described_default(f: dataclasses.Field, o: Option, recipes: dict[str, dict]) -> str:
    """The ``(default ...)`` of a field's help: its default value, or what ``None`` chooses
    (``o.chooses``, else the value of each recipe that sets the field)."""
    if f.default is not None:
        return f"default {show(f.default)}"
    if o.chooses is not None:
        return o.chooses
    chosen = [(where, recipe[f.name]) for where, recipe in recipes.items() if f.name in recipe]
    values = {show(v) for _, v in chosen}
    if len(values) == 1:
        return f"default {values.pop()}"
    return "default " + ", ".join(f"{show(v)} {where}" for where, v in chosen)


def add_options(parser: argparse.ArgumentParser, cls, recipes: dict[str, dict]) -> dict:
    """Add one option per field of ``cls`` to ``parser``, in the argument groups of
    :data:`GROUPS`, each with default ``None`` (so ``--resume`` can tell what was given);
    ``recipes`` (``{"for images": {...}, ...}``) describe what a ``None`` default chooses.
    Returns ``{group name: argument group}``."""
    groups = {name: parser.add_argument_group(title) for name, title in GROUPS.items()}
    exclusive = {}
    for name, (f, o) in declarations(cls).items():
        where = groups[o.group]
        if o.exclusive is not None:
            if o.exclusive not in exclusive:
                exclusive[o.exclusive] = where.add_mutually_exclusive_group()
            where = exclusive[o.exclusive]
        help_text = f"{o.help} ({_described_default(f, o, recipes)})".replace("%", "%%")
        if o.kind is bool:
            where.add_argument(flag(name), action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            where.add_argument(flag(name), type=o.parse or (None if o.kind is str else o.kind), choices=o.choices,
                               metavar=o.metavar, help=help_text)
    return groups


def merge_overrides(config, overrides: dict):
    """``config`` with ``overrides`` applied, validated: a field declared ``resumable``
    takes the new value, any other must equal the config's (else :class:`MiniganError`
    naming its option).  A new value clears the other options of its ``exclusive`` group."""
    decl = declarations(type(config))
    changes = {}
    for name, value in overrides.items():
        if name not in decl:
            raise TypeError(f"unexpected option {name!r}; expected fields of {type(config).__name__}")
        if value is None:
            continue
        o = decl[name][1]
        value = tuple(value) if o.kind is tuple else value
        if o.resumable:
            changes[name] = value
        elif value != getattr(config, name):
            raise MiniganError(f"{flag(name)} {show(value)} conflicts with the run being resumed ({name} = "
                               f"{show(getattr(config, name))}); a resumed run keeps its settings")
    for name in list(changes):
        group = decl[name][1].exclusive
        for other, (_, o) in decl.items():
            if group is not None and o.exclusive == group and other not in changes:
                changes[other] = None
    return dataclasses.replace(config, **changes).validate()
