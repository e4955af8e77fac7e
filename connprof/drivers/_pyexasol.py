"""Emit ``pyexasol.connect(**kw)`` arguments from a canonical profile.

pyexasol hands ``websocket_sslopt`` to websocket-client, which builds the ``SSLContext``
(``websocket._http._wrap_sni_socket``; ``design/drivers.md`` sections 5 and 5a). Choices:

- ``dsn`` is the profile's DSN as written, or one built from ``hosts`` and ``port``;
  ``tls.fingerprint`` goes into it as ``/FP`` before the port of every node (the DSN is then
  rewritten with its ranges expanded). A DSN's own pin must agree with it.
- ``websocket_sslopt`` is always written out, so pyexasol neither warns nor picks a mode
  itself: ``cert_reqs=CERT_REQUIRED`` (the OS trust store unless ``ca_certs``),
  ``check_hostname=False`` under ``verify: ca``, ``CERT_NONE`` under ``verify: none`` and
  ``nocertcheck`` (both need ``allow_insecure``). With ``ca: system``, websocket-client reads
  ``WEBSOCKET_CLIENT_CA_BUNDLE`` when it is set, else the OS trust store.
- A pinned fingerprint: pyexasol compares the server certificate's SHA-256 with it after the
  handshake, before sending credentials. With ``ca: system`` (the default) the pin **replaces**
  the chain check (``cert_reqs=CERT_NONE``), as pyexasol does on its own: pinned servers usually
  have self-signed certificates. With a CA file, both run: the chain (and host name, per
  ``verify``) against that CA, and the pin.
- ``min_version`` other than 1.2, ``max_version`` and ``crl`` have no websocket-client key, so
  the whole context is passed as ``websocket_sslopt={"context": <SSLContext>}``, built by
  ``connprof._tls`` (websocket-client then ignores its other keys).
- ``server_name`` is refused: pyexasol overwrites the name it sends and checks with the
  canonical DNS name of each DSN host. Name the host as its certificate does.
- Tokens and a password together are refused: pyexasol logs in with the token and silently
  ignores the password. ``database`` is pyexasol's ``schema``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import UnsupportedSetting
from .._uri.exasol import (
    DEFAULT_PORT,
    NOCERTCHECK,
    ExasolDSN,
    exasol_profile_fields,
    parse_exasol_dsn,
)
from ._base import DriverSpec, SSLContextSpec, TLSFile, client_files, pass_options, secret
from ._endpoints import split_host

if TYPE_CHECKING:
    from .._models import TLS, Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit"]

NAME = "pyexasol"
# DEFAULT_PORT (8563) is the DSN grammar's own default, so it lives with the DSN parser.

# The arguments emit() sets from the profile's own fields; `options` may not set them again.
_OWN = ("dsn", "user", "password", "access_token", "refresh_token", "schema", "encryption",
        "websocket_sslopt")  # fmt: skip


def emit(profile: Profile) -> dict[str, Any]:
    """The ``pyexasol.connect`` keyword arguments; ``UnsupportedSetting`` for what it lacks."""
    nodes = _nodes(profile)
    fingerprint = _fingerprint(profile, nodes)
    pinned = ExasolDSN(tuple((host, port, fingerprint) for host, port, _ in nodes.nodes))
    # The user's own DSN text when it already says everything (ranges stay ranges).
    same = profile.dsn is not None and pinned == nodes
    kw: dict[str, Any] = {"dsn": profile.dsn if same else str(pinned)}
    kw.update(_auth(profile))
    if profile.database is not None:
        kw["schema"] = profile.database
    kw.update(_tls(profile, fingerprint))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's dsn, hosts, database, auth and tls",
    )


def _nodes(profile: Profile) -> ExasolDSN:
    if profile.dsn is not None:
        return parse_exasol_dsn(profile.dsn)
    port = profile.port or DEFAULT_PORT
    parts = []
    for entry in profile.hosts or ():
        host, host_port = split_host(entry, port)
        if ":" in host:
            raise UnsupportedSetting(
                NAME,
                "hosts",
                f"pyexasol cannot connect to IPv6 addresses ({host}); use a host name or an "
                "IPv4 address",
            )
        # Every part names its port, so pyexasol's leftward carrying of ports changes nothing.
        parts.append(f"{host}:{host_port}")
    return parse_exasol_dsn(",".join(parts))


def _fingerprint(profile: Profile, nodes: ExasolDSN) -> str | None:
    """The one fingerprint for every node (upper-case hex or ``NOCERTCHECK``), or None."""
    # One pin for the whole profile (a DsnError otherwise): the TLS mode chosen below holds for
    # every node, so a node without the pin must not get the pinned nodes' CERT_NONE.
    in_dsn = exasol_profile_fields(nodes).get("tls", {}).get("fingerprint")
    in_dsn = NOCERTCHECK if in_dsn == "nocertcheck" else in_dsn
    pinned = profile.tls.fingerprint
    pinned = NOCERTCHECK if pinned == "nocertcheck" else pinned
    if in_dsn is not None and pinned is not None and in_dsn != pinned:
        raise UnsupportedSetting(
            NAME,
            "tls.fingerprint",
            "the dsn pins a different fingerprint than tls.fingerprint; keep one of them",
        )
    fingerprint = pinned or in_dsn
    if fingerprint is None:
        return None
    if not profile.tls.enabled:
        raise UnsupportedSetting(
            NAME,
            "tls.fingerprint",
            "a fingerprint is checked on the encrypted connection, and TLS is off (pyexasol "
            "refuses it too); remove the fingerprint, or turn TLS on",
        )
    if fingerprint == NOCERTCHECK and not profile.allow_insecure:
        raise UnsupportedSetting(
            NAME,
            "dsn",
            "/nocertcheck turns certificate checks off; add 'allow_insecure: true' to the "
            "profile to acknowledge it, or pin the certificate's fingerprint",
        )
    return fingerprint


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for field in ("mechanism", "source", "properties"):
        if getattr(auth, field) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{field}",
                "pyexasol logs in with a user and password, an access token (auth.token) or a "
                "refresh token (auth.refresh_token); remove it",
            )
    if auth.password is not None and (auth.token is not None or auth.refresh_token is not None):
        raise UnsupportedSetting(
            NAME,
            "auth.password",
            "pyexasol logs in with the token and silently ignores the password when both are "
            "given; keep either auth.password or the token",
        )
    kw: dict[str, Any] = {}
    if auth.user is not None:
        kw["user"] = auth.user
    for field, arg in (("password", "password"), ("token", "access_token"),
                       ("refresh_token", "refresh_token")):  # fmt: skip
        value = secret(profile, f"auth.{field}")
        if value is not None:
            kw[arg] = value
    return kw


def _tls(profile: Profile, fingerprint: str | None) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {"encryption": False}
    if tls.server_name is not None:
        raise UnsupportedSetting(
            NAME,
            "tls.server_name",
            "pyexasol sends and checks the canonical DNS name of each DSN host and overwrites "
            "any other name; write the host as its certificate names it",
        )
    verify = "none" if _pin_only(fingerprint, tls.ca) else tls.verify
    key_password = secret(profile, "tls.client_key_password")
    if tls.min_version != "1.2" or tls.max_version is not None or tls.crl is not None:
        # No sslopt key says these; websocket-client takes a whole context instead.
        spec = SSLContextSpec(_with_verify(tls, verify), key_password=key_password)
        return {"encryption": True, "websocket_sslopt": {"context": spec}}
    sslopt: dict[str, Any] = {"cert_reqs": ssl.CERT_NONE if verify == "none" else ssl.CERT_REQUIRED}
    if verify != "none" and tls.ca != "system":
        sslopt["ca_certs"] = TLSFile(tls.ca, "tls.ca")
    if verify == "ca":
        sslopt["check_hostname"] = False
    if tls.client_cert is not None:
        sslopt["certfile"], key = client_files(tls, key_password)
        if key is not None:
            sslopt["keyfile"] = key
        if key_password is not None:
            sslopt["password"] = key_password
    if tls.ciphers is not None:
        sslopt["ciphers"] = tls.ciphers
    return {"encryption": True, "websocket_sslopt": sslopt}


def _pin_only(fingerprint: str | None, ca: str) -> bool:
    """A pin without a CA file of its own replaces the chain check (pinned servers are usually
    self-signed), as pyexasol itself does; with a CA file, both run."""
    return fingerprint == NOCERTCHECK or (fingerprint is not None and ca == "system")


def explain(data: Mapping[str, Any]) -> dict[str, str]:
    """What pyexasol really checks where a pin changes what ``tls.verify`` says (for ``show``)."""
    tls = data.get("tls")
    if not isinstance(tls, Mapping) or not tls.get("enabled") or not tls.get("fingerprint"):
        return {}
    fingerprint = str(tls["fingerprint"])
    fingerprint = NOCERTCHECK if fingerprint.lower() == "nocertcheck" else fingerprint
    ca = str(tls.get("ca", "system"))
    if fingerprint == NOCERTCHECK:
        done = "not applied: nocertcheck sends cert_reqs=CERT_NONE and checks nothing"
    elif _pin_only(fingerprint, ca):
        done = (
            "not applied: the pin replaces it (cert_reqs=CERT_NONE: no chain or host name "
            "check; the server certificate's SHA-256 must equal tls.fingerprint)"
        )
    else:
        name = " and the host name" if tls.get("verify") == "full" else ""
        done = f"the chain against tls.ca{name}, then the fingerprint pin"
    return {"tls.verify": f"pyexasol: {done}"}


def _with_verify(tls: TLS, verify: str) -> TLS:
    return tls if verify == tls.verify else tls.model_copy(update={"verify": verify})


# -- the client (Profile.connect() and doctor's login) -------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """The websocket connect and every later socket read bounded."""
    return {"connection_timeout": seconds, "socket_timeout": seconds}


def ping(connection: Any) -> object:
    """``SELECT 1`` (``pyexasol.connect()`` logged in already)."""
    return connection.execute("SELECT 1").fetchval()


def refused_login(error: BaseException) -> bool:
    """pyexasol raises ``ExaAuthError`` when the server refuses the login."""
    # deferred: only a login that failed gets here, with the driver loaded by it
    from pyexasol import ExaAuthError

    return isinstance(error, ExaAuthError)


# pyexasol 3 encrypts unless told otherwise (encryption=True is its default).
DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="pyexasol.connect",
    aliases=("exasol",),
    default_port=DEFAULT_PORT,
    tls_default=True,
    extra="pyexasol",
    string="dsn",
    explain=explain,
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
)
