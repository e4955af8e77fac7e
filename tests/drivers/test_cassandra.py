"""The cassandra driver module: scenario rows S1-S10, a real ``Cluster()``, real TLS handshakes.

scylla-driver installs the same ``cassandra`` package with the same ``Cluster`` arguments, so
this module covers it; the two cannot be installed in one environment. To run these tests
against scylla-driver, use a second environment (checked with scylla-driver 3.29.12)::

    python3 -m venv /tmp/venv-scylla
    /tmp/venv-scylla/bin/pip install scylla-driver pytest trustme cryptography
    /tmp/venv-scylla/bin/pip install pydantic pyyaml keyring platformdirs
    PYTHONPATH=. /tmp/venv-scylla/bin/python -m pytest tests/drivers/test_cassandra.py

The handshake assertions rest on what the loopback server saw (the CQL ``OPTIONS`` frame after
the handshake) and on OpenSSL's verification texts, which both drivers report alike; only the
error after a passed handshake differs (``OperationTimedOut`` here, ``ConnectionShutdown`` in
scylla-driver), and no test depends on it.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import RoundRobinPolicy

from connprof import load_profile
from connprof._errors import TLSFileError
from tests.drivers.fake_servers_cqh import CloseAfterHandshake
from tests.drivers.scenario import check_row, load_row, load_rows, row_params
from tests.tls_certs import KEY_PASSWORD, Certs

ROWS = load_rows("cassandra")
CQL_V4_OPTIONS = b"\x04\x00\x00\x00\x05"  # version 4 request, stream 0, opcode OPTIONS


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


# -- real handshakes against a loopback server ---------------------------------------------------


@pytest.fixture
def no_default_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS trust store only: no variable points OpenSSL at another CA file."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


Connect = Callable[..., tuple[CloseAfterHandshake, BaseException]]


@pytest.fixture
def connect(certs: Certs, tmp_path: Path) -> Iterator[Connect]:
    """Start a server, connect with a profile's built arguments, return (server, error)."""

    def run(
        tls: Any,
        *,
        mismatch: bool = False,
        require_client_cert: bool = False,
        server_max: ssl.TLSVersion | None = None,
        **profile: Any,
    ) -> tuple[CloseAfterHandshake, BaseException]:
        server_ctx = certs.server_context(
            mismatch=mismatch, require_client_cert=require_client_cert
        )
        if server_max is not None:
            server_ctx.maximum_version = server_max
        with CloseAfterHandshake(server_ctx) as server:
            doc = {"driver": "cassandra", "hosts": ["127.0.0.1"], "port": server.port, "tls": tls}
            doc.update(profile)
            path = tmp_path / "p.yaml"
            path.write_text(yaml.safe_dump({"profiles": {"p": doc}}))
            kw = load_profile("p", config=str(path)).driver_kwargs()
            quick = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
            cluster = Cluster(
                **kw,
                protocol_version=4,
                execution_profiles={EXEC_PROFILE_DEFAULT: quick},
                connect_timeout=1,
                control_connection_timeout=1,
            )
            try:
                with pytest.raises(NoHostAvailable) as failed:
                    cluster.connect()
            finally:
                cluster.shutdown()
            (error,) = failed.value.errors.values()
            return server, error

    yield run


def passed(server: CloseAfterHandshake) -> bool:
    """The handshake completed and the driver went on to speak CQL."""
    return any(seen.first_bytes.startswith(CQL_V4_OPTIONS) for seen in server.handshakes)


def test_right_ca_passes(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca)})
    assert passed(server)


def test_wrong_ca_fails(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.other_ca)})
    assert not server.handshakes
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)


@pytest.mark.usefixtures("no_default_ca")
def test_no_ca_fails_against_the_os_store(connect: Connect) -> None:
    server, error = connect(True)
    assert not server.handshakes
    assert "unable to get local issuer certificate" in str(error)


def test_hostname_mismatch_fails_under_verify_full(connect: Connect, certs: Certs) -> None:
    # The driver checks the node's IP address; the certificate names only wrong.example.com.
    server, error = connect({"ca": str(certs.ca)}, mismatch=True)
    assert not server.handshakes
    assert "IP address mismatch" in str(error)


def test_verify_ca_passes_the_mismatch(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "verify": "ca"}, mismatch=True)
    assert passed(server)


def test_verify_none_passes_an_unknown_ca(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"verify": "none"}, allow_insecure=True)
    assert passed(server)


def test_server_name_is_sent_and_checked_instead_of_the_ip(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "server_name": "wrong.example.com"}, mismatch=True)
    assert passed(server)
    assert {seen.sni for seen in server.handshakes} == {"wrong.example.com"}


def test_server_name_that_the_certificate_lacks_fails(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.ca), "server_name": "other.example.com"})
    assert not server.handshakes
    assert "Hostname mismatch" in str(error)


def test_client_certificate_required_and_missing_fails(connect: Connect, certs: Certs) -> None:
    server, error = connect({"ca": str(certs.ca)}, require_client_cert=True)
    assert not passed(server)
    assert "Timed out" not in str(error)  # refused at once, not after a handshake


def test_client_certificate_and_key_pass(connect: Connect, certs: Certs) -> None:
    tls = {"ca": str(certs.ca), "client_cert": str(certs.client_cert)}
    server, _ = connect({**tls, "client_key": str(certs.client_key)}, require_client_cert=True)
    assert passed(server)
    assert all(seen.peer_cert for seen in server.handshakes)


def test_encrypted_client_key_with_its_password_passes(
    connect: Connect, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASS_KEY_PASSWORD", KEY_PASSWORD)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:CASS_KEY_PASSWORD",
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
    with pytest.raises(TLSFileError, match="encrypted and the profile gives no password"):
        connect(tls, require_client_cert=True)


def test_min_version_above_the_server_fails(connect: Connect, certs: Certs) -> None:
    tls = {"ca": str(certs.ca), "min_version": "1.3"}
    server, error = connect(tls, server_max=ssl.TLSVersion.TLSv1_2)
    assert not server.handshakes
    assert "PROTOCOL_VERSION" in str(error).upper()


def test_min_version_the_server_speaks_passes(connect: Connect, certs: Certs) -> None:
    server, _ = connect({"ca": str(certs.ca), "min_version": "1.3"})
    assert passed(server)
    assert {seen.version for seen in server.handshakes} == {"TLSv1.3"}
