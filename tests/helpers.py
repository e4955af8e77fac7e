"""What the tests share: a file writer, the in-process CLI runner, ../shared, and the TLS harness.

The TLS harness is real on both ends: ``trustme`` certificates, a loopback server per driver
that completes the handshake and records what the client did after it, and the real driver
client built from a profile's arguments. ``handshake(driver, tls, ...)`` runs one connection and
returns what both sides saw, so one test can run against every driver (``design/drivers.md``
section 9 lists each driver's "TLS failed" and "TLS passed" signals; they are encoded below).

``conftest.py`` registers this module as a plugin: its fixtures (``certs``, ``no_default_cas``,
``handshake``) are available to every test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import pytest
import trustme
import yaml

from connprof import load_profile

ROOT = Path(__file__).resolve().parent.parent  # the repository
SAMPLES = ROOT / "sample_profiles"


# -- files ---------------------------------------------------------------------------------------


def write_file(
    path: Path, content: str | bytes | Mapping[str, Any], *, dedent: bool = False
) -> Path:
    """Write ``content`` to ``path`` (parent folders made) and return ``path``.

    A mapping is written as YAML, in its own key order. With ``dedent``, text loses its common
    indentation and its leading newlines, so it can be written as an indented triple-quoted
    string; without it the text is written exactly (line numbers matter to many tests).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
        return path
    if not isinstance(content, str):
        content = yaml.safe_dump(dict(content), sort_keys=False)
    elif dedent:
        content = textwrap.dedent(content).lstrip("\n")
    path.write_text(content, encoding="utf-8")
    return path


def write_profiles(path: Path, profiles: Mapping[str, Mapping[str, Any]], **top: Any) -> Path:
    """A profile file: ``profiles:`` from ``profiles``, plus top-level keys such as ``default``."""
    return write_file(path, {**top, "profiles": {k: dict(v) for k, v in profiles.items()}})


# -- the command line, in this process -----------------------------------------------------------


class CliResult(NamedTuple):
    """One ``connprof`` run. Named as ``subprocess.CompletedProcess`` names them; unpacks too."""

    returncode: int
    stdout: str
    stderr: str


class Stdin(io.StringIO):
    """A piped stdin: not a terminal. ``tell()`` says how much of it was read."""

    def isatty(self) -> bool:
        return False


class _Captured(io.StringIO):
    def close(self) -> None:
        # main() closes stderr when the reader of stdout went away; keep what was written.
        pass


def run_cli(*argv: str, stdin: str | io.StringIO = "", code: int | None = None) -> CliResult:
    """``connprof ARGV`` through ``connprof._cli.main``: exit code, stdout and stderr.

    stdin is piped (never a terminal): ``stdin`` as text, or a ``Stdin`` the caller keeps to
    see what was read. With ``code``, the exit code must be that one.
    """
    from connprof._cli import main

    out, err = _Captured(), _Captured()
    piped = Stdin(stdin) if isinstance(stdin, str) else stdin
    saved = sys.stdin
    sys.stdin = piped
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            returncode = main(list(argv))
    finally:
        sys.stdin = saved
    result = CliResult(returncode, out.getvalue(), err.getvalue())
    if code is not None:
        assert result.returncode == code, result
    return result


