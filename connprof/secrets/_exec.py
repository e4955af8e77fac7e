"""The ``exec:COMMAND ARGS`` source: a secret printed by the team's own tool (vault, aws, op, ...).

In the style of AWS ``credential_process`` and kubectl exec plugins: the target is split with
``shlex`` and run without a shell; standard input is the user's terminal when one is attached
(so the tool can ask to sign in) and ``/dev/null`` otherwise; standard error passes through to
the user; standard output less one trailing newline is the value. ``CONNPROF_EXEC_TIMEOUT``
(seconds, default 10) bounds the run, and a command still running then is killed.

A failure names the profile, the field and the command's first word, never what the command
printed: its output may be the secret, or half of it. The exceptions are raised outside the
``except`` blocks, so nothing that holds the output (``TimeoutExpired.output``, a
``UnicodeDecodeError``'s bytes) travels along as ``__context__``.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

from .._errors import SecretError, SecretNotFound
from ._source import shown, where

__all__ = ["DEFAULT_TIMEOUT", "ExecSource", "exec_timeout"]

DEFAULT_TIMEOUT = 10.0


def exec_timeout() -> float:
    """Seconds a command may run: ``CONNPROF_EXEC_TIMEOUT``, else 10; read per call."""
    raw = os.environ.get("CONNPROF_EXEC_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 86400:
        raise SecretError(
            f"CONNPROF_EXEC_TIMEOUT={raw!r} is not a number of seconds; set it to, say, 30"
        )
    return value


def _terminal_attached() -> bool:
    stream = sys.stdin
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed or detached stdin
        return False


class ExecSource:
    """Runs the command when asked, never at import; read-only."""

    def get(self, target: str, *, profile: str, field: str) -> str:
        try:
            argv = shlex.split(target)
        except ValueError:
            argv = []
        if not argv:
            raise SecretError(
                f"{where(profile, field, 'exec:')}: the command does not split into words "
                "(an unclosed quote?); write exec:COMMAND ARGS, quoting as a shell would"
            )
        first = argv[0]
        at = where(profile, field, shown(f"exec:{target}"))
        timeout = exec_timeout()
        terminal = _terminal_attached()
        problem: SecretError | None = None
        try:
            process = subprocess.Popen(
                argv,
                stdin=None if terminal else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None,  # the user's terminal: the tool may ask to sign in
                # Without a terminal the command gets its own process group, so a timeout ends
                # whatever it started too; with one it stays in the foreground group to prompt.
                process_group=None if terminal or os.name != "posix" else 0,
            )
        except FileNotFoundError:
            problem = SecretNotFound(
                f"{at}: the command {first} was not found; install it or write its full path"
            )
        except PermissionError:
            problem = SecretError(f"{at}: the command {first} cannot be run (permission denied)")
        except OSError as exc:
            problem = SecretError(f"{at}: the command {first} cannot be run ({exc.strerror})")
        if problem is not None:
            raise problem
        output, problem = _run(process, timeout, terminal, at, first)
        if problem is not None:
            raise problem
        try:
            text = output.decode("utf-8")
        except UnicodeDecodeError:
            problem = SecretError(f"{at}: the command {first} printed bytes that are not UTF-8")
        if problem is not None:
            raise problem
        # One trailing newline is what every tool prints after the value; more is the value's.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise SecretNotFound(
                f"{at}: the command {first} printed nothing; run it yourself to see why"
            )
        return text


def _run(
    process: subprocess.Popen[bytes], timeout: float, terminal: bool, at: str, first: str
) -> tuple[bytes, SecretError | None]:
    """The command's standard output, or why it does not give a value (never the output)."""
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        output = b""
    if timed_out:
        _kill(process, terminal)
        return b"", SecretError(
            f"{at}: the command {first} did not finish within {timeout:g} s and was stopped; "
            "check it works when run by hand, or raise CONNPROF_EXEC_TIMEOUT"
        )
    code = process.returncode
    if code < 0:
        return b"", SecretError(f"{at}: the command {first} was killed by signal {-code}")
    if code != 0:
        return b"", SecretError(
            f"{at}: the command {first} exited with status {code}; run it yourself to see why "
            "(its output is not shown: it may hold the secret)"
        )
    return output, None


def _kill(process: subprocess.Popen[bytes], terminal: bool) -> None:
    try:
        if terminal or os.name != "posix":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    # Do not wait for the pipe to close: a child the command left behind may hold it open.
    if process.stdout is not None:
        process.stdout.close()
    process.wait()
