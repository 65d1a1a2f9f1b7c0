"""The ``minigan`` command: one sub-command per module in :mod:`minigan.commands`.

Every sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``.  A :class:`~minigan.errors.MiniganError` (or a ``ValueError`` raised
while checking the user's input) becomes a one-line ``minigan: error: ...`` on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import MiniganError

# Order = order in ``minigan --help``.
COMMANDS = ("train", "sample", "eval", "export", "import_torch", "reproduce", "data", "gradcheck", "bench")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and still exit code 2)."""

    def error(self, message):
        self.exit(2, f"minigan: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="minigan", description="A GAN built by hand in NumPy: train, sample, check, measure.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f".commands.{name}", __package__)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except MiniganError as exc:
        print(f"minigan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minigan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