def run_connprof_process(
    *argv: str, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m connprof ARGV`` in a fresh interpreter (stdin piped, output captured).

    For what only a real process shows: start-up, what gets imported, the environment a
    process inherits, a real pipe. Everything else runs in-process, with ``run_cli``.
    """
    return subprocess.run(
        [sys.executable, "-m", "connprof", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=None if env is None else dict(env),
    )


# -- ../shared: material that may not be copied into this repository -----------------------------

SHARED = ROOT.parent / "shared"
REQUIRE_SHARED = "CONNPROF_REQUIRE_SHARED"


def need_shared(path: Path, what: str) -> None:
    """Skip when ``path`` (under ../shared) is absent, or fail with ``CONNPROF_REQUIRE_SHARED=1``.

    A user's clone has no ../shared beside it; CI does, and ``.ci/run`` sets the variable so a
    missing folder fails there instead of passing quietly.
    """
    if path.exists():
        return
    reason = f"{what} are read from {path}, which is absent (no ../shared beside this clone)"
    if os.environ.get(REQUIRE_SHARED, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_SHARED}=1 but {reason}")
    pytest.skip(reason)


# -- installed plugins -----------------------------------------------------------------------------


def install_plugin(
    site: Path, monkeypatch: pytest.MonkeyPatch, *, group: str, name: str, target: str, source: str
) -> Path:
    """A real installed distribution in ``site`` (put on sys.path) with one entry point.

    The distribution ``connprof-<name>`` has the module ``target``'s module, whose text is
    ``source``, and declares ``name = target`` in the entry-point ``group``.
    """
    module = target.partition(":")[0]
    dist = site / f"connprof_{name}-1.0.dist-info"
    write_file(dist / "METADATA", f"Metadata-Version: 2.1\nName: connprof-{name}\nVersion: 1.0\n")
    write_file(dist / "entry_points.txt", f"[{group}]\n{name} = {target}\n")
    write_file(site / f"{module}.py", textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, module, raising=False)
    return site


# -- certificates ----------------------------------------------------------------------------------

KEY_PASSWORD = "s3cret-key-pass"


@dataclass(frozen=True)
class Certs:
    """Paths of PEM files, plus the CAs to build server contexts from."""

    ca: Path  # the CA that signed every server and client certificate below
    other_ca: Path  # an unrelated CA: trusting only it must fail
    server_cert: Path  # chain + key for localhost, 127.0.0.1, ::1
    mismatch_cert: Path  # chain + key for wrong.example.com only (same CA)
    client_cert: Path  # client certificate alone
    client_key: Path  # its key, unencrypted
    client_combined: Path  # key + certificate in one file (pymongo's tlsCertificateKeyFile)
    client_key_encrypted: Path  # the same key, encrypted with KEY_PASSWORD
    client_combined_encrypted: Path  # encrypted key + certificate in one file
    _ca: trustme.CA

    def server_context(
        self, *, mismatch: bool = False, require_client_cert: bool = False
    ) -> ssl.SSLContext:
        """A server context with the good (or the mismatching) certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.mismatch_cert if mismatch else self.server_cert)
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca)
        return ctx


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """trustme CAs and certificates, made once per test session."""
    from cryptography.hazmat.primitives import serialization

    d = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    other = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1", "::1")
    mismatch = ca.issue_cert("wrong.example.com")
    client = ca.issue_cert("client@example.com")

    def write(name: str, data: bytes) -> Path:
        path = write_file(d / name, data)
        path.chmod(0o600)
        return path

    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    other.cert_pem.write_to_path(str(d / "other-ca.pem"))
    server.private_key_and_cert_chain_pem.write_to_path(str(d / "server.pem"))
    mismatch.private_key_and_cert_chain_pem.write_to_path(str(d / "mismatch.pem"))
    cert_pem = b"".join(blob.bytes() for blob in client.cert_chain_pems)
    key_pem = client.private_key_pem.bytes()
    key = serialization.load_pem_private_key(key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
    )
    return Certs(
        ca=d / "ca.pem",
        other_ca=d / "other-ca.pem",
        server_cert=d / "server.pem",
        mismatch_cert=d / "mismatch.pem",
        client_cert=write("client.crt", cert_pem),
        client_key=write("client.key", key_pem),
        client_combined=write("client.pem", key_pem + cert_pem),
        client_key_encrypted=write("client-enc.key", encrypted),
        client_combined_encrypted=write("client-enc.pem", encrypted + cert_pem),
        _ca=ca,
    )


def server_fingerprint(pem_path: str) -> str:
    """SHA-256 of the first certificate in a PEM file, upper-case hex (what pyexasol compares)."""
    text = Path(pem_path).read_text(encoding="ascii")
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    der = ssl.PEM_cert_to_DER_cert(text[start:end])
    return hashlib.sha256(der).hexdigest().upper()


