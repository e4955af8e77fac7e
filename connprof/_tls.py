"""``build_ssl_context(tls)``: the only place connprof makes an ``ssl.SSLContext``.

Every default is chosen for safety first and says why. Files are read here, at build time,
never while a profile is loaded or its arguments are emitted.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import TLSFileError

if TYPE_CHECKING:
    from ._models import TLS

__all__ = [
    "TLS_VERSIONS",
    "CipherVerdict",
    "build_ssl_context",
    "check_tls_file",
    "check_unencrypted_key",
    "cipher_list",
    "describe_tls",
    "judge_ciphers",
]

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def build_ssl_context(
    tls: TLS, *, key_password: str | None = None, profile: str | None = None
) -> ssl.SSLContext:
    """A client ``SSLContext`` that does what ``tls`` says, and nothing weaker.

    ``key_password`` is the resolved ``client_key_password`` (the caller resolves the secret);
    ``profile`` names the profile in error messages.
    Raises ``TLSFileError`` for a file that is missing, unreadable, or a key that needs a
    password nobody gave: OpenSSL would otherwise prompt on the terminal, or hang in a service.
    """
    # PROTOCOL_TLS_CLIENT starts with CERT_REQUIRED and check_hostname on: verification is
    # something a profile turns off, never something it has to remember to turn on.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # A certificate's common name is not a hostname (RFC 6125); only subjectAltName counts.
    ctx.hostname_checks_common_name = False
    _versions_and_ciphers(ctx, tls.min_version, tls.max_version, tls.ciphers)

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
            _load(ctx.load_verify_locations, "tls.ca", tls.ca, profile, cafile=tls.ca)
        if tls.crl:
            _load(ctx.load_verify_locations, "tls.crl", tls.crl, profile, cafile=tls.crl)
            # The leaf's revocation is what a CRL from the issuing CA can answer.
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF

    if tls.client_cert:
        _load_chain(ctx, tls.client_cert, tls.client_key, key_password, profile)
    return ctx


def _versions_and_ciphers(
    ctx: ssl.SSLContext, min_version: str, max_version: str | None, ciphers: str | None
) -> None:
    """The protocol range and cipher list, after ``judge_ciphers`` found the list usable."""
    if ciphers:
        verdict = judge_ciphers(ciphers, min_version, max_version)
        if verdict.problem is not None:
            raise TLSFileError(f"tls.ciphers: {verdict.problem}")
    _set_range_and_ciphers(ctx, min_version, max_version, ciphers)


def cipher_list(min_version: str, ciphers: str | None) -> str | None:
    """The cipher string a TLS context gets: the profile's ``ciphers``; else, for a minimum of
    TLS 1.0 or 1.1, OpenSSL's default list at security level 0 (OpenSSL 3 refuses those versions
    at its default level even when the minimum allows them; the profile acknowledged the risk
    with allow_insecure); else None, the library's default. Drivers that take a cipher string
    (hazelcast, redis) are given the same."""
    if ciphers:
        return ciphers
    if min_version in ("1.0", "1.1"):
        return "DEFAULT:@SECLEVEL=0"
    return None


def _set_range_and_ciphers(
    ctx: ssl.SSLContext, min_version: str, max_version: str | None, ciphers: str | None
) -> None:
    """What the real context and the one ``judge_ciphers`` probes share (``set_ciphers`` raises)."""
    # TLS 1.2 is the floor unless the profile (with allow_insecure) asks for less.
    ctx.minimum_version = TLS_VERSIONS[min_version]
    if max_version:
        ctx.maximum_version = TLS_VERSIONS[max_version]
    chosen = cipher_list(min_version, ciphers)
    if chosen is not None:
        ctx.set_ciphers(chosen)


# -- judging a cipher string on what OpenSSL makes of it ------------------------------------------

#: RFC 8446's suites: OpenSSL configures them apart from the cipher list (``set_ciphers``).
TLS13_SUITES = frozenset({
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
})  # fmt: skip
#: Below this many bits of strength a suite is export grade, single DES or RC4-40.
_WEAK_BITS = 112
_SYNTAX = (
    "check the OpenSSL cipher-list syntax (`openssl ciphers -v 'STRING'` lists what it selects)"
)


@dataclass(frozen=True)
class CipherVerdict:
    """What a ``tls.ciphers`` string does, judged on the context OpenSSL builds from it.

    ``problem``: the string cannot be used as written (a validation error, with its fix).
    ``weakness``: it works, but lets through suites or keys that weaken TLS, so the profile
    needs ``allow_insecure`` (as ``verify: none`` does).
    """

    problem: str | None = None
    weakness: str | None = None


@functools.lru_cache(maxsize=512)
def judge_ciphers(
    ciphers: str, min_version: str = "1.2", max_version: str | None = None
) -> CipherVerdict:
    """Judge ``ciphers`` by what a client context built from it offers, not by its text.

    The suites counted are those the client puts in its ClientHello (OpenSSL drops the ones its
    security level or the protocol range rules out, which ``get_ciphers()`` still lists).
    Cached per distinct string and range: lint judges thousands of profiles with a few strings.
    """
    shown = repr(ciphers if len(ciphers) <= 60 else ciphers[:57] + "...")
    if min_version == "1.3":
        return CipherVerdict(
            f"{shown} sets the suites of TLS 1.2 and older only, and min_version "
            '"1.3" allows none of them, so it would do nothing; remove ciphers (TLS 1.3 uses '
            "only its own strong suites), or lower min_version"
        )
    named = [part.lstrip("+-!") for part in re.split(r"[:, ]+", ciphers)]
    tls13 = [part for part in named if part.upper() in TLS13_SUITES]
    if tls13:
        return CipherVerdict(
            f"{tls13[0]} is a TLS 1.3 suite, and tls.ciphers (OpenSSL's cipher list) sets the "
            "suites of TLS 1.2 and older only; remove it (TLS 1.3 always uses "
            'its own strong suites, and min_version "1.3" allows only those)'
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the probe never meets a server
    try:
        _set_range_and_ciphers(ctx, min_version, max_version, ciphers)
    except (ssl.SSLError, ValueError):  # ValueError: NUL or text OpenSSL cannot encode
        return CipherVerdict(f"{shown} selects no cipher OpenSSL knows; {_SYNTAX}")
    offered = _offered(ctx)
    if offered is None:
        return CipherVerdict(
            f"{shown} leaves no cipher suite this client can offer with TLS "
            f"{min_version} to {max_version or '1.3'}; {_SYNTAX}"
        )
    if not [c for c in offered if c["protocol"] != "TLSv1.3"]:
        return CipherVerdict(
            f"{shown} selects no suite this client can offer below TLS 1.3 (PSK "
            f"and SRP suites need keys connprof does not set), so it would only turn TLS 1.2 "
            f"off; {_SYNTAX}, or remove ciphers"
        )
    return CipherVerdict(weakness=_weakness(shown, ctx, offered))


def _weakness(shown: str, ctx: ssl.SSLContext, offered: list[Mapping[str, object]]) -> str | None:
    def names(suites: list[Mapping[str, object]]) -> str:
        listed = ", ".join(str(c["name"]) for c in suites[:2])
        return listed + (", ..." if len(suites) > 2 else "")

    found = []
    anonymous = [c for c in offered if c.get("auth") == "auth-null"]
    if anonymous:
        found.append(f"anonymous suites that skip server authentication ({names(anonymous)})")
    clear = [c for c in offered if c.get("symmetric") in (None, "null")]
    if clear:
        found.append(f"suites without encryption ({names(clear)})")
    weak = [
        c for c in offered if c not in clear and int(str(c.get("strength_bits") or 0)) < _WEAK_BITS
    ]
    if weak:
        found.append(f"export-grade or broken suites ({names(weak)})")
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).security_level
    if ctx.security_level < default:
        found.append(
            f"security level {ctx.security_level} (the default is {default}), which accepts "
            "weak keys and signatures"
        )
    if not found:
        return None
    return f"{shown} lets OpenSSL use " + " and ".join(found)


def _offered(ctx: ssl.SSLContext) -> list[Mapping[str, object]] | None:
    """The suites ``ctx`` puts in its ClientHello (None: it cannot start a handshake)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    probe = ctx.wrap_bio(incoming, outgoing, server_side=False)
    try:
        probe.do_handshake()
    except ssl.SSLWantReadError:
        pass  # the ClientHello is written; the probe waits for a server that never comes
    except ssl.SSLError:
        return None  # no suite fits the protocol range and the security level
    hello = outgoing.read()
    known = {int(str(c["id"])) & 0xFFFF: c for c in ctx.get_ciphers()}
    # record header (5), handshake header (4), client version (2), random (32), session id.
    at = 5 + 4 + 2 + 32
    try:
        at += 1 + hello[at]
        length = int.from_bytes(hello[at : at + 2], "big")
        ids = [int.from_bytes(hello[i : i + 2], "big") for i in range(at + 2, at + 2 + length, 2)]
    except IndexError:
        return list(known.values())  # not the hello expected: judge every listed suite
    return [known[i] for i in ids if i in known]  # signalling values (0x00FF) are no suites


