"""``connprof trust [PATH]``: vouch for a project file (``--list``, ``--remove``)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "trust",
        parents=[common],
        help="trust a project's connprof.yaml to run exec: and read files outside its folder",
        description="A discovered project file (connprof.yaml in this folder or a parent) is "
        "written by someone else: until you trust it, its profiles run no exec: command and "
        "read no file: outside its folder. Read it, then trust it. Files in your config dir and "
        "files you name with --config or CONNPROF_CONFIG are always trusted; "
        "CONNPROF_TRUST_PROJECT=1 trusts every file (CI, containers).",
    )
    p.add_argument("path", nargs="?", help="the file (default: the discovered connprof.yaml)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="print the trusted files")
    what.add_argument("--remove", action="store_true", help="stop trusting the file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import _trust  # deferred: every command imports this module (the parser)
    from .._discover import find_project_file  # deferred: the same

    if args.list:
        if args.path:
            print("connprof: error: --list takes no PATH", file=sys.stderr)
            return 2
        paths, ignored = _trust.trusted_paths()
        if ignored:
            print(f"connprof: warning: the trust record is ignored: {ignored}", file=sys.stderr)
        for recorded in paths:
            sys.stdout.write(f"{recorded}{'' if os.path.isfile(recorded) else '  (missing)'}\n")
        if _trust.trust_all():
            print(f"connprof: {_trust.TRUST_ENV} is set: every file is trusted", file=sys.stderr)
        return 0
    path = args.path or find_project_file()
    if path is None:
        print(
            "connprof: error: no connprof.yaml in this folder or its parents (up to the "
            "repository root); give the PATH of the file to trust",
            file=sys.stderr,
        )
        return 1
    if args.remove:
        if _trust.forget(path):
            print(f"connprof: {os.path.realpath(path)} is no longer trusted", file=sys.stderr)
            return 0
        print(f"connprof: error: {path} is not in the trust record", file=sys.stderr)
        return 1
    print(
        f"connprof: trusted {_trust.record(path)}: its profiles may run exec: commands and "
        "read file: references anywhere (connprof trust --remove undoes it)",
        file=sys.stderr,
    )
    return 0
