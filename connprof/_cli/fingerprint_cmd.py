"""``connprof fingerprint HOST[:PORT]`` / ``--file CERT.pem``: the SHA-256 a pyexasol DSN pins."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .doctor_cmd import seconds

#: Exasol's port, the default of the DSN this command prints.
DEFAULT_PORT = 8563


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "fingerprint",
        parents=[common],
        help="print a server's (or a PEM file's) certificate fingerprint, as a DSN pins it",
        description="Print the SHA-256 of the leaf certificate of HOST[:PORT] (default port "
        f"{DEFAULT_PORT}) or of the PEM file given with --file, in upper-case hex as an Exasol "
        "DSN takes it, then the DSN with it (HOST/FINGERPRINT:PORT). Connecting does not "
        "verify the certificate: that is what the fingerprint is for; compare it with one "
        "from the server's administrator before you pin it.",
    )
    p.add_argument("address", nargs="?", metavar="HOST[:PORT]")
    p.add_argument("--file", metavar="CERT.pem", help="read the certificate from this PEM file")
    p.add_argument("--timeout", type=seconds, default=5.0, metavar="SECONDS")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # deferred: every command imports this module (the parser); only this command connects
    from .._doctor._fingerprint import file_fingerprint, server_fingerprint, split_address

    if args.address is None and args.file is None:
        print("connprof fingerprint: error: give HOST[:PORT] or --file CERT.pem", file=sys.stderr)
        return 2
    host = port = None
    if args.address is not None:
        host, port = split_address(args.address, DEFAULT_PORT)
    if args.file is not None:
        fingerprint = file_fingerprint(args.file)
    else:
        assert host is not None and port is not None
        print(
            f"connprof: connecting to {host}:{port} WITHOUT verifying its certificate (this "
            "command reads the certificate to pin it); check the fingerprint with the server's "
            "administrator before you trust it",
            file=sys.stderr,
        )
        fingerprint = server_fingerprint(host, port, timeout=args.timeout)
    print(fingerprint)
    if host is not None:
        print(f"{host}/{fingerprint}:{port}")
    return 0
