"""doctor's tls step through the plaintext preambles of PostgreSQL and MySQL/MariaDB.

Small loopback stand-ins speak the real opening bytes (PostgreSQL: SSLRequest answered ``S`` or
``N``; MySQL: a HandshakeV10 greeting with or without ``CLIENT_SSL``, then the client's
SSLRequest packet), then TLS with trustme certificates: cases a real server will not stage
(``N``, no ``CLIENT_SSL``, an ERR greeting). The endpoint steps run with the plans psycopg and
pymysql get (``_PLANS`` by driver name); tests/drivers/test_real_servers.py runs the whole doctor
against real PostgreSQL and MariaDB servers.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connprof import Profile, load_profile
from connprof._doctor import _probe, _unverified
from connprof._doctor._plan import _PLANS, _generic
from connprof._doctor._probe import Endpoint
from connprof._doctor._starttls import (
    CLIENT_SSL,
    PG_SSL_REQUEST,
    PREAMBLES,
    PreambleFailed,
    mysql_ssl_request,
    postgres_ssl_request,
)
from connprof._tls import build_ssl_context
from tests.helpers import Certs, SayOK, Seen, TLSServer, write_profiles


class StartTLSServer(TLSServer):
    """A protocol's plaintext opening (``opening``, recorded in ``opened``), then TLS, then it
    waits for the client's first bytes (its startup packet) or its hang-up."""

    timeout = 3.0

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.opened: list[bytes] = []  # what each client said before TLS

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        tls.settimeout(1)
        with contextlib.suppress(TimeoutError):
            tls.recv(1)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError
        data += chunk
    return data


class FakePostgres(StartTLSServer):
    """Reads the 8-byte SSLRequest, answers ``S`` (TLS follows) or ``N``."""

    def __init__(self, context: ssl.SSLContext, answer: bytes = b"S") -> None:
        super().__init__(context)
        self.answer = answer

    def opening(self, sock: socket.socket) -> bool:
        self.opened.append(_exactly(sock, 8))
        sock.sendall(self.answer)
        return self.answer == b"S"


class DirectPostgres(StartTLSServer):
    """PostgreSQL 17's direct TLS: TLS from the first byte (ALPN ``postgresql`` if set)."""

    def opening(self, sock: socket.socket) -> bool:
        return True


def mysql_greeting(capabilities: int, version: bytes = b"10.11.6-MariaDB") -> bytes:
    payload = (
        b"\x0a" + version + b"\x00" + struct.pack("<I", 7) + b"12345678" + b"\x00"
        + struct.pack("<H", capabilities & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16) + b"\x15" + b"\x00" * 10
        + b"123456789012\x00" + b"mysql_native_password\x00"
    )  # fmt: skip
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


class FakeMySQL(StartTLSServer):
    """Greets with HandshakeV10 (CLIENT_SSL or not); after the SSLRequest packet, TLS."""

    def __init__(self, context: ssl.SSLContext, *, offers_tls: bool = True) -> None:
        super().__init__(context)
        # MariaDB 10.11's flags, with CLIENT_SSL (0x800) as the test says.
        self.capabilities = 0xF7FF | (CLIENT_SSL if offers_tls else 0) | (0x81BF << 16)

    def opening(self, sock: socket.socket) -> bool:
        sock.sendall(mysql_greeting(self.capabilities))
        if not self.capabilities & CLIENT_SSL:
            with contextlib.suppress(OSError):
                self.opened.append(sock.recv(64))  # a client that read the greeting says nothing
            return False
        self.opened.append(_exactly(sock, 36))
        return True


class ErrMySQL(StartTLSServer):
    """Answers with an ERR packet instead of a greeting (host not allowed)."""

    def opening(self, sock: socket.socket) -> bool:
        payload = b"\xff" + struct.pack("<H", 1130) + b"Host '127.0.0.1' is not allowed"
        sock.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)
        return False


