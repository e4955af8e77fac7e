"""``connprof show [NAME]``: the merged profile, secrets as references, and each value's source."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._redact import printable

#: ``--format`` values a driver writes itself (``DriverSpec.formats``); tests/cli pins this list
#: against the drivers, so that parsing the command line imports none of them.
DRIVER_FORMATS = ("uri", "env")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "show",
        parents=[common],
        help="print one merged profile and the driver arguments it emits",
        description="Print the merged, validated profile NAME (the default profile when omitted) "
        "and the keyword arguments its driver gets. Secrets show as their references; only "
        "--reveal resolves them and prints the values.",
    )
    p.add_argument("name", nargs="?", help="profile name (default: CONNPROF_PROFILE or 'default:')")
    p.add_argument(
        "--format",
        choices=("yaml", "json", "kwargs", *DRIVER_FORMATS),
        default="yaml",
        help="yaml (default), json, kwargs: only the driver arguments, as JSON; uri: the "
        "driver's connection string (psycopg, redis, pymysql, pymongo); env: libpq's PG* "
        "variables for eval (psycopg). uri and env leave secrets out",
    )
    p.add_argument(
        "--explain", action="store_true", help="show where each value came from (file:line:col)"
    )
    p.add_argument(
        "--reveal",
        action="store_true",
        help="resolve secret references and print their values in the driver arguments",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.format in DRIVER_FORMATS and (args.reveal or args.explain):
        flag = "--reveal" if args.reveal else "--explain"
        print(
            f"connprof: error: {flag} does not go with --format {args.format}, which never "
            f"writes a secret or a source; use {flag} with --format yaml, json or kwargs",
            file=sys.stderr,
        )
        return 2
    # deferred: every command imports this module (the parser); lint and schema need no _config
    from .._config import resolve_profile

    resolved = resolve_profile(args.name, args.config)
    for warning in resolved.warnings:
        # What pymongo would warn about too (an unknown or ignored option): one line each.
        text = printable(f"profile '{resolved.name}': {warning}")
        print(f"connprof: warning: {text}", file=sys.stderr)
    for variable, fields in _overrides(resolved.provenance).items():
        # An override is never invisible: one line each, even when the output is JSON.
        print(
            f"connprof: {variable} overrides {', '.join(fields)} of profile '{resolved.name}'",
            file=sys.stderr,
        )
    kwargs, error = resolved.kwargs, resolved.kwargs_error
    if args.reveal and kwargs is not None:
        kwargs = _revealed(args)
        print(
            f"connprof: --reveal: the output holds the secret values of profile '{resolved.name}'",
            file=sys.stderr,
        )
    if args.format in DRIVER_FORMATS:
        if error is None:
            return _driver_format(args, resolved.name)
    elif args.format == "kwargs":
        if error is None:
            _json(kwargs)
    elif args.format == "json":
        doc: dict[str, Any] = {"profile": resolved.data, "kwargs": kwargs}
        if error is not None:
            doc["kwargs_error"] = error
        if args.explain:
            doc["provenance"] = resolved.provenance
            notes = _notes(resolved.data)
            if notes:
                doc["notes"] = notes
        _json(doc)
    elif args.explain:
        notes = _notes(resolved.data)
        sys.stdout.write(format_explain(resolved.name, resolved.provenance, resolved.data, notes))
    else:
        import yaml  # deferred: this module loads for every command; schema needs no PyYAML

        def dump(data: Any) -> str:
            return yaml.safe_dump(
                data, sort_keys=False, default_flow_style=False, allow_unicode=True
            )

        files = printable(", ".join(resolved.files))  # a file name may hold a newline
        sys.stdout.write(f"# profile {resolved.name} from {files}\n")
        sys.stdout.write(dump(resolved.data))
        call = resolved.call or resolved.data["driver"]
        if kwargs is not None:
            how = (
                "secret values" if args.reveal else "secrets as references; --reveal resolves them"
            )
            sys.stdout.write(f"---\n# driver arguments: {call}(**kw) ({how})\n")
            sys.stdout.write(dump(kwargs))
        elif error is not None:
            sys.stdout.write(f"---\n# driver arguments: none, {call} cannot take this profile\n")
    if error is not None:
        print(f"connprof: error: {printable(error)}", file=sys.stderr)
        return 1
    return 0


def _driver_format(args: argparse.Namespace, name: str) -> int:
    """``--format uri|env``: the driver's own writing of the profile, each secret left out."""
    # deferred: only these formats validate (pydantic) and ask the driver
    from .._config import load_validated
    from ..drivers import get_driver
    from ..drivers._registry import BUILTIN

    profile, _ = load_validated(args.name, args.config)
    spec = get_driver(profile.driver)
    write = spec.formats.get(args.format)
    if write is None:
        having = [d.name for d in BUILTIN.values() if args.format in d.formats]
        print(
            f"connprof: error: driver {profile.driver} (profile '{name}') has no --format "
            f"{args.format}; the drivers that have it: {', '.join(having)}",
            file=sys.stderr,
        )
        return 1
    text = write(profile)
    for field, how in spec.left_out.items():
        block, _, leaf = field.partition(".")
        if getattr(getattr(profile, block), leaf, None) is not None:
            print(
                f"connprof: note: --format {args.format} leaves out {field} (a secret): {how}",
                file=sys.stderr,
            )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _overrides(provenance: dict[str, str]) -> dict[str, list[str]]:
    """``{variable: [fields]}`` for each ``CONNPROF__...`` variable some value came from."""
    found: dict[str, list[str]] = {}
    for dotted, origin in provenance.items():
        if origin.startswith("env CONNPROF__"):
            variable = origin[len("env ") :].split(" ", 1)[0]
            found.setdefault(variable, []).append(dotted)
    return found


