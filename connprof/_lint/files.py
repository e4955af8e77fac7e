"""The ``--check-files`` rules: the files a profile names, as they are on this machine.

Certificates are read with the ``cryptography`` package (``pip install 'connprof[lint]'``),
imported only when a certificate is actually read. Keys are read only to compare them with
their certificate; an encrypted key is left alone, since its password is a secret and lint
never resolves one.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import os
import stat
from collections.abc import Iterator
from typing import Any

from .._errors import ConnprofError
from .._safeio import TLS_FILE_LIMIT, FileTooLarge, NotRegularFile, read_regular
from .._yaml import Path
from .diagnostics import Diagnostic
from .rules import ProfileContext, _host_names, file_values

__all__ = ["check_files"]

_KEY_MARK = b"PRIVATE KEY-----"


def _cryptography() -> Any:
    try:
        # deferred: cryptography is an optional extra (connprof[lint]) for --check-files
        from cryptography import x509
    except ImportError:
        raise ConnprofError(
            "--check-files reads certificates with the 'cryptography' package, which is not "
            "installed; pip install 'connprof[lint]'"
        ) from None
    return x509


def _read(path: str) -> tuple[bytes | None, str | None]:
    """``(content, None)``, or ``(None, why it is not read)`` for a FIFO, a device, a file too
    large to be a certificate; ``(None, None)`` for what CP040/CP041 already report."""
    try:
        st = os.stat(path)
    except OSError:
        return None, None
    return _read_version(path, st.st_mtime_ns, st.st_size)


# Thousands of profiles name the same few certificates: read and parse each version once.
@functools.lru_cache(maxsize=256)
def _read_version(path: str, mtime_ns: int, size: int) -> tuple[bytes | None, str | None]:
    # A pull request linted in CI may name /dev/zero or a FIFO: never block, never read on.
    try:
        return read_regular(path, limit=TLS_FILE_LIMIT), None
    except (NotRegularFile, FileTooLarge) as exc:
        return None, str(exc.strerror)
    except OSError:
        return None, None


@functools.lru_cache(maxsize=256)
def _certificates(blob: bytes) -> tuple[Any, ...]:
    x509 = _cryptography()
    try:
        return tuple(x509.load_pem_x509_certificates(blob))
    except ValueError:
        return ()  # no PEM certificate in it: the driver's own error says so at connect time


def _subject(cert: Any) -> str:
    return str(cert.subject.rfc4514_string()) or "(no subject)"


def _validity(ctx: ProfileContext, path: Path, certs: tuple[Any, ...]) -> Iterator[Diagnostic]:
    now = dt.datetime.now(dt.UTC)
    for cert in certs:
        before, after = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now > after:
            when = f"expired on {after:%Y-%m-%d}"
        elif now < before:
            when = f"is not valid before {before:%Y-%m-%d}"
        else:
            continue
        yield ctx.at(
            "CP042",
            path,
            f"tls.{path[-1]}: the certificate {_subject(cert)} {when}; renew it",
        )
        return  # one per file: a bundle of stale certificates is one thing to fix


def _public_der(key: Any) -> bytes:
    # deferred: cryptography is an optional extra (connprof[lint]) for --check-files
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _key_mismatch(cert: Any, key_blob: bytes) -> bool:
    # deferred: cryptography is an optional extra (connprof[lint]) for --check-files
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(key_blob, password=None)
    except (TypeError, ValueError):
        return False  # encrypted (its password is a secret) or unreadable: not judged here
    return _public_der(key.public_key()) != _public_der(cert.public_key())


def _is_ca(cert: Any) -> bool:
    x509 = _cryptography()
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        # An X.509 v1 certificate without extensions is a (legacy) CA when it signed itself.
        return bool(cert.issuer == cert.subject and cert.version == x509.Version.v1)


def _names(cert: Any) -> tuple[list[str], list[Any]]:
    x509 = _cryptography()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return list(san.get_values_for_type(x509.DNSName)), list(
        san.get_values_for_type(x509.IPAddress)
    )


def _covers(cert: Any, host: str) -> bool:
    dns, ips = _names(cert)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return address in ips
    host = host.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in dns):
        if name == host:
            return True
        # RFC 6125: a wildcard stands for exactly one whole left-most label.
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _pinned_hosts(ctx: ProfileContext, certs: tuple[Any, ...]) -> Iterator[Diagnostic]:
    """CP044: a ``ca`` that holds only server certificates is a pin; it must name the host.

    A real CA says nothing about host names; a server certificate trusted directly (a
    self-signed Exasol or Cassandra node, say) does, and verify: full checks them.
    """
    tls = ctx.block("tls")
    if not certs or any(_is_ca(c) for c in certs) or tls.get("verify", "full") != "full":
        return
    server_name = tls.get("server_name")
    hosts = [server_name] if isinstance(server_name, str) else _host_names(ctx)
    for host in hosts:
        if host and not any(_covers(c, host) for c in certs):
            yield ctx.at(
                "CP044",
                ("tls", "ca"),
                f"tls.ca is a server certificate whose names do not include {host}; connect "
                "by a name it holds, set tls.server_name, or reissue the certificate",
            )
            return


def _loose_permissions(ctx: ProfileContext, path: Path, file: str) -> Iterator[Diagnostic]:
    try:
        mode = os.stat(file).st_mode
    except OSError:
        return
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        what = "key file" if path[0] == "tls" else "secret file"
        yield ctx.at(
            "CP045",
            path,
            f"the {what} {os.path.relpath(file)} is readable by group or others (mode "
            f"{stat.S_IMODE(mode):04o}); chmod 600 {os.path.relpath(file)}",
        )


def check_files(ctx: ProfileContext) -> Iterator[Diagnostic]:
    """CP041 to CP045 for one merged profile."""
    files = dict(file_values(ctx.data))
    for path, file in files.items():
        if file in ctx.relative:
            continue  # CP040 already speaks for relative paths
        if not ctx.exists(file):
            yield ctx.at(
                "CP041",
                path,
                f"{'.'.join(map(str, path))}: {file} does not exist on this machine; fix the "
                "path or create the file",
            )
    # Only certificates and keys are read. A `file:` secret is a secret: it is stat()ed for its
    # mode, never opened.
    read = {
        path: _read(file)
        for path, file in files.items()
        if path in (("tls", "ca"), ("tls", "client_cert"), ("tls", "client_key"))
    }
    blobs = {path: blob for path, (blob, _) in read.items()}
    for path, (_, problem) in read.items():
        if problem is not None:
            yield ctx.at(
                "CP041",
                path,
                f"{'.'.join(map(str, path))}: {files[path]} is {problem}; point it at the PEM file",
            )
    for path, file in files.items():
        secret = path[0] == "auth" or path[-1] == "client_key_password"
        cert_with_key = path == ("tls", "client_cert") and _KEY_MARK in (blobs[path] or b"")
        if secret or path == ("tls", "client_key") or cert_with_key:
            yield from _loose_permissions(ctx, path, file)
    for key in ("client_cert", "ca"):
        blob = blobs.get(("tls", key))
        if not blob or b"-----BEGIN CERTIFICATE-----" not in blob:
            continue
        certs = _certificates(blob)
        yield from _validity(ctx, ("tls", key), certs)
        if key == "ca":
            yield from _pinned_hosts(ctx, certs)
        elif certs:
            key_blob = blobs.get(("tls", "client_key")) or (blob if _KEY_MARK in blob else None)
            if key_blob and _key_mismatch(certs[0], key_blob):
                where = ("tls", "client_key") if ("tls", "client_key") in files else ("tls", key)
                yield ctx.at(
                    "CP043",
                    where,
                    "tls.client_key does not match the public key of tls.client_cert; pair "
                    "the certificate with its own key",
                )
