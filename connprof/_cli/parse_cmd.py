"""``connprof parse`` and ``connprof import``: a connection string as a canonical profile.

``parse`` prints the profile; ``import`` stores its password in the keyring and writes it to
``<user config dir>/profiles.d/NAME.yaml``. This module holds their options; what they do is in
``connprof._cli._parse``, loaded only when one of them runs (every command builds this parser).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]

_STRING_HELP = "a mongodb:// or mongodb+srv:// URI, or an Exasol DSN; - reads it from stdin"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "parse",
        parents=[common],
        help="print a MongoDB URI or Exasol DSN as a profile",
        description="Print a MongoDB URI or an Exasol DSN as a canonical connprof profile in "
        'YAML. A password in the string is replaced by the reference "keyring:" and reported '
        "on stderr, never printed.",
    )
    p.add_argument("string", metavar="STRING", help=_STRING_HELP)
    p.add_argument(
        "--driver", type=_string_driver, help="pymongo or pyexasol, or an alias (default: guessed)"
    )
    p.set_defaults(func=run_parse)

    q = sub.add_parser(
        "import",
        parents=[common],
        help="save a MongoDB URI or Exasol DSN as profile NAME",
        description="Parse STRING, store its password in the keyring (service connprof, user "
        "NAME/password) and write the profile to <user config dir>/profiles.d/NAME.yaml. An "
        "existing file or profile NAME is kept unless --force is given.",
    )
    q.add_argument("string", metavar="STRING", help=_STRING_HELP)
    q.add_argument("--name", required=True, help="the profile name (also the file name)")
    q.add_argument(
        "--driver", type=_string_driver, help="pymongo or pyexasol, or an alias (default: guessed)"
    )
    q.add_argument(
        "--force", action="store_true", help="replace an existing file or profile of that name"
    )
    q.set_defaults(func=run_import)


def run_parse(args: argparse.Namespace) -> int:
    from ._parse import run_parse  # deferred: start-up of every other command stays lean

    return run_parse(args)


def run_import(args: argparse.Namespace) -> int:
    from ._parse import run_import  # deferred: start-up of every other command stays lean

    return run_import(args)


def _string_driver(text: str) -> str:
    """A driver that reads a connection string (the registry says which), by any spelling."""
    from ..drivers._registry import BUILTIN, resolve_driver  # deferred: only parse needs it

    name = resolve_driver(text)
    spec = BUILTIN.get(name)
    if spec is None or spec.string is None:
        readers = [n for n, s in BUILTIN.items() if s.string is not None]
        aliases = [a for n in readers for a in BUILTIN[n].aliases]
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(readers)}, or an alias: "
            f"{', '.join(aliases)}; only these drivers read a connection string)"
        )
    return str(name)
