"""The problem codes doctor reports, what to do about each, and how an error maps to a code.

One home for the hints, drawn from the drivers' own troubleshooting text (pymongo's
"Troubleshooting TLS Errors", pyexasol's certificate and fingerprint pages, the cassandra,
crate and hazelcast security pages). Errors are classified by what ``ssl`` and ``socket`` say in
their attributes (``verify_code``, ``reason``, the exception class), never by their text.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from ._report import Check, Step

__all__ = ["HINTS", "Classified", "classify_connect", "classify_tls", "hint"]

#: Every stable problem code, and the one line of what to do. ``{profile}`` and ``{driver}``
#: are filled in; a hint never holds a secret.
HINTS: dict[str, str] = {
    # -- per endpoint
    "dns_failed": (
        "check the host name in the profile for typos, and that this machine can resolve it "
        "(a VPN, a private DNS zone or an /etc/hosts entry it may need): `getent hosts HOST`"
    ),
    "connection_refused": (
        "nothing accepts connections there: check the port in the profile, that the server "
        "runs, and that it listens on this interface (not only on its own localhost)"
    ),
    "timeout": (
        "no answer in time: a firewall or security group may drop the packets, or the server "
        "is overloaded; check the host and port, or give it longer with --timeout"
    ),
    "not_tls": (
        "the port does not speak TLS: enable TLS on the server for this port, connect to the "
        "server's TLS port, or set tls: false in the profile if this server is meant to be "
        "unencrypted (only on a network you trust)"
    ),
    "untrusted_certificate": (
        "set tls.ca to the PEM file of the CA that signed the server certificate (ca: system "
        "is the OS trust store, which must hold that CA and be up to date; on macOS run "
        "'Install Certificates.command' of your Python); if the server does not send its "
        "intermediate certificate, add the intermediate to tls.ca or fix the server's chain"
    ),
    "expired_certificate": (
        "renew the certificate (on the server for its certificate, or the file the profile "
        "names); do not turn verification off to get past it"
    ),
    "certificate_not_yet_valid": (
        "the certificate's start date is in the future: check the clock of this machine and "
        "of the server, or wait until the certificate is valid"
    ),
    "hostname_mismatch": (
        "connect by a name the certificate holds, reissue the certificate with this name, or "
        "use verify: ca to check the chain only"
    ),
    "protocol_version": (
        "the client and the server share no TLS version (or cipher): enable TLS 1.2 or newer "
        "on the server, or set tls.min_version / tls.max_version to what it offers (versions "
        "below 1.2 need allow_insecure: true)"
    ),
    "client_certificate_required": (
        "the server wants a client certificate: set tls.client_cert (and tls.client_key) to a "
        "certificate signed by the CA the server trusts for clients"
    ),
    "client_certificate_rejected": (
        "the server does not accept this client certificate: use one signed by the CA the "
        "server trusts for clients, within its dates, and check that tls.client_cert is the "
        "client's own certificate (not a CA)"
    ),
    "fingerprint_mismatch": (
        "the server presents another certificate than the one pinned: if it was replaced, get "
        "the new fingerprint from the server's administrator (or `connprof fingerprint "
        "HOST:PORT`, which does not verify) and update the pin; otherwise someone may be "
        "intercepting the connection"
    ),
    # -- login (once per profile, with the driver)
    "auth_failed": (
        "the server refused the credentials: check auth.user, and the secret behind "
        "auth.password (`connprof secret set {profile} password` for a keyring reference); "
        "also the authentication database or mechanism the profile names"
    ),
    "login_failed": (
        "the {driver} driver reached the server but could not finish connecting: read the "
        "driver's message above; the TLS steps passed, so look at the server's protocol, "
        "port and user setup"
    ),
    # -- offline
    "missing_file": (
        "fix the path in the profile (a relative path is read next to the profile file that "
        "wrote it), or create the file"
    ),
    "bad_file": (
        "the file must be PEM (-----BEGIN ...-----) and readable by this user; convert a DER "
        "file with `openssl x509 -inform der -in FILE -out FILE.pem`"
    ),
    "key_mismatch": (
        "pair the certificate with its own private key: `openssl x509 -noout -pubkey -in CERT` "
        "and `openssl pkey -pubout -in KEY` must print the same key"
    ),
    "bad_key_password": (
        'store the key\'s password: tls.client_key_password: "keyring:" and `connprof secret '
        "set {profile} client_key_password` (or check the password stored there)"
    ),
    "secret_unresolved": (
        "store the secret where the reference points (`connprof secret set {profile} FIELD` "
        "for a keyring: reference), or fix the reference; `connprof secret check {profile}`"
    ),
    "unsupported_setting": (
        "the {driver} driver cannot do what the profile says: change the setting as the "
        "message says (`connprof lint` lists every such setting)"
    ),
}

#: Hints for checks that pass with a caveat.
CAVEATS: dict[str, str] = {
    "insecure": (
        "anyone on the path can pose as the server: set tls.ca (or pin the certificate's "
        "fingerprint, for pyexasol) and remove the setting that turns verification off"
    ),
    "expiring": "renew the certificate before it expires",
    "tls_off": "turn TLS on (tls: true, with tls.ca) unless this network is trusted",
    "untrusted_file": "read the file, then `connprof trust PATH` (CONNPROF_TRUST_PROJECT=1 in CI)",
    "no_driver": "install the driver to have doctor log in with it",
    "no_ping": "the plugin's DriverSpec can name its cheapest round trip (ping)",
}

# What some drivers add to a hint: their own way out.
_DRIVER_HINTS: dict[tuple[str, str], str] = {
    ("untrusted_certificate", "pyexasol"): (
        "; or pin the certificate: `connprof fingerprint HOST:PORT` prints the dsn form"
    ),
    ("hostname_mismatch", "cassandra"): (
        "; the cassandra driver checks the IP address it resolved: put the IP in the "
        "certificate, or set tls.server_name to a name it holds"
    ),
    ("hostname_mismatch", "pyexasol"): (
        "; pyexasol checks the canonical name the DSN host resolves to"
    ),
    ("hostname_mismatch", "hazelcast"): (
        "; hazelcast checks the member address as written in hosts"
    ),
    ("protocol_version", "pymongo"): (
        "; pymongo takes no version settings: it speaks TLS 1.2 and 1.3"
    ),
    ("protocol_version", "crate"): (
        '; the crate client speaks TLS 1.2 and newer, or every version with min_version "1.0"'
    ),
    ("login_failed", "crate"): (
        "; crate reports a refused login (HTTP 401) as this error too: check auth.user and "
        "auth.password"
    ),
    ("login_failed", "hazelcast"): (
        "; hazelcast logs a refused login and says only 'Unable to connect to any cluster': "
        "check the cluster name and credentials"
    ),
    ("protocol_version", "hazelcast"): (
        "; hazelcast speaks exactly one version, tls.min_version: set it to the members' version"
    ),
}


def hint(code: str, *, profile: str, driver: str) -> str:
    """The hint for ``code``, filled in, with the driver's own addition where it has one."""
    text = HINTS.get(code) or CAVEATS[code]
    text = text.replace("{profile}", profile).replace("{driver}", driver)
    return text + _DRIVER_HINTS.get((code, driver), "")