#: What OpenSSL and the drivers read when a profile names no CA: cleared, "no CA" means none.
DEFAULT_CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
                        "WEBSOCKET_CLIENT_CA_BUNDLE")  # fmt: skip


@pytest.fixture
def no_default_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS trust store only: no variable points OpenSSL or a driver at another CA file."""
    for name in DEFAULT_CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- loopback TLS servers --------------------------------------------------------------------------


@dataclass
class Seen:
    """What one accepted connection did."""

    handshake_ok: bool = False
    error: BaseException | None = None  # why the handshake failed, on the server's side
    version: str | None = None  # the negotiated TLS version
    sni: str | None = None  # the server name the client sent, if any
    peer_cert: dict[str, Any] | None = None  # the client's certificate, if it sent one
    first_bytes: bytes = b""  # what the client sent first (CloseAfterHandshake)
    frame: dict[str, Any] | None = None  # pyexasol's first websocket frame (FakeWebSocketTLS)


class TLSServer:
    """Accepts on 127.0.0.1, completes TLS per connection in a thread, then calls ``talk``.

    A failed handshake never blocks the next connection. Leaving the ``with`` block waits for
    every connection's thread, so what the server saw is complete when the test reads it.
    """

    timeout = 10.0  # per connection, in seconds

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.connections: list[Seen] = []
        self._threads: list[threading.Thread] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._last_sni: str | None = None

        def remember_sni(_sock: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
            self._last_sni = name

        self.context.sni_callback = remember_sni

    def __enter__(self) -> TLSServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        for thread in list(self._threads):
            thread.join(5)

    @property
    def handshakes(self) -> list[Seen]:
        """The connections whose TLS handshake completed."""
        return [c for c in self.connections if c.handshake_ok]

    @property
    def handshake_errors(self) -> list[BaseException]:
        """Why the other connections' handshakes failed."""
        return [c.error for c in self.connections if c.error is not None]

    @property
    def peer_certs(self) -> list[dict[str, Any] | None]:
        """The client certificate of each completed handshake (None: it sent none)."""
        return [c.peer_cert for c in self.handshakes]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._one, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, raw: socket.socket) -> None:
        seen = Seen()
        self.connections.append(seen)
        self._last_sni = None  # the callback runs only when the client sends a name
        raw.settimeout(self.timeout)
        try:
            if not self.opening(raw):
                raw.close()
                return
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            seen.error = exc
            raw.close()
            return
        seen.handshake_ok = True
        seen.version = tls.version()
        seen.peer_cert = tls.getpeercert() or None
        seen.sni = self._last_sni
        try:
            self.talk(tls, seen)
        except (ssl.SSLError, OSError, ValueError):
            pass  # the client hung up, or (TLS 1.3) rejected us after the handshake
        finally:
            tls.close()

    def opening(self, raw: socket.socket) -> bool:
        """What the protocol says in plaintext before TLS (a STARTTLS server's part); False: no
        TLS follows. Direct TLS says nothing."""
        return True

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        raise NotImplementedError


