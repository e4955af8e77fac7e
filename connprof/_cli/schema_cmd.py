"""``connprof schema``: print the JSON Schema of the profile file format."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("schema", parents=[common], help="print the JSON Schema of profile files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._schema import format_schema  # deferred: it imports pydantic; only schema needs it

    print(format_schema(), end="")
    return 0
