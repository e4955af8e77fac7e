"""One endpoint, step by step: DNS → TCP → TLS handshake (and one short read) → certificate.

Each step is a function in ``ENDPOINT_STEPS`` that adds its checks and says whether the next
step can run. Logging in with the driver is once per profile, after every endpoint
(``connprof._doctor._login``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..drivers._endpoints import is_ip
from ._offline import EXPIRY_WARNING
from ._plan import TLSPlan
from ._problems import checked, classify_connect, classify_tls
from ._report import CertificateInfo, Check, Step
from ._starttls import PreambleFailed

__all__ = ["ENDPOINT_STEPS", "Endpoint", "lookup", "peer_certificate", "target_of"]

#: How long the one read after the handshake waits at most (a server that waits for the client
#: to speak says nothing; a TLS 1.3 server that refuses the client certificate says so now).
READ_AFTER_HANDSHAKE = 0.5


def target_of(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Endpoint:
    """What the steps of one endpoint share."""

    host: str
    port: int
    profile_name: str
    driver: str
    plan: TLSPlan | None  # None: TLS is off in the profile
    context: ssl.SSLContext | None  # None: the TLS settings do not load (reported offline)
    timeout: float
    #: Builds an unverified context (to show what a server presents when it does not verify).
    unverified: Callable[[], ssl.SSLContext] | None = None
    checks: list[Check] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    canonical: str | None = None
    address: str | None = None  # the address connected to
    sock: socket.socket | None = None
    #: What the server presented on the verified handshake (read before anything else can
    #: close the session); None until the handshake is done.
    presented: CertificateInfo | None = None
    handshake_done: bool = False
    certificate: CertificateInfo | None = None

    @property
    def target(self) -> str:
        return target_of(self.host, self.port)

    @property
    def reached(self) -> bool:
        """Every check passed (warnings allowed) and TCP connected: the driver can log in."""
        return all(c.ok for c in self.checks) and any(c.step == "tcp" for c in self.checks)

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
        self.checks.append(
            checked(
                self.target,
                step,
                ok,
                message,
                problem,
                warning=warning,
                caveat=caveat,
                profile=self.profile_name,
                driver=self.driver,
            )
        )

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()

    def run(self) -> None:
        try:
            for step in ENDPOINT_STEPS:
                if not step(self):
                    break
        finally:
            self.close()


# -- dns ---------------------------------------------------------------------------------------


def lookup(func: Callable[[], Any], timeout: float) -> Any:
    """``func()`` in a thread (a resolver has no timeout of its own); ``TimeoutError`` after."""
    result: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if error:
        raise error[0]
    if not result:
        raise TimeoutError
    return result[0]


def _dns(e: Endpoint) -> bool:
    if is_ip(e.host):
        e.addresses = [e.host]
        e.add("dns", True, f"{e.host} is an IP address (no lookup)")
        return True
    canonical = e.plan is not None and e.plan.names == "canonical"
    try:
        if canonical:
            # As pyexasol: IPv4 only, and the canonical name is the one checked.
            name, _, ips = lookup(lambda: socket.gethostbyname_ex(e.host), e.timeout)
            e.canonical, e.addresses = name, list(ips)
        else:
            infos = lookup(
                lambda: socket.getaddrinfo(e.host, e.port, type=socket.SOCK_STREAM), e.timeout
            )
            e.addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    except TimeoutError:
        e.add("dns", False, f"{e.host}: no DNS answer within {e.timeout:g}s", "dns_failed")
        return False
    except (socket.gaierror, socket.herror, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or "not a valid name"
        e.add("dns", False, f"{e.host} does not resolve ({why})", "dns_failed")
        return False
    if not e.addresses:
        e.add("dns", False, f"{e.host} resolves to no address", "dns_failed")
        return False
    said = ", ".join(e.addresses[:4]) + (" ..." if len(e.addresses) > 4 else "")
    also = f" (canonical name {e.canonical})" if e.canonical and e.canonical != e.host else ""
    e.add("dns", True, f"{e.host} resolves to {said}{also}")
    return True


# -- tcp ---------------------------------------------------------------------------------------


def _tcp(e: Endpoint) -> bool:
    last: OSError | None = None
    for address in e.addresses:
        try:
            e.sock = socket.create_connection((address, e.port), timeout=e.timeout)
        except OSError as exc:
            last = exc
            continue
        e.address = address
        e.add("tcp", True, f"connected to {target_of(address, e.port)}")
        return True
    assert last is not None
    found = classify_connect(last, e.timeout)
    tried = ", ".join(target_of(a, e.port) for a in e.addresses[:4])
    e.add("tcp", False, f"{found.message} ({tried})", found.problem)
    return False


# -- tls ---------------------------------------------------------------------------------------


def _name(e: Endpoint) -> str:
    assert e.plan is not None
    if e.plan.names == "server_name" and e.plan.server_name:
        return e.plan.server_name
    if e.plan.names == "ip" and e.address is not None:
        return e.address
    if e.plan.names == "canonical" and e.canonical:
        return e.canonical
    return e.host


def _tls(e: Endpoint) -> bool:
    if e.plan is None:
        e.add(
            "tls",
            True,
            "TLS is off in the profile: the connection is not encrypted",
            warning=True,
            caveat="tls_off",
        )
        return False
    if e.context is None:
        e.add(
            "tls",
            True,
            "not tried: the profile's TLS settings do not load (see above)",
            warning=True,
        )
        return False
    assert e.sock is not None
    name = _name(e)
    has_cert = e.plan.tls.client_cert is not None
    e.sock.settimeout(e.timeout)
    if e.plan.preamble is not None:
        try:
            e.plan.preamble(e.sock)
        except PreambleFailed as failed:
            message = failed.message
            if failed.problem == "timeout":
                message += f" (within {e.timeout:g}s)"
            e.add("tls", False, message, failed.problem)
            return False
    session = _Session(e.sock, e.context, name)
    try:
        session.handshake()
    except (OSError, ValueError) as exc:
        found = classify_tls(
            exc,
            name=name,
            timeout=e.timeout,
            has_client_cert=has_cert,
            server_hello=session.server_hello,
        )
        e.add("tls", False, found.message + _presented(e, found.problem), found.problem)
        return False
    if e.plan.alpn and session.tls.selected_alpn_protocol() not in e.plan.alpn:
        e.add(
            "tls",
            False,
            f"the server completed TLS without selecting ALPN {', '.join(e.plan.alpn)}, which "
            "the driver requires for a direct TLS connection (sslnegotiation=direct needs "
            "PostgreSQL 17 or newer)",
            "not_tls",
        )
        return False
    e.handshake_done = True
    e.presented = peer_certificate(
        session.tls.getpeercert(True), session.tls, verified=e.plan.tls.verify != "none"
    )
    version, cipher = session.tls.version() or "?", (session.tls.cipher() or ("?",))[0]
    # One short read: under TLS 1.3 the server judges the client certificate after the client
    # has finished the handshake, and only this read hears its verdict.
    e.sock.settimeout(min(e.timeout, READ_AFTER_HANDSHAKE))
    closed = False
    try:
        closed = session.read_once()
    except TimeoutError:
        pass  # the server waits for the client to speak first: nothing wrong
    except (OSError, ValueError) as exc:
        found = classify_tls(
            exc, name=name, timeout=e.timeout, has_client_cert=has_cert, after=True
        )
        e.add("tls", False, found.message, found.problem)
        return False
    how = _verified(e, name)
    after = "" if e.plan.starttls is None else f" after {e.plan.starttls}"
    done = f"{version} handshake{after} ({cipher}), {how}"
    if closed:
        e.add("tls", True, f"{done}; then the server closed the connection at once", warning=True)
    else:
        e.add("tls", True, done)
    return True


class _Session:
    """A TLS client over a socket through memory buffers, so the records the server sends first
    can be seen: a ServerHello before a handshake failure means version and cipher were agreed
    (the server refused something later, e.g. a missing client certificate)."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, name: str) -> None:
        self.sock = sock
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self._in, self._out, server_hostname=name)
        self.server_hello = False
        self._first = b""

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.sock.sendall(data)

    def _feed(self) -> None:
        chunk = self.sock.recv(65536)
        if len(self._first) < 6:
            self._first += chunk
            # A handshake record (22) whose first message is a ServerHello (2).
            self.server_hello = (
                len(self._first) >= 6 and self._first[0] == 22 and (self._first[5] == 2)
            )
        if chunk:
            self._in.write(chunk)
        else:
            self._in.write_eof()

    def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()
                continue
            except ssl.SSLError:
                with contextlib.suppress(OSError):
                    self._flush()  # our alert, if we raised one
                raise
            self._flush()
            return

    def read_once(self) -> bool:
        """Read what the server says first; True when it closed the connection instead."""
        while True:
            try:
                return self.tls.read(1) == b""
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError):
                # Closed without a word (no alert): not a verdict on the client certificate,
                # which a TLS server gives as an alert.
                return True