def _recv_exactly(sock: ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-message")
        data += chunk
    return data


class CloseAfterHandshake(TLSServer):
    """TLS, read what the client sends first (up to 16 bytes, enough for a header), hang up.

    Enough for cassandra (the CQL ``OPTIONS`` frame) and hazelcast (``CP2`` and a frame header).
    """

    timeout = 3.0

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        tls.settimeout(0.5)
        with contextlib.suppress(TimeoutError, OSError):
            while len(seen.first_bytes) < 16:
                chunk = tls.recv(16 - len(seen.first_bytes))
                if not chunk:
                    return
                seen.first_bytes += chunk


class SayOK(TLSServer):
    """TLS, then ``b"ok"``, then hang up: for a client that only needs the handshake."""

    timeout = 5.0

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        tls.sendall(b"ok")


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class FakeWebSocketTLS(TLSServer):
    """TLS, answer the websocket upgrade, record the first frame as JSON, hang up (pyexasol)."""

    timeout = 3.0

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = tls.recv(4096)
            if not chunk:
                return
            request += chunk
        seen.first_bytes = request[:64]
        key = ""
        for line in request.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        tls.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        seen.frame = json.loads(_read_frame(tls))


def _read_frame(sock: ssl.SSLSocket) -> bytes:
    """One client websocket frame's payload (clients always mask)."""
    head = _recv_exactly(sock, 2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(_recv_exactly(sock, 2), "big")
    elif length == 127:
        length = int.from_bytes(_recv_exactly(sock, 8), "big")
    mask = _recv_exactly(sock, 4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = _recv_exactly(sock, length)
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013


class FakeMongo(TLSServer):
    """A standalone 'primary' that answers OP_MSG (and OP_QUERY) hello and ping, refuses logins."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.commands: list[dict[str, Any]] = []
        self._next_id = 1

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        self.commands.append(command)
        name = next(iter(command), "").lower()
        if name in ("hello", "ismaster"):
            return {
                "helloOk": True,
                "isWritablePrimary": True,
                "ismaster": True,
                "maxBsonObjectSize": 16 * 1024 * 1024,
                "maxMessageSizeBytes": 48_000_000,
                "maxWriteBatchSize": 100_000,
                "localTime": datetime.now(UTC),
                "logicalSessionTimeoutMinutes": 30,
                "connectionId": len(self.commands),
                "minWireVersion": 0,
                "maxWireVersion": 21,
                "readOnly": False,
                "ok": 1.0,
            }
        if name in ("saslstart", "authenticate"):
            return {"ok": 0.0, "errmsg": "fake server: no auth here", "code": 18,
                    "codeName": "AuthenticationFailed"}  # fmt: skip
        return {"ok": 1.0}

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        import bson

        while True:
            try:
                header = _recv_exactly(tls, 16)
            except ConnectionError:
                return
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            body = _recv_exactly(tls, length - 16)
            if opcode == OP_MSG:
                reply = self.answer(_op_msg_command(body))
                payload = struct.pack("<I", 0) + b"\x00" + bson.encode(reply)
            elif opcode == OP_QUERY:
                reply = self.answer(_op_query_command(body))
                payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(reply)
                opcode = OP_REPLY
            else:
                return
            self._next_id += 1
            head = struct.pack("<iiii", 16 + len(payload), self._next_id, request_id, opcode)
            tls.sendall(head + payload)


def _op_msg_command(body: bytes) -> dict[str, Any]:
    import bson

    (flags,) = struct.unpack("<I", body[:4])
    end = len(body) - (4 if flags & 1 else 0)  # a trailing CRC-32C when checksumPresent
    pos, command = 4, {}
    while pos < end:
        kind = body[pos]
        (size,) = struct.unpack("<i", body[pos + 1 : pos + 5])
        if kind == 0:
            command = bson.decode(body[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return command


def _op_query_command(body: bytes) -> dict[str, Any]:
    import bson

    pos = body.index(b"\x00", 4) + 1 + 8  # flags, collection name, skip and limit
    (size,) = struct.unpack("<i", body[pos : pos + 4])
    return bson.decode(body[pos : pos + size])


class FakeCrateHTTPS(TLSServer):
    """A CrateDB node over HTTPS: ``GET /`` says who it is, ``POST /_sql`` returns one row."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.requests: list[dict[str, Any]] = []

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buffered += chunk
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in header_lines)}  # fmt: skip
            length = int(headers.get("content-length", "0"))
            while len(buffered) < length:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buffered += chunk
            body, buffered = buffered[:length], buffered[length:]
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            if method == "GET" and path == "/":
                answer: dict[str, Any] = {
                    "ok": True,
                    "status": 200,
                    "name": "fake-node",
                    "cluster_name": "fake",
                    "version": {"number": "5.10.0"},
                }
            else:
                answer = {"cols": ["1"], "col_types": [10], "rows": [[1]], "rowcount": 1,
                          "duration": 0.1}  # fmt: skip
            data = json.dumps(answer).encode()
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )


