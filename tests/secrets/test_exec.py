"""The ``exec:`` source with real programs: what runs, what the value is, and what never leaks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connprof import load_profile
from connprof._errors import SecretError, SecretNotFound
from connprof.secrets import resolve_secret
from tests.helpers import run_cli, write_profiles

CANARY = f"exec-canary-{uuid.uuid4().hex}"


def tool(folder: Path, name: str, body: str) -> Path:
    """A real executable shell script."""
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o700)
    return path


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    folder = tmp_path / "tools"
    folder.mkdir()
    return folder


def chain(call: Callable[[], Any]) -> tuple[BaseException, str]:
    """The exception ``call`` raises, and the text of its whole cause/context chain."""
    with pytest.raises(SecretError) as caught:
        call()
    texts, current = [], caught.value
    seen: BaseException | None = current
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return caught.value, "\n".join(texts)


def profile_file(folder: Path, reference: str) -> Path:
    entry = {"driver": "pymongo", "hosts": ["db.example.com"], "auth": {"user": "app"}}
    entry["auth"] = {"user": "app", "password": reference}
    return write_profiles(folder / "team.yaml", {"orders": entry})


def resolve(reference: str) -> str:
    return resolve_secret(reference, profile="orders", field="auth.password")


def test_the_value_is_stdout_less_one_newline_and_only_in_driver_kwargs(
    tools: Path, tmp_path: Path
) -> None:
    printer = tool(tools, "vault", f"printf '%s\\n\\n' '{CANARY}'")
    config = profile_file(tmp_path, f"exec:{printer} kv get -field=password secret/orders")
    kwargs = load_profile("orders", config=str(config)).driver_kwargs()
    assert kwargs["password"] == CANARY + "\n"  # one newline taken, the other is the value's
    assert CANARY not in repr(kwargs)
    code, out, err = run_cli("--config", str(config), "show", "orders", "--reveal")
    assert code == 0, err
    assert CANARY in out
    for argv in (["show", "orders"], ["show", "orders", "--explain"], ["list"]):
        code, out, err = run_cli("--config", str(config), *argv)
        assert code == 0, err
        assert CANARY not in out + err


def test_arguments_are_split_as_a_shell_would_but_no_shell_runs(tools: Path) -> None:
    echo = tool(tools, "echo-args", 'printf \'%s|%s\' "$1" "$2"')
    assert resolve(f"exec:{echo} 'two words' \"$HOME;rm\"") == "two words|$HOME;rm"


def test_a_command_that_exits_3_names_the_command_never_its_output(tools: Path) -> None:
    failing = tool(tools, "op", f"echo '{CANARY}'\necho '{CANARY}' >&2\nexit 3")
    error, text = chain(lambda: resolve(f"exec:{failing} read op://team/orders/password"))
    assert "profile 'orders'" in str(error)
    assert "auth.password" in str(error)
    assert str(failing) in str(error)
    assert "status 3" in str(error)
    assert "read op://" not in str(error)  # the first word only
    assert CANARY not in text
    assert error.__cause__ is None and error.__context__ is None


def test_a_command_past_the_timeout_is_stopped(
    tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It prints half a value first, and leaves a child holding the pipe open.
    sleeper = tool(tools, "slow-tool", f"printf '%s' '{CANARY}'\nsleep 30 &\nsleep 30")
    monkeypatch.setenv("CONNPROF_EXEC_TIMEOUT", "0.5")
    started = time.monotonic()
    error, text = chain(lambda: resolve(f"exec:{sleeper}"))
    assert time.monotonic() - started < 10
    assert "did not finish within 0.5 s" in str(error)
    assert "CONNPROF_EXEC_TIMEOUT" in str(error)
    assert CANARY not in text
    assert error.__context__ is None


def test_a_bad_timeout_setting_is_an_error(tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF_EXEC_TIMEOUT", "soon")
    with pytest.raises(SecretError, match="CONNPROF_EXEC_TIMEOUT"):
        resolve(f"exec:{tool(tools, 'ok', 'echo x')}")


def test_a_command_that_prints_nothing_is_not_a_password(tools: Path) -> None:
    empty = tool(tools, "pass", "printf '\\n'")
    with pytest.raises(SecretNotFound, match="printed nothing"):
        resolve(f"exec:{empty} show team/orders")


def test_a_missing_command_is_named(tmp_path: Path) -> None:
    with pytest.raises(SecretNotFound, match="no-such-vault was not found") as caught:
        resolve("exec:no-such-vault kv get secret/orders")
    assert caught.value.__context__ is None


def test_stderr_passes_through_and_stdin_is_not_the_callers(
    tools: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Not a terminal here: the command reads /dev/null, not what was piped to connprof.
    talker = tool(tools, "aws", "echo 'please sign in' >&2\nread line\nprintf 'v:%s' \"$line\"")
    assert resolve(f"exec:{talker} secretsmanager get-secret-value") == "v:"
    assert "please sign in" in capfd.readouterr().err


def test_output_that_is_not_text_is_refused_without_the_bytes(tools: Path) -> None:
    binary = tool(tools, "sops", f"printf '{CANARY}\\377\\376'")
    error, text = chain(lambda: resolve(f"exec:{binary} -d secrets.yaml"))
    assert "not UTF-8" in str(error)
    assert CANARY not in text
    assert error.__context__ is None


def test_show_list_and_lint_never_run_the_command(tools: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    recorder = tool(tools, "recorder", f"touch '{marker}'\necho value")
    config = profile_file(tmp_path, f"exec:{recorder}")
    for argv in (
        ["--config", str(config), "show", "orders"],
        ["--config", str(config), "show", "orders", "--format", "kwargs"],
        ["--config", str(config), "list"],
        ["lint", str(config)],
    ):
        code, _, err = run_cli(*argv)
        assert code == 0, (argv, err)
        assert not marker.exists(), f"connprof {' '.join(argv)} ran the exec: command"
    load_profile("orders", config=str(config))  # loading resolves nothing either
    assert not marker.exists()
    assert load_profile("orders", config=str(config)).driver_kwargs()["password"] == "value"
    assert marker.exists()


def test_an_unclosed_quote_is_a_validation_error(tmp_path: Path) -> None:
    config = profile_file(tmp_path, "exec:vault kv get 'secret/orders")
    code, _, err = run_cli("--config", str(config), "show", "orders")
    assert code == 1
    assert "exec:COMMAND ARGS" in err


def test_the_documented_recipes_are_valid_references() -> None:
    import re
    import shlex

    import yaml

    from connprof._secretref import parse_secret_ref

    docs = (Path(__file__).resolve().parents[2] / "docs" / "teams.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", docs, re.S)
    block = next(b for b in blocks if "exec:vault" in b and "profiles:" in b)
    passwords = {
        name: entry["auth"]["password"] for name, entry in yaml.safe_load(block)["profiles"].items()
    }
    words = {name: shlex.split(ref.removeprefix("exec:")) for name, ref in passwords.items()}
    for ref in passwords.values():
        assert parse_secret_ref(ref).kind == "exec"
    assert [w[0] for w in words.values()] == ["vault", "aws", "op", "sops", "pass"]
    assert words["orders-sops"][3] == '["db"]["password"]'
    assert words["orders-aws"][-4:] == ["--query", "SecretString", "--output", "text"]