def _load(func: object, field: str, path: str, profile: str | None, **kwargs: str) -> None:
    check_tls_file(path, field, profile=profile)
    try:
        func(**kwargs)  # type: ignore[operator]
    except ssl.SSLError as exc:
        raise TLSFileError(
            f"{_where(profile)}{field} {path}: OpenSSL cannot read it ({exc.reason or exc}); "
            "it must be a PEM file",
            profile=profile,
            field=field,
            path=path,
        ) from None


def _where(profile: str | None) -> str:
    return f"profile '{profile}': " if profile else ""


def check_tls_file(path: str, field: str, *, profile: str | None = None) -> None:
    """``TLSFileError`` unless ``path`` is a regular file this user can read.

    Opened as ``connprof._safeio`` opens every file a neighbour may have planted, so a FIFO
    or a device is refused at once instead of blocking the driver that opens it later.
    """
    # deferred: only building arguments reads TLS files
    from ._safeio import open_regular

    def error(what: str) -> TLSFileError:
        return TLSFileError(
            f"{_where(profile)}{field}: {what}", profile=profile, field=field, path=path
        )

    try:
        fd, _ = open_regular(path)
    except FileNotFoundError:
        raise error(f"no file {path}; fix the path in the profile") from None
    except PermissionError:
        raise error(f"{path} is not readable by this user; check its permissions") from None
    except OSError as exc:
        raise error(f"cannot read {path} ({exc.strerror}); give the path of a PEM file") from None
    os.close(fd)


