"""``Profile.connect(**extra)``: each driver's real client from the profile, against loopback fakes.

The drivers that connect in their constructor (crate, hazelcast, pyexasol) are pointed at the
loopback stand-ins; what they did there (or the driver's own error after reaching them) shows the
client was the real one, built from the profile's arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import connprof
from tests.helpers import (
    MONGO_FAIL_FAST,
    Certs,
    CloseAfterHandshake,
    FakeCrateHTTPS,
    FakeMongo,
    FakeWebSocketTLS,
    write_profiles,
)


def profile(tmp_path: Path, **doc: Any) -> connprof.Profile:
    path = write_profiles(tmp_path / "profiles.yaml", {"p": doc})
    return connprof.load_profile("p", config=str(path))


def test_pymongo_gives_a_mongo_client_that_pings_the_server(tmp_path: Path, certs: Certs) -> None:
    import pymongo

    with FakeMongo(certs.server_context()) as server:
        p = profile(
            tmp_path,
            driver="pymongo",
            hosts=[f"localhost:{server.port}"],
            tls={"ca": str(certs.ca)},
            options=MONGO_FAIL_FAST,
        )
        client = p.connect(appname="connect-test")
        try:
            assert type(client) is pymongo.MongoClient
            assert client.admin.command("ping")["ok"] == 1.0
        finally:
            client.close()
    hello = server.commands[0]
    assert hello["client"]["application"]["name"] == "connect-test"  # the extra reached it


def test_pymongo_offline_with_connect_false(tmp_path: Path, certs: Certs) -> None:
    import pymongo

    p = profile(tmp_path, driver="pymongo", hosts=["db.example.com"], tls={"ca": str(certs.ca)})
    client = p.connect(connect=False)
    try:
        assert isinstance(client, pymongo.MongoClient)
        assert client.options.pool_options._ssl_context is not None
    finally:
        client.close()


def test_cassandra_gives_the_cluster(tmp_path: Path, certs: Certs) -> None:
    from cassandra.cluster import Cluster

    p = profile(tmp_path, driver="cassandra", hosts=["127.0.0.1"], tls={"ca": str(certs.ca)})
    cluster = p.connect(protocol_version=4)  # Cluster() does no network with an IP
    try:
        assert type(cluster) is Cluster
        assert cluster.ssl_context is not None and cluster.protocol_version == 4
    finally:
        cluster.shutdown()


def test_crate_gives_a_connection_that_runs_select_1(tmp_path: Path, certs: Certs) -> None:
    from crate.client.connection import Connection

    with FakeCrateHTTPS(certs.server_context()) as server:
        p = profile(
            tmp_path,
            driver="crate",
            hosts=[f"https://localhost:{server.port}"],
            tls={"ca": str(certs.ca)},
        )
        connection = p.connect(timeout=3)
        try:
            assert type(connection) is Connection
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == [1]
        finally:
            connection.close()
    assert [r["path"].partition("?")[0] for r in server.requests] == ["/", "/_sql"]


def test_hazelcast_gives_the_client_which_reached_the_server(tmp_path: Path, certs: Certs) -> None:
    from hazelcast.errors import IllegalStateError

    with CloseAfterHandshake(certs.server_context()) as server:
        p = profile(
            tmp_path,
            driver="hazelcast",
            hosts=[f"127.0.0.1:{server.port}"],
            tls={"ca": str(certs.ca)},
        )
        # HazelcastClient connects in its constructor: the fake hangs up after TLS.
        with pytest.raises(IllegalStateError, match="Unable to connect"):
            p.connect(cluster_connect_timeout=1)
    assert any(s.first_bytes.startswith(b"CP2") for s in server.handshakes)


def test_pyexasol_gives_the_connection_which_logged_in(
    tmp_path: Path, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyexasol.exceptions import ExaError

    monkeypatch.setenv("EXASOL_TELEMETRY_DISABLE", "1")
    monkeypatch.setenv("EXA_PASSWORD", "pw-for-exasol")
    with FakeWebSocketTLS(certs.server_context()) as server:
        p = profile(
            tmp_path,
            driver="pyexasol",
            hosts=["localhost"],
            port=server.port,
            tls={"ca": str(certs.ca)},
            auth={"user": "sys", "password": "env:EXA_PASSWORD"},
        )
        with pytest.raises(ExaError):
            p.connect(connection_timeout=2, socket_timeout=2)
    frames = [s.frame for s in server.handshakes if s.frame]
    assert frames and frames[0]["command"] == "login"


def test_an_extra_the_profile_sets_is_refused(tmp_path: Path, certs: Certs) -> None:
    p = profile(tmp_path, driver="pymongo", hosts=["db.example.com"], tls={"ca": str(certs.ca)})
    with pytest.raises(connprof.ConnectArgumentConflict) as caught:
        p.connect(tlsAllowInvalidCertificates=True, TLSCAFILE="/etc/other.pem", connect=False)
    message = str(caught.value)
    assert "TLSCAFILE" in message and "change the profile instead" in message
    assert caught.value.names == ("TLSCAFILE",)
    assert "\n" not in message


def test_a_missing_driver_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = profile(tmp_path, driver="pymongo", hosts=["db.example.com"])
    for module in [m for m in sys.modules if m.split(".")[0] == "pymongo"]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "pymongo", None)  # import pymongo: ModuleNotFoundError
    with pytest.raises(connprof.DriverNotInstalled) as caught:
        p.connect()
    assert str(caught.value) == (
        "the pymongo driver is not installed (cannot import pymongo); "
        "pip install 'connprof[pymongo]'"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert isinstance(caught.value, ImportError)
