"""The pyexasol driver module: scenario rows E1-E12, pyexasol's signature, real TLS handshakes.

``pyexasol.connect()`` ends, against the loopback websocket server, in an error either way:
"Connection to remote host was lost" after a passed handshake (the server saw the login
frame), or "Could not connect to Exasol: [SSL: ...]" / "Provided fingerprint ... did not
match" when TLS failed (``design/drivers.md`` section 5).
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyexasol
import pytest
import yaml
from pyexasol.exceptions import ExaCommunicationError, ExaError

from connprof import load_profile
from connprof._errors import TLSFileError
from tests.drivers.fake_servers_cqh import FakeWebSocketTLS, server_fingerprint
from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.tls_certs import KEY_PASSWORD, Certs

ROWS = load_rows("pyexasol")
SECRETS = ("pw-for-exasol", "token-for-exasol", "refresh-for-exasol")


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyexasol.connect() would otherwise report to metrics.exasol.com.
    monkeypatch.setenv("EXASOL_TELEMETRY_DISABLE", "1")


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


# -- real handshakes against a loopback websocket server ------------------------------------------


Connect = Callable[..., tuple[FakeWebSocketTLS, ExaError]]


@pytest.fixture
def connect(certs: Certs, tmp_path: Path) -> Connect:
    """Start a server, connect with a profile's built arguments: (server, pyexasol's error)."""

    def run(
        tls: Any,
        *,
        mismatch: bool = False,
        require_client_cert: bool = False,
        server_max: ssl.TLSVersion | None = None,
        **profile: Any,
    ) -> tuple[FakeWebSocketTLS, ExaError]:
        ctx = certs.server_context(mismatch=mismatch, require_client_cert=require_client_cert)
        if server_max is not None:
            ctx.maximum_version = server_max
        with FakeWebSocketTLS(ctx) as server:
            doc = {"driver": "pyexasol", "hosts": ["localhost"], "port": server.port, "tls": tls}
            doc.setdefault("auth", {"user": "sys", "password": "env:EXA_PASSWORD"})
            doc.update(profile)
            path = tmp_path / "p.yaml"
            path.write_text(yaml.safe_dump({"profiles": {"p": doc}}))
            kw = load_profile("p", config=str(path)).driver_kwargs()
            with pytest.raises(ExaError) as failed:
                pyexasol.connect(**kw, connection_timeout=2, socket_timeout=2)
            return server, failed.value

    return run


@pytest.fixture(autouse=True)
def exasol_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXA_PASSWORD", "pw-for-exasol")


def passed(server: FakeWebSocketTLS, command: str = "login") -> bool:
    """The handshake completed and pyexasol sent its first frame."""
    return any((seen.frame or {}).get("command") == command for seen in server.handshakes)


def test_right_ca_passes(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.ca)})
    assert passed(server)
    assert isinstance(error, ExaCommunicationError)  # the server hung up after the login frame


def test_wrong_ca_fails(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.other_ca)})
    assert not server.handshakes
    assert "CERTIFICATE_VERIFY_FAILED" in error.message


def test_no_ca_fails_against_the_os_store(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "WEBSOCKET_CLIENT_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
    server, error = connect(True)
    assert not server.handshakes
    assert "unable to get local issuer certificate" in error.message


def test_hostname_mismatch_fails_under_verify_full(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.ca)}, mismatch=True)
    assert not server.handshakes
    assert "Hostname mismatch" in error.message


def test_verify_ca_passes_the_mismatch(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "verify": "ca"}, mismatch=True)
    assert passed(server)


def test_verify_none_passes_an_unknown_ca(connect: Connect) -> None:
    server, _ = connect({"verify": "none"}, allow_insecure=True)
    assert passed(server)


def test_fingerprint_match_passes_without_a_trusted_ca(connect: Connect, certs: Certs) -> None:
    # The OS store does not know the test CA: the pin alone decides.
    server, _ = connect({"fingerprint": server_fingerprint(str(certs.server_cert))})
    assert passed(server)


def test_fingerprint_mismatch_fails_before_login(connect: Connect) -> None:
    server, error = connect({"fingerprint": "AB" * 32})
    assert server.handshakes  # TLS itself went through; the pin is checked right after
    assert not passed(server)
    assert "did not match server fingerprint" in error.message


def test_fingerprint_with_a_ca_checks_both(connect: Connect, certs: Certs) -> None:
    fingerprint = server_fingerprint(str(certs.server_cert))
    server, _ = connect({"ca": str(certs.ca), "fingerprint": fingerprint})
    assert passed(server)
    server, error = connect({"ca": str(certs.other_ca), "fingerprint": fingerprint})
    assert not server.handshakes
    assert "CERTIFICATE_VERIFY_FAILED" in error.message


def test_nocertcheck_passes(connect: Connect) -> None:
    server, _ = connect({"fingerprint": "nocertcheck"}, allow_insecure=True)
    assert passed(server)


def test_client_certificate_required_and_missing_fails(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca)}, require_client_cert=True)
    assert not passed(server)


def test_client_certificate_and_key_pass(connect: Connect, certs: Certs) -> None:
    tls = {"ca": str(certs.ca), "client_cert": str(certs.client_cert)}
    server, _ = connect({**tls, "client_key": str(certs.client_key)}, require_client_cert=True)
    assert passed(server)
    assert all(seen.peer_cert for seen in server.handshakes)


def test_encrypted_client_key_with_its_password_passes(
    connect: Connect, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXA_KEY_PASSWORD", KEY_PASSWORD)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:EXA_KEY_PASSWORD",
    }
    server, _ = connect(tls, require_client_cert=True)
    assert passed(server)


def test_encrypted_client_key_without_password_is_an_error_not_a_prompt(
    connect: Connect, certs: Certs
) -> None:
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
    }
    # The arguments are never built, so pyexasol never gets to ask OpenSSL (which would prompt).
    with pytest.raises(TLSFileError, match="encrypted and the profile gives no password"):
        connect(tls, require_client_cert=True)


def test_min_version_goes_through_a_whole_context(connect: Connect, certs: Certs) -> None:
    server, error = connect(
        {"ca": str(certs.ca), "min_version": "1.3"}, server_max=ssl.TLSVersion.TLSv1_2
    )
    assert not server.handshakes
    assert "PROTOCOL_VERSION" in error.message.upper()
    server, _ = connect({"ca": str(certs.ca), "min_version": "1.3"})
    assert passed(server)
    assert {seen.version for seen in server.handshakes} == {"TLSv1.3"}


def test_access_token_logs_in_with_a_token(
    connect: Connect, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXA_TOKEN", "token-for-exasol")
    server, _ = connect({"ca": str(certs.ca)}, auth={"user": "sys", "token": "env:EXA_TOKEN"})
    assert passed(server, "loginToken")


def test_encryption_off_speaks_no_tls(connect: Connect) -> None:
    server, error = connect(False)
    assert not server.handshakes  # the server waited for a TLS ClientHello that never came
    assert "Could not connect to Exasol" in error.message