def checked(
    target: str,
    step: Step,
    ok: bool,
    message: str,
    problem: str | None,
    *,
    warning: bool,
    caveat: str | None,
    profile: str,
    driver: str,
) -> Check:
    """One check, with the hint of its code: a failure's problem, or a passing check's caveat."""
    code = problem if not ok else caveat
    text = hint(code, profile=profile, driver=driver) if code else None
    return Check(target, step, ok, message, problem if not ok else None, text, warning)


@dataclass(frozen=True)
class Classified:
    """An error as a problem code and one line of what happened."""

    problem: str
    message: str


# X509_V_ERR_* codes (OpenSSL's x509_vfy.h), as SSLCertVerificationError.verify_code holds them.
_UNABLE_TO_GET_ISSUER_CERT = 2
_UNABLE_TO_GET_CRL = 3
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_SELF_SIGNED_CERT_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_CERT_REVOKED = 23
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64

_VERIFY: dict[int, tuple[str, str]] = {
    _CERT_HAS_EXPIRED: ("expired_certificate", "the server certificate has expired"),
    _CERT_NOT_YET_VALID: (
        "certificate_not_yet_valid",
        "the server certificate is not valid yet (its start date is in the future)",
    ),
    _HOSTNAME_MISMATCH: ("hostname_mismatch", "the certificate does not name {name}"),
    _IP_ADDRESS_MISMATCH: ("hostname_mismatch", "the certificate does not name {name}"),
    _DEPTH_ZERO_SELF_SIGNED_CERT: (
        "untrusted_certificate",
        "the server certificate is self-signed and not in tls.ca",
    ),
    _SELF_SIGNED_CERT_IN_CHAIN: (
        "untrusted_certificate",
        "the server's chain ends in a self-signed CA that tls.ca does not hold",
    ),
    _UNABLE_TO_GET_ISSUER_CERT_LOCALLY: (
        "untrusted_certificate",
        "the certificate's issuer is not trusted: tls.ca does not hold the CA that signed it, "
        "or the server does not send its intermediate certificate",
    ),
    _UNABLE_TO_GET_ISSUER_CERT: (
        "untrusted_certificate",
        "the certificate's issuer is not trusted: an intermediate certificate is missing",
    ),
    _UNABLE_TO_VERIFY_LEAF_SIGNATURE: (
        "untrusted_certificate",
        "the certificate's issuer is not trusted: the server sends no intermediate certificate "
        "and tls.ca does not hold it",
    ),
    _CERT_REVOKED: ("untrusted_certificate", "the server certificate is revoked (tls.crl)"),
    _UNABLE_TO_GET_CRL: (
        "untrusted_certificate",
        "tls.crl holds no CRL from the certificate's issuer, so it cannot be checked",
    ),
}

