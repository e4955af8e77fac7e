"""The checks that need no connection: secrets resolve, TLS files load, the driver accepts it all.

Files are read through ``connprof._safeio`` (no FIFO, no device, a size limit); keys are judged
by OpenSSL itself (``SSLContext.load_cert_chain``), as the drivers' own contexts load them.
Certificate dates need the ``cryptography`` package (the ``lint`` extra), imported only here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._errors import PluginError, SecretError, UnsupportedSetting
from .._safeio import TLS_FILE_LIMIT, read_regular
from ._problems import checked
from ._report import OFFLINE_TARGET, Check, Step

if TYPE_CHECKING:
    from .._models import Profile
    from ..secrets import SecretResolver

__all__ = ["EXPIRY_WARNING", "Offline", "check_offline"]

#: A certificate that expires within this long is a warning.
EXPIRY_WARNING = dt.timedelta(days=30)
#: Secret kinds that run a program: never run by an offline doctor.
_RUNS_A_PROGRAM = ("exec",)


@dataclass
class Offline:
    """What the offline checks found, and what the endpoint checks need from them."""

    checks: list[Check] = field(default_factory=list)
    key_password: str | None = None
    #: False when a secret or a TLS file the context needs is not usable: no handshake then.
    tls_ready: bool = True


class _Checker:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.out = Offline()

    def add(
        self,
        step: Step,
        ok: bool,
        message: str,
        problem: str | None = None,
        *,
        warning: bool = False,
        caveat: str | None = None,
    ) -> None:
        p = self.profile
        self.out.checks.append(
            checked(
                OFFLINE_TARGET,
                step,
                ok,
                message,
                problem,
                warning=warning,
                caveat=caveat,
                profile=p.name,
                driver=p.driver,
            )
        )


def check_offline(profile: Profile, resolver: SecretResolver, *, offline: bool) -> Offline:
    """Secrets, TLS files, cipher string and driver refusals, in that order."""
    checker = _Checker(profile)
    _secrets(checker, resolver, offline)
    if profile.tls.enabled:
        _tls_files(checker)
        _ciphers(checker)
    _driver(checker)
    return checker.out


def _scratch() -> ssl.SSLContext:
    """A context to let OpenSSL judge a file or a cipher string; never used to connect.

    Made by the one factory, connprof._tls, with nothing loaded (verify: none loads no CA).
    """
    # deferred: the model and the factory load only when doctor checks files
    from .._models import TLS
    from .._tls import build_ssl_context

    return build_ssl_context(TLS(verify="none"))


# -- secrets -----------------------------------------------------------------------------------


def _secrets(c: _Checker, resolver: SecretResolver, offline: bool) -> None:
    from ..secrets import profile_references  # deferred: the secret stores load only here

    for field_name, reference in profile_references(c.profile):
        kind = reference.partition(":")[0]
        if offline and kind in _RUNS_A_PROGRAM:
            try:
                refused = resolver.refused(reference, field_name)
            except SecretError as exc:
                refused = str(exc)
            if refused is not None:  # the trust rule (or a malformed reference) says no already
                c.add("secrets", False, _one_line(refused), "secret_unresolved")
                if field_name == "tls.client_key_password":
                    c.out.tls_ready = False
                continue
            c.add(
                "secrets",
                True,
                f"{field_name}: {reference} not run offline (it runs a program)",
                warning=True,
            )
            if field_name == "tls.client_key_password":
                c.out.tls_ready = False
            continue
        try:
            value = resolver.get(reference, field_name)
        except (SecretError, PluginError) as exc:  # a source plugin that fails to load, too
            c.add("secrets", False, _one_line(str(exc)), "secret_unresolved")
            if field_name == "tls.client_key_password":
                c.out.tls_ready = False
            continue
        if field_name == "tls.client_key_password":
            c.out.key_password = value
        c.add("secrets", True, f"{field_name}: {reference} resolves (value not shown)")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- TLS files ---------------------------------------------------------------------------------


def _read(c: _Checker, key: str, path: str) -> bytes | None:
    """The file's bytes, or None after reporting why it cannot be used."""
    where = f"tls.{key}: {path}"
    try:
        blob = read_regular(path, limit=TLS_FILE_LIMIT)
    except FileNotFoundError:
        c.add("files", False, f"{where}: no such file", "missing_file")
        return None
    except PermissionError:
        c.add("files", False, f"{where}: not readable by this user", "bad_file")
        return None
    except OSError as exc:
        c.add("files", False, f"{where}: {exc.strerror or type(exc).__name__}", "bad_file")
        return None
    if b"-----BEGIN " not in blob:
        c.add("files", False, f"{where}: not a PEM file (no -----BEGIN line)", "bad_file")
        return None
    return blob


