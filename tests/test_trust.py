"""Trust for project files: what an untrusted ``connprof.yaml`` may not make connprof do, who is
trusted without asking, and the trust record read as data a neighbour could have planted."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import platformdirs
import pytest

import connprof
from connprof import SecretError
from tests.helpers import run_cli, write_file

CANARY = f"trust-canary-{uuid.uuid4().hex}"


def tool(folder: Path, marker: Path) -> Path:
    """A real program that records that it ran and prints the canary."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret-tool"
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\nprintf '%s\\n' '{CANARY}'\n")
    path.chmod(0o700)
    return path


def profile_text(password: str, name: str = "orders") -> str:
    return (
        f"profiles:\n  {name}:\n    driver: pymongo\n    hosts: [db.example.com]\n"
        f'    auth: {{user: app, password: "{password}"}}\n'
    )


@pytest.fixture
def repo(isolated: SimpleNamespace) -> Path:
    """A cloned repository as the working directory: connprof.yaml is discovered there."""
    root = Path(isolated.cwd)
    (root / ".git").mkdir()
    return root


@pytest.fixture
def ssh_key(isolated: SimpleNamespace) -> Path:
    """The user's SSH key: what a hostile project file wants sent as a password."""
    key = Path(isolated.home) / ".ssh" / "id_ed25519"
    key.parent.mkdir(mode=0o700)
    key.write_text(CANARY + "\n")
    key.chmod(0o600)
    return key


def refusal(call: object) -> str:
    """The one-line refusal, checked to hold no secret anywhere in its exception chain."""
    with pytest.raises(SecretError) as caught:
        call()  # type: ignore[operator]
    texts, current = [], caught.value
    link: BaseException | None = current
    while link is not None:
        texts.append(repr(link) + str(link.args))
        link = link.__cause__ or link.__context__
    assert CANARY not in "".join(texts)
    message = str(caught.value)
    assert "\n" not in message
    return message


def kwargs(name: str = "orders") -> dict[str, object]:
    return dict(connprof.load_profile(name).driver_kwargs())


# -- a discovered project file -------------------------------------------------------------------


