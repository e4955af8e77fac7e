"""The hazelcast driver module: scenario rows H1-H12, the real ``Config``, real TLS handshakes.

``HazelcastClient()`` connects in its constructor and always ends, against the loopback
server, with "Unable to connect to any cluster"; the TLS outcome is in its log (logger
``hazelcast``) and in what the server saw: ``CP2`` and the authentication frame after a
passed handshake (``design/drivers.md`` section 4).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import hazelcast
import pytest
from hazelcast.config import Config
from hazelcast.security import BasicTokenProvider

from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.helpers import Certs, Handshake, HandshakeRunner

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


# -- real handshakes: what only hazelcast does (the shared cases are in test_handshake.py) --------

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # hazelcast's own ssl calls


def message_types(h: Handshake) -> set[int]:
    # CP2, then the first frame: length (4 bytes), flags (2), message type (4, little-endian).
    return {int.from_bytes(s.first_bytes[9:13], "little") for s in h.server.handshakes}


def test_default_pins_1_2_so_a_1_3_only_server_fails(
    handshake: HandshakeRunner, certs: Certs
) -> None:
    # hazelcast pins one version: the profile's min_version, 1.2 unless it says otherwise.
    h = handshake("hazelcast", {"ca": str(certs.ca)}, server_min=ssl.TLSVersion.TLSv1_3)
    assert not h.server.handshakes
    assert "PROTOCOL_VERSION" in h.text.upper()


def test_credentials_and_token_reach_the_server(
    handshake: HandshakeRunner, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HZ_PASSWORD", "pw-for-hazelcast")
    monkeypatch.setenv("HZ_TOKEN", "token-for-hazelcast")
    credentials = {"user": "app", "password": "env:HZ_PASSWORD"}
    h = handshake("hazelcast", {"ca": str(certs.ca)}, auth=credentials)
    assert message_types(h) == {AUTH_WITH_CREDENTIALS}
    h = handshake("hazelcast", {"ca": str(certs.ca)}, auth={"token": "env:HZ_TOKEN"})
    assert message_types(h) == {AUTH_WITH_TOKEN}
