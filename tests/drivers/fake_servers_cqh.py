"""Loopback TLS servers that let the cassandra, hazelcast and pyexasol drivers prove a handshake.

``CloseAfterHandshake`` completes TLS, records the first bytes the client sends (the CQL
``OPTIONS`` frame, hazelcast's ``CP2``), then hangs up. ``FakeWebSocketTLS`` completes TLS and
the HTTP 101 upgrade, records pyexasol's first JSON frame (``login``/``loginToken``), then hangs
up. Either way the client ends in an error, and what the server recorded says whether the
handshake passed: the drivers only show "handshake failed" and "passed, then the server hung
up" as different error texts (``design/drivers.md`` section 9).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


@dataclass
class Seen:
    """What one accepted connection did."""

    handshake_ok: bool = False
    error: str | None = None
    first_bytes: bytes = b""
    peer_cert: bool = False  # the client presented a certificate
    version: str | None = None  # the negotiated TLS version
    sni: str | None = None  # the server name the client sent, if any
    frame: dict[str, Any] | None = None  # pyexasol's first websocket frame


@dataclass
class _Server:
    context: ssl.SSLContext
    connections: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

        def remember_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            self._last_sni = name

        self._last_sni: str | None = None
        self.context.sni_callback = remember_sni  # type: ignore[assignment]

    def __enter__(self) -> _Server:
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

    @property
    def handshakes(self) -> list[Seen]:
        """The connections whose TLS handshake completed."""
        return [c for c in self.connections if c.handshake_ok]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._one, args=(raw,), daemon=True).start()

    def _one(self, raw: socket.socket) -> None:
        seen = Seen()
        self.connections.append(seen)
        self._last_sni = None  # the callback runs only when the client sends a name
        raw.settimeout(3)
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                seen.handshake_ok = True
                seen.version = tls.version()
                seen.peer_cert = tls.getpeercert() is not None and tls.getpeercert() != {}
                seen.sni = self._last_sni
                self.talk(tls, seen)
        except (OSError, ssl.SSLError, ValueError) as exc:
            seen.error = f"{type(exc).__name__}: {exc}"
        finally:
            raw.close()

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        raise NotImplementedError


class CloseAfterHandshake(_Server):
    """TLS, read what the client sends first (up to 16 bytes, enough for a header), hang up."""

    def talk(self, tls: ssl.SSLSocket, seen: Seen) -> None:
        tls.settimeout(0.5)
        try:
            while len(seen.first_bytes) < 16:
                chunk = tls.recv(16 - len(seen.first_bytes))
                if not chunk:
                    return
                seen.first_bytes += chunk
        except (TimeoutError, OSError):
            pass


class FakeWebSocketTLS(_Server):
    """TLS, answer the websocket upgrade, record the first frame as JSON, hang up."""

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


def _recv_exactly(sock: ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-frame")
        data += chunk
    return data


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


def server_fingerprint(pem_path: str) -> str:
    """SHA-256 of the first certificate in a PEM file, upper-case hex (what pyexasol compares)."""
    text = open(pem_path, encoding="ascii").read()  # noqa: SIM115 - tiny test file
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    der = ssl.PEM_cert_to_DER_cert(text[start:end])
    return hashlib.sha256(der).hexdigest().upper()
