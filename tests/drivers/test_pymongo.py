"""The pymongo driver module: scenario rows M1-M14, the real MongoClient, real TLS handshakes."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pymongo
import pytest
import yaml
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from connprof import load_profile
from tests.drivers.fake_servers_mongo_crate import FakeMongo
from tests.drivers.scenario import (
    check_row,
    load_row,
    load_rows,
    row_params,
    write_profile,
)
from tests.tls_certs import KEY_PASSWORD, Certs

ROWS = load_rows("pymongo")
CA_SUBJECT = ssl._ssl._test_decode_cert(  # type: ignore[attr-defined]
    str(Path(__file__).resolve().parents[2] / "sample_profiles" / "certs" / "ca.pem")
)["subject"]


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario_row(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("pymongo", row, tmp_path, monkeypatch)
    assert emitted == expected


# -- the real MongoClient accepts the built arguments and means what the profile says ----------


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_mongoclient_accepts_row_offline(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    client = pymongo.MongoClient(**kw, connect=False)
    try:
        options = client.options
        ctx = options.pool_options._ssl_context
        tls = profile.tls
        if not tls.enabled:
            assert ctx is None
        else:
            assert ctx is not None
            assert (ctx.verify_mode == ssl.CERT_NONE) == (tls.verify == "none")
            assert ctx.check_hostname == (tls.verify == "full")
            if tls.ca != "system" and tls.verify != "none":
                # Exactly the profile's CA, not the OS store besides it.
                assert [c["subject"] for c in ctx.get_ca_certs()] == [CA_SUBJECT]
            assert bool(ctx.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF) == bool(tls.crl)
        credentials = options.pool_options._credentials
        if profile.auth.user or profile.auth.mechanism:
            assert credentials is not None
            assert credentials.username == profile.auth.user
            if profile.auth.password:
                assert credentials.password == os.environ[profile.auth.password[len("env:") :]]
            if profile.auth.source:
                assert credentials.source == profile.auth.source
            assert credentials.mechanism == (profile.auth.mechanism or "DEFAULT")
        else:
            assert credentials is None
        if profile.database:
            assert client.get_default_database().name == profile.database
        lowered = {k.lower(): v for k, v in options._options.items()}
        for key, value in profile.options.items():
            # As pymongo's own validator reads the value (serverSelectionTimeoutMS in seconds).
            assert lowered[key.lower()] == pymongo.common.validate(key, value)[1]
    finally:
        client.close()


def _summary(client: pymongo.MongoClient[Any]) -> dict[str, Any]:
    """What a MongoClient ends up with, minus how it was spelled (uri or keywords)."""
    options = client.options
    ctx = options.pool_options._ssl_context
    cred = options.pool_options._credentials
    try:
        database: str | None = client.get_default_database().name
    except pymongo.errors.ConfigurationError:
        database = None
    spelled = {"username", "password", "document_class", "tz_aware", "connect"}
    return {
        "seeds": sorted(client._topology_settings.seeds),
        "database": database,
        "options": {k.lower(): v for k, v in options._options.items() if k.lower() not in spelled},
        "replica_set": options.replica_set_name,
        "credentials": None
        if cred is None
        else (cred.mechanism, cred.source, cred.username, cred.password),
        "tls": None
        if ctx is None
        else (
            ctx.verify_mode,
            ctx.check_hostname,
            ctx.verify_flags,
            sorted(str(c["subject"]) for c in ctx.get_ca_certs()),
        ),
    }


def test_m11_uri_and_keyword_forms_end_with_the_same_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_PASSWORD", "p@ss:w/rd")
    write_profile({"id": "unused", "profile": {}}, tmp_path)  # the certs/ folder
    ca = tmp_path / "certs" / "ca.pem"
    query = f"replicaSet=rs0&tls=true&tlsCAFile={ca}&authSource=admin&w=majority"
    path = tmp_path / "m11.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "profiles": {
                    "uri-form": {
                        "driver": "pymongo",
                        "uri": f"mongodb://app@db1.example.com:27017,db2.example.com/orders?{query}",
                        "auth": {"password": "env:MONGO_PASSWORD"},
                    },
                    "keyword-form": {
                        "driver": "pymongo",
                        "hosts": ["db1.example.com:27017", "db2.example.com"],
                        "database": "orders",
                        "options": {"replicaSet": "rs0", "w": "majority"},
                        "auth": {
                            "user": "app",
                            "password": "env:MONGO_PASSWORD",
                            "source": "admin",
                        },
                        "tls": {"ca": "certs/ca.pem"},
                    },
                }
            }
        )
    )
    # The user's own connection string, password escaped as the URI spec wants.
    original = pymongo.MongoClient(
        f"mongodb://app:p%40ss%3Aw%2Frd@db1.example.com:27017,db2.example.com/orders?{query}",
        connect=False,
    )
    clients = [original]
    try:
        for name in ("uri-form", "keyword-form"):
            kw = load_profile(name, config=str(path)).driver_kwargs()
            clients.append(pymongo.MongoClient(**kw, connect=False))
        want = _summary(original)
        assert want["tls"] is not None and want["credentials"] is not None
        assert [_summary(c) for c in clients[1:]] == [want, want]
    finally:
        for client in clients:
            client.close()


# -- real handshakes against FakeMongo ---------------------------------------------------------

FAIL_FAST = {"directConnection": True, "serverSelectionTimeoutMS": 1500}


def _profile_file(tmp_path: Path, port: int, **fields: Any) -> Path:
    profile = {"driver": "pymongo", "hosts": [f"localhost:{port}"], "options": FAIL_FAST, **fields}
    path = tmp_path / "mongo.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"p": profile}}))
    return path


def _ping(path: Path) -> str:
    """'ok', or the error pymongo gave: its text says whether TLS failed."""
    client = pymongo.MongoClient(**load_profile("p", config=str(path)).driver_kwargs())
    try:
        client.admin.command("ping")
        return "ok"
    except (ServerSelectionTimeoutError, OperationFailure) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()


@pytest.fixture
def no_default_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    """'No CA' means no CA: the variables OpenSSL's default store honours point elsewhere."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("mismatch", "tls", "expect"),
    [
        pytest.param(False, {"ca": "{ca}"}, "ok", id="right-ca"),
        pytest.param(False, {"ca": "{other_ca}"}, "CERTIFICATE_VERIFY_FAILED", id="wrong-ca"),
        pytest.param(False, {}, "CERTIFICATE_VERIFY_FAILED", id="system-store-lacks-the-ca"),
        pytest.param(True, {"ca": "{ca}"}, "Hostname mismatch", id="hostname-mismatch"),
        pytest.param(True, {"ca": "{ca}", "verify": "ca"}, "ok", id="verify-ca-passes-mismatch"),
        pytest.param(
            True,
            {"ca": "{other_ca}", "verify": "ca"},
            "CERTIFICATE_VERIFY_FAILED",
            id="verify-ca-still-checks-the-chain",
        ),
        pytest.param(True, {"ca": "{other_ca}", "verify": "none"}, "ok", id="verify-none"),
    ],
)
@pytest.mark.usefixtures("no_default_cas")
def test_handshake_server_verification(
    certs: Certs, tmp_path: Path, mismatch: bool, tls: dict[str, str], expect: str
) -> None:
    block = {k: v.format(ca=certs.ca, other_ca=certs.other_ca) for k, v in tls.items()}
    with FakeMongo(certs.server_context(mismatch=mismatch)) as server:
        path = _profile_file(
            tmp_path, server.port, tls=block, allow_insecure=block.get("verify") == "none"
        )
        outcome = _ping(path)
    if expect == "ok":
        assert outcome == "ok"
        assert server.handshakes and {"ping": 1} in [
            {k: v for k, v in c.items() if k == "ping"} for c in server.commands
        ]
    else:
        assert outcome.startswith("ServerSelectionTimeoutError") and expect in outcome
        assert not any("ping" in c for c in server.commands)