def base_profile(tmp_path: Path, port: int, tls: Any, **fields: Any) -> Profile:
    doc = {"driver": "pymongo", "hosts": [f"localhost:{port}"], "tls": tls, **fields}
    path = write_profiles(tmp_path / "p.yaml", {"p": doc})
    return load_profile("p", config=str(path))


Probe = Callable[..., Endpoint]


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    """``probe(driver, port, tls, **fields)``: doctor's endpoint steps with ``driver``'s plan."""

    def run(driver: str, port: int, tls: Any, **fields: Any) -> Endpoint:
        profile = base_profile(tmp_path, port, tls)
        if fields:
            profile = profile.model_copy(update=fields)
        plan = _PLANS[driver](profile)
        context = build_ssl_context(plan.tls)
        if plan.alpn:
            context.set_alpn_protocols(list(plan.alpn))
        (endpoint,) = _probe([("localhost", port)], profile, plan, context, 2.0, None)
        return endpoint

    return run


def step(endpoint: Endpoint, name: str) -> Any:
    (check,) = [c for c in endpoint.checks if c.step == name]
    return check


def test_the_plan_table_names_the_new_drivers() -> None:
    assert _PLANS["redis"] is _generic
    assert {"psycopg", "pymysql", "redis"} <= set(_PLANS)
    assert PREAMBLES["psycopg"][0] is postgres_ssl_request
    assert PREAMBLES["pymysql"][0] is mysql_ssl_request


# -- PostgreSQL ----------------------------------------------------------------------------------


def test_postgres_tls_after_the_ssl_request(certs: Certs, probe: Probe) -> None:
    with FakePostgres(certs.server_context()) as server:
        e = probe("psycopg", server.port, {"ca": str(certs.ca)})
    tls = step(e, "tls")
    assert tls.ok and not tls.warning, e.checks
    assert "handshake after PostgreSQL's SSLRequest (" in tls.message
    assert "name localhost matches" in tls.message
    assert step(e, "certificate").ok
    assert server.opened == [PG_SSL_REQUEST] and len(server.handshakes) == 1
    assert PG_SSL_REQUEST == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"  # 8, 80877103


def test_postgres_untrusted_and_mismatched_certificates(certs: Certs, probe: Probe) -> None:
    with FakePostgres(certs.server_context()) as server:
        other = step(probe("psycopg", server.port, {"ca": str(certs.other_ca)}), "tls")
    with FakePostgres(certs.server_context(mismatch=True)) as server:
        wrong = step(probe("psycopg", server.port, {"ca": str(certs.ca)}), "tls")
        checked_ca = step(
            probe("psycopg", server.port, {"ca": str(certs.ca), "verify": "ca"}), "tls"
        )
    assert other.problem == "untrusted_certificate"
    assert "issued by" in other.message  # the unverified look went through the preamble too
    assert wrong.problem == "hostname_mismatch"
    assert wrong.message.endswith("it names wrong.example.com")
    assert checked_ca.ok and "the name is not checked" in checked_ca.message


def test_postgres_that_refuses_tls(certs: Certs, probe: Probe) -> None:
    with FakePostgres(certs.server_context(), answer=b"N") as server:
        e = probe("psycopg", server.port, {"ca": str(certs.ca)})
    tls = step(e, "tls")
    assert (tls.ok, tls.problem) == (False, "not_tls")
    assert tls.message.startswith("the PostgreSQL server refuses TLS (it answered N")
    assert [c.step for c in e.checks] == ["dns", "tcp", "tls"]


def test_postgres_sslmode_require_with_a_ca_verifies_the_chain(
    certs: Certs, tmp_path: Path
) -> None:
    # libpq: sslmode=require with a root certificate file behaves as verify-ca.
    profile = base_profile(
        tmp_path, 1, {"ca": str(certs.ca), "verify": "none"}, allow_insecure=True
    )
    plan = _PLANS["psycopg"](profile)
    assert plan.tls.verify == "ca" and plan.insecure is None
    assert _PLANS["pymysql"](profile).tls.verify == "none"


