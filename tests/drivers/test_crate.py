"""The crate driver module: scenario rows C1-C10, the real crate client, real TLS handshakes."""

from __future__ import annotations

import inspect
import os
import socket
import ssl
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import crate.client
import pytest
import urllib3
import yaml
from crate.client.exceptions import ConnectionError as CrateConnectionError
from crate.client.http import Client

from connprof import TLSFileError, load_profile
from connprof._tls import build_ssl_context
from connprof.drivers._crate import os_trust_store
from tests.drivers.fake_servers_mongo_crate import FakeCrateHTTPS
from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.tls_certs import Certs

ROWS = load_rows("crate")
# Arguments only crate.client.connect() takes; http.Client (offline) gets the rest.
CONNECT_ONLY = set(inspect.signature(crate.client.connect).parameters) - set(
    inspect.signature(Client).parameters
)


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
    client = Client(**{k: v for k, v in kw.items() if k not in CONNECT_ONLY})
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
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"p": {"driver": "crate", "hosts": ["h"]}}}))
    kw = load_profile("p", config=str(path)).driver_kwargs()
    assert kw["servers"] == ["http://h:4200"] and "ca_cert" not in kw
    path.write_text(
        yaml.safe_dump({"profiles": {"p": {"driver": "crate", "hosts": ["h"], "tls": {}}}})
    )
    kw = load_profile("p", config=str(path)).driver_kwargs()
    assert kw["ca_cert"] == ssl.get_default_verify_paths().cafile != str(certs.ca)


def test_ca_system_without_an_os_ca_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    if ssl.get_default_verify_paths().cafile is not None:
        pytest.skip("OpenSSL's compiled-in CA file exists on this machine")
    with pytest.raises(TLSFileError, match=r"set tls\.ca to a PEM bundle"):
        os_trust_store()


# -- real handshakes against FakeCrateHTTPS ------------------------------------------------------


@pytest.fixture
def no_default_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    """'No CA' means no CA: clear what OpenSSL and the crate client read from the environment."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _quiet_insecure_warning() -> Iterator[None]:
    # verify: none makes urllib3 warn on every request; that is expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        yield


def _server_infos(tmp_path: Path, port: int, **fields: Any) -> str:
    """'ok', or the crate client's error, which says whether TLS failed."""
    profile = {"driver": "crate", "hosts": [f"https://localhost:{port}"], **fields}
    path = tmp_path / "crate.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"p": profile}}))
    kw = load_profile("p", config=str(path)).driver_kwargs()
    client = Client(**{k: v for k, v in kw.items() if k not in CONNECT_ONLY})
    try:
        _, name, version = client.server_infos(kw["servers"][0])
        assert (name, version) == ("fake-node", "5.10.0")
        return "ok"
    except CrateConnectionError as exc:
        return f"ConnectionError: {exc}"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("mismatch", "tls", "expect"),
    [
        pytest.param(False, {"ca": "{ca}"}, "ok", id="right-ca"),
        pytest.param(False, {"ca": "{other_ca}"}, "CERTIFICATE_VERIFY_FAILED", id="wrong-ca"),
        pytest.param(False, {}, "CERTIFICATE_VERIFY_FAILED", id="system-store-lacks-the-ca"),
        pytest.param(True, {"ca": "{ca}"}, "Hostname mismatch", id="hostname-mismatch"),
        pytest.param(True, {"ca": "{other_ca}", "verify": "none"}, "ok", id="verify-none"),
    ],
)
@pytest.mark.usefixtures("no_default_cas")
def test_handshake_server_verification(
    certs: Certs, tmp_path: Path, mismatch: bool, tls: dict[str, str], expect: str
) -> None:
    block = {k: v.format(ca=certs.ca, other_ca=certs.other_ca) for k, v in tls.items()}
    with FakeCrateHTTPS(certs.server_context(mismatch=mismatch)) as server:
        try:
            outcome = _server_infos(
                tmp_path, server.port, tls=block, allow_insecure=block.get("verify") == "none"
            )
        except TLSFileError as exc:
            # ca: system on a machine whose OpenSSL has no CA file: refused before connecting.
            assert not block and "tls.ca: system" in str(exc)
            return
    if expect == "ok":
        assert outcome == "ok" and server.requests[0]["path"] == "/"
    else:
        assert expect in outcome and not server.requests


