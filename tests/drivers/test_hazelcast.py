"""The hazelcast driver module: scenario rows H1-H12, the real ``Config``, real TLS handshakes.

``HazelcastClient()`` connects in its constructor and always ends, against the loopback
server, with "Unable to connect to any cluster"; the TLS outcome is in its log (logger
``hazelcast``) and in what the server saw: ``CP2`` and the authentication frame after a
passed handshake (``design/drivers.md`` section 4).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hazelcast
import pytest
import yaml
from hazelcast.config import Config
from hazelcast.errors import IllegalStateError
from hazelcast.security import BasicTokenProvider

from connprof import load_profile
from connprof._errors import TLSFileError
from tests.drivers.fake_servers_cqh import CloseAfterHandshake
from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.tls_certs import KEY_PASSWORD, Certs

ROWS = load_rows("hazelcast")
AUTH_WITH_CREDENTIALS = 0x100  # ClientAuthentication
AUTH_WITH_TOKEN = 0x200  # ClientAuthenticationCustom


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("hazelcast", row, tmp_path, monkeypatch)
    assert emitted == expected


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_real_config_accepts_the_built_arguments(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    config = Config.from_dict(kw)  # the validation HazelcastClient(**kw) runs, without a network
    for key, value in row["emits"].items():
        if key == "ssl_protocol":
            assert config.ssl_protocol == getattr(hazelcast.config.SSLProtocol, value)
        elif key in ("ssl_password", "token_provider", "creds_password"):
            continue  # resolved values, checked below
        else:
            assert getattr(config, key) == (
                value.replace("{dir}", str(tmp_path)) if isinstance(value, str) else value
            )
    if profile.auth.password is not None:
        assert config.creds_password == "pw-for-hazelcast"
        assert "pw-for-hazelcast" not in repr(kw)
    if profile.auth.token is not None:
        assert isinstance(config.token_provider, BasicTokenProvider)
        assert config.token_provider.token() == b"token-for-hazelcast"
    if profile.tls.client_key_password is not None:
        assert config.ssl_password == (
            tmp_path / "certs/client-key-password.txt"
        ).read_text().rstrip("\n")
    elif profile.tls.client_cert is not None:
        assert config.ssl_password is None  # the key file was checked instead (not encrypted)


# -- real handshakes against a loopback server ---------------------------------------------------


Connect = Callable[..., tuple[CloseAfterHandshake, str]]


@pytest.fixture
def connect(certs: Certs, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Connect:
    """Start a server, run HazelcastClient with a profile's arguments: (server, its log)."""

    def run(
        tls: Any,
        *,
        mismatch: bool = False,
        require_client_cert: bool = False,
        server_min: ssl.TLSVersion | None = None,
        server_max: ssl.TLSVersion | None = None,
        **profile: Any,
    ) -> tuple[CloseAfterHandshake, str]:
        ctx = certs.server_context(mismatch=mismatch, require_client_cert=require_client_cert)
        if server_min is not None:
            ctx.minimum_version = server_min
        if server_max is not None:
            ctx.maximum_version = server_max
        with CloseAfterHandshake(ctx) as server:
            doc = {"driver": "hazelcast", "hosts": [f"127.0.0.1:{server.port}"], "tls": tls}
            doc.update(profile)
            path = tmp_path / "p.yaml"
            path.write_text(yaml.safe_dump({"profiles": {"p": doc}}))
            kw = load_profile("p", config=str(path)).driver_kwargs()
            caplog.clear()
            with (
                caplog.at_level(logging.DEBUG, logger="hazelcast"),
                pytest.raises(IllegalStateError, match="Unable to connect"),
            ):
                hazelcast.HazelcastClient(**kw, cluster_connect_timeout=1)
            return server, caplog.text

    return run


def passed(server: CloseAfterHandshake) -> bool:
    """The handshake completed and the client went on to speak the Hazelcast protocol."""
    return any(seen.first_bytes.startswith(b"CP2") for seen in server.handshakes)


def message_types(server: CloseAfterHandshake) -> set[int]:
    # CP2, then the first frame: length (4 bytes), flags (2), message type (4, little-endian).
    return {int.from_bytes(s.first_bytes[9:13], "little") for s in server.handshakes}


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # hazelcast's own ssl calls


def test_right_ca_passes(connect: Connect, certs: Certs) -> None:
    server, log = connect({"ca": str(certs.ca)})
    assert passed(server)
    assert "Connection closed by server" in log


def test_wrong_ca_fails(connect: Connect, certs: Certs) -> None:
    server, log = connect({"ca": str(certs.other_ca)})
    assert not server.handshakes
    assert "CERTIFICATE_VERIFY_FAILED" in log


def test_no_ca_fails_against_the_os_store(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    server, log = connect(True)
    assert not server.handshakes
    assert "unable to get local issuer certificate" in log


def test_hostname_mismatch_fails_under_verify_full(connect: Connect, certs: Certs) -> None:
    # hazelcast's own default would not check the name; connprof turns the check on.
    server, log = connect({"ca": str(certs.ca)}, mismatch=True)
    assert not server.handshakes
    assert "mismatch, certificate is not valid for '127.0.0.1'" in log


def test_verify_ca_passes_the_mismatch(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "verify": "ca"}, mismatch=True)
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
    monkeypatch.setenv("HZ_KEY_PASSWORD", KEY_PASSWORD)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:HZ_KEY_PASSWORD",
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
    # The arguments are never built, so hazelcast never gets to ask OpenSSL (which would prompt).
    with pytest.raises(TLSFileError, match="encrypted and the profile gives no password"):
        connect(tls, require_client_cert=True)


def test_min_version_1_3_against_a_1_2_server_fails(connect: Connect, certs: Certs) -> None:
    server, log = connect(
        {"ca": str(certs.ca), "min_version": "1.3"}, server_max=ssl.TLSVersion.TLSv1_2
    )
    assert not server.handshakes
    assert "PROTOCOL_VERSION" in log.upper()


def test_min_version_1_3_speaks_1_3(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "min_version": "1.3"})
    assert passed(server)
    assert {seen.version for seen in server.handshakes} == {"TLSv1.3"}


def test_default_pins_1_2_so_a_1_3_only_server_fails(connect: Connect, certs: Certs) -> None:
    # hazelcast pins one version: the profile's min_version, 1.2 unless it says otherwise.
    server, log = connect({"ca": str(certs.ca)}, server_min=ssl.TLSVersion.TLSv1_3)
    assert not server.handshakes
    assert "PROTOCOL_VERSION" in log.upper()


def test_credentials_and_token_reach_the_server(
    connect: Connect, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HZ_PASSWORD", "pw-for-hazelcast")
    monkeypatch.setenv("HZ_TOKEN", "token-for-hazelcast")
    server, _ = connect({"ca": str(certs.ca)}, auth={"user": "app", "password": "env:HZ_PASSWORD"})
    assert message_types(server) == {AUTH_WITH_CREDENTIALS}
    server, _ = connect({"ca": str(certs.ca)}, auth={"token": "env:HZ_TOKEN"})
    assert message_types(server) == {AUTH_WITH_TOKEN}
