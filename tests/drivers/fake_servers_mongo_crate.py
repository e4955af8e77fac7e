"""Loopback TLS servers that the pymongo and crate drivers really talk to, recording what they saw.

``FakeMongo`` answers OP_MSG (and legacy OP_QUERY) ``hello`` and ``ping`` and fails every
authentication attempt; ``FakeCrateHTTPS`` answers ``GET /`` and ``POST /_sql``. Both accept on
127.0.0.1, do the TLS handshake in a thread per connection (so a failed handshake never blocks
the next one) and keep the handshake errors, peer certificates and requests for the test.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from datetime import UTC, datetime
from typing import Any

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013


class TLSServer:
    """Accepts on 127.0.0.1, completes TLS per connection, then hands the socket to ``serve``."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.handshake_errors: list[BaseException] = []
        self.handshakes = 0
        self.peer_certs: list[dict[str, Any] | None] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TLSServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.handshake_errors.append(exc)
            conn.close()
            return
        self.handshakes += 1
        self.peer_certs.append(tls.getpeercert() or None)
        try:
            self.serve(tls)
        except (ssl.SSLError, OSError, ConnectionError):
            pass  # the client hung up, or (TLS 1.3) rejected us after the handshake
        finally:
            tls.close()

    def serve(self, conn: ssl.SSLSocket) -> None:
        raise NotImplementedError


def _recv_exact(conn: ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


class FakeMongo(TLSServer):
    """A standalone 'primary' that answers hello and ping, and refuses every login."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.commands: list[dict[str, Any]] = []
        self._next_id = 1

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

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

    def serve(self, conn: ssl.SSLSocket) -> None:
        while True:
            header = _recv_exact(conn, 16)
            if not header:
                return
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            body = _recv_exact(conn, length - 16)
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
            conn.sendall(head + payload)


def _op_msg_command(body: bytes) -> dict[str, Any]:
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
    pos = body.index(b"\x00", 4) + 1 + 8  # flags, collection name, skip and limit
    (size,) = struct.unpack("<i", body[pos : pos + 4])
    return bson.decode(body[pos : pos + size])


class FakeCrateHTTPS(TLSServer):
    """A CrateDB node over HTTPS: ``GET /`` says who it is, ``POST /_sql`` returns one row."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def serve(self, conn: ssl.SSLSocket) -> None:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = conn.recv(65536)
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
                chunk = conn.recv(65536)
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
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
