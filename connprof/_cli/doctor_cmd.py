"""``connprof doctor [NAME]``: check a profile offline and at each endpoint; exit 1 on a problem."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def seconds(text: str) -> float:
    """``--timeout``: a number of seconds above 0, at most 600."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 and at most 600")
    return value


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="say why a profile's connection fails (files, secrets, DNS, TCP, TLS, certificate)",
        description="Check the profile NAME (the default profile when omitted): its secrets "
        "resolve (values never shown), its TLS files load, its driver can express it; then, "
        "for every endpoint, DNS, TCP, the TLS handshake with the driver's own TLS settings, "
        "and the server certificate. Each failure has a stable code and a hint. Exit 0 when "
        "every check passed, 1 otherwise.",
    )
    p.add_argument("name", nargs="?", help="profile name (default: CONNPROF_PROFILE or 'default:')")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--timeout",
        type=seconds,
        default=5.0,
        metavar="SECONDS",
        help="for each DNS lookup, TCP connect and TLS handshake (default 5)",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="only the checks that need no connection (no exec: secret is run either)",
    )
    p.set_defaults(func=run)


def use_colour(stream: Any) -> bool:
    """Colour on a terminal only, and never with NO_COLOR set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def run(args: argparse.Namespace) -> int:
    # deferred: every command imports this module (the parser); only doctor loads the checks
    from .._doctor import doctor, format_text

    report = doctor(args.name, config=args.config, timeout=args.timeout, offline=args.offline)
    if args.format == "json":
        sys.stdout.write(report.to_json() + "\n")
    else:
        sys.stdout.write(format_text(report, colour=use_colour(sys.stdout)))
    return 0 if report.ok else 1
