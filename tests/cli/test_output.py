"""Where the output cannot go, and input that cannot be printed: one error line, exit 1."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_file

PROFILES = "profiles:\n  p: {driver: cassandra, hosts: [db.example.com]}\n"


def connprof(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connprof", *argv],
        capture_output=kwargs.pop("capture_output", False),  # type: ignore[arg-type]
        text=True,
        timeout=60,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("argv", [["list"], ["show", "p"], ["lint"], ["schema"]])
def test_a_closed_stdout_is_one_error_line(tmp_path: Path, argv: list[str]) -> None:
    cfg = write_file(tmp_path / "connprof.yaml", PROFILES)
    args = ["--config", str(cfg), *argv] if argv != ["lint"] else ["lint", str(cfg)]
    # `connprof list >&-`: the shell starts the command with descriptor 1 closed.
    quoted = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "connprof", *args])
    done = subprocess.run(["bash", "-c", f"{quoted} >&-"], capture_output=False,
                          stderr=subprocess.PIPE, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("connprof: error: standard output is closed"), done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["list"], ["show", "p"], ["schema"]])
def test_a_full_disk_is_one_error_line(tmp_path: Path, argv: list[str]) -> None:
    cfg = write_file(tmp_path / "connprof.yaml", PROFILES)
    with open("/dev/full", "w") as full:
        done = connprof(["--config", str(cfg), *argv], stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot write the output (No space left on device)" in done.stderr


@pytest.mark.parametrize(
    "text",
    ["mongodb://h/db\ud800", "mongodb://u:p\udcff@h/", "h\ud800:8563",
     "mongodb://h/?appName=a\udfff"],
)  # fmt: skip
def test_a_lone_surrogate_in_parse_input_is_one_error_line(text: str) -> None:
    for command in ("parse", "import"):
        argv = [command, text] + (["--name", "x"] if command == "import" else [])
        result = run_cli(*argv)
        assert result.returncode == 1, result
        assert result.stderr.count("\n") == 1 and "not UTF-8 text" in result.stderr
        result.stderr.encode("utf-8")  # printable: no surrogate echoed


def test_a_lone_surrogate_reaches_a_real_stdout_as_an_error(tmp_path: Path) -> None:
    code = "import sys; from connprof._cli import main; sys.exit(main(['parse', 'mongodb://h/d\\ud800']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr


def test_a_uri_warning_is_one_line_in_every_command(tmp_path: Path) -> None:
    cfg = write_file(
        tmp_path / "connprof.yaml",
        "profiles:\n  m:\n    driver: pymongo\n    uri: mongodb://db/?ols=true\n",
    )
    for argv in (["show", "m"], ["secret", "check", "m"]):
        result = run_cli("--config", str(cfg), *argv)
        assert result.returncode in (0, 1), result
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("connprof: warning: ") for line in lines), lines
        assert "unknown option 'ols' ignored" in result.stderr


def test_secret_check_prints_one_line_per_reference_whatever_the_path_holds(
    tmp_path: Path,
) -> None:
    cfg = write_file(
        tmp_path / "connprof.yaml",
        "profiles:\n  p:\n    driver: cassandra\n    hosts: [x]\n"
        '    auth: {user: u, password: "file:/nowhere/a\\nb\\u001b[31m"}\n',
    )
    result = run_cli("--config", str(cfg), "secret", "check", "p", code=1)
    assert result.stdout.count("\n") == 1 and "\x1b" not in result.stdout, result
    assert "file:/nowhere/a\\nb\\x1b[31m" in result.stdout