# -- one handshake: a profile, a server, the real client -------------------------------------------


@dataclass
class Handshake:
    """What one connection attempt showed on both ends."""

    server: Any  # the TLSServer subclass the driver talks to, after the connection
    error: BaseException | None  # what the client raised; None when it worked end to end
    text: str  # what the client reported: "ok", its error's text, or (hazelcast) its log
    passed: bool  # the handshake passed and the client went on to speak its protocol


CQL_V4_OPTIONS = b"\x04\x00\x00\x00\x05"  # version 4 request, stream 0, opcode OPTIONS
MONGO_FAIL_FAST = {"directConnection": True, "serverSelectionTimeoutMS": 1500}


def crate_client_kwargs(kw: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments ``crate.client.http.Client`` (offline) takes, from ``connect``'s."""
    import inspect

    import crate.client
    from crate.client.http import Client

    connect_only = set(inspect.signature(crate.client.connect).parameters) - set(
        inspect.signature(Client).parameters
    )
    return {k: v for k, v in kw.items() if k not in connect_only}


def _cassandra(port: int, doc: dict[str, Any], kw: Callable[[], dict[str, Any]]) -> Any:
    doc.update(hosts=["127.0.0.1"], port=port)
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
    from cassandra.policies import RoundRobinPolicy

    quick = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    cluster = Cluster(
        **kw(),
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
    return error, str(error)


def _hazelcast(port: int, doc: dict[str, Any], kw: Callable[[], dict[str, Any]]) -> Any:
    doc.update(hosts=[f"127.0.0.1:{port}"])
    import hazelcast
    from hazelcast.errors import IllegalStateError

    arguments = kw()
    # The TLS outcome is only in hazelcast's log (design/drivers.md section 4).
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("hazelcast")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with pytest.raises(IllegalStateError, match="Unable to connect") as failed:
            hazelcast.HazelcastClient(**arguments, cluster_connect_timeout=1)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return failed.value, log.getvalue()


def _pyexasol(port: int, doc: dict[str, Any], kw: Callable[[], dict[str, Any]]) -> Any:
    doc.update(hosts=["localhost"], port=port)
    doc.setdefault("auth", {"user": "sys", "password": "env:EXA_PASSWORD"})
    import pyexasol
    from pyexasol.exceptions import ExaError

    with pytest.raises(ExaError) as failed:
        pyexasol.connect(**kw(), connection_timeout=2, socket_timeout=2)
    return failed.value, failed.value.message


def _pymongo(port: int, doc: dict[str, Any], kw: Callable[[], dict[str, Any]]) -> Any:
    doc.update(hosts=[f"localhost:{port}"])
    doc["options"] = {**MONGO_FAIL_FAST, **doc.get("options", {})}
    import pymongo
    from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

    client: Any = pymongo.MongoClient(**kw())
    try:
        client.admin.command("ping")
        return None, "ok"
    except (ServerSelectionTimeoutError, OperationFailure) as exc:
        # The text says whether TLS failed (design/drivers.md section 1).
        return exc, f"{type(exc).__name__}: {exc}"
    finally:
        client.close()


def _crate(port: int, doc: dict[str, Any], kw: Callable[[], dict[str, Any]]) -> Any:
    doc.update(hosts=[f"https://localhost:{port}"])
    from crate.client.exceptions import ConnectionError as CrateConnectionError
    from crate.client.http import Client

    arguments = kw()
    client = Client(**crate_client_kwargs(arguments))
    try:
        # One explicit server: it fails at once instead of rotating servers.
        _, name, version = client.server_infos(arguments["servers"][0])
        assert (name, version) == ("fake-node", "5.10.0")
        return None, "ok"
    except CrateConnectionError as exc:
        return exc, f"ConnectionError: {exc}"
    finally:
        client.close()


def _passed(driver: str, server: Any, text: str) -> bool:
    """The handshake passed and the client spoke its protocol (design/drivers.md section 9)."""
    if driver == "cassandra":
        return any(s.first_bytes.startswith(CQL_V4_OPTIONS) for s in server.handshakes)
    if driver == "hazelcast":
        return any(s.first_bytes.startswith(b"CP2") for s in server.handshakes)
    if driver == "pyexasol":
        sent = {(s.frame or {}).get("command") for s in server.handshakes}
        return bool(sent & {"login", "loginToken"})
    if driver == "pymongo":
        return text == "ok" and any(c.get("ping") == 1 for c in server.commands)
    assert driver == "crate", driver
    return text == "ok" and server.requests[0]["path"] == "/"


#: driver: (its loopback server, how it connects)
CLIENTS: dict[str, tuple[type[TLSServer], Callable[..., Any]]] = {
    "cassandra": (CloseAfterHandshake, _cassandra),
    "crate": (FakeCrateHTTPS, _crate),
    "hazelcast": (CloseAfterHandshake, _hazelcast),
    "pyexasol": (FakeWebSocketTLS, _pyexasol),
    "pymongo": (FakeMongo, _pymongo),
}
DRIVERS = sorted(CLIENTS)


def run_handshake(
    driver: str,
    tls: Any,
    *,
    certs: Certs,
    folder: Path,
    server_context: ssl.SSLContext | None = None,
    mismatch: bool = False,
    require_client_cert: bool = False,
    server_min: ssl.TLSVersion | None = None,
    server_max: ssl.TLSVersion | None = None,
    **profile: Any,
) -> Handshake:
    """Start ``driver``'s loopback server, connect with a profile's arguments, report both ends.

    The profile is ``tls`` plus ``profile``'s fields, written to a file in ``folder`` and loaded;
    its host and port are the server's. Building the arguments raises as it would for a user
    (``UnsupportedSetting``, ``TLSFileError``), before the client is touched.
    """
    server_class, connect = CLIENTS[driver]
    ctx = server_context or certs.server_context(
        mismatch=mismatch, require_client_cert=require_client_cert
    )
    if server_min is not None:
        ctx.minimum_version = server_min
    if server_max is not None:
        ctx.maximum_version = server_max
    with server_class(ctx) as server:
        doc: dict[str, Any] = {"driver": driver, "tls": tls, **profile}

        def kwargs() -> dict[str, Any]:
            path = write_profiles(folder / "handshake.yaml", {"p": doc})
            return load_profile("p", config=str(path)).driver_kwargs()

        error, text = connect(server.port, doc, kwargs)
    return Handshake(server, error, text, _passed(driver, server, text))


HandshakeRunner = Callable[..., Handshake]


@pytest.fixture
def handshake(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HandshakeRunner]:
    """``handshake(driver, tls, **options)``: ``run_handshake`` with this test's certs and folder.

    pyexasol's telemetry is off, and its default login's password is in ``EXA_PASSWORD``.
    """
    # pyexasol.connect() would otherwise report to metrics.exasol.com.
    monkeypatch.setenv("EXASOL_TELEMETRY_DISABLE", "1")
    monkeypatch.setenv("EXA_PASSWORD", "pw-for-exasol")

    def run(driver: str, tls: Any, **options: Any) -> Handshake:
        return run_handshake(driver, tls, certs=certs, folder=tmp_path, **options)

    yield run


# -- servers and certificates for `connprof doctor` ------------------------------------------------


class PlaintextServer:
    """Accepts on 127.0.0.1 and answers whatever arrives with a plaintext HTTP 400 (not TLS)."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> PlaintextServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with raw:
                raw.settimeout(2)
                with contextlib.suppress(OSError):
                    raw.recv(4096)
                    raw.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


class SilentServer:
    """A port whose TCP connect succeeds (the kernel's backlog) but that never says a word."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=8)
        self.port: int = self._sock.getsockname()[1]

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class BadCerts:
    """Server certificates (chain + key PEM) built to fail, and a client certificate of another CA.

    All server certificates name localhost and 127.0.0.1 and are signed by ``Certs.ca``'s CA
    (through an intermediate for the two chain files), so only what their name says is wrong.
    """

    expired: Path
    not_yet_valid: Path
    expiring_soon: Path  # valid for 10 more days
    no_intermediate: Path  # a leaf signed by an intermediate, served without the intermediate
    full_chain: Path  # the same leaf with its intermediate: verifies against the root
    expired_ca: Path  # a CA certificate out of its dates (for the offline checks)
    foreign_client: Path  # client cert + key from an unrelated CA (combined)
    foreign_client_cert: Path
    foreign_client_key: Path
    self_signed: Path  # a self-signed leaf for localhost (no CA behind it)


def _self_signed_pem(name: str) -> bytes:
    """Key + a self-signed certificate for ``name`` (what a default database install has)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def bad_certs(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> BadCerts:
    """trustme certificates with wrong dates, a missing intermediate, a foreign client."""
    from datetime import timedelta

    d = tmp_path_factory.mktemp("bad-certs")
    ca = certs._ca
    now = datetime.now(UTC)
    day = timedelta(days=1)
    names = ("localhost", "127.0.0.1")

    def write(name: str, data: bytes) -> Path:
        path = write_file(d / name, data)
        path.chmod(0o600)
        return path

    def chain(leaf: trustme.LeafCert) -> bytes:
        return leaf.private_key_and_cert_chain_pem.bytes()

    expired = ca.issue_cert(*names, not_before=now - 10 * day, not_after=now - day)
    future = ca.issue_cert(*names, not_before=now + day, not_after=now + 10 * day)
    soon = ca.issue_cert(*names, not_before=now - day, not_after=now + 10 * day)
    child = ca.create_child_ca()
    leaf = child.issue_cert(*names)
    leaf_only = leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes()
    old_ca = trustme.CA()
    old = old_ca.issue_cert("old-ca.example", not_before=now - 10 * day, not_after=now - day)
    foreign = trustme.CA().issue_cert("client@example.com")
    cert_pem = b"".join(blob.bytes() for blob in foreign.cert_chain_pems)
    key_pem = foreign.private_key_pem.bytes()
    return BadCerts(
        expired=write("expired.pem", chain(expired)),
        not_yet_valid=write("not-yet-valid.pem", chain(future)),
        expiring_soon=write("expiring-soon.pem", chain(soon)),
        no_intermediate=write("no-intermediate.pem", leaf_only),
        full_chain=write("full-chain.pem", chain(leaf)),
        expired_ca=write("expired-ca.pem", old.cert_chain_pems[0].bytes()),
        foreign_client=write("foreign-client.pem", key_pem + cert_pem),
        foreign_client_cert=write("foreign-client.crt", cert_pem),
        foreign_client_key=write("foreign-client.key", key_pem),
        self_signed=write("self-signed.pem", _self_signed_pem("localhost")),
    )


def server_context(
    cert: Path,
    *,
    client_ca: Path | None = None,
    max_version: ssl.TLSVersion | None = None,
    min_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context serving ``cert`` (chain + key), requiring a client certificate signed by
    ``client_ca`` when given, within a version range."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1: the point here
            if max_version < ssl.TLSVersion.TLSv1_2:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses 1.0/1.1 otherwise
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = max_version
    return ctx


#: How each driver's profile names the loopback server at ``port`` (its own hosts spelling).
def doctor_endpoint(driver: str, port: int) -> dict[str, Any]:
    if driver == "crate":
        return {"hosts": [f"https://localhost:{port}"]}
    if driver == "cassandra":
        return {"hosts": ["127.0.0.1"], "port": port}
    return {"hosts": [f"localhost:{port}"]}
