"""``connprof doctor`` and ``connprof fingerprint`` on the command line: output, JSON, exit code."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Certs,
    FakeMongo,
    SayOK,
    closed_port,
    run_cli,
    server_fingerprint,
    write_profiles,
)

CHECK_KEYS = {"target", "step", "ok", "problem", "message", "hint"}
CERT_KEYS = {
    "subject",
    "issuer",
    "not_after",
    "sans",
    "fingerprint_sha256",
    "tls_version",
    "cipher",
}
STEPS = {"files", "secrets", "dns", "tcp", "tls", "certificate", "login"}


def profile_file(tmp_path: Path, port: int, ca: Path, **extra: Any) -> str:
    doc = {"driver": "pymongo", "hosts": [f"localhost:{port}"], "tls": {"ca": str(ca)}, **extra}
    return str(write_profiles(tmp_path / "p.yaml", {"p": doc}))


def test_a_passing_profile_exits_0_with_a_check_mark_per_step(certs: Certs, tmp_path: Path) -> None:
    with FakeMongo(certs.server_context()) as server:
        path = profile_file(tmp_path, server.port, certs.ca)
        result = run_cli("--config", path, "doctor", "p", code=0)
    lines = result.stdout.splitlines()
    assert lines[0] == "connprof doctor: profile p (driver pymongo)"
    target = f"localhost:{server.port}"
    for step in ("dns", "tcp", "tls", "certificate", "login"):
        assert any(line.startswith(f"✓ {target}") and f" {step} " in line for line in lines)
    assert "round trip ok" in lines[-2]  # login is the last step
    assert lines[-1] == "every check passed"
    assert "\033[" not in result.stdout  # not a terminal: no colour


def test_a_failing_profile_exits_1_with_the_code_and_the_hint_under_it(
    certs: Certs, tmp_path: Path
) -> None:
    with SayOK(certs.server_context()) as server:
        path = profile_file(tmp_path, server.port, certs.other_ca)
        result = run_cli("--config", path, "doctor", "p", code=1)
    lines = result.stdout.splitlines()
    (i,) = [n for n, line in enumerate(lines) if line.startswith("✗")]
    assert "[untrusted_certificate]" in lines[i]
    assert lines[i + 1].strip().startswith("hint: set tls.ca")
    assert lines[-1] == "1 problem found"
    assert result.stderr == ""


def test_json_has_exactly_the_documented_shape(certs: Certs, tmp_path: Path) -> None:
    with FakeMongo(certs.server_context()) as server:
        path = profile_file(tmp_path, server.port, certs.ca)
        ok = json.loads(run_cli("--config", path, "doctor", "--format", "json", "p", code=0).stdout)
        path = profile_file(tmp_path, server.port, certs.other_ca)
        bad = json.loads(
            run_cli("--config", path, "doctor", "p", "--format", "json", code=1).stdout
        )
    for doc in (ok, bad):
        assert {"profile", "driver", "ok", "checks", "certificate"} <= set(doc)
        assert (doc["profile"], doc["driver"]) == ("p", "pymongo")
        for check in doc["checks"]:
            assert set(check) >= CHECK_KEYS
            assert check["step"] in STEPS
            assert isinstance(check["ok"], bool) and isinstance(check["message"], str)
            assert check["target"] == "files" or check["target"].endswith(f":{server.port}")
            if check["ok"] and not check["warning"]:
                assert check["problem"] is None and check["hint"] is None
            if not check["ok"]:
                assert isinstance(check["problem"], str) and isinstance(check["hint"], str)
    assert ok["ok"] is True and bad["ok"] is False
    (cert,) = ok["certificate"].values()
    assert set(cert) >= CERT_KEYS
    assert cert["fingerprint_sha256"] == server_fingerprint(str(certs.server_cert))
    assert cert["not_after"].startswith("3000-01-01T")  # trustme's default, ISO-8601
    assert [c["problem"] for c in bad["checks"] if not c["ok"]] == ["untrusted_certificate"]


def test_offline_makes_no_connection(certs: Certs, tmp_path: Path) -> None:
    path = profile_file(tmp_path, closed_port(), certs.ca)
    argv = ["--config", path, "doctor", "--offline", "--format", "json", "p"]
    doc = json.loads(run_cli(*argv, code=0).stdout)
    assert {c["target"] for c in doc["checks"]} == {"files"}
    # Online, the closed port is found.
    run_cli("--config", path, "doctor", "p", code=1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _on_terminal(*argv: str) -> str:
    from connprof._cli import main

    out = _Terminal()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(list(argv))
    return out.getvalue()


def test_colour_on_a_terminal_only_and_never_with_no_color(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = profile_file(tmp_path, closed_port(), certs.ca)
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = _on_terminal("--config", path, "doctor", "p", "--timeout", "1")
    assert "\033[32m✓\033[0m" in coloured and "\033[31m✗\033[0m" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _on_terminal("--config", path, "doctor", "p", "--timeout", "1")
    assert "\033[" not in plain and "✗" in plain


@pytest.mark.parametrize("value", ["0", "-1", "abc", "601"])
def test_timeout_must_be_a_sensible_number(value: str, tmp_path: Path) -> None:
    result = run_cli("doctor", "p", "--timeout", value, code=2)
    assert "--timeout" in result.stderr


def test_a_profile_that_does_not_load_is_one_error_line(tmp_path: Path) -> None:
    path = write_profiles(
        tmp_path / "p.yaml", {"p": {"driver": "pymongo", "hosts": ["h"], "tls": {"verfiy": "none"}}}
    )
    result = run_cli("--config", str(path), "doctor", "p", code=1)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("connprof: error: ") and "verfiy" in line and "p.yaml:" in line


# -- fingerprint ---------------------------------------------------------------------------------


def test_fingerprint_of_a_server_prints_the_pin_and_the_dsn(certs: Certs) -> None:
    expected = server_fingerprint(str(certs.mismatch_cert))
    with SayOK(certs.server_context(mismatch=True)) as server:  # not verified: any cert will do
        result = run_cli("fingerprint", f"localhost:{server.port}", code=0)
    assert result.stdout.splitlines() == [expected, f"localhost/{expected}:{server.port}"]
    assert "WITHOUT verifying" in result.stderr


def test_fingerprint_default_port_is_exasols(certs: Certs) -> None:
    result = run_cli("fingerprint", "localhost", "--file", str(certs.server_cert), code=0)
    expected = server_fingerprint(str(certs.server_cert))
    assert result.stdout.splitlines() == [expected, f"localhost/{expected}:8563"]
    assert result.stderr == ""  # a file: nothing was connected to


def test_fingerprint_of_a_file(certs: Certs) -> None:
    result = run_cli("fingerprint", "--file", str(certs.server_cert), code=0)
    assert result.stdout == server_fingerprint(str(certs.server_cert)) + "\n"


def test_the_fingerprint_doctor_compares_is_the_one_printed(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXASOL_TELEMETRY_DISABLE", "1")
    with SayOK(certs.server_context()) as server:
        dsn = run_cli("fingerprint", f"localhost:{server.port}", code=0).stdout.splitlines()[1]
        path = write_profiles(tmp_path / "p.yaml", {"p": {"driver": "pyexasol", "dsn": dsn}})
        argv = ["--config", str(path), "doctor", "p", "--format", "json", "--timeout", "1"]
        doc = json.loads(run_cli(*argv, code=1).stdout)
    pinned = [c for c in doc["checks"] if c["step"] == "certificate"]
    assert pinned and all(c["ok"] for c in pinned)
    assert "the fingerprint matches the pin" in pinned[0]["message"]
    # The TLS server is no Exasol: only pyexasol's own login fails.
    assert [c["problem"] for c in doc["checks"] if not c["ok"]] == ["login_failed"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["fingerprint", f"127.0.0.1:{closed_port()}"], "connection refused"),
        (["fingerprint", "--file", "/nonexistent.pem"], "--file /nonexistent.pem"),
        (["fingerprint", "host:notaport"], "HOST[:PORT]"),
    ],
)
def test_fingerprint_failures_are_one_line(argv: list[str], says: str) -> None:
    result = run_cli(*argv, code=1)
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("connprof: error")]
    assert says in line


def test_show_and_lint_do_not_load_doctor(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write_profiles(tmp_path / "p.yaml", {"p": {"driver": "pymongo", "hosts": ["h"]}})
    probe = (
        "import sys\nfrom connprof._cli import main\n"
        f"main(['--config', {str(path)!r}, 'show', 'p'])\n"
        f"main(['lint', {str(path)!r}])\n"
        "print(sorted(m for m in sys.modules if m.startswith('connprof._doctor') "
        "or m.split('.')[0] == 'dns'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"