def _verified(e: Endpoint, name: str) -> str:
    assert e.plan is not None
    tls = e.plan.tls
    if tls.verify == "none":
        return "certificate not verified"
    ca = e.plan.trust or ("the OS trust store" if tls.ca == "system" else "tls.ca")
    if tls.verify == "ca":
        return f"chain verified against {ca} (verify: ca: the name is not checked)"
    return f"chain verified against {ca}, name {name} matches"


def _presented(e: Endpoint, problem: str) -> str:
    """What the server presents, for a certificate that did not verify."""
    if (
        problem
        not in (
            "untrusted_certificate",
            "hostname_mismatch",
            "expired_certificate",
            "certificate_not_yet_valid",
        )
        or e.unverified is None
    ):
        return ""
    assert e.plan is not None
    try:
        address = (e.address or e.host, e.port)
        with socket.create_connection(address, timeout=e.timeout) as raw:
            if e.plan.preamble is not None:
                e.plan.preamble(raw)
            with e.unverified().wrap_socket(raw, server_hostname=_name(e)) as tls:
                info = peer_certificate(tls.getpeercert(True), tls, verified=False)
    except (OSError, ValueError, PreambleFailed):
        return ""
    if info is None:
        return ""
    e.certificate = info
    if problem == "hostname_mismatch":
        names = ", ".join(info.sans) or "no subjectAltName"
        return f"; it names {names}"
    if problem in ("expired_certificate", "certificate_not_yet_valid"):
        return f" ({info.subject}, valid until {info.not_after})"
    return f"; it is {info.subject}, issued by {info.issuer}"


