"""The SHA-256 of a certificate as a pyexasol DSN pins it, from a server or a PEM file."""

from __future__ import annotations

import hashlib
import socket
import ssl

from .._errors import ConnprofError, TLSFileError
from .._safeio import TLS_FILE_LIMIT, read_regular
from ..drivers._endpoints import split_host
from ._problems import classify_connect, classify_tls, hint

__all__ = ["file_fingerprint", "server_fingerprint", "split_address"]

_BEGIN, _END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def split_address(text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` → ``(host, port)``."""
    try:
        host, port = split_host(text, default_port)
    except ValueError:
        raise ConnprofError(f"{text!r} is not HOST[:PORT]; e.g. exa1.example.com:8563") from None
    if not host or not 0 < port < 65536:
        raise ConnprofError(f"{text!r} is not HOST[:PORT]; e.g. exa1.example.com:8563")
    return host, port


def fingerprint_of(der: bytes) -> str:
    """Upper-case hex SHA-256 of DER bytes: what pyexasol compares with the DSN's pin."""
    return hashlib.sha256(der).hexdigest().upper()


def file_fingerprint(path: str) -> str:
    """The fingerprint of the first certificate in a PEM file (the leaf of a chain file)."""
    try:
        text = read_regular(path, limit=TLS_FILE_LIMIT).decode("ascii", "replace")
    except OSError as exc:
        raise TLSFileError(f"--file {path}: {exc.strerror or exc}; give a PEM file") from None
    start = text.find(_BEGIN)
    end = text.find(_END, start)
    if start < 0 or end < 0:
        raise TLSFileError(f"--file {path}: no PEM certificate ({_BEGIN}) in it")
    try:
        der = ssl.PEM_cert_to_DER_cert(text[start : end + len(_END)])
    except ValueError:
        raise TLSFileError(f"--file {path}: the certificate's PEM body is damaged") from None
    return fingerprint_of(der)


def server_fingerprint(host: str, port: int, *, timeout: float) -> str:
    """Connect without verifying and return the fingerprint of the certificate presented."""
    # deferred: the model and the one SSLContext factory load only for this command
    from .._models import TLS
    from .._tls import build_ssl_context

    context = build_ssl_context(TLS(verify="none"))
    where = f"{host}:{port}"
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise ConnprofError(
            f"{where}: {host} does not resolve ({exc.strerror}); "
            + hint("dns_failed", profile="PROFILE", driver="pyexasol")
        ) from None
    except OSError as exc:
        found = classify_connect(exc, timeout)
        raise ConnprofError(
            f"{where}: {found.message}; " + hint(found.problem, profile="PROFILE", driver="")
        ) from None
    with raw:
        try:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                der = tls.getpeercert(True)
        except (OSError, ValueError) as exc:
            found = classify_tls(exc, name=host, timeout=timeout, has_client_cert=False)
            raise ConnprofError(
                f"{where}: {found.message}; " + hint(found.problem, profile="PROFILE", driver="")
            ) from None
    if not der:
        raise ConnprofError(f"{where}: the server presented no certificate")
    return fingerprint_of(der)