def _revealed(args: argparse.Namespace) -> dict[str, Any]:
    """The driver arguments with secrets resolved: the one place a value is printed."""
    # deferred: only --reveal validates (pydantic) and resolves secrets (the secret stores)
    from .._config import load_validated
    from ..drivers import describe_kwargs, emit, plain
    from ..secrets import SecretResolver

    # Loaded as the library loads it, so the trust rule of its files holds here too.
    profile, _ = load_validated(args.name, args.config)
    resolver = SecretResolver.for_profile(profile)
    described = describe_kwargs(emit(profile), reveal=lambda s: resolver.get(s.reference, s.field))
    result: dict[str, Any] = plain(described)
    return result


def _leaf(data: dict[str, Any], dotted: str) -> Any:
    # Provenance is kept two levels deep at most, and option names may contain dots.
    value: Any = data
    for part in dotted.split(".", 1):
        value = value[part]
    return value


def _notes(data: dict[str, Any]) -> dict[str, str]:
    """Where the driver does something other than a value says (``DriverSpec.explain``)."""
    from ..drivers._registry import builtin_spec  # deferred: only --explain asks the driver

    spec = builtin_spec(data.get("driver"))
    return spec.explain(data) if spec is not None and spec.explain is not None else {}


def format_explain(
    name: str,
    provenance: dict[str, str],
    data: dict[str, Any],
    notes: dict[str, str] | None = None,
) -> str:
    """One line per value: key, value, and the place it came from (then what the driver does)."""
    rows = []
    for dotted, origin in provenance.items():
        value = _leaf(data, dotted)
        shown = value if isinstance(value, str) else json.dumps(value)
        note = (notes or {}).get(dotted)
        rows.append((dotted, str(shown), f"{origin}  # {note}" if note else origin))
    kw = max((len(r[0]) for r in rows), default=0)
    vw = min(max((len(r[1]) for r in rows), default=0), 60)
    lines = [f"# profile {name}: value, then where it came from"]
    lines += [f"{k:<{kw}}  {v:<{vw}}  {o}" for k, v, o in rows]
    return "\n".join(lines) + "\n"
