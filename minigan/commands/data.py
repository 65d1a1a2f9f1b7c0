"""``minigan data list`` and ``minigan data download NAME``: the data sets and their cache."""

from __future__ import annotations

import sys

from ..errors import MiniganError

NAME = "data"
HELP = "list the data sets (and whether each is available offline), or download one"


def add_arguments(p):
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    lst = sub.add_parser("list", help="names, descriptions and availability", description="list the data sets")
    lst.add_argument("--dir", metavar="DIR",
                     help="cache directory to look in (default $MINIGAN_DATA or ~/.cache/minigan)")
    dl = sub.add_parser("download", help="download a data set into the cache",
                        description="download a data set into the cache and verify its SHA-256 digests")
    dl.add_argument("name", metavar="NAME", help="mnist or fashion-mnist")
    dl.add_argument("--dir", metavar="DIR", help="cache directory (default $MINIGAN_DATA or ~/.cache/minigan)")
    dl.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def availability(spec, data_dir=None) -> str:
    """``generated`` (toy), ``bundled``, ``cached`` or ``not downloaded``."""
    if spec.kind == "toy":
        return "generated"
    if spec.kind == "bundled":
        return "bundled"
    from ..data import download

    directory = download.dataset_dir(spec.name, data_dir)
    files = download.FILES.get(spec.name, {})
    if files and all((directory / f).is_file() for f in files):
        return "cached"
    return "not downloaded"


def run(args) -> int:
    from ..data import DATASETS

    if args.data_command is None:
        raise MiniganError("say what to do: 'minigan data list' or 'minigan data download NAME'")
    if args.data_command == "list":
        rows = [(name, availability(spec, args.dir), spec.description) for name, spec in DATASETS.items()]
        w_name = max(len(r[0]) for r in rows)
        w_av = max(len(r[1]) for r in rows)
        for name, av, description in rows:
            print(f"{name:<{w_name}}  {av:<{w_av}}  {description}")
        return 0
    from ..data.download import fetch

    key = args.name.strip().lower().replace("_", "-")
    spec = DATASETS.get(key)
    if spec is None:
        raise MiniganError(f"unknown data set {args.name!r}; choose one of: {', '.join(DATASETS)}")
    if spec.kind != "download":
        print(f"minigan: {key} needs no download ({availability(spec)})")
        return 0
    path = fetch(key, args.dir, progress=not args.quiet and sys.stderr.isatty())
    if not args.quiet:
        print(f"minigan: {key} is in {path}")
    return 0