def test_postgres_direct_tls_needs_alpn(certs: Certs, probe: Probe) -> None:
    with_alpn = certs.server_context()
    with_alpn.set_alpn_protocols(["postgresql"])
    with DirectPostgres(with_alpn) as server:
        good = probe(
            "psycopg", server.port, {"ca": str(certs.ca)}, options={"sslnegotiation": "direct"}
        )
    with DirectPostgres(certs.server_context()) as server:
        bare = probe(
            "psycopg", server.port, {"ca": str(certs.ca)}, options={"sslnegotiation": "direct"}
        )
    assert step(good, "tls").ok and "SSLRequest" not in step(good, "tls").message
    tls = step(bare, "tls")
    assert (tls.ok, tls.problem) == (False, "not_tls")
    assert "without selecting ALPN postgresql" in tls.message


# -- MySQL / MariaDB ---------------------------------------------------------------------------


def test_mysql_tls_after_the_greeting(certs: Certs, probe: Probe) -> None:
    with FakeMySQL(certs.server_context()) as server:
        e = probe("pymysql", server.port, {"ca": str(certs.ca)})
    tls = step(e, "tls")
    assert tls.ok, e.checks
    assert "handshake after the MySQL SSLRequest (" in tls.message
    (request,) = server.opened
    assert request[:4] == b"\x20\x00\x00\x01"  # 32 bytes, sequence id 1
    (flags,) = struct.unpack("<I", request[4:8])
    assert flags & CLIENT_SSL and request[13:] == b"\x00" * 23


def test_mysql_mismatch_and_untrusted(certs: Certs, probe: Probe) -> None:
    with FakeMySQL(certs.server_context(mismatch=True)) as server:
        wrong = step(probe("pymysql", server.port, {"ca": str(certs.ca)}), "tls")
    with FakeMySQL(certs.server_context()) as server:
        other = step(probe("pymysql", server.port, {"ca": str(certs.other_ca)}), "tls")
    assert wrong.problem == "hostname_mismatch" and "wrong.example.com" in wrong.message
    assert other.problem == "untrusted_certificate"


def test_mysql_without_client_ssl(certs: Certs, probe: Probe) -> None:
    with FakeMySQL(certs.server_context(), offers_tls=False) as server:
        e = probe("pymysql", server.port, {"ca": str(certs.ca)})
    tls = step(e, "tls")
    assert (tls.ok, tls.problem) == (False, "not_tls")
    assert tls.message.startswith("the MySQL server (10.11.6-MariaDB) does not offer TLS")


def test_mysql_that_refuses_the_host(certs: Certs, probe: Probe) -> None:
    with ErrMySQL(certs.server_context()) as server:
        tls = step(probe("pymysql", server.port, {"ca": str(certs.ca)}), "tls")
    assert tls.problem == "connection_refused"
    assert tls.message.endswith("(1130) Host '127.0.0.1' is not allowed")


def test_a_preamble_against_a_tls_server_is_not_tls(certs: Certs) -> None:
    # A TLS-first server (wrong port) never answers the SSLRequest, nor greets as MySQL.
    with SayOK(certs.server_context()) as server:
        for preamble in (postgres_ssl_request, mysql_ssl_request):
            with (
                socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as sock,
                pytest.raises(PreambleFailed) as failed,
            ):
                preamble(sock)
            assert failed.value.problem in ("not_tls", "timeout")


def test_unverified_context_offers_alpn_for_direct(certs: Certs, tmp_path: Path) -> None:
    profile = base_profile(tmp_path, 1, {"ca": str(certs.ca)})
    profile = profile.model_copy(update={"options": {"sslnegotiation": "direct"}})
    plan = _PLANS["psycopg"](profile)
    assert plan.alpn == ("postgresql",) and plan.preamble is None
    assert isinstance(_unverified(plan, None), ssl.SSLContext)
