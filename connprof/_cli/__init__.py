"""The ``connprof`` command: parse arguments, call one command, map errors to exit codes.

Exit codes: 0 success, 1 problems found or bad input (one ``connprof: error: ...`` line),
2 usage, 3 a bug (with its traceback, which is the only time one is printed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .._errors import ConnprofError
from .._version import __version__
from . import (
    _complete,
    add_cmd,
    completion_cmd,
    doctor_cmd,
    fingerprint_cmd,
    lint_cmd,
    list_cmd,
    parse_cmd,
    schema_cmd,
    secret_cmd,
    show,
    trust_cmd,
)

__all__ = ["main", "run"]

Command = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    def config_option(parser: argparse.ArgumentParser, dest: str) -> None:
        parser.add_argument(
            "--config",
            action="append",
            dest=dest,
            metavar="PATH",
            default=[],
            help="a profile file to use instead of discovery (repeatable; the first wins)",
        )

    # --config may stand before or after the command; both lists are kept, in order.
    common = argparse.ArgumentParser(add_help=False)
    config_option(common, "config_after")
    parser = argparse.ArgumentParser(
        prog="connprof", description="Declarative database connection profiles."
    )
    config_option(parser, "config_before")
    parser.set_defaults(parser=parser)  # for a command that describes the CLI (completion)
    parser.add_argument("--version", action="version", version=f"connprof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands = (
        list_cmd,
        show,
        doctor_cmd,
        lint_cmd,
        schema_cmd,
        secret_cmd,
        parse_cmd,
        add_cmd,
        trust_cmd,
        fingerprint_cmd,
        completion_cmd,
    )
    for module in commands:
        module.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    hidden = _complete.main_if_hidden(argv)  # a TAB: answer before building the parser
    if hidden is not None:
        return hidden
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    args.config = [*args.config_before, *args.config_after] or None
    command: Command = args.func
    try:
        return command(args)
    except ConnprofError as exc:
        print(f"connprof: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("connprof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `connprof list | head`: the reader left; nothing is wrong.
        sys.stderr.close()
        return 0
    except Exception:
        import traceback  # deferred: only a bug (exit code 3) prints a traceback

        traceback.print_exc()
        print(
            "connprof: internal error (a bug in connprof, not in your profile); please report "
            "it with the traceback above",
            file=sys.stderr,
        )
        return 3


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
