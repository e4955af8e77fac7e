"""``connprof show [NAME]``: the merged profile, secrets as references, and each value's source."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "show",
        parents=[common],
        help="print one merged profile (secrets as references)",
        description="Print the merged, validated profile NAME (the default profile when omitted). "
        "Secret fields show their references, never values.",
    )
    p.add_argument("name", nargs="?", help="profile name (default: CONNPROF_PROFILE or 'default:')")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    p.add_argument(
        "--explain", action="store_true", help="show where each value came from (file:line:col)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import resolve_profile

    resolved = resolve_profile(args.name, args.config)
    if args.format == "json":
        doc: dict[str, Any] = {"profile": resolved.data}
        if args.explain:
            doc["provenance"] = resolved.provenance
        json.dump(doc if args.explain else resolved.data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.explain:
        sys.stdout.write(format_explain(resolved.name, resolved.provenance, resolved.data))
        return 0
    import yaml

    sys.stdout.write(f"# profile {resolved.name} from {', '.join(resolved.files)}\n")
    sys.stdout.write(
        yaml.safe_dump(resolved.data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    )
    return 0


def _leaf(data: dict[str, Any], dotted: str) -> Any:
    # Provenance is kept two levels deep at most, and option names may contain dots.
    value: Any = data
    for part in dotted.split(".", 1):
        value = value[part]
    return value


def format_explain(name: str, provenance: dict[str, str], data: dict[str, Any]) -> str:
    """One line per value: key, value, and the place it came from."""
    rows = []
    for dotted, origin in provenance.items():
        value = _leaf(data, dotted)
        shown = value if isinstance(value, str) else json.dumps(value)
        rows.append((dotted, str(shown), origin))
    kw = max((len(r[0]) for r in rows), default=0)
    vw = min(max((len(r[1]) for r in rows), default=0), 60)
    lines = [f"# profile {name}: value, then where it came from"]
    lines += [f"{k:<{kw}}  {v:<{vw}}  {o}" for k, v, o in rows]
    return "\n".join(lines) + "\n"
