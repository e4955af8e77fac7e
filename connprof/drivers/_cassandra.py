"""Emit ``cassandra.cluster.Cluster(**kw)`` arguments from a canonical profile.

The same module serves cassandra-driver and scylla-driver: both install the ``cassandra``
package with the same ``Cluster`` arguments used here. Choices, each checked against the
driver's source (``design/drivers.md`` section 2):

- TLS is always an ``ssl_context`` built by ``connprof._tls``. The legacy ``ssl_options`` dict is
  never used to build one: that path cannot turn verification off, loads no system trust store
  and has no key password. ``ssl_options`` appears only as ``{"server_hostname": name}`` when
  ``tls.server_name`` is set, the one key the driver reads next to an ``ssl_context``.
- Host names: ``Cluster()`` resolves contact points to IP addresses and discovers the other
  nodes by IP, and with ``check_hostname`` it checks the certificate against that **IP**. With
  ``verify: full`` and no ``server_name``, node certificates therefore need IP addresses in
  their subjectAltName. That is stricter than the profile, never weaker, so it is emitted as
  written; set ``tls.server_name`` to the name in the certificates to check that name instead
  (the driver then sends and checks it for every node).
- Ports: ``contact_points`` are plain hosts and ``port`` their common port. Hosts with
  different ports become ``(host, port)`` pairs, which the driver takes, and ``port`` stays the
  profile's port, the one the driver uses for the nodes it discovers.
- ``database`` is refused: ``Cluster`` takes no keyspace; it goes to ``cluster.connect(ks)``.
- ``fingerprint``, SASL mechanisms (Kerberos via pure-sasl), tokens, and a Twisted/Eventlet
  ``connection_class`` (which want a pyOpenSSL context) are refused: not yet expressible.
- ``ocsp``: the standard ``ssl`` module has no OCSP checks, so there is nothing to switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import UnsupportedSetting
from ._base import Construct, DriverSpec, SSLContextSpec, pass_options, secret
from ._endpoints import split_host

if TYPE_CHECKING:
    from .._models import Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit"]

NAME = "cassandra"
DEFAULT_PORT = 9042

# The arguments emit() sets from the profile's own fields; `options` may not set them again.
_OWN = ("contact_points", "port", "auth_provider", "ssl_context", "ssl_options")
# Options that cannot work with what emit() sets, and what to do instead.
_REFUSED_OPTIONS = {
    "connection_class": (
        "the Twisted and Eventlet reactors need a pyOpenSSL context, which connprof does not "
        "build yet; use the default reactor (leave connection_class out) with the ssl_context "
        "connprof builds, or build the Cluster in your code"
    ),
    "cloud": (
        "a cloud secure-connect bundle replaces contact points and TLS, which this profile "
        "sets; pass cloud= to Cluster() in your code instead of using a profile"
    ),
    "endpoint_factory": (
        "an endpoint factory is a Python object, which a profile cannot hold; build the "
        "Cluster in your code"
    ),
}


def emit(profile: Profile) -> dict[str, Any]:
    """The ``Cluster`` keyword arguments; ``UnsupportedSetting`` for what it cannot express."""
    if profile.database is not None:
        raise UnsupportedSetting(
            NAME,
            "database",
            "Cluster() takes no keyspace; remove database from the profile and pass the "
            "keyspace to cluster.connect('KEYSPACE') (or use fully qualified table names)",
        )
    kw: dict[str, Any] = _endpoints(profile)
    kw.update(_auth(profile))
    kw.update(_tls(profile))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's hosts, port, auth and tls",
        refused=_REFUSED_OPTIONS,
    )


def _endpoints(profile: Profile) -> dict[str, Any]:
    port = profile.port or DEFAULT_PORT
    pairs = [split_host(entry, port) for entry in profile.hosts or ()]
    ports = {p for _, p in pairs}
    if len(ports) == 1:
        # One port for all: plain contact points, which is also what discovered nodes use.
        return {"contact_points": [host for host, _ in pairs], "port": ports.pop()}
    return {"contact_points": [(host, p) for host, p in pairs], "port": port}


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for field in ("token", "refresh_token"):
        if getattr(auth, field) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{field}",
                "the cassandra driver has no token authentication; use auth.user and "
                "auth.password (PasswordAuthenticator)",
            )
    if auth.mechanism is not None or auth.properties is not None:
        setting = "auth.mechanism" if auth.mechanism is not None else "auth.properties"
        raise UnsupportedSetting(
            NAME,
            setting,
            "SASL auth providers (Kerberos/GSSAPI through pure-sasl) are not supported yet; use "
            "auth.user and auth.password (PlainTextAuthProvider), or build a SaslAuthProvider "
            "in your code",
        )
    if auth.source is not None:
        raise UnsupportedSetting(
            NAME, "auth.source", "authSource is a MongoDB setting; remove it from the profile"
        )
    if auth.user is None and auth.password is None:
        return {}
    if auth.user is None or auth.password is None:
        missing = "auth.user" if auth.user is None else "auth.password"
        raise UnsupportedSetting(
            NAME,
            missing,
            "PlainTextAuthProvider needs both a user and a password; add "
            f"{missing}, or remove the other to connect without authentication",
        )
    provider = Construct(
        "cassandra.auth:PlainTextAuthProvider",
        {"username": auth.user, "password": secret(profile, "auth.password")},
    )
    return {"auth_provider": provider}


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {}
    if tls.fingerprint is not None:
        raise UnsupportedSetting(
            NAME,
            "tls.fingerprint",
            "the cassandra driver cannot pin a certificate fingerprint; verify the chain with "
            "tls.ca instead",
        )
    kw: dict[str, Any] = {
        "ssl_context": SSLContextSpec(tls, key_password=secret(profile, "tls.client_key_password"))
    }
    if tls.server_name is not None:
        # The only ssl_options key read next to an ssl_context: SNI and the name checked.
        kw["ssl_options"] = {"server_hostname": tls.server_name}
    return kw


# -- the client (Profile.connect() and doctor's login) -------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """Each node connect and the control connection's queries bounded."""
    return {"connect_timeout": seconds, "control_connection_timeout": seconds}


def ping(cluster: Any) -> object:
    """``cluster.connect()`` (the client is the ``Cluster``), then the cheapest query."""
    session = cluster.connect()
    return session.execute("SELECT release_version FROM system.local").one()


def refused_login(error: BaseException) -> bool:
    """``NoHostAvailable`` whose per-node errors are the driver's ``AuthenticationFailed``."""
    # deferred: only a login that failed gets here, with the driver loaded by it
    from cassandra import AuthenticationFailed  # type: ignore[import-untyped]
    from cassandra.cluster import NoHostAvailable  # type: ignore[import-untyped]

    if isinstance(error, AuthenticationFailed):
        return True
    errors = error.errors if isinstance(error, NoHostAvailable) else None
    if not isinstance(errors, dict) or not errors:
        return False
    return all(isinstance(e, AuthenticationFailed) for e in errors.values())


# The driver starts in plaintext unless told otherwise.
DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="cassandra.cluster.Cluster",
    aliases=("scylla",),
    default_port=DEFAULT_PORT,
    tls_default=False,
    extra="cassandra",
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
    close="shutdown",
)