# Alert and error reasons (OpenSSL's reason strings, as SSLError.reason holds them).
_NOT_TLS = {
    "WRONG_VERSION_NUMBER",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
    "HTTPS_PROXY_REQUEST",
    "PACKET_LENGTH_TOO_LONG",
    "RECORD_LENGTH_MISMATCH",
    "BAD_PACKET_LENGTH",
    "RECORD_LAYER_FAILURE",
    "UNEXPECTED_RECORD",
    "WRONG_SSL_VERSION",
}
_PROTOCOL = {
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION_TOO_LOW",
    "VERSION_TOO_HIGH",
    "NO_CIPHERS_AVAILABLE",
    "NO_SHARED_CIPHER",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY",
}
_REQUIRED = {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "PEER_DID_NOT_RETURN_A_CERTIFICATE"}
_REJECTED = {
    "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "TLSV1_ALERT_ACCESS_DENIED",
    "TLSV1_ALERT_DECRYPT_ERROR",
}
_HANDSHAKE_FAILURE = "SSLV3_ALERT_HANDSHAKE_FAILURE"


def classify_connect(exc: OSError, timeout: float) -> Classified:
    """A TCP connect error: refused, no answer in time, or no route."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return Classified("timeout", f"no answer to the TCP connect within {timeout:g}s")
    if isinstance(exc, ConnectionRefusedError):
        return Classified("connection_refused", "connection refused: nothing listens on the port")
    why = exc.strerror or type(exc).__name__
    # No route, network down, reset: the port cannot be reached, which is what a user fixes
    # as for a refused connection (host, port, firewall).
    return Classified("connection_refused", f"cannot connect: {why}")


def classify_tls(
    exc: BaseException,
    *,
    name: str,
    timeout: float,
    has_client_cert: bool,
    after: bool = False,
    server_hello: bool = False,
) -> Classified:
    """A handshake (or first read, ``after``) error as a code and one line.

    ``name`` is the name or address checked against the certificate; ``server_hello`` says
    whether the server answered the ClientHello with a ServerHello (version and cipher agreed)
    before it ended the handshake.
    """
    when = "after the handshake, " if after else ""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code, text = _VERIFY.get(
            exc.verify_code,
            ("untrusted_certificate", "the server certificate does not verify"),
        )
        detail = exc.verify_message or ""
        line = text.format(name=name)
        if detail and code == "untrusted_certificate":
            line += f" (OpenSSL: {detail})"
        return Classified(code, line)
    if isinstance(exc, TimeoutError | socket.timeout):
        return Classified("timeout", f"{when}no TLS answer within {timeout:g}s")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _NOT_TLS:
            return Classified(
                "not_tls", f"the port answers, but not in TLS (plaintext?) [{reason}]"
            )
        if reason in _PROTOCOL:
            return Classified(
                "protocol_version", f"no TLS version or cipher in common with the server [{reason}]"
            )
        if reason in _REQUIRED or (reason in _REJECTED and not has_client_cert):
            return Classified(
                "client_certificate_required",
                f"{when}the server requires a client certificate, and the profile gives none "
                f"[{reason}]",
            )
        if reason in _REJECTED:
            return Classified(
                "client_certificate_rejected",
                f"{when}the server rejected the client certificate [{reason}]",
            )
        if reason == _HANDSHAKE_FAILURE:
            if server_hello and not has_client_cert:
                return Classified(
                    "client_certificate_required",
                    "the server ended the handshake after its hello: it requires a client "
                    f"certificate, and the profile gives none [{reason}]",
                )
            if server_hello:
                return Classified(
                    "client_certificate_rejected",
                    f"the server ended the handshake after its hello [{reason}]",
                )
            return Classified(
                "protocol_version",
                f"the server refused the hello: no TLS version or cipher in common [{reason}]",
            )
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return _closed(when, has_client_cert, after)
        return Classified(
            "not_tls", f"{when}the TLS handshake failed [{reason or type(exc).__name__}]"
        )
    if isinstance(exc, ConnectionResetError | BrokenPipeError | EOFError):
        return _closed(when, has_client_cert, after)
    if isinstance(exc, OSError):
        return Classified("not_tls", f"{when}the TLS handshake failed: {exc.strerror or exc}")
    raise exc


def _closed(when: str, has_client_cert: bool, after: bool) -> Classified:
    if after:
        # TLS 1.3: the handshake is over for the client before the server has read its
        # certificate; a server that hangs up then refused the client.
        code = "client_certificate_rejected" if has_client_cert else "client_certificate_required"
        return Classified(code, "after the handshake, the server closed the connection at once")
    return Classified(
        "not_tls",
        "the server closed the connection during the TLS handshake: the port does not speak "
        "TLS, or the server refused this client",
    )
