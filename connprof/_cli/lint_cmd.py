"""``connprof lint [PATH...]``: findings as text, JSON or GitHub annotations; exit 1 on errors."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "lint",
        parents=[common],
        help="check profile files (no keyring, network or secrets needed)",
        description="Check profile files and print one line per finding. Each PATH (a file, or "
        "a folder of *.yaml files) is checked on its own; without PATH, the files connprof "
        "would read (--config or discovery) are checked together as layers.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="profile files or folders")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing when there is no finding"
    )
    p.add_argument(
        "--check-files",
        action="store_true",
        help="also check absolute and ~ paths, certificate dates, key/certificate pairs, "
        "certificate names and key file permissions",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # deferred: the parser imports every command's module; only lint loads the linter
    from .._discover import discover
    from .._lint import lint_config, lint_paths
    from .._lint.engine import _expand
    from .._lint.report import FORMATS

    if args.paths:
        found = lint_paths(args.paths, check_files=args.check_files)
        checked = len(_expand(args.paths))
    else:
        found = lint_config(args.config, check_files=args.check_files)
        checked = len(discover(args.config))
    sys.stdout.write(FORMATS[args.format](found))
    errors = sum(d.severity == "error" for d in found)
    warnings = len(found) - errors
    if found and args.format == "text":
        files = len({d.path for d in found})
        print(
            f"connprof lint: {errors} error{'s' * (errors != 1)}, {warnings} "
            f"warning{'s' * (warnings != 1)} in {files} file{'s' * (files != 1)}",
            file=sys.stderr,
        )
    elif not found and args.format == "text" and not args.quiet:
        # One line, so a clean run is told apart from one that checked nothing.
        print(f"connprof lint: 0 problems in {checked} file{'s' * (checked != 1)}", file=sys.stderr)
    return 1 if errors or (warnings and args.strict) else 0
