"""``connprof list``: every profile with its driver, endpoints, TLS and source file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._redact import printable


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("list", parents=[common], help="list the profiles of the loaded files")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._config import summarize_profiles  # deferred: lint and schema never load _config

    rows = summarize_profiles(args.config)
    # Exit 1 when a profile has a problem, whatever the format (a script reads the code).
    code = 1 if any("problem" in r for r in rows) else 0
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return code
    columns = ("name", "driver", "endpoints", "tls", "source")
    # The default profile (what `show` without NAME uses) is marked after its name.
    rows = [{**r, "name": f"{r['name']} (default)" if r["default"] else r["name"]} for r in rows]
    rows = [{k: printable(str(v)) for k, v in r.items() if k != "default"} for r in rows]
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns[:-1]}
    sys.stdout.write("  ".join(c.upper().ljust(widths.get(c, 0)) for c in columns).rstrip() + "\n")
    for r in rows:
        line = "  ".join(str(r[c]).ljust(widths.get(c, 0)) for c in columns).rstrip()
        if "problem" in r:
            line += f"  (invalid: {r['problem']})"
        sys.stdout.write(line + "\n")
    return code