class _NoPassword(Exception):
    pass


def _encrypted_without_password(
    field: str, path: str, profile: str | None, *, takes_password: bool = True
) -> TLSFileError:
    if takes_password:
        fix = (
            'add tls.client_key_password: "keyring:" and run `connprof secret set '
            f"{profile or 'PROFILE'} client_key_password`"
        )
    else:
        fix = (
            "this driver takes no key password (OpenSSL would prompt on the terminal); decrypt "
            f"the key into a file only you can read (`openssl pkey -in {path} -out client.key "
            f"&& chmod 600 client.key`) and set {field} to that file"
        )
    return TLSFileError(
        f"{_where(profile)}{field}: the private key is encrypted and the profile gives no "
        f"password; {fix}",
        profile=profile,
        field=field,
        path=path,
    )


def _load_chain(
    ctx: ssl.SSLContext, cert: str, key: str | None, key_password: str | None, profile: str | None
) -> None:
    check_tls_file(cert, "tls.client_cert", profile=profile)
    if key:
        check_tls_file(key, "tls.client_key", profile=profile)

    def no_password() -> str:
        # Called by OpenSSL only for an encrypted key: without this it would prompt on the TTY.
        raise _NoPassword

    password = key_password if key_password is not None else no_password
    field = "tls.client_key" if key else "tls.client_cert"
    path = key or cert
    try:
        ctx.load_cert_chain(cert, key, password=password)
    except _NoPassword:
        raise _encrypted_without_password(field, path, profile) from None
    except ssl.SSLError as exc:
        if key_password is not None and "bad decrypt" in str(exc).lower():
            reason = "the key password does not decrypt the key"
        elif "KEY_VALUES_MISMATCH" in str(exc).upper():
            reason = "the private key does not belong to the certificate"
        else:
            reason = f"OpenSSL cannot load the certificate and key ({exc.reason or 'bad PEM'})"
        raise TLSFileError(
            f"{_where(profile)}{field}: {reason}; check the files and the password",
            profile=profile,
            field=field,
            path=path,
        ) from None


def check_unencrypted_key(
    path: str, field: str, *, profile: str | None = None, takes_password: bool = True
) -> None:
    """Refuse an encrypted private key for a driver that would prompt for its password."""
    # deferred: only building arguments reads key files
    from ._safeio import TLS_FILE_LIMIT, read_regular

    check_tls_file(path, field, profile=profile)
    try:
        pem = read_regular(path, limit=TLS_FILE_LIMIT)
    except OSError as exc:
        raise TLSFileError(
            f"{_where(profile)}{field}: cannot read {path} ({exc.strerror}); give the path of "
            "a PEM file",
            profile=profile,
            field=field,
            path=path,
        ) from None
    # PKCS#8 says "BEGIN ENCRYPTED PRIVATE KEY"; traditional PEM says "Proc-Type: 4,ENCRYPTED".
    if b"ENCRYPTED" in pem:
        raise _encrypted_without_password(field, path, profile, takes_password=takes_password)


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