@pytest.mark.parametrize(
    ("client_tls", "env", "expect"),
    [
        pytest.param({}, {}, "TLSV13_ALERT_CERTIFICATE_REQUIRED", id="no-client-cert"),
        pytest.param({"client_cert": "client_combined"}, {}, "ok", id="combined-pem"),
        pytest.param(
            {"client_cert": "client_combined_encrypted", "client_key_password": "env:KEY_PASS"},
            {"KEY_PASS": KEY_PASSWORD},
            "ok",
            id="encrypted-key-and-password",
        ),
    ],
)
def test_handshake_client_certificate(
    certs: Certs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client_tls: dict[str, str],
    env: dict[str, str],
    expect: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    block: dict[str, str] = {"ca": str(certs.ca)}
    for key, value in client_tls.items():
        block[key] = value if key == "client_key_password" else str(getattr(certs, value))
    with FakeMongo(certs.server_context(require_client_cert=True)) as server:
        outcome = _ping(_profile_file(tmp_path, server.port, tls=block))
    if expect == "ok":
        assert outcome == "ok"
        # The server saw the client's certificate, not just some connection.
        assert any(
            cert and "client@example.com" in str(cert.get("subjectAltName"))
            for cert in server.peer_certs
        )
    else:
        # The client sees the alert or, when the server hangs up first, an EOF; the server's
        # side says why every time.
        assert outcome.startswith("ServerSelectionTimeoutError")
        assert expect in outcome or "EOF occurred in violation of protocol" in outcome
        assert any("PEER_DID_NOT_RETURN_A_CERTIFICATE" in str(e) for e in server.handshake_errors)
        assert not server.commands


def test_handshake_user_and_password_reach_the_server(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_PASSWORD", "pw")
    with FakeMongo(certs.server_context()) as server:
        path = _profile_file(
            tmp_path,
            server.port,
            tls={"ca": str(certs.ca)},
            auth={"user": "alice", "password": "env:MONGO_PASSWORD", "source": "admin"},
        )
        outcome = _ping(path)
    # The fake refuses every login: getting that far means TLS passed and the user was sent.
    assert outcome.startswith("OperationFailure") and "fake server: no auth here" in outcome
    hellos = [c for c in server.commands if "saslSupportedMechs" in c]
    assert hellos and hellos[0]["saslSupportedMechs"] == "admin.alice"
    assert "pw" not in outcome