def test_handshake_requests_ca_bundle_does_not_replace_the_system_store(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_default_cas: None
) -> None:
    # Left to itself the crate client would trust this bundle for `ca: system`.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    with FakeCrateHTTPS(certs.server_context()) as server:
        try:
            outcome = _server_infos(tmp_path, server.port, tls={})
        except TLSFileError:
            return  # no OS CA file at all: also not the REQUESTS_CA_BUNDLE
    assert "CERTIFICATE_VERIFY_FAILED" in outcome and not server.requests


@pytest.mark.parametrize(
    ("client_tls", "expect"),
    [
        pytest.param({}, "fails", id="no-client-cert"),
        pytest.param(
            {"client_cert": "client_cert", "client_key": "client_key"}, "ok", id="cert-and-key"
        ),
        pytest.param({"client_cert": "client_combined"}, "ok", id="combined-pem"),
    ],
)  # fmt: skip
def test_handshake_client_certificate(
    certs: Certs, tmp_path: Path, client_tls: dict[str, str], expect: str
) -> None:
    block = {"ca": str(certs.ca)} | {k: str(getattr(certs, v)) for k, v in client_tls.items()}
    with FakeCrateHTTPS(certs.server_context(require_client_cert=True)) as server:
        outcome = _server_infos(tmp_path, server.port, tls=block)
    if expect == "ok":
        assert outcome == "ok"
        assert any(
            "client@example.com" in str(c and c.get("subjectAltName")) for c in server.peer_certs
        )
    else:
        assert outcome.startswith("ConnectionError") and not server.requests
        assert any("PEER_DID_NOT_RETURN_A_CERTIFICATE" in str(e) for e in server.handshake_errors)


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
        path = tmp_path / "crate.yaml"
        path.write_text(yaml.safe_dump({"profiles": {"p": profile}}))
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
def test_min_version_against_a_tls_1_1_server(certs: Certs, tmp_path: Path) -> None:
    """The default refuses an old server; min_version 1.0 lifts the protocol floor.

    What this machine shows (Python 3.11, OpenSSL 3.0): OpenSSL itself negotiates TLS 1.1 with
    such a server (connprof's own context proves it below), and ssl_relax_minimum_version does
    lower the crate client's floor, yet the handshake still fails: urllib3 keeps Python's
    default cipher list, which has no cipher TLS 1.0/1.1 can use (no SHA-1 suites), and the crate
    client has no cipher option. So min_version "1.0" is emitted as the row asks, but with this
    Python the crate client cannot reach a TLS 1.0/1.1-only server.
    """
    with FakeCrateHTTPS(_tls11_server_context(certs)) as server:
        tls: dict[str, Any] = {"ca": str(certs.ca), "min_version": "1.0"}
        ctx = build_ssl_context(load_profile_tls(tmp_path, tls))
        with (
            socket.create_connection(("localhost", server.port)) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            assert conn.version() == "TLSv1.1"  # the local OpenSSL can speak TLS 1.1

        default = _server_infos(tmp_path, server.port, tls={"ca": str(certs.ca)})
        assert "PROTOCOL_VERSION" in default  # refused by default: TLS 1.2 is the floor
        # The server thread records the refused handshake on its own time: wait for it before
        # clearing, or it lands among the next attempt's errors.
        deadline = time.monotonic() + 5
        while not server.handshake_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        server.handshake_errors.clear()

        relaxed = _server_infos(tmp_path, server.port, tls=tls, allow_insecure=True)
    # The version is no longer the reason; the client offered no TLS 1.1 cipher.
    assert relaxed.startswith("ConnectionError") and "PROTOCOL_VERSION" not in relaxed
    assert server.handshake_errors
    assert all("NO_SHARED_CIPHER" in str(e) for e in server.handshake_errors)


def load_profile_tls(tmp_path: Path, tls: dict[str, Any]) -> Any:
    path = tmp_path / "tls.yaml"
    profile = {"driver": "crate", "hosts": ["h"], "tls": tls, "allow_insecure": True}
    path.write_text(yaml.safe_dump({"profiles": {"t": profile}}))
    return load_profile("t", config=str(path)).tls
