"""``show --explain`` says what the driver really does where it differs from a value: a pinned
pyexasol profile says ``verify: full`` (the default) but sends ``cert_reqs=CERT_NONE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, write_profiles

FP = "AE5D" + "0" * 60
PROFILES: dict[str, dict[str, Any]] = {
    "pin": {"dsn": "exa1.example.com:8563", "tls": {"fingerprint": FP}},
    "dsn-pin": {"dsn": f"exa1.example.com/{FP}:8563"},
    "pin-and-ca": {"dsn": "exa1.example.com", "tls": {"ca": "ca.pem", "fingerprint": FP}},
    "pin-and-ca-no-name": {
        "dsn": "exa1.example.com",
        "tls": {"ca": "ca.pem", "fingerprint": FP, "verify": "ca"},
    },
    "nocertcheck": {"dsn": "exa1.example.com/nocertcheck", "allow_insecure": True},
    "no-pin": {"dsn": "exa1.example.com"},
}
SAYS = {
    "pin": "not applied: the pin replaces it (cert_reqs=CERT_NONE",
    "dsn-pin": "not applied: the pin replaces it (cert_reqs=CERT_NONE",
    "pin-and-ca": "the chain against tls.ca and the host name, then the fingerprint pin",
    "pin-and-ca-no-name": "the chain against tls.ca, then the fingerprint pin",
    "nocertcheck": "not applied: nocertcheck sends cert_reqs=CERT_NONE and checks nothing",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "ca.pem").write_text("a CA\n")
    return write_profiles(
        tmp_path / "p.yaml", {name: {"driver": "pyexasol", **p} for name, p in PROFILES.items()}
    )


@pytest.mark.parametrize("name", list(PROFILES))
def test_explain_says_what_pyexasol_checks(config: Path, name: str) -> None:
    code, out, err = run_cli("--config", str(config), "show", name, "--explain")
    assert (code, err) == (0, "")
    (row,) = [line for line in out.splitlines() if line.startswith("tls.verify ")]
    if name in SAYS:
        assert f"# pyexasol: {SAYS[name]}" in row
    else:
        assert "#" not in row
    # The note agrees with the arguments pyexasol gets.
    code, out, _ = run_cli("--config", str(config), "show", name, "--format", "kwargs")
    sslopt = json.loads(out)["websocket_sslopt"]
    assert (sslopt["cert_reqs"] == "ssl.CERT_NONE") == ("not applied" in row)


def test_the_json_form_carries_the_notes(config: Path) -> None:
    code, out, _ = run_cli("--config", str(config), "show", "pin", "--format", "json", "--explain")
    assert code == 0
    assert json.loads(out)["notes"]["tls.verify"].startswith("pyexasol: not applied")
