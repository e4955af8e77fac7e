"""What a client says in plaintext before TLS starts, for servers that do not begin with TLS.

PostgreSQL (``psycopg``) waits for an 8-byte ``SSLRequest`` and answers ``S`` (TLS follows) or
``N`` (it refuses TLS). MySQL and MariaDB (``pymysql``) greet first with a HandshakeV10 packet;
a client that finds ``CLIENT_SSL`` in its capabilities sends a 32-byte SSLRequest packet
(sequence id 1), and TLS follows. Each preamble runs on the connected socket and raises
``PreambleFailed`` (a problem code and one line) when the server does not go on to TLS.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

__all__ = ["PREAMBLES", "Preamble", "PreambleFailed", "mysql_ssl_request", "postgres_ssl_request"]

#: A preamble: runs on the connected socket (its timeout set) before the TLS handshake.
Preamble = Callable[[socket.socket], None]

#: PostgreSQL's SSLRequest: length 8, then the code 1234 << 16 | 5679 (protocol docs, 55.2.10).
PG_SSL_REQUEST = struct.pack("!ii", 8, 80877103)

# MySQL capability flags (include/mysql_com.h).
CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
#: What the SSLRequest says the client speaks (as PyMySQL does, plus CLIENT_SSL).
_MYSQL_CLIENT_FLAGS = (
    CLIENT_LONG_PASSWORD
    | CLIENT_PROTOCOL_41
    | CLIENT_SSL
    | CLIENT_SECURE_CONNECTION
    | CLIENT_PLUGIN_AUTH
)
_MYSQL_MAX_PACKET = 1 << 24
_UTF8MB4_GENERAL_CI = 45


class PreambleFailed(Exception):
    """The server did not go on to TLS: ``problem`` (a doctor code) and one line."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def _recv_exactly(sock: socket.socket, n: int, what: str) -> bytes:
    data = b""
    while len(data) < n:
        try:
            chunk = sock.recv(n - len(data))
        except TimeoutError:
            raise PreambleFailed("timeout", f"no answer to {what} in time") from None
        except OSError as exc:
            raise PreambleFailed(
                "not_tls", f"the server closed the connection on {what} ({exc.strerror or exc})"
            ) from None
        if not chunk:
            raise PreambleFailed("not_tls", f"the server closed the connection on {what}")
        data += chunk
    return data


def _send(sock: socket.socket, data: bytes, what: str) -> None:
    try:
        sock.sendall(data)
    except OSError as exc:
        raise PreambleFailed(
            "not_tls", f"the server closed the connection on {what} ({exc.strerror or exc})"
        ) from None


def postgres_ssl_request(sock: socket.socket) -> None:
    """Send PostgreSQL's SSLRequest; return when the server answers ``S`` (TLS follows)."""
    what = "PostgreSQL's SSLRequest"
    _send(sock, PG_SSL_REQUEST, what)
    answer = _recv_exactly(sock, 1, what)
    if answer == b"S":
        return
    if answer == b"N":
        raise PreambleFailed(
            "not_tls",
            "the PostgreSQL server refuses TLS (it answered N to the SSLRequest): set ssl = on "
            "in its postgresql.conf with a certificate, or connect to a server that has it",
        )
    if answer == b"E":
        raise PreambleFailed(
            "not_tls", "the server answered the SSLRequest with an error: not a PostgreSQL "
            "server with TLS (or one older than 7.2)",
        )  # fmt: skip
    raise PreambleFailed(
        "not_tls", f"the server answered the SSLRequest with {answer!r}: not a PostgreSQL server"
    )


def mysql_ssl_request(sock: socket.socket) -> None:
    """Read the MySQL/MariaDB greeting, check ``CLIENT_SSL``, send the SSLRequest packet."""
    what = "the MySQL greeting"
    header = _recv_exactly(sock, 4, what)
    length = int.from_bytes(header[:3], "little")
    payload = _recv_exactly(sock, length, what) if length else b""
    if payload[:1] == b"\xff":
        # An ERR packet instead of a greeting (too many connections, host not allowed).
        code = int.from_bytes(payload[1:3], "little") if len(payload) >= 3 else 0
        text = payload[3:].decode("utf-8", "replace")
        if text.startswith("#"):
            text = text[6:]  # the SQL state marker and state
        raise PreambleFailed(
            "connection_refused", f"the MySQL server refused the connection before TLS: ({code}) "
            f"{text.strip()}",
        )  # fmt: skip
    if payload[:1] != b"\x0a":
        raise PreambleFailed(
            "not_tls", "the server's greeting is not a MySQL HandshakeV10 packet: not a MySQL "
            "or MariaDB server",
        )  # fmt: skip
    end = payload.find(b"\x00", 1)
    if end < 0 or len(payload) < end + 1 + 4 + 8 + 1 + 2:
        raise PreambleFailed("not_tls", "the MySQL greeting is cut short")
    version = payload[1:end].decode("ascii", "replace")
    pos = end + 1 + 4 + 8 + 1  # thread id, auth-plugin-data part 1, filler
    capabilities = int.from_bytes(payload[pos : pos + 2], "little")
    if len(payload) >= pos + 2 + 1 + 2 + 2:
        capabilities |= int.from_bytes(payload[pos + 5 : pos + 7], "little") << 16
    if not capabilities & CLIENT_SSL:
        raise PreambleFailed(
            "not_tls",
            f"the MySQL server ({version}) does not offer TLS (no CLIENT_SSL in its greeting): "
            "configure ssl_cert and ssl_key on the server",
        )
    body = struct.pack(
        "<IIB23x", _MYSQL_CLIENT_FLAGS & (capabilities | CLIENT_SSL), _MYSQL_MAX_PACKET,
        _UTF8MB4_GENERAL_CI,
    )  # fmt: skip
    _send(sock, len(body).to_bytes(3, "little") + b"\x01" + body, "the MySQL SSLRequest")


#: Per driver: what it says before TLS, and how a check names it (drivers not named here start
#: with TLS).
PREAMBLES: dict[str, tuple[Preamble, str]] = {
    "psycopg": (postgres_ssl_request, "PostgreSQL's SSLRequest"),
    "pymysql": (mysql_ssl_request, "the MySQL SSLRequest"),
}