def test_an_untrusted_project_file_runs_no_exec_until_trusted(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = tool(tmp_path / "tools", marker)
    write_file(repo / "connprof.yaml", profile_text(f"exec:{script} read orders"))
    message = refusal(kwargs)
    assert "connprof.yaml is a project file you have not trusted" in message
    assert "no exec: command" in message
    assert "`connprof trust connprof.yaml`" in message
    assert not marker.exists()
    # The CLI refuses the same way, with the same line; show, list and lint still work.
    code, out, err = run_cli("show", "orders", "--reveal")
    assert (code, err.count("\n")) == (1, 1), err
    assert "connprof trust" in err and CANARY not in out + err
    code, out, err = run_cli("secret", "check", "orders")
    assert CANARY not in out + err and "connprof trust" in out + err
    for argv in (["show", "orders"], ["list"], ["lint", "connprof.yaml"]):
        assert run_cli(*argv).returncode == 0, argv
    assert not marker.exists()

    run_cli("trust", code=0)
    assert kwargs()["password"] == CANARY
    assert marker.exists()
    code, out, _ = run_cli("show", "orders", "--reveal", "--format", "kwargs")
    assert code == 0 and json.loads(out)["password"] == CANARY

    run_cli("trust", "--remove", code=0)
    assert "no exec: command" in refusal(kwargs)


def test_doctor_runs_no_exec_of_an_untrusted_project_file(repo: Path, tmp_path: Path) -> None:
    # doctor resolves every secret to check it; under the trust rule, as driver_kwargs() does.
    marker = tmp_path / "ran"
    script = tool(tmp_path / "tools", marker)
    write_file(repo / "connprof.yaml", profile_text(f"exec:{script} read orders"))
    report = connprof.doctor("orders", timeout=0.5)
    (check,) = [c for c in report.checks if c.step == "secrets"]
    assert (check.ok, check.problem) == (False, "secret_unresolved")
    assert "connprof trust" in check.message
    assert not marker.exists()
    code, out, err = run_cli("doctor", "orders", "--offline")
    assert code == 1 and "connprof trust" in out and CANARY not in out + err
    run_cli("trust", code=0)
    report = connprof.doctor("orders", timeout=0.5)
    (check,) = [c for c in report.checks if c.step == "secrets"]
    assert check.ok and marker.exists() and CANARY not in report.to_json()


def test_a_project_file_cannot_send_the_users_ssh_key_until_trusted(
    repo: Path, ssh_key: Path
) -> None:
    write_file(repo / "connprof.yaml", profile_text("file:~/.ssh/id_ed25519"))
    message = refusal(kwargs)
    assert f"no file: outside {repo}" in message
    assert "connprof trust" in message
    run_cli("trust", "connprof.yaml", code=0)
    assert kwargs()["password"] == CANARY


def test_a_file_inside_the_project_resolves_but_a_link_or_dotdot_out_of_it_does_not(
    repo: Path, ssh_key: Path
) -> None:
    secret = write_file(repo / "secrets" / "db", "inside-value\n")
    secret.chmod(0o600)
    (repo / "secrets" / "link").symlink_to(ssh_key)
    write_file(
        repo / "connprof.yaml",
        profile_text("file:secrets/db", "inside")
        + profile_text("file:secrets/link", "linked").removeprefix("profiles:\n")
        + profile_text("file:secrets/../../home/.ssh/id_ed25519", "dotdot").removeprefix(
            "profiles:\n"
        ),
    )
    assert kwargs("inside")["password"] == "inside-value"
    for name in ("linked", "dotdot"):
        assert "no file: outside" in refusal(lambda n=name: kwargs(n))


def test_a_personal_profile_that_takes_a_value_from_the_project_file_is_restricted(
    repo: Path, ssh_key: Path
) -> None:
    # The project file only names the host; the key reference is the user's own. Together they
    # would send the key to the project's host, so the whole profile follows the rule.
    write_file(repo / "connprof.yaml", "profiles:\n  orders: {hosts: [attacker.example.com]}\n")
    personal = Path(platformdirs.user_config_dir("connprof", appauthor=False)) / "profiles.yaml"
    write_file(personal, profile_text("file:~/.ssh/id_ed25519"))
    assert connprof.load_profile("orders").untrusted == ("connprof.yaml",)
    assert "no file: outside" in refusal(kwargs)
    # Through extends too.
    write_file(repo / "connprof.yaml", "profiles:\n  base: {driver: pymongo, hosts: [evil]}\n")
    write_file(
        personal,
        "profiles:\n  orders:\n    extends: base\n"
        '    auth: {user: a, password: "file:~/.ssh/id_ed25519"}\n',
    )
    assert "no file: outside" in refusal(kwargs)


# -- trusted without asking ----------------------------------------------------------------------


def test_the_personal_file_is_trusted(isolated: SimpleNamespace, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    personal = Path(platformdirs.user_config_dir("connprof", appauthor=False)) / "profiles.yaml"
    write_file(personal, profile_text(f"exec:{tool(tmp_path / 'tools', marker)}"))
    assert connprof.load_profile("orders").untrusted == ()
    assert kwargs()["password"] == CANARY


def test_a_file_the_user_names_is_trusted(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    project = write_file(repo / "connprof.yaml", profile_text(f"exec:{tool(tmp_path, marker)}"))
    config = str(project)
    assert connprof.load_profile("orders", config=config).driver_kwargs()["password"] == CANARY
    code, out, err = run_cli("--config", config, "show", "orders", "--reveal")
    assert code == 0 and CANARY in out, err
    monkeypatch.setenv("CONNPROF_CONFIG", config)
    assert kwargs()["password"] == CANARY


def test_connprof_trust_project_trusts_every_file(
    repo: Path, ssh_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    write_file(repo / "connprof.yaml", profile_text(f"exec:{tool(tmp_path, marker)}"))
    refusal(kwargs)
    monkeypatch.setenv("CONNPROF_TRUST_PROJECT", "1")
    assert kwargs()["password"] == CANARY
    monkeypatch.setenv("CONNPROF_TRUST_PROJECT", "0")
    refusal(kwargs)


# -- the trust record ------------------------------------------------------------------------------


def state() -> Path:
    return Path(platformdirs.user_state_dir("connprof", appauthor=False)) / "trusted.json"


def test_the_record_holds_resolved_paths_privately(repo: Path, tmp_path: Path) -> None:
    write_file(repo / "connprof.yaml", profile_text("env:X"))
    alias = tmp_path / "alias"
    alias.symlink_to(repo)
    run_cli("trust", str(alias / "sub" / ".." / "connprof.yaml"), code=0)
    assert json.loads(state().read_text())["trusted"] == [str((repo / "connprof.yaml").resolve())]
    assert stat.S_IMODE(state().stat().st_mode) == 0o600
    assert stat.S_IMODE(state().parent.stat().st_mode) == 0o700
    out = run_cli("trust", "--list", code=0).stdout
    assert out.splitlines() == [str((repo / "connprof.yaml").resolve())]
    assert connprof.load_profile("orders").untrusted == ()


def test_a_record_others_can_write_is_ignored(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_file(repo / "connprof.yaml", profile_text(f"exec:{tool(tmp_path, marker)}"))
    run_cli("trust", code=0)
    assert kwargs()["password"] == CANARY
    state().chmod(0o666)
    refusal(kwargs)
    code, _, err = run_cli("trust", "--list")
    assert code == 0 and "ignored" in err
    state().chmod(0o600)
    state().parent.chmod(0o777)
    refusal(kwargs)


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file another user owns needs root")
def test_a_record_another_user_planted_is_ignored(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_file(repo / "connprof.yaml", profile_text(f"exec:{tool(tmp_path, marker)}"))
    folder = state().parent
    folder.mkdir(parents=True, mode=0o700)
    state().write_text(json.dumps({"version": 1, "trusted": [str(repo / "connprof.yaml")]}))
    state().chmod(0o600)
    assert kwargs()["password"] == CANARY  # the same record, owned by the user: read
    os.chown(state(), 4242, -1)
    refusal(kwargs)


def test_a_record_that_is_not_json_is_ignored_and_rewritten(repo: Path) -> None:
    write_file(repo / "connprof.yaml", profile_text("env:X"))
    state().parent.mkdir(parents=True, mode=0o700)
    state().write_text("{not json")
    state().chmod(0o600)
    assert connprof.load_profile("orders").untrusted == ("connprof.yaml",)
    run_cli("trust", code=0)
    assert connprof.load_profile("orders").untrusted == ()


def test_the_trust_command_without_a_project_file_or_record(isolated: SimpleNamespace) -> None:
    code, out, err = run_cli("trust")
    assert code == 1 and err.startswith("connprof: error: no connprof.yaml") and out == ""
    assert run_cli("trust", "nowhere.yaml").returncode == 1
    write_file(Path("connprof.yaml"), profile_text("env:X"))
    code, _, err = run_cli("trust", "--remove")
    assert code == 1 and "not in the trust record" in err
    assert run_cli("trust", "--list", "--remove").returncode == 2
    assert run_cli("trust", "--list").stdout == ""
    run_cli("trust", ".", code=0)  # a folder: its connprof.yaml
    assert run_cli("trust", "--list").stdout == f"{Path('connprof.yaml').resolve()}\n"
