"""The TLS settings each driver is given, as doctor probes them: the same ``SSLContext`` recipe.

For drivers that take an ``SSLContext`` (cassandra, pyexasol with a context) the plan is the
profile's own ``SSLContextSpec``; for drivers that take paths and flags (pymongo, crate,
hazelcast, pyexasol's sslopt) it is the ``TLS`` block that ``connprof._tls.build_ssl_context``
turns into the exact equivalent of what the driver builds from those flags. Also per driver:
which name is checked against the certificate, whether a fingerprint is compared after the
handshake (pyexasol: SHA-256 of the leaf's DER, upper-case hex, full-string equality), and what
the driver says in plaintext before TLS (PostgreSQL's and MySQL's SSLRequest,
``connprof._doctor._starttls``).
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._errors import UnsupportedSetting
from ._starttls import PREAMBLES, Preamble

if TYPE_CHECKING:
    from .._models import TLS, Profile

__all__ = ["TLSPlan", "plan_for"]

#: Which name the driver checks against the certificate (and sends as SNI).
Names = Literal["host", "ip", "canonical", "server_name"]


@dataclass(frozen=True)
class TLSPlan:
    """What one driver's TLS amounts to, for a probe that must behave the same."""

    tls: TLS  # what build_ssl_context is given
    names: Names = "host"
    server_name: str | None = None  # for names == "server_name"
    pin: str | None = None  # upper-case hex compared after the handshake
    #: Why certificate checks are off ("verify: none", "nocertcheck"), for the `!`.
    insecure: str | None = None
    #: What the chain is checked against, when ``tls.ca`` does not say it (crate's system file).
    trust: str | None = None
    #: What the driver says before the TLS handshake (None: TLS from the first byte), and how a
    #: check names it.
    preamble: Preamble | None = None
    starttls: str | None = None
    #: The ALPN protocols the client offers; one of them must be selected (PostgreSQL direct).
    alpn: tuple[str, ...] = ()


def _generic(profile: Profile) -> TLSPlan:
    tls = profile.tls
    if tls.server_name:
        return TLSPlan(tls, "server_name", tls.server_name, insecure=_off(tls))
    return TLSPlan(tls, insecure=_off(tls))


def _off(tls: TLS) -> str | None:
    return "verify: none" if tls.verify == "none" else None


def _cassandra(profile: Profile) -> TLSPlan:
    # The driver wraps with the profile's ssl_context; it checks the IP address it resolved
    # (contact points and discovered nodes are IPs) unless ssl_options names the server.
    tls = profile.tls
    if tls.server_name:
        return TLSPlan(tls, "server_name", tls.server_name, insecure=_off(tls))
    return TLSPlan(tls, "ip", insecure=_off(tls))


def _hazelcast(profile: Profile) -> TLSPlan:
    # ssl_protocol pins exactly one version: tls.min_version (the emitter refuses a range).
    tls = profile.tls
    return TLSPlan(tls.model_copy(update={"max_version": tls.min_version}), insecure=_off(tls))


def _crate(profile: Profile) -> TLSPlan:
    tls = profile.tls
    if tls.ca == "system" and tls.verify != "none":
        # ca: system is emitted as OpenSSL's default CA file (see drivers/_crate.py).
        from ..drivers._crate import os_trust_store  # deferred: only a crate probe needs it

        store = os_trust_store()
        tls = tls.model_copy(update={"ca": store})
        return TLSPlan(tls, insecure=_off(tls), trust=f"the OS trust store ({store})")
    return TLSPlan(tls, insecure=_off(tls))


def _pyexasol(profile: Profile) -> TLSPlan:
    # deferred: only a pyexasol probe reads its emitted arguments and DSN
    from .._uri.exasol import NOCERTCHECK, parse_exasol_dsn
    from ..drivers import SSLContextSpec
    from ..drivers._pyexasol import emit

    tls = profile.tls
    resolve = profile.options.get("resolve_hostnames", True)
    names: Names = "canonical" if resolve else "host"
    try:
        kw = emit(profile)
    except UnsupportedSetting:
        return TLSPlan(tls, names, insecure=_off(tls))  # the refusal is reported offline
    nodes = parse_exasol_dsn(kw["dsn"]).nodes
    pin = nodes[0][2] if nodes else None
    sslopt: dict[str, Any] = kw.get("websocket_sslopt") or {}
    spec = sslopt.get("context")
    if isinstance(spec, SSLContextSpec):
        effective = spec.tls
    elif sslopt.get("cert_reqs") == ssl.CERT_NONE:
        effective = tls.model_copy(update={"verify": "none"})
    elif sslopt.get("check_hostname") is False:
        effective = tls.model_copy(update={"verify": "ca"})
    else:
        effective = tls
    insecure = None
    if pin == NOCERTCHECK:
        insecure, pin = "nocertcheck", None
    elif effective.verify == "none" and pin is None:
        insecure = "verify: none"
    return TLSPlan(effective, names, pin=pin, insecure=insecure)


def _psycopg(profile: Profile) -> TLSPlan:
    # libpq checks the certificate against `host` (also when hostaddr says where to connect).
    # It starts in plaintext with an SSLRequest, unless sslnegotiation=direct (libpq 17+):
    # then TLS from the first byte, and the server must select the ALPN protocol "postgresql".
    plan = _generic(profile)
    tls = plan.tls
    if tls.verify == "none" and tls.ca not in (None, "system"):
        # sslmode=require with a root certificate file behaves as verify-ca (libpq's docs).
        tls = tls.model_copy(update={"verify": "ca"})
        plan = TLSPlan(tls, plan.names, plan.server_name)
    if str(profile.options.get("sslnegotiation", "")).lower() == "direct":
        return dataclasses.replace(plan, alpn=("postgresql",))
    preamble, said = PREAMBLES["psycopg"]
    return dataclasses.replace(plan, preamble=preamble, starttls=said)


def _pymysql(profile: Profile) -> TLSPlan:
    # PyMySQL checks the host as given; the server greets first, TLS after its SSLRequest.
    preamble, said = PREAMBLES["pymysql"]
    return dataclasses.replace(_generic(profile), preamble=preamble, starttls=said)


_PLANS: dict[str, Callable[[Profile], TLSPlan]] = {
    "cassandra": _cassandra,
    "crate": _crate,
    "hazelcast": _hazelcast,
    "psycopg": _psycopg,
    "pyexasol": _pyexasol,
    "pymongo": _generic,
    "pymysql": _pymysql,
    "redis": _generic,  # TLS from the first byte; redis-py checks the host as given
}


def plan_for(profile: Profile) -> TLSPlan:
    """The TLS plan for the profile's driver (a plugin driver: the profile's TLS as written)."""
    return _PLANS.get(profile.driver, _generic)(profile)
