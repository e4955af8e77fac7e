"""The cassandra driver module: scenario rows S1-S10, a real ``Cluster()``, real TLS handshakes.

scylla-driver installs the same ``cassandra`` package with the same ``Cluster`` arguments, so
this module covers it; the two cannot be installed in one environment. To run these tests
against scylla-driver, use a second environment (checked with scylla-driver 3.29.12)::

    python3 -m venv /tmp/venv-scylla
    /tmp/venv-scylla/bin/pip install scylla-driver pytest trustme cryptography
    /tmp/venv-scylla/bin/pip install pydantic pyyaml keyring platformdirs
    PYTHONPATH=. /tmp/venv-scylla/bin/python -m pytest tests/drivers/test_cassandra.py \
        tests/drivers/test_handshake.py -k cassandra

The handshake assertions (here and in ``test_handshake.py``) rest on what the loopback server
saw (the CQL ``OPTIONS`` frame after the handshake) and on OpenSSL's verification texts, which
both drivers report alike; only the error after a passed handshake differs
(``OperationTimedOut`` here, ``ConnectionShutdown`` in scylla-driver), and the tests accept
either.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster

from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.helpers import Certs, HandshakeRunner

ROWS = load_rows("cassandra")


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("cassandra", row, tmp_path, monkeypatch)
    assert emitted == expected


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_real_cluster_accepts_the_built_arguments(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    cluster = Cluster(**kw)  # offline: IP contact points, no connection until connect()
    try:
        emitted = row["emits"]
        assert cluster.port == emitted["port"]
        assert list(cluster.contact_points) == [
            tuple(cp) if isinstance(cp, list) else cp for cp in emitted["contact_points"]
        ]
        if not profile.tls.enabled:
            assert cluster.ssl_context is None
            assert cluster.ssl_options is None
        else:
            ctx = cluster.ssl_context
            assert isinstance(ctx, ssl.SSLContext)
            none = profile.tls.verify == "none"
            assert ctx.verify_mode == (ssl.CERT_NONE if none else ssl.CERT_REQUIRED)
            assert ctx.check_hostname is (profile.tls.verify == "full")
            # Never the legacy dict: at most the one key read beside an ssl_context.
            assert cluster.ssl_options in (None, {"server_hostname": profile.tls.server_name})
        if profile.auth.user is not None:
            provider = cluster.auth_provider
            assert isinstance(provider, PlainTextAuthProvider)
            assert provider.username == profile.auth.user
            assert provider.password == "pw-for-cassandra"
            assert "pw-for-cassandra" not in repr(kw)
    finally:
        cluster.shutdown()


# -- real handshakes: what only cassandra does (the shared cases are in test_handshake.py) --------


def test_server_name_is_sent_and_checked_instead_of_the_ip(
    handshake: HandshakeRunner, certs: Certs
) -> None:
    h = handshake(
        "cassandra", {"ca": str(certs.ca), "server_name": "wrong.example.com"}, mismatch=True
    )
    assert h.passed
    assert {seen.sni for seen in h.server.handshakes} == {"wrong.example.com"}


def test_server_name_that_the_certificate_lacks_fails(
    handshake: HandshakeRunner, certs: Certs
) -> None:
    h = handshake("cassandra", {"ca": str(certs.ca), "server_name": "other.example.com"})
    assert not h.server.handshakes
    assert "Hostname mismatch" in h.text
