"""The ``connprof`` command: parse arguments, call one command, map errors to exit codes.

Exit codes: 0 success, 1 problems found or bad input (one ``connprof: error: ...`` line),
2 usage, 3 a bug (with its traceback, which is the only time one is printed).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .._errors import ConnprofError
from .._redact import printable
from .._version import __version__
from . import (
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


#: Each command, and the module that adds its options. A run builds only its own command's
#: options (argparse spends milliseconds on each); --help, an unknown word and `completion`
#: build them all. tests/cli/test_cli.py checks this table against the full parser.
COMMANDS: dict[str, Any] = {
    "list": list_cmd,
    "show": show,
    "doctor": doctor_cmd,
    "lint": lint_cmd,
    "schema": schema_cmd,
    "secret": secret_cmd,
    "parse": parse_cmd,
    "import": parse_cmd,
    "add": add_cmd,
    "trust": trust_cmd,
    "fingerprint": fingerprint_cmd,
    "completion": completion_cmd,
}


def _command_word(words: Sequence[str]) -> str | None:
    """The command ``words`` name, if it is plain: no option but ``--config`` comes before it."""
    rest = iter(words)
    for word in rest:
        if word == "--config":
            next(rest, None)
        elif not word.startswith("--config="):
            return word if word in COMMANDS and word != "completion" else None
    return None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``command`` only that command's options."""

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
    modules = [COMMANDS[command]] if command is not None else COMMANDS.values()
    for module in dict.fromkeys(modules):  # parse_cmd adds two commands: once
        module.add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words[:1] == ["__complete"]:  # a TAB (completion_cmd's script): answer before the parser
        from . import _complete  # deferred: only a TAB loads the completer

        return _complete.run_hidden(words[1:])
    parser = _parser(_command_word(words))
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    args.config = [*args.config_before, *args.config_after] or None
    command: Command = args.func
    if sys.stdout is None:  # started with stdout closed (`connprof list >&-`)
        print("connprof: error: standard output is closed; give the command somewhere to "
              "write (a file, a pipe or the terminal)", file=sys.stderr)  # fmt: skip
        return 1
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        with warnings.catch_warnings():
            # load_profile's UserWarnings (what the uri ignores) as one line each, not Python's
            # two-line "file:line: UserWarning: ..." with the source line under it.
            warnings.showwarning = _show_warning
            code = command(args)
        sys.stdout.flush()  # a full disk shows here, not as an ignored error at exit
        return code
    except _OutputFailed as failed:
        print(f"connprof: error: cannot write the output ({failed.reason}); check where "
              "standard output goes (a full disk, a closed file)", file=sys.stderr)  # fmt: skip
        _drop_output(stdout)
        return 1
    except ConnprofError as exc:
        # One line: the message may echo a name or value holding a newline or a control.
        print(f"connprof: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("connprof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `connprof list | head`: the reader left; nothing is wrong.
        sys.stderr.close()
        return 0
    except Exception:
        return _bug()
    finally:
        sys.stdout = stdout


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    text = str(message).removeprefix("connprof: ")
    print(f"connprof: warning: {printable(text)}", file=sys.stderr)


class _OutputFailed(Exception):
    """Writing to standard output failed (not a closed pipe: that is ``BrokenPipeError``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Output:
    """Standard output, telling a failed write (``/dev/full``, a closed descriptor) from a bug."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputFailed(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputFailed(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _drop_output(stream: Any) -> None:
    """Point the failed stdout at /dev/null, so the flush at exit does not fail a second time."""
    import os  # deferred: only a failed output needs it

    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    os.dup2(null, fd)
    os.close(null)


def _bug() -> int:
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