def _tls_files(c: _Checker) -> None:
    tls = c.profile.tls
    blobs: dict[str, bytes | None] = {}
    for key in ("ca", "crl", "client_cert", "client_key"):
        path = getattr(tls, key)
        if path is None or (key == "ca" and path == "system"):
            continue
        blobs[key] = _read(c, key, path)
        if blobs[key] is None:
            c.out.tls_ready = False
    dates = _dates_reader()
    if dates is None and any(blobs.get(k) for k in ("ca", "client_cert")):
        c.add(
            "files",
            True,
            "certificate dates not checked: the 'cryptography' package is not installed "
            "(pip install 'connprof[lint]')",
            warning=True,
        )
    ca = blobs.get("ca")
    if ca is not None:
        _ca(c, tls.ca, ca, dates)
    crl = blobs.get("crl")
    if crl is not None and tls.crl is not None:
        _crl(c, tls.crl, crl)
    cert = blobs.get("client_cert")
    key_unreadable = tls.client_key is not None and blobs.get("client_key") is None
    if (
        cert is not None
        and tls.client_cert is not None
        and not key_unreadable
        and _client_cert(c, tls.client_cert, cert, dates)
    ):
        _key(c, blobs.get("client_key") or cert)


def _ca(c: _Checker, path: str, blob: bytes, dates: _Dates | None) -> None:
    context = _scratch()
    try:
        context.load_verify_locations(cadata=blob.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError):
        c.add("files", False, f"tls.ca: {path}: holds no certificate OpenSSL can read", "bad_file")
        c.out.tls_ready = False
        return
    if dates is None:
        count = context.cert_store_stats()["x509"]
        c.add("files", True, f"tls.ca: {path}: {count} certificate(s)")
        return
    _validity(c, "ca", path, dates(blob), bundle=True)


def _crl(c: _Checker, path: str, blob: bytes) -> None:
    if b"-----BEGIN X509 CRL-----" not in blob:
        c.add(
            "files", False, f"tls.crl: {path}: holds no CRL (-----BEGIN X509 CRL-----)", "bad_file"
        )
        c.out.tls_ready = False
        return
    context = _scratch()
    try:
        context.load_verify_locations(cadata=blob.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError):
        c.add("files", False, f"tls.crl: {path}: OpenSSL cannot read the CRL", "bad_file")
        c.out.tls_ready = False
        return
    c.add("files", True, f"tls.crl: {path}: a CRL OpenSSL reads")


def _client_cert(c: _Checker, path: str, blob: bytes, dates: _Dates | None) -> bool:
    if b"-----BEGIN CERTIFICATE-----" not in blob:
        c.add("files", False, f"tls.client_cert: {path}: holds no certificate", "bad_file")
        c.out.tls_ready = False
        return False
    if dates is not None:
        return _validity(c, "client_cert", path, dates(blob), bundle=False)
    return True


@dataclass(frozen=True)
class _Cert:
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime


_Dates = Callable[[bytes], list[_Cert] | None]


def _dates_reader() -> _Dates | None:
    try:
        # optional: cryptography is the `lint` extra; without it the dates are not checked
        from cryptography import x509
    except ImportError:
        return None

    def read(blob: bytes) -> list[_Cert] | None:
        try:
            certs = x509.load_pem_x509_certificates(blob)
        except ValueError:
            return None
        return [
            _Cert(
                c.subject.rfc4514_string() or "(no subject)",
                c.not_valid_before_utc,
                c.not_valid_after_utc,
            )
            for c in certs
        ]

    return read


