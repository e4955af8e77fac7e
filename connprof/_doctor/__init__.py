"""``doctor(name)``: why a profile's connection fails, found step by step, named by a stable code.

Offline (always): the profile composes and validates, its secret references resolve (values
never shown), its TLS files load, the driver can express it. Then per endpoint, with the TLS
settings the profile's driver is given (``connprof._doctor._plan``): DNS, TCP, the TLS
handshake and one short read, the certificate. Last, once per profile when every check so far
passed for at least one endpoint: ``login`` with the driver itself (``connprof._doctor._login``).
Nothing here prints; the CLI renders the ``Report``.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from .._discover import ConfigArg
from .._errors import TLSFileError
from ._login import login
from ._offline import Offline, check_offline
from ._plan import TLSPlan, plan_for
from ._probe import Endpoint, lookup, target_of
from ._problems import HINTS
from ._report import OFFLINE_TARGET, CertificateInfo, Check, Report, format_text

if TYPE_CHECKING:
    from .._compose import Composed
    from .._models import Profile

__all__ = ["HINTS", "CertificateInfo", "Check", "Report", "doctor", "format_text"]


def doctor(
    name: str | None = None,
    *,
    config: ConfigArg = None,
    timeout: float = 5.0,
    offline: bool = False,
) -> Report:
    """Check the profile ``name`` (the default one when None) and return what was found.

    ``timeout`` bounds each DNS lookup, TCP connect and TLS handshake, in seconds, and is what
    the driver is given to log in (the login step gives up after twice that); with
    ``offline`` no connection is made and no ``exec:`` secret is run. A profile that does not
    load raises its ``ProfileValidationError`` / ``ProfileNotFound``, as ``load_profile`` does.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    # deferred: the composition and the secret stores load only when doctor runs
    from .._compose import compose, validate
    from ..drivers import resolver_for

    composed = compose(name, config)
    profile = validate(composed)
    found = check_offline(profile, resolver_for(profile), offline=offline)
    files = ", ".join(composed.files) or "the given files"
    checks = [Check(OFFLINE_TARGET, "files", True, f"profile {profile.name} loads ({files})")]
    checks.extend(found.checks)
    certificates: dict[str, CertificateInfo] = {}
    if not offline:
        plan, context = _tls(profile, found, checks)
        endpoints, srv_checks = _endpoints(composed, profile, timeout)
        checks.extend(srv_checks)
        probes = _probe(endpoints, profile, plan, context, timeout, found.key_password)
        for e in probes:
            checks.extend(e.checks)
            if e.certificate is not None:
                certificates[e.target] = e.certificate
        if all(c.ok for c in checks) and any(e.reached for e in probes):
            logged_in = login(profile, endpoints, timeout)
            if logged_in is not None:
                checks.append(logged_in)
    return Report(
        profile.name,
        profile.driver,
        tuple(checks),
        MappingProxyType(certificates),
        offline=offline,
    )


def _tls(
    profile: Profile, found: Offline, checks: list[Check]
) -> tuple[TLSPlan | None, ssl.SSLContext | None]:
    """The driver's TLS plan and its context, or why it cannot be built (a files check)."""
    if not profile.tls.enabled:
        return None, None
    # deferred: the one SSLContext factory loads only when a handshake is tried
    from .._tls import build_ssl_context

    try:
        plan = plan_for(profile)
    except TLSFileError as exc:
        checks.append(
            Check(OFFLINE_TARGET, "files", False, str(exc), "bad_file", HINTS["bad_file"])
        )
        return TLSPlan(profile.tls), None
    if not found.tls_ready:
        return plan, None
    try:
        context = build_ssl_context(plan.tls, key_password=found.key_password)
    except TLSFileError as exc:
        # What the offline checks did not foresee; said once, in OpenSSL's terms.
        checks.append(
            Check(OFFLINE_TARGET, "files", False, str(exc), "bad_file", HINTS["bad_file"])
        )
        return plan, None
    if plan.alpn:
        context.set_alpn_protocols(list(plan.alpn))
    return plan, context


def _unverified(plan: TLSPlan, key_password: str | None) -> ssl.SSLContext:
    from .._tls import build_ssl_context  # deferred: only a failed verification gets here

    tls = plan.tls.model_copy(update={"verify": "none", "ca": "system", "crl": None})
    context = build_ssl_context(tls, key_password=key_password)
    if plan.alpn:
        context.set_alpn_protocols(list(plan.alpn))
    return context


def _probe(
    endpoints: Sequence[tuple[str, int]],
    profile: Profile,
    plan: TLSPlan | None,
    context: ssl.SSLContext | None,
    timeout: float,
    key_password: str | None,
) -> list[Endpoint]:
    def unverified() -> ssl.SSLContext:
        assert plan is not None
        return _unverified(plan, key_password)

    probes = [
        Endpoint(
            host,
            port,
            profile.name,
            profile.driver,
            plan,
            context,
            timeout,
            unverified if plan is not None else None,
        )
        for host, port in endpoints
    ]
    if len(probes) <= 1:
        for probe in probes:
            probe.run()
        return probes
    # deferred: a thread pool only for several endpoints, which are probed side by side
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool:
        list(pool.map(Endpoint.run, probes))
    return probes


def _endpoints(
    composed: Composed, profile: Profile, timeout: float
) -> tuple[list[tuple[str, int]], list[Check]]:
    """``(host, port)`` for every endpoint (ranges expanded, SRV looked up), and SRV checks."""
    # deferred: the registry is loaded by validation already; this names it for the port
    from ..drivers import get_driver

    default = get_driver(profile.driver).default_port or 0
    if composed.string is not None and composed.string.srv:
        return _srv(composed.endpoints[0][0], profile, timeout)
    out = []
    for host, port in composed.endpoints:
        if host.endswith(".sock"):
            continue  # a Unix socket path (mongodb): not a network endpoint
        out.append((host, port or default))
    return list(dict.fromkeys(out)), []


def _srv(host: str, profile: Profile, timeout: float) -> tuple[list[tuple[str, int]], list[Check]]:
    name = f"_mongodb._tcp.{host}"
    try:
        # optional: dnspython (pymongo installs it) does the SRV lookup mongodb+srv needs
        import dns.exception
        import dns.resolver
    except ImportError:
        return [], [
            Check(
                host,
                "dns",
                True,
                f"SRV lookup of {name} skipped: it needs the dnspython "
                "package (pip install dnspython; pymongo installs it), so no host was "
                "checked",
                warning=True,
            )
        ]
    try:
        answer = lookup(lambda: dns.resolver.resolve(name, "SRV", lifetime=timeout), timeout)
    except (TimeoutError, dns.exception.Timeout):
        why = f"no DNS answer within {timeout:g}s"
    except dns.resolver.NXDOMAIN:
        why = "no such name"
    except dns.resolver.NoAnswer:
        why = "the name has no SRV record"
    except dns.exception.DNSException as exc:
        why = type(exc).__name__
    else:
        found = [(str(r.target).rstrip("."), int(r.port)) for r in answer]
        hosts = ", ".join(target_of(h, p) for h, p in found)
        return found, [Check(host, "dns", True, f"SRV {name}: {hosts}")]
    hint = HINTS["dns_failed"].replace("{profile}", profile.name)
    return [], [Check(host, "dns", False, f"SRV {name}: {why}", "dns_failed", hint)]
