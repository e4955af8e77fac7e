"""``connprof completion bash|zsh|fish``: real shells source the script and complete.

bash runs the completion function the script registers, as a TAB would (``COMP_WORDS``,
``COMP_CWORD``); fish answers ``complete -C``; zsh runs the function with ``compadd`` recorded.
Profile names come from the files a real run discovers (the project file in the working
directory, the personal file in the user config dir) or from ``--config`` on the line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from connprof._cli import _parser
from connprof._cli._complete import candidates
from connprof._cli.completion_cmd import build_spec
from tests.helpers import run_cli, write_file

BIN = str(Path(sys.executable).parent)  # where this environment's `connprof` is

PROJECT = """\
profiles:
  prod: {driver: pymongo, hosts: [db1.example.com]}
  prod-eu: {driver: pymongo, hosts: [db2.example.com]}
  dev: {driver: pymongo, hosts: [localhost]}
"""
PERSONAL = """\
profiles:
  personal-mongo: {driver: pymongo, hosts: [localhost]}
  other: {driver: cassandra, hosts: [localhost]}
"""
ELSEWHERE = """\
profiles:
  payments: {driver: crate, hosts: [crate1.example.com]}
  billing: {driver: crate, hosts: [crate2.example.com]}
"""
BROKEN = "profiles:\n  prod: {driver: pymongo, hosts: [db1\n"


@pytest.fixture
def files(isolated: object) -> Path:
    cwd = Path.cwd()
    write_file(cwd / "connprof.yaml", PROJECT)
    write_file(Path(os.environ["XDG_CONFIG_HOME"]) / "connprof" / "profiles.yaml", PERSONAL)
    write_file(cwd / "elsewhere.yaml", ELSEWHERE)
    write_file(cwd / "broken.yaml", BROKEN)
    return cwd


def shell(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


BASH = """\
eval "$(connprof completion bash)"
read -ra COMP_WORDS <<< "$1"
if [[ $1 == *" " ]]; then COMP_WORDS+=(""); fi
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
_connprof
printf '%s\\n' "${COMPREPLY[@]}"
"""


def bash(line: str) -> list[str]:
    done = shell("bash", "--norc", "--noprofile", "-c", BASH, "bash", line)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # a TAB prints nothing of its own
    return [w for w in done.stdout.splitlines() if w]


def test_bash_completes_discovered_profile_names(files: Path) -> None:
    assert bash("connprof show p") == ["personal-mongo", "prod", "prod-eu"]
    assert bash("connprof show ") == ["dev", "other", "personal-mongo", "prod", "prod-eu"]
    assert bash("connprof secret set pr") == ["prod", "prod-eu"]


def test_bash_honours_config_earlier_on_the_line(files: Path) -> None:
    assert bash("connprof --config elsewhere.yaml show ") == ["billing", "payments"]
    assert bash("connprof show --config elsewhere.yaml p") == ["payments"]
    assert bash("connprof --config=elsewhere.yaml show p") == ["payments"]  # bash splits at =
    # Two files, as a real run layers them.
    assert bash("connprof --config elsewhere.yaml --config connprof.yaml show p") == [
        "payments", "prod", "prod-eu",
    ]  # fmt: skip


def test_bash_a_broken_file_completes_nothing_and_prints_nothing(files: Path) -> None:
    assert bash("connprof --config broken.yaml show ") == []
    assert bash("connprof --config missing.yaml show p") == []
    (files / "connprof.yaml").write_text(BROKEN)  # the discovered project file breaks
    assert bash("connprof show p") == []


def test_bash_completes_commands_options_and_choices(files: Path) -> None:
    assert bash("connprof s") == ["schema", "secret", "show"]
    assert bash("connprof show --e") == ["--explain"]
    assert bash("connprof show --format ") == ["yaml", "json", "kwargs", "uri", "env"]
    assert bash("connprof lint --format g") == ["github"]
    assert bash("connprof completion ") == ["bash", "zsh", "fish"]
    assert bash("connprof secret ") == ["check", "rm", "set"]
    # --config takes a file: the shell completes paths there.
    assert "elsewhere.yaml" in bash("connprof --config el")


def test_completion_touches_no_keyring_and_needs_no_secret(files: Path) -> None:
    # A profile whose secrets are unset: completing its name resolves nothing.
    write_file(files / "s.yaml", 'profiles:\n  sec: {driver: pymongo, hosts: [h], '
               'auth: {user: u, password: "keyring:"}}\n')  # fmt: skip
    done = shell(
        sys.executable, "-X", "importtime", "-m", "connprof", "__complete",
        json.dumps(build_spec(_parser())), "4", "connprof", "--config", "s.yaml", "show", "",
    )  # fmt: skip
    assert done.stdout == "words\nsec\n"
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert not {"keyring", "pydantic", "socket", "connprof._compose"} & imported


def test_new_commands_and_options_reach_the_script() -> None:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    new = sub.add_parser("frobnicate", help="a command another branch adds")
    new.add_argument("name", nargs="?")
    new.add_argument("--level", choices=("low", "high"))
    spec = build_spec(parser)
    assert candidates(spec, ["connprof", "fro"], 1) == ("words", ["frobnicate"])
    assert candidates(spec, ["connprof", "frobnicate", "--level", ""], 3) == (
        "words", ["low", "high"],
    )  # fmt: skip
    assert candidates(spec, ["connprof", "frobnicate", "--"], 2) == (
        "words", ["--help", "--level"],
    )  # fmt: skip


def test_the_script_is_printed_for_each_shell() -> None:
    for name in ("bash", "zsh", "fish"):
        done = run_cli("completion", name, code=0)
        assert "connprof __complete" in done.stdout
        assert '"frobnicate"' not in done.stdout
    assert run_cli("completion", "tcsh", code=2).stdout == ""


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_discovered_profile_names(files: Path) -> None:
    done = shell("fish", "--no-config", "-c",
                 'connprof completion fish | source; complete -C "connprof show p"; '
                 'complete -C "connprof --config elsewhere.yaml show "')  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["personal-mongo", "prod", "prod-eu", "billing", "payments"]


ZSH = """\
compdef() { :; }
compadd() { shift; print -rl -- "$@"; }
_files() { print -r -- FILES; }
eval "$(connprof completion zsh)"
words=(${=1})
[[ $1 == *" " ]] && words+=("")
CURRENT=${#words}
_connprof
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_discovered_profile_names(files: Path) -> None:
    def zsh(line: str) -> list[str]:
        done = shell("zsh", "-f", "-c", ZSH, "zsh", line)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert zsh("connprof show p") == ["personal-mongo", "prod", "prod-eu"]
    assert zsh("connprof --config elsewhere.yaml show ") == ["billing", "payments"]
    assert zsh("connprof --config broken.yaml show ") == []
    assert zsh("connprof --config ") == ["FILES"]


def test_the_script_asks_the_connprof_that_printed_it(files: Path) -> None:
    # A venv's connprof, not on PATH when the TAB comes: the script still finds it.
    script = shell(os.path.join(BIN, "connprof"), "completion", "bash").stdout
    assert f"{BIN}/connprof __complete" in script
    body = script + BASH.split("\n", 1)[1]  # the same TAB, with this script
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", body, "bash", "connprof show p"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.stdout.split() == ["personal-mongo", "prod", "prod-eu"], done.stderr
