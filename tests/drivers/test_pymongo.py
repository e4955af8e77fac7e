"""The pymongo driver module: scenario rows M1-M14, the real MongoClient, real TLS handshakes."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pymongo
import pytest

from connprof import load_profile
from tests.drivers.scenario import check_row, load_row, load_rows, row_params, write_profile
from tests.helpers import SAMPLES, Certs, HandshakeRunner, write_profiles

ROWS = load_rows("pymongo")
CA_SUBJECT = ssl._ssl._test_decode_cert(str(SAMPLES / "certs" / "ca.pem"))[  # type: ignore[attr-defined]
    "subject"
]


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
    path = write_profiles(
        tmp_path / "m11.yaml",
        {
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
                "auth": {"user": "app", "password": "env:MONGO_PASSWORD", "source": "admin"},
                "tls": {"ca": "certs/ca.pem"},
            },
        },
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


# -- real handshakes: what only pymongo does (the shared cases are in test_handshake.py) ----------


def test_handshake_user_and_password_reach_the_server(
    handshake: HandshakeRunner, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_PASSWORD", "pw")
    auth = {"user": "alice", "password": "env:MONGO_PASSWORD", "source": "admin"}
    h = handshake("pymongo", {"ca": str(certs.ca)}, auth=auth)
    # The fake refuses every login: getting that far means TLS passed and the user was sent.
    assert h.text.startswith("OperationFailure") and "fake server: no auth here" in h.text
    hellos = [c for c in h.server.commands if "saslSupportedMechs" in c]
    assert hellos and hellos[0]["saslSupportedMechs"] == "admin.alice"
    assert "pw" not in h.text


# -- show --format uri ---------------------------------------------------------------------------


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_the_uri_format_ends_with_the_same_client(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # deferred: the format is only this test's subject
    from connprof.drivers._pymongo import format_uri

    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    uri = format_uri(profile)
    secrets = {k: kw[k] for k in ("password", "tlsCertificateKeyFilePassword") if k in kw}
    for value in secrets.values():
        assert value not in uri
    if profile.uri is not None and profile.uri.startswith("mongodb+srv://"):
        pytest.skip("a mongodb+srv:// client resolves DNS when it is made")
    # The uri plus the secrets it leaves out is the client the keyword arguments make.
    from_uri = pymongo.MongoClient(uri, connect=False, **secrets)
    from_kw = pymongo.MongoClient(**kw, connect=False)
    try:
        assert repr(from_uri) == repr(from_kw)
        assert from_uri.options.pool_options._credentials == (
            from_kw.options.pool_options._credentials
        )
        assert from_uri.get_default_database("-").name == from_kw.get_default_database("-").name
    finally:
        from_uri.close()
        from_kw.close()
