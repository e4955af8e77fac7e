"""The pyexasol driver module: scenario rows E1-E12, pyexasol's signature, real TLS handshakes.

``pyexasol.connect()`` ends, against the loopback websocket server, in an error either way:
"Connection to remote host was lost" after a passed handshake (the server saw the login
frame), or "Could not connect to Exasol: [SSL: ...]" / "Provided fingerprint ... did not
match" when TLS failed (``design/drivers.md`` section 5).
"""

from __future__ import annotations

import inspect
import ssl
from pathlib import Path
from typing import Any

import pyexasol
import pytest

from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.helpers import Certs, Handshake, HandshakeRunner, server_fingerprint

ROWS = load_rows("pyexasol")
SECRETS = ("pw-for-exasol", "token-for-exasol", "refresh-for-exasol")


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("pyexasol", row, tmp_path, monkeypatch)
    assert emitted == expected


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_pyexasol_accepts_the_built_arguments(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    # Every name is one ExaConnection takes (an unknown one is a TypeError in connect()).
    inspect.signature(pyexasol.ExaConnection).bind(**kw)
    for name, value in (("password", "pw-for-exasol"), ("access_token", "token-for-exasol"),
                        ("refresh_token", "refresh-for-exasol")):  # fmt: skip
        if name in row["emits"]:
            assert kw[name] == value
    assert not any(s in repr(kw) for s in SECRETS)
    sslopt = kw.get("websocket_sslopt")
    if not profile.tls.enabled:
        assert kw["encryption"] is False
        assert sslopt is None
    elif "context" in sslopt:
        assert isinstance(sslopt["context"], ssl.SSLContext)
        assert set(sslopt) == {"context"}  # websocket-client ignores every other key then
    else:
        assert sslopt["cert_reqs"] in (ssl.CERT_REQUIRED, ssl.CERT_NONE)
        if profile.tls.client_key_password is not None:
            expected = (tmp_path / "certs/client-key-password.txt").read_text().rstrip("\n")
            assert sslopt["password"] == expected


# -- real handshakes: what only pyexasol does (the shared cases are in test_handshake.py) ---------


def sent(h: Handshake, command: str = "login") -> bool:
    """The handshake completed and pyexasol sent this first frame."""
    return any((seen.frame or {}).get("command") == command for seen in h.server.handshakes)


def test_fingerprint_match_passes_without_a_trusted_ca(
    handshake: HandshakeRunner, certs: Certs
) -> None:
    # The OS store does not know the test CA: the pin alone decides.
    h = handshake("pyexasol", {"fingerprint": server_fingerprint(str(certs.server_cert))})
    assert sent(h)


def test_fingerprint_mismatch_fails_before_login(handshake: HandshakeRunner) -> None:
    h = handshake("pyexasol", {"fingerprint": "AB" * 32})
    assert h.server.handshakes  # TLS itself went through; the pin is checked right after
    assert not sent(h)
    assert "did not match server fingerprint" in h.text


def test_fingerprint_with_a_ca_checks_both(handshake: HandshakeRunner, certs: Certs) -> None:
    fingerprint = server_fingerprint(str(certs.server_cert))
    h = handshake("pyexasol", {"ca": str(certs.ca), "fingerprint": fingerprint})
    assert sent(h)
    h = handshake("pyexasol", {"ca": str(certs.other_ca), "fingerprint": fingerprint})
    assert not h.server.handshakes
    assert "CERTIFICATE_VERIFY_FAILED" in h.text


def test_nocertcheck_passes(handshake: HandshakeRunner) -> None:
    h = handshake("pyexasol", {"fingerprint": "nocertcheck"}, allow_insecure=True)
    assert sent(h)


def test_access_token_logs_in_with_a_token(
    handshake: HandshakeRunner, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXA_TOKEN", "token-for-exasol")
    auth = {"user": "sys", "token": "env:EXA_TOKEN"}
    h = handshake("pyexasol", {"ca": str(certs.ca)}, auth=auth)
    assert sent(h, "loginToken")


def test_encryption_off_speaks_no_tls(handshake: HandshakeRunner) -> None:
    h = handshake("pyexasol", False)
    assert not h.server.handshakes  # the server waited for a TLS ClientHello that never came
    assert "Could not connect to Exasol" in h.text
