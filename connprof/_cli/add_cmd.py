"""``connprof add NAME``: its arguments. The work (questions, validation, the write) is in
``connprof._cli._add``, loaded only when the command runs, so every other command starts as fast.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]

_VERIFY = ("full", "ca", "none")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "add",
        parents=[common],
        help="add a profile, asking on a terminal or from flags (secrets go to the keyring)",
        description="Add profile NAME to your personal profile file (or --file). On a terminal "
        "it asks for whatever the flags do not give; without one, a missing answer is an error. "
        "Secrets go to the keyring and the file holds only references. The file's existing "
        "text is kept byte for byte, and nothing is written unless the profile validates.",
    )
    p.add_argument("name", metavar="NAME", help="the new profile's name")
    p.add_argument(
        "--driver",
        help="pymongo, cassandra, crate, hazelcast, pyexasol, psycopg, redis or pymysql (or alias)",
    )
    p.add_argument(
        "--host",
        action="append",
        dest="hosts",
        metavar="HOST",
        help="an endpoint, host or host:port (repeatable)",
    )
    p.add_argument("--uri", help="a mongodb:// or mongodb+srv:// URI instead of --host")
    p.add_argument("--dsn", help="an Exasol DSN instead of --host")
    p.add_argument("--user", help="the user name")
    p.add_argument("--ca", metavar="PATH", help="the CA bundle (PEM); default: the system store")
    p.add_argument("--client-cert", metavar="PATH", help="the client certificate (PEM)")
    p.add_argument("--client-key", metavar="PATH", help="the client key (PEM), if not in the cert")
    p.add_argument("--verify", choices=_VERIFY, help="certificate check (default: full)")
    p.add_argument(
        "--tls",
        choices=("on", "off"),
        help="TLS on or off (default: on; with --uri or --dsn, what the string says)",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin and store it in the keyring",
    )
    p.add_argument(
        "--key-password-stdin",
        action="store_true",
        help="read the client key's password from stdin and store it in the keyring",
    )
    p.add_argument(
        "--file", metavar="PATH", help="the file to add to (default: your personal profiles.yaml)"
    )
    p.add_argument(
        "--replace", action="store_true", help="replace an existing profile NAME in that file"
    )
    p.set_defaults(func=run, verify_choices=_VERIFY)


def run(args: argparse.Namespace) -> int:
    from ._add import run as add  # deferred: start-up; only add asks, composes and writes

    return add(args)
