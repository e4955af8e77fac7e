"""doctor's ``login`` step: the profile's own driver connects and runs its cheapest round trip.

Real drivers against loopback servers that speak their protocol (FakeMongo answers hello and
ping and refuses SCRAM with code 18; FakeCrateHTTPS answers ``GET /`` and ``SELECT 1``), or that
do not (CloseAfterHandshake hangs up after TLS: the driver's own error).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import connprof
import connprof.drivers
from connprof._doctor import format_text
from tests.doctor.conftest import Doctor, problems
from tests.helpers import (
    MONGO_FAIL_FAST,
    Certs,
    CloseAfterHandshake,
    FakeCrateHTTPS,
    FakeMongo,
    PlaintextServer,
    install_plugin,
    write_profiles,
)

CANARY = f"login-canary-{uuid.uuid4().hex}"


def logins(report: Any) -> list[Any]:
    return [c for c in report.checks if c.step == "login"]


class EchoingMongo(FakeMongo):
    """A server that refuses the login and (badly) echoes the password in its error message."""

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        reply = super().answer(command)
        if reply.get("code") == 18:
            reply["errmsg"] = f"bad password {CANARY} for alice"
        return reply


def test_pymongo_logs_in_and_pings(certs: Certs, run_doctor: Doctor) -> None:
    with FakeMongo(certs.server_context()) as server:
        report = run_doctor("pymongo", server.port, {"ca": str(certs.ca)}, login=True)
    assert report.ok, report.checks
    (check,) = logins(report)
    assert check.target == f"localhost:{server.port}" and check.problem is None
    assert re.fullmatch(
        r"connected without credentials with pymongo, round trip ok \(\d+ ms\)", check.message
    )
    assert any(c.get("ping") == 1 for c in server.commands)  # the driver's own ping arrived
    assert report.checks[-1] == check  # last, after every endpoint step
    assert json.loads(report.to_json())["checks"][-1]["step"] == "login"


def test_a_refused_login_is_auth_failed_without_the_secret(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_PW", CANARY)
    with EchoingMongo(certs.server_context()) as server:
        report = run_doctor(
            "pymongo",
            server.port,
            {"ca": str(certs.ca)},
            auth={"user": "alice", "password": "env:MONGO_PW"},
            login=True,
        )
    assert problems(report) == ["auth_failed"]
    (check,) = logins(report)
    assert check.message.startswith("the server refused the login as alice: OperationFailure: ")
    assert "bad password <secret> for alice" in check.message  # the server's own words
    assert check.hint is not None and "auth.password" in check.hint
    assert any("saslStart" in c for c in server.commands)  # the driver really tried
    assert CANARY not in report.to_json() and CANARY not in format_text(report)


def test_crate_runs_select_1(certs: Certs, run_doctor: Doctor) -> None:
    with FakeCrateHTTPS(certs.server_context()) as server:
        report = run_doctor("crate", server.port, {"ca": str(certs.ca)}, login=True)
    assert report.ok, report.checks
    (check,) = logins(report)
    assert check.message.startswith("connected without credentials with crate, round trip ok")
    assert [r["path"].partition("?")[0] for r in server.requests][-1] == "/_sql"


def test_a_server_that_is_not_the_database_is_login_failed(
    certs: Certs, run_doctor: Doctor
) -> None:
    # The TLS steps pass (a TLS server), then the crate client meets no CrateDB.
    with CloseAfterHandshake(certs.server_context()) as server:
        report = run_doctor("crate", server.port, {"ca": str(certs.ca)}, login=True)
    assert problems(report) == ["login_failed"]
    (check,) = logins(report)
    assert check.message.startswith("the crate driver failed: ConnectionError: ")
    assert check.hint is not None and "HTTP 401" in check.hint  # crate's own addition
    assert "\n" not in check.message


def test_offline_and_failed_steps_never_log_in(certs: Certs, run_doctor: Doctor) -> None:
    with FakeMongo(certs.server_context()) as server:
        offline = run_doctor(
            "pymongo", server.port, {"ca": str(certs.ca)}, login=True, offline=True
        )
        wrong_ca = run_doctor("pymongo", server.port, {"ca": str(certs.other_ca)}, login=True)
    assert logins(offline) == [] and logins(wrong_ca) == []
    assert problems(wrong_ca) == ["untrusted_certificate"]
    assert not any("ping" in c for c in server.commands)


def test_the_step_is_bounded_when_the_driver_hangs(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = connprof.drivers.get_driver

    def hanging(name: str) -> Any:
        return dataclasses.replace(real(name), ping=lambda client: time.sleep(30))

    monkeypatch.setattr(connprof.drivers, "get_driver", hanging)
    with FakeMongo(certs.server_context()) as server:
        start = time.monotonic()
        report = run_doctor("pymongo", server.port, {"ca": str(certs.ca)}, login=True, timeout=0.5)
        took = time.monotonic() - start
    assert problems(report) == ["timeout"]
    (check,) = logins(report)
    assert "within 1s" in check.message
    assert took < 5


def test_a_missing_driver_is_a_warning_naming_the_extra(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeCrateHTTPS(certs.server_context()) as server:
        for module in [m for m in sys.modules if m.split(".")[0] == "crate"]:
            monkeypatch.delitem(sys.modules, module)
        monkeypatch.setitem(sys.modules, "crate", None)  # import crate: ModuleNotFoundError
        report = run_doctor("crate", server.port, {"ca": str(certs.ca)}, login=True)
    assert report.ok, report.checks
    (check,) = logins(report)
    assert check.warning and check.mark == "!"
    assert check.message == (
        "not tried: the crate driver is not installed (cannot import crate.client); "
        "pip install 'connprof[crate]'"
    )
    assert server.requests == []


def test_a_plugin_without_ping_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_doctor: Doctor
) -> None:
    install_plugin(
        tmp_path / "site",
        monkeypatch,
        group="connprof.drivers",
        name="plainkv",
        target="connprof_plainkv:DRIVER",
        source="""
            class _Driver:
                NAME = "plainkv"
                CALL = "socket.create_connection"

                def emit(self, profile):
                    return {"address": profile.hosts[0]}

            DRIVER = _Driver()
        """,
    )
    with PlaintextServer() as server:
        report = run_doctor("plainkv", None, False, hosts=[f"127.0.0.1:{server.port}"], login=True)
    (check,) = logins(report)
    assert check.ok and check.warning
    assert check.message == (
        "not tried: the plainkv driver plugin names no round trip (DriverSpec.ping)"
    )


def test_an_untrusted_project_file_sends_no_secret(
    certs: Certs, isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_PW", CANARY)
    root = Path(isolated.cwd)
    (root / ".git").mkdir()
    with FakeMongo(certs.server_context()) as server:
        doc = {
            "driver": "pymongo",
            "hosts": [f"localhost:{server.port}"],
            "tls": {"ca": str(certs.ca)},
            "auth": {"user": "alice", "password": "env:MONGO_PW"},
            "options": MONGO_FAIL_FAST,
        }
        write_profiles(root / "connprof.yaml", {"orders": doc})
        report = connprof.doctor("orders", timeout=2)
        assert report.ok, report.checks
        (check,) = logins(report)
        assert check.warning
        assert "you have not trusted" in check.message and "auth.password" in check.message
        assert "`connprof trust " in check.message and "connprof.yaml" in check.message
        assert not any("saslStart" in c or "ping" in c for c in server.commands)
        # Trusted, the same profile logs in (and the server refuses it: the password was sent).
        monkeypatch.setenv("CONNPROF_TRUST_PROJECT", "1")
        trusted = connprof.doctor("orders", timeout=2)
    assert problems(trusted) == ["auth_failed"]
    assert CANARY not in trusted.to_json()


def test_redact_masks_every_form_of_a_secret() -> None:
    from connprof._doctor._login import redact

    text = "pw=s3cr et/x? url=s3cr%20et%2Fx%3F and s3cr%20et/x%3F\nnext"
    assert redact(text, {"s3cr et/x?", ""}) == ("pw=<secret> url=<secret> and <secret>\\nnext")
