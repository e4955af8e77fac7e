"""The crate driver module: scenario rows C1-C10, the real crate client, real TLS handshakes."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path
from typing import Any

import crate.client
import pytest
import urllib3
from crate.client.http import Client

from connprof import TLSFileError, load_profile
from connprof._tls import build_ssl_context
from connprof.drivers._crate import os_trust_store
from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.helpers import (
    Certs,
    FakeCrateHTTPS,
    HandshakeRunner,
    crate_client_kwargs,
    write_profiles,
)

ROWS = load_rows("crate")


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario_row(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("crate", row, tmp_path, monkeypatch)
    assert emitted == expected


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_client_accepts_row_offline(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    if profile.tls.ca == "system" and ssl.get_default_verify_paths().cafile is None:
        pytest.skip("no OS CA file on this machine for ca: system (see the next tests)")
    kw = profile.driver_kwargs()
    client = Client(**crate_client_kwargs(kw))
    try:
        assert list(client.server_pool) == kw["servers"]
        tls = profile.tls
        for url, server in client.server_pool.items():
            pool = server.pool
            assert isinstance(pool, urllib3.HTTPSConnectionPool) == tls.enabled, url
            if not tls.enabled:
                continue
            assert pool.cert_reqs == (ssl.CERT_NONE if tls.verify == "none" else ssl.CERT_REQUIRED)
            if tls.ca != "system":
                assert pool.ca_certs == tls.ca
            elif tls.verify != "none":
                assert pool.ca_certs == ssl.get_default_verify_paths().cafile
            assert pool.cert_file == tls.client_cert
            assert pool.key_file == tls.client_key
            relaxed = pool.ssl_minimum_version == ssl.TLSVersion.MINIMUM_SUPPORTED
            assert relaxed == (tls.min_version == "1.0")
        assert client.username == profile.auth.user
        password, token = profile.auth.password, profile.auth.token
        assert client.password == (password and os.environ[password.removeprefix("env:")])
        assert client.jwt_token == (token and os.environ[token.removeprefix("env:")])
        assert client.schema == profile.database
    finally:
        client.close()


# -- what ca: system means ------------------------------------------------------------------------


def test_ca_system_is_the_os_store_not_requests_ca_bundle(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    if ssl.get_default_verify_paths().cafile is None:
        pytest.skip("no OS CA file on this machine (the next test covers that case)")
    path = write_profiles(tmp_path / "p.yaml", {"p": {"driver": "crate", "hosts": ["h"]}})
    kw = load_profile("p", config=str(path)).driver_kwargs()
    assert kw["servers"] == ["http://h:4200"] and "ca_cert" not in kw
    write_profiles(path, {"p": {"driver": "crate", "hosts": ["h"], "tls": {}}})
    kw = load_profile("p", config=str(path)).driver_kwargs()
    assert kw["ca_cert"] == ssl.get_default_verify_paths().cafile != str(certs.ca)


def test_ca_system_without_an_os_ca_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    if ssl.get_default_verify_paths().cafile is not None:
        pytest.skip("OpenSSL's compiled-in CA file exists on this machine")
    with pytest.raises(TLSFileError, match=r"set tls\.ca to a PEM bundle"):
        os_trust_store()


# -- real handshakes: what only crate does (the shared cases are in test_handshake.py) ------------


def test_handshake_requests_ca_bundle_does_not_replace_the_system_store(
    handshake: HandshakeRunner, certs: Certs, monkeypatch: pytest.MonkeyPatch, no_default_cas: None
) -> None:
    # Left to itself the crate client would trust this bundle for `ca: system`.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    try:
        h = handshake("crate", {})
    except TLSFileError:
        return  # no OS CA file at all: also not the REQUESTS_CA_BUNDLE
    assert "CERTIFICATE_VERIFY_FAILED" in h.text and not h.server.requests


@pytest.mark.parametrize(
    ("auth", "env", "header"),
    [
        pytest.param(
            {"user": "alice", "password": "env:CRATE_PASSWORD"}, {"CRATE_PASSWORD": "pw"},
            "Basic YWxpY2U6cHc=", id="user-password",
        ),
        pytest.param(
            {"token": "env:CRATE_JWT"}, {"CRATE_JWT": "a.b.c"}, "Bearer a.b.c", id="jwt",
        ),
    ],
)  # fmt: skip
def test_connect_and_query_with_credentials(
    certs: Certs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    auth: dict[str, str],
    env: dict[str, str],
    header: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with FakeCrateHTTPS(certs.server_context()) as server:
        profile = {
            "driver": "crate",
            "hosts": [f"localhost:{server.port}"],  # a plain host: https:// because TLS is on
            "database": "doc",
            "auth": auth,
            "tls": {"ca": str(certs.ca)},
        }
        path = write_profiles(tmp_path / "crate.yaml", {"p": profile})
        kw = load_profile("p", config=str(path)).driver_kwargs()
        assert "pw" not in repr(kw) and "a.b.c" not in repr(kw)
        connection = crate.client.connect(**kw)  # does GET / itself
        try:
            cursor = connection.cursor()
            cursor.execute("select 1")
            assert cursor.fetchall() == [[1]]
        finally:
            connection.close()
    sql = [r for r in server.requests if r["method"] == "POST"]
    assert sql and sql[0]["path"].startswith("/_sql")
    assert sql[0]["headers"]["authorization"] == header
    assert sql[0]["headers"].get("default-schema") == "doc"


# -- minimum TLS version (C7) --------------------------------------------------------------------


def _tls11_server_context(certs: Certs) -> ssl.SSLContext:
    ctx = certs.server_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0/1.1 above level 0
    return ctx


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_min_version_against_a_tls_1_1_server(
    handshake: HandshakeRunner, certs: Certs, tmp_path: Path
) -> None:
    """The default refuses an old server; min_version 1.0 lifts the protocol floor.

    What this machine shows (Python 3.11, OpenSSL 3.0): OpenSSL itself negotiates TLS 1.1 with
    such a server (connprof's own context proves it below), and ssl_relax_minimum_version does
    lower the crate client's floor, yet the handshake still fails: urllib3 keeps Python's
    default cipher list, which has no cipher TLS 1.0/1.1 can use (no SHA-1 suites), and the crate
    client has no cipher option. So min_version "1.0" is emitted as the row asks, but with this
    Python the crate client cannot reach a TLS 1.0/1.1-only server.
    """
    tls: dict[str, Any] = {"ca": str(certs.ca), "min_version": "1.0"}
    with FakeCrateHTTPS(_tls11_server_context(certs)) as server:
        ctx = build_ssl_context(load_profile_tls(tmp_path, tls))
        with (
            socket.create_connection(("localhost", server.port)) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            assert conn.version() == "TLSv1.1"  # the local OpenSSL can speak TLS 1.1

    old = _tls11_server_context(certs)
    default = handshake("crate", {"ca": str(certs.ca)}, server_context=old)
    assert "PROTOCOL_VERSION" in default.text  # refused by default: TLS 1.2 is the floor

    old = _tls11_server_context(certs)
    relaxed = handshake("crate", tls, server_context=old, allow_insecure=True)
    # The version is no longer the reason; the client offered no TLS 1.1 cipher.
    assert relaxed.text.startswith("ConnectionError") and "PROTOCOL_VERSION" not in relaxed.text
    assert relaxed.server.handshake_errors
    assert all("NO_SHARED_CIPHER" in str(e) for e in relaxed.server.handshake_errors)


def load_profile_tls(tmp_path: Path, tls: dict[str, Any]) -> Any:
    profile = {"driver": "crate", "hosts": ["h"], "tls": tls, "allow_insecure": True}
    path = write_profiles(tmp_path / "tls.yaml", {"t": profile})
    return load_profile("t", config=str(path)).tls
