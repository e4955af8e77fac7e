"""Emit ``hazelcast.HazelcastClient(**kw)`` arguments from a canonical profile.

Hazelcast builds its own ``SSLContext`` from its ``ssl_*`` options
(``hazelcast.reactor.AsyncoreConnection._wrap_as_ssl_socket``; ``design/drivers.md`` section
4), so the TLS block is spelled as those options and whatever they cannot say is refused:

- It always verifies the chain (``CERT_REQUIRED``): ``verify: none`` is refused rather than
  pretended. ``ca: system`` emits no ``ssl_cafile``, and hazelcast then loads the OS trust store
  (``load_default_certs``, which honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``), as connprof does.
- Its own default skips the host name check; connprof emits ``ssl_check_hostname=True`` under
  ``verify: full`` and ``False`` only under ``verify: ca``. The name checked is the member
  address as written in ``hosts``; there is no separate server name, so ``server_name`` is
  refused.
- It pins exactly one protocol version (``ssl_protocol``): connprof emits ``min_version``
  (``"1.2"`` → ``"TLSv1_2"``, the default), so a member that offers only a newer version fails
  to connect; set ``min_version`` to the version the members use. A ``max_version`` other than
  ``min_version`` would be a range and is refused.
- No CRL and no fingerprint option: refused. No OCSP: nothing to switch.
- A token and user/password together are refused: hazelcast would use the token and silently
  ignore the credentials. Kerberos (``auth.mechanism``) is refused: not supported yet.
- Members get the profile's port when they name none (hazelcast would otherwise try 5701-5703).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import UnsupportedSetting
from ._base import Construct, DriverSpec, TLSFile, client_files, pass_options, secret
from ._endpoints import split_host

if TYPE_CHECKING:
    from .._models import Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit"]

NAME = "hazelcast"
DEFAULT_PORT = 5701

# hazelcast.config.SSLProtocol member names, by the profile's version spelling.
_PROTOCOLS = {"1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}
# The arguments emit() sets from the profile's own fields; `options` may not set them again.
_OWN = ("cluster_members", "creds_username", "creds_password", "token_provider")


def emit(profile: Profile) -> dict[str, Any]:
    """The ``HazelcastClient`` keyword arguments; ``UnsupportedSetting`` for what it lacks."""
    if profile.database is not None:
        raise UnsupportedSetting(
            NAME,
            "database",
            "a Hazelcast cluster has no database; remove database and name maps in your code "
            "(client.get_map('name'))",
        )
    port = profile.port or DEFAULT_PORT
    members = [_member(*split_host(entry, port)) for entry in profile.hosts or ()]
    kw: dict[str, Any] = {"cluster_members": members}
    kw.update(_auth(profile))
    kw.update(_tls(profile))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's hosts and auth",
        refused={
            "config": "HazelcastClient refuses a config object together with keyword "
            "arguments; write the settings as options instead"
        },
    )


def _member(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    if auth.mechanism is not None:
        raise UnsupportedSetting(
            NAME,
            "auth.mechanism",
            f"{auth.mechanism} (e.g. Kerberos) is not supported yet; build the token provider "
            "(hazelcast-kerberos) in your code and pass token_provider=, or use auth.user and "
            "auth.password, or auth.token",
        )
    for field in ("refresh_token", "source", "properties"):
        if getattr(auth, field) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{field}",
                "hazelcast takes a user and password, or a token; remove it",
            )
    kw: dict[str, Any] = {}
    if auth.token is not None:
        if auth.user is not None or auth.password is not None:
            raise UnsupportedSetting(
                NAME,
                "auth.token",
                "hazelcast uses the token and silently ignores user and password when both are "
                "given; keep either auth.token or auth.user and auth.password",
            )
        kw["token_provider"] = Construct(
            "hazelcast.security:BasicTokenProvider", args=(secret(profile, "auth.token"),)
        )
    if auth.user is not None:
        kw["creds_username"] = auth.user
    if auth.password is not None:
        kw["creds_password"] = secret(profile, "auth.password")
    return kw


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {}
    if tls.verify == "none":
        raise UnsupportedSetting(
            NAME,
            "tls.verify",
            "the hazelcast client always verifies the certificate chain; give the members' CA "
            "in tls.ca, and verify: ca if their names do not match the certificates",
        )
    refused = {
        "fingerprint": "hazelcast cannot pin a certificate; verify the chain with tls.ca",
        "crl": "hazelcast loads no CRL; revoke through the CA, or remove tls.crl",
        "server_name": (
            "hazelcast checks the member address as written in hosts; list the members by the "
            "name in their certificates, or use verify: ca"
        ),
    }
    for field, why in refused.items():
        if getattr(tls, field) is not None:
            raise UnsupportedSetting(NAME, f"tls.{field}", why)
    if tls.max_version is not None and tls.max_version != tls.min_version:
        raise UnsupportedSetting(
            NAME,
            "tls.max_version",
            "hazelcast pins exactly one protocol version (ssl_protocol); set min_version to "
            "the version the members use and remove max_version (or make it equal)",
        )
    kw: dict[str, Any] = {
        "ssl_enabled": True,
        # Secure default: hazelcast's own is False.
        "ssl_check_hostname": tls.verify == "full",
        "ssl_protocol": _PROTOCOLS[tls.min_version],
    }
    if tls.ca != "system":
        kw["ssl_cafile"] = TLSFile(tls.ca, "tls.ca")
    if tls.client_cert is not None:
        password = secret(profile, "tls.client_key_password")
        kw["ssl_certfile"], key = client_files(tls, password)
        if key is not None:
            kw["ssl_keyfile"] = key
        if password is not None:
            kw["ssl_password"] = password
    from .._tls import cipher_list  # deferred: the TLS module loads with the first TLS profile

    ciphers = cipher_list(tls.min_version, tls.ciphers)
    if ciphers is not None:
        kw["ssl_ciphers"] = ciphers
    return kw


# -- the client (Profile.connect() and doctor's login) -------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """How long the constructor tries the cluster (default: forever), and each socket connect."""
    return {"cluster_connect_timeout": seconds, "connection_timeout": seconds}


def ping(client: Any) -> object:
    """The members the client sees: ``HazelcastClient()`` connected and authenticated already."""
    members = client.cluster_service.get_members()
    if not members:
        # deferred: only a client that lost the cluster gets here
        from hazelcast.errors import IllegalStateError

        raise IllegalStateError("the client sees no cluster member")
    return members


def refused_login(error: BaseException) -> bool:
    """hazelcast's ``AuthenticationError`` (the constructor logs it and raises
    ``IllegalStateError`` instead when no member accepts, so most refusals stay login_failed)."""
    # deferred: only a login that failed gets here, with the driver loaded by it
    from hazelcast.errors import AuthenticationError

    return isinstance(error, AuthenticationError)


# The driver starts in plaintext unless told otherwise.
DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="hazelcast.HazelcastClient",
    aliases=(),
    default_port=DEFAULT_PORT,
    tls_default=False,
    extra="hazelcast",
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
    close="shutdown",
)