# -- certificate -------------------------------------------------------------------------------


def peer_certificate(
    der: bytes | None, tls: ssl.SSLSocket | ssl.SSLObject, *, verified: bool
) -> CertificateInfo | None:
    """The presented leaf certificate as plain data (dates and names need ``cryptography``)."""
    if not der:
        return None
    fingerprint = hashlib.sha256(der).hexdigest().upper()
    subject = issuer = not_after = ""
    sans: list[str] = []
    try:
        # optional: cryptography (the lint extra) reads the certificate's fields
        from cryptography import x509
    except ImportError:
        x509 = None  # type: ignore[assignment]
    if x509 is not None:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            cert = None
        if cert is not None:
            subject = cert.subject.rfc4514_string()
            issuer = cert.issuer.rfc4514_string()
            not_after = cert.not_valid_after_utc.isoformat()
            try:
                ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            except x509.ExtensionNotFound:
                pass
            else:
                sans = [str(v) for v in ext.value.get_values_for_type(x509.DNSName)]
                sans += [str(v) for v in ext.value.get_values_for_type(x509.IPAddress)]
    version, cipher = tls.version() or "", (tls.cipher() or ("",))[0]
    return CertificateInfo(
        subject, issuer, not_after, tuple(sans), fingerprint, version, cipher, verified
    )


def _certificate(e: Endpoint) -> bool:
    assert e.handshake_done and e.plan is not None
    info = e.presented
    if info is None:
        e.add("certificate", False, "the server presented no certificate", "untrusted_certificate")
        return False
    e.certificate = info
    who = info.subject or f"SHA-256 {info.fingerprint_sha256}"
    if e.plan.pin is not None:
        if info.fingerprint_sha256 != e.plan.pin.upper():
            e.add(
                "certificate",
                False,
                f"the server's fingerprint is {info.fingerprint_sha256}; "
                f"the profile pins {e.plan.pin.upper()}",
                "fingerprint_mismatch",
            )
            return False
        e.add("certificate", True, f"{who}: the fingerprint matches the pin")
    if e.plan.insecure is not None:
        e.add(
            "certificate",
            True,
            f"{who}: NOT verified ({e.plan.insecure}): the connection "
            "is encrypted but the server is not authenticated",
            warning=True,
            caveat="insecure",
        )
        return True
    if info.not_after:
        left = dt.datetime.fromisoformat(info.not_after) - dt.datetime.now(dt.UTC)
        if left < EXPIRY_WARNING:
            e.add(
                "certificate",
                True,
                f"{who} expires in {left.days} days ({info.not_after})",
                warning=True,
                caveat="expiring",
            )
            return True
    if e.plan.pin is None:
        until = f", valid until {info.not_after[:10]}" if info.not_after else ""
        by = f", issued by {info.issuer}" if info.issuer else ""
        e.add("certificate", True, f"{who}{by}{until}")
    return True


#: The steps of one endpoint, in order (``login`` follows once per profile, not per endpoint).
ENDPOINT_STEPS: tuple[Callable[[Endpoint], bool], ...] = (_dns, _tcp, _tls, _certificate)
