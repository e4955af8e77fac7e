"""``build_ssl_context(tls)``: the only place connprof makes an ``ssl.SSLContext``.

Every default is chosen for safety first and says why. Files are read here, at build time,
never while a profile is loaded or its arguments are emitted.
"""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING

from ._errors import TLSFileError

if TYPE_CHECKING:
    from ._models import TLS

__all__ = ["TLS_VERSIONS", "build_ssl_context", "check_unencrypted_key", "describe_tls"]

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def build_ssl_context(tls: TLS, *, key_password: str | None = None) -> ssl.SSLContext:
    """A client ``SSLContext`` that does what ``tls`` says, and nothing weaker.

    ``key_password`` is the resolved ``client_key_password`` (the caller resolves the secret).
    Raises ``TLSFileError`` for a file that is missing, unreadable, or a key that needs a
    password nobody gave: OpenSSL would otherwise prompt on the terminal, or hang in a service.
    """
    # PROTOCOL_TLS_CLIENT starts with CERT_REQUIRED and check_hostname on: verification is
    # something a profile turns off, never something it has to remember to turn on.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # A certificate's common name is not a hostname (RFC 6125); only subjectAltName counts.
    ctx.hostname_checks_common_name = False
    # TLS 1.2 is the floor unless the profile (with allow_insecure) asks for less.
    ctx.minimum_version = TLS_VERSIONS[tls.min_version]
    if tls.max_version:
        ctx.maximum_version = TLS_VERSIONS[tls.max_version]
    if tls.min_version in ("1.0", "1.1") and not tls.ciphers:
        # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level even when the minimum
        # allows them; the profile acknowledged the risk (allow_insecure), so honour it.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if tls.ciphers:
        try:
            ctx.set_ciphers(tls.ciphers)
        except ssl.SSLError:
            raise TLSFileError(
                f"tls.ciphers {tls.ciphers!r} selects no cipher OpenSSL knows; "
                "check the OpenSSL cipher-list syntax (e.g. ECDHE+AESGCM)"
            ) from None

    if tls.verify == "none":
        # Order matters: check_hostname must be off before CERT_NONE is allowed.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.check_hostname = tls.verify == "full"
        ctx.verify_mode = ssl.CERT_REQUIRED
        if tls.ca == "system":
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            _load(ctx.load_verify_locations, "tls.ca", tls.ca, cafile=tls.ca)
        if tls.crl:
            _load(ctx.load_verify_locations, "tls.crl", tls.crl, cafile=tls.crl)
            # The leaf's revocation is what a CRL from the issuing CA can answer.
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF

    if tls.client_cert:
        _load_chain(ctx, tls.client_cert, tls.client_key, key_password)
    return ctx


def _load(func: object, field: str, path: str, **kwargs: str) -> None:
    _readable(field, path)
    try:
        func(**kwargs)  # type: ignore[operator]
    except ssl.SSLError as exc:
        raise TLSFileError(
            f"{field} {path}: OpenSSL cannot read it ({exc.reason or exc}); it must be a PEM file"
        ) from None


def _readable(field: str, path: str) -> None:
    if not os.path.isfile(path):
        raise TLSFileError(f"{field}: no file {path}; fix the path in the profile")
    if not os.access(path, os.R_OK):
        raise TLSFileError(f"{field}: {path} is not readable by this user; check its permissions")


class _NoPassword(Exception):
    pass


def _encrypted_without_password(field: str) -> TLSFileError:
    return TLSFileError(
        f"{field}: the private key is encrypted and the profile gives no password; add "
        'tls.client_key_password: "keyring:" and run `connprof secret set PROFILE '
        "client_key_password`"
    )


def _load_chain(ctx: ssl.SSLContext, cert: str, key: str | None, key_password: str | None) -> None:
    _readable("tls.client_cert", cert)
    if key:
        _readable("tls.client_key", key)

    def no_password() -> str:
        # Called by OpenSSL only for an encrypted key: without this it would prompt on the TTY.
        raise _NoPassword

    password = key_password if key_password is not None else no_password
    field = "tls.client_key" if key else "tls.client_cert"
    try:
        ctx.load_cert_chain(cert, key, password=password)
    except _NoPassword:
        raise _encrypted_without_password(field) from None
    except ssl.SSLError as exc:
        if key_password is not None and "bad decrypt" in str(exc).lower():
            reason = "the key password does not decrypt the key"
        elif "KEY_VALUES_MISMATCH" in str(exc).upper():
            reason = "the private key does not belong to the certificate"
        else:
            reason = f"OpenSSL cannot load the certificate and key ({exc.reason or 'bad PEM'})"
        raise TLSFileError(f"{field}: {reason}; check the files and the password") from None


def check_unencrypted_key(path: str, field: str) -> None:
    """Refuse an encrypted private key for a driver that would prompt for its password."""
    _readable(field, path)
    with open(path, "rb") as stream:
        pem = stream.read()
    # PKCS#8 says "BEGIN ENCRYPTED PRIVATE KEY"; traditional PEM says "Proc-Type: 4,ENCRYPTED".
    if b"ENCRYPTED" in pem:
        raise _encrypted_without_password(field)


def describe_tls(tls: TLS, *, key_password: str | None = None) -> dict[str, object]:
    """What ``build_ssl_context(tls)`` would hold, as plain data: for ``show``, without I/O."""
    verify = {
        "full": "CERT_REQUIRED, check_hostname=True",
        "ca": "CERT_REQUIRED, check_hostname=False",
        "none": "CERT_NONE, check_hostname=False",
    }[tls.verify]
    out: dict[str, object] = {"verify": verify, "minimum_version": f"TLSv{tls.min_version}"}
    if tls.max_version:
        out["maximum_version"] = f"TLSv{tls.max_version}"
    if tls.verify != "none":
        out["ca"] = "the OS trust store" if tls.ca == "system" else tls.ca
        if tls.crl:
            out["crl"] = tls.crl
    if tls.client_cert:
        out["client_cert"] = tls.client_cert
        if tls.client_key:
            out["client_key"] = tls.client_key
        if key_password is not None:
            out["client_key_password"] = key_password
    if tls.ciphers:
        out["ciphers"] = tls.ciphers
    return out
