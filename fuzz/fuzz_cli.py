"""atheris: ``connprof._cli.main(argv)`` on arbitrary profile files and arguments.

The first byte picks the command, the rest is the profile file.

    .venv/bin/python fuzz/fuzz_cli.py -max_total_time=600
"""

from __future__ import annotations

import contextlib
import io
import sys

import _harness  # first: sys.path to the repository, every connprof module instrumented

from connprof._cli import main
from tests.fuzz.checks import check_cli, plant_env

PATH = "connprof.yaml"
COMMANDS = [
    ["--config", PATH, "list"], ["--config", PATH, "list", "--format", "json"],
    ["--config", PATH, "show"], ["--config", PATH, "show", "--explain"],
    ["--config", PATH, "show", "--format", "json"], ["lint", PATH], ["lint", "--strict", PATH],
    ["lint", "--check-files", PATH], ["lint", "--format", "github", PATH],
    ["--config", PATH, "secret", "check"],
]  # fmt: skip


class _Out(io.StringIO):
    def close(self) -> None:
        pass


def test(data: bytes) -> None:
    if not data:
        return
    argv = list(COMMANDS[data[0] % len(COMMANDS)])
    body = data[1:]
    if argv[-1] == "show" and b"\n" in body:  # a name from the first line, the file after it
        name, _, body = body.partition(b"\n")
        argv.append(name.decode("utf-8", "surrogateescape")[:40])
    with open(PATH, "wb") as out:
        out.write(body)
    out, err = _Out(), _Out()
    saved = sys.stdin
    sys.stdin = io.StringIO("typed\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        sys.stdin = saved
    check_cli(code, out.getvalue(), err.getvalue())


if __name__ == "__main__":
    _harness.isolate()
    plant_env()
    seeds = [bytes([i]) + s for i, s in enumerate(_harness.yaml_seeds())]
    _harness.run("cli", seeds, test)
