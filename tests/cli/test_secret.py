"""``connprof secret set|rm|check`` end to end through ``connprof._cli.main``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import keyring_service as ks
from tests.helpers import Stdin, run_cli, write_file


def config(tmp_path: Path, body: str) -> str:
    return str(write_file(tmp_path / "connprof.yaml", "profiles:\n" + body))


ENV_AND_FILE = """\
  app:
    driver: pymongo
    hosts: [db.example.com]
    auth: {user: app, password: env:APP_PW, token: "file:app.token"}
  plain:
    driver: crate
    hosts: [crate.example.com]
"""


@pytest.fixture
def env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    token = tmp_path / "app.token"
    token.write_text("token-value-123\n")
    token.chmod(0o600)
    monkeypatch.setenv("APP_PW", "password-value-456")
    return config(tmp_path, ENV_AND_FILE)


def test_check_prints_ok_per_reference_and_no_value(env_and_file: str) -> None:
    out = run_cli("--config", env_and_file, "secret", "check", "app", code=0).stdout
    lines = out.splitlines()
    assert [line.split()[:4] for line in lines] == [
        ["OK", "app", "auth.password", "env:APP_PW"],
        ["OK", "app", "auth.token", f"file:{Path(env_and_file).parent / 'app.token'}"],
    ]
    assert "password-value-456" not in out
    assert "token-value-123" not in out


def test_check_of_all_profiles_fails_on_any_failure(
    env_and_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_PW")
    out = run_cli("--config", env_and_file, "secret", "check", code=1).stdout
    assert "FAIL  app    auth.password  env:APP_PW" in out
    assert "export APP_PW=..." in out
    assert "OK    app    auth.token" in out
    assert "--    plain" in out and "no secret references" in out


def test_check_reports_a_profile_that_does_not_load(tmp_path: Path) -> None:
    path = config(tmp_path, "  broken:\n    driver: pymongo\n    extends: nowhere\n")
    assert "FAIL  broken" in run_cli("--config", path, "secret", "check", code=1).stdout


def test_set_refuses_an_env_reference_before_reading_a_value(env_and_file: str) -> None:
    stdin = Stdin("new-value\n")
    done = run_cli("--config", env_and_file, "secret", "set", "app", "password", stdin=stdin)
    assert done.returncode == 1
    assert "export APP_PW=..." in done.stderr
    assert stdin.tell() == 0  # nobody was asked for a value that could not be stored


def test_set_refuses_a_file_reference_with_what_to_do(env_and_file: str) -> None:
    argv = ("--config", env_and_file, "secret", "set", "app", "auth.token")
    done = run_cli(*argv, stdin="new-value\n", code=1)
    assert "umask 077; cat >" in done.stderr
    assert Path(env_and_file).with_name("app.token").read_text() == "token-value-123\n"


def test_set_without_a_keyring_says_so_before_reading_a_value(env_and_file: str) -> None:
    stdin = Stdin("new-value\n")
    done = run_cli("--config", env_and_file, "secret", "set", "plain", "password", stdin=stdin)
    assert done.returncode == 1
    assert "no keyring is available here" in done.stderr
    assert "env:NAME or file:PATH" in done.stderr
    assert stdin.tell() == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["secret", "set", "app", "pasword"],
        ["secret", "set", "app", "password", "the-secret-as-an-argument"],
        ["secret", "rm", "app"],
        ["secret"],
    ],
)
def test_usage_errors(env_and_file: str, argv: list[str]) -> None:
    done = run_cli("--config", env_and_file, *argv, code=2)
    assert "the-secret-as-an-argument" not in done.stderr


# -- with the real keyring ---------------------------------------------------------------------


@pytest.fixture
def keyring_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, str]]:
    ks.use_secret_service(monkeypatch)
    name = ks.unique_profile()
    path = config(
        tmp_path,
        f"  {name}:\n    driver: pymongo\n    hosts: [db.example.com]\n"
        '    auth: {user: app, token: "keyring:"}\n',
    )
    yield name, path
    for leaf in ("password", "token"):
        ks.clear("connprof", f"{name}/{leaf}")


@pytest.mark.keyring
def test_set_check_rm_round_trip(keyring_profile: tuple[str, str]) -> None:
    name, path = keyring_profile
    out = run_cli("--config", path, "secret", "set", name, "token", stdin="tok en\n\n", code=0)
    # Exactly one trailing newline is stripped.
    assert ks.lookup("connprof", f"{name}/token") == "tok en\n"
    assert f"stored auth.token of profile '{name}' in the keyring (service connprof" in out.stdout
    assert run_cli("--config", path, "secret", "check", name, code=0).stdout.startswith("OK")
    run_cli("--config", path, "secret", "rm", name, "auth.token", code=0)
    assert ks.lookup("connprof", f"{name}/token") is None
    check = run_cli("--config", path, "secret", "check", name, code=1)
    assert f"connprof secret set {name} token" in check.stdout


@pytest.mark.keyring
def test_set_of_a_field_without_reference_uses_the_shorthand_and_says_what_to_add(
    keyring_profile: tuple[str, str],
) -> None:
    name, path = keyring_profile
    done = run_cli("--config", path, "secret", "set", name, "password", stdin="pw\n", code=0)
    assert ks.lookup("connprof", f"{name}/password") == "pw"
    assert f"profile '{name}' has no auth.password reference yet" in done.stderr
    assert f'add password: "keyring:" under auth: in {path}' in done.stderr


@pytest.mark.keyring
def test_set_refuses_an_empty_value(keyring_profile: tuple[str, str]) -> None:
    name, path = keyring_profile
    done = run_cli("--config", path, "secret", "set", name, "token", stdin="\n", code=1)
    assert "no value was given (empty input); nothing was stored" in done.stderr
    assert ks.lookup("connprof", f"{name}/token") is None