def _validity(c: _Checker, key: str, path: str, certs: list[_Cert] | None, *, bundle: bool) -> bool:
    where = f"tls.{key}: {path}"
    if not certs:
        c.add("files", False, f"{where}: holds no certificate that can be read", "bad_file")
        c.out.tls_ready = False
        return False
    now = dt.datetime.now(dt.UTC)
    # A CA bundle may keep an old certificate beside the current one; the leaf of a client
    # certificate file is its first.
    judged = certs if bundle else certs[:1]
    valid = [x for x in judged if x.not_before <= now <= x.not_after]
    if not valid:
        first = judged[0]
        if now > first.not_after:
            c.add(
                "files",
                False,
                f"{where}: {first.subject} expired on {first.not_after:%Y-%m-%d}",
                "expired_certificate",
            )
        else:
            c.add(
                "files",
                False,
                f"{where}: {first.subject} is not valid before {first.not_before:%Y-%m-%d}",
                "certificate_not_yet_valid",
            )
        return False
    soon = [x for x in valid if x.not_after - now < EXPIRY_WARNING]
    stale = len(judged) - len(valid)
    if soon:
        x = soon[0]
        days = (x.not_after - now).days
        c.add(
            "files",
            True,
            f"{where}: {x.subject} expires in {days} days ({x.not_after:%Y-%m-%d})",
            warning=True,
            caveat="expiring",
        )
    elif stale:
        c.add(
            "files",
            True,
            f"{where}: {len(valid)} certificate(s) valid, {stale} out of their dates",
            warning=True,
            caveat="expiring",
        )
    else:
        last = min(x.not_after for x in valid)
        c.add("files", True, f"{where}: {len(valid)} certificate(s), valid until {last:%Y-%m-%d}")
    return True


class _NoPassword(Exception):
    pass


def _key(c: _Checker, key_blob: bytes) -> None:
    tls = c.profile.tls
    assert tls.client_cert is not None
    field_name = "tls.client_key" if tls.client_key else "tls.client_cert"
    password = c.out.key_password
    if password is None and tls.client_key_password is not None:
        return  # the password did not resolve (reported above): nothing to try it with

    def no_password() -> str:
        # Called by OpenSSL only for an encrypted key: without this it would prompt on the TTY.
        raise _NoPassword

    context = _scratch()
    encrypted = b"ENCRYPTED" in key_blob
    try:
        context.load_cert_chain(tls.client_cert, tls.client_key, password=password or no_password)
    except _NoPassword:
        c.add(
            "files",
            False,
            f"{field_name}: the private key is encrypted and the profile gives "
            "no tls.client_key_password",
            "bad_key_password",
        )
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            c.add(
                "files",
                False,
                f"{field_name}: the private key does not belong to tls.client_cert",
                "key_mismatch",
            )
        elif encrypted and password is not None and _well_formed(key_blob):
            c.add(
                "files",
                False,
                f"{field_name}: the password (tls.client_key_password) does "
                "not decrypt the private key",
                "bad_key_password",
            )
        else:
            c.add(
                "files",
                False,
                f"{field_name}: OpenSSL cannot read the private key "
                f"[{exc.reason or exc.library or 'PEM'}]",
                "bad_file",
            )
    else:
        how = " and decrypts with its password" if encrypted else ""
        c.add("files", True, f"{field_name}: the private key matches tls.client_cert{how}")
        return
    c.out.tls_ready = False


def _well_formed(blob: bytes) -> bool:
    """Whether the encrypted key's PEM body is intact (so a failure is the password's)."""
    text = blob.decode("ascii", "replace")
    for begin in (
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
    ):
        start = text.find(begin)
        if start < 0:
            continue
        end = text.find("-----END", start + len(begin))
        if end < 0:
            return False
        lines = text[start + len(begin) : end].strip().splitlines()
        body = "".join(line for line in lines if ":" not in line).strip()
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return False
        if "ENCRYPTED PRIVATE KEY" in begin:
            return _der_sequence(der)
        # Traditional PEM encryption (DEK-Info): a block cipher's whole blocks.
        return len(der) > 0 and len(der) % 8 == 0
    return False


def _der_sequence(der: bytes) -> bool:
    """A DER SEQUENCE whose length field covers exactly the bytes given."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    first = der[1]
    if first < 0x80:
        return 2 + first == len(der)
    size = first & 0x7F
    if size == 0 or len(der) < 2 + size:
        return False
    return 2 + size + int.from_bytes(der[2 : 2 + size], "big") == len(der)


# -- cipher string and driver refusals ---------------------------------------------------------


def _ciphers(c: _Checker) -> None:
    # A string that selects nothing, or weakens TLS, is refused when the profile loads.
    ciphers = c.profile.tls.ciphers
    if not ciphers:
        return
    context = _scratch()
    context.set_ciphers(ciphers)
    count = len(context.get_ciphers())
    c.add("files", True, f"tls.ciphers selects {count} cipher(s)")


def _driver(c: _Checker) -> None:
    from ..drivers import get_driver  # deferred: only doctor asks the driver here

    refused: list[UnsupportedSetting] = get_driver(c.profile.driver).check(c.profile)
    for problem in refused:
        c.add("files", False, _one_line(str(problem)), "unsupported_setting")
    if not refused:
        c.add("files", True, f"the {c.profile.driver} driver can express every setting")
