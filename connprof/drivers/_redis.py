"""Emit ``redis.Redis(**kw)`` arguments from a canonical profile (Redis and Valkey).

redis-py builds its own ``SSLContext`` per connection from its ``ssl_*`` arguments
(``redis.connection.SSLConnection``; ``design/drivers.md`` section 7), so the TLS block is
spelled as those arguments and whatever they cannot say is refused:

- ``verify: full`` is ``ssl_cert_reqs="required"`` with ``ssl_check_hostname=True``, ``ca``
  the same without the host name check, ``none`` is ``"none"``. Both are always written: the
  library's defaults are not the profile's.
- ``ca: system`` writes no ``ssl_ca_certs``: redis-py starts from
  ``ssl.create_default_context()``, which loads the OS store (``load_default_certs``, honouring
  ``SSL_CERT_FILE``/``SSL_CERT_DIR``), as connprof's own context does. A CA file is its path.
- ``ssl_min_version`` is always written; TLS 1.0/1.1 (with ``allow_insecure``) also lowers
  OpenSSL's security level, as connprof's own context does, unless ``ciphers`` is given.
  redis-py has no maximum: only ``max_version: "1.3"`` (OpenSSL's ceiling) is expressible.
- No CRL file, SNI name or certificate pin: ``crl``, ``server_name`` and ``fingerprint`` are
  refused. ``ocsp``: redis-py's OCSP check (``ssl_validate_ocsp``) needs pyOpenSSL and network
  fetches of its own; it is left off, as the drivers on the standard ``ssl`` module are.
- ``redis.Redis`` talks to one server: several hosts are refused (Sentinel and Cluster are other
  clients). ``database`` is the database number, ``db``.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._errors import UnsupportedSetting
from ._base import DriverSpec, TLSFile, client_files, pass_options, secret
from ._endpoints import one_host
from ._formats import plain_values

if TYPE_CHECKING:
    from .._models import Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit", "format_uri"]

NAME = "redis"
DEFAULT_PORT = 6379

_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
# The arguments emit() sets from the profile's own fields; `options` may not set them again.
_OWN = {"host", "port", "db", "unix_socket_path", "connection_pool", "connection_class",
        "credential_provider"}  # fmt: skip
#: How ``redis.connection.parse_url`` types a query parameter (redis 8.1
#: ``URL_QUERY_ARGUMENT_PARSERS``); any other parameter stays a string.
_URL_TYPES: dict[str, type] = {
    "db": int, "socket_timeout": float, "socket_connect_timeout": float,
    "socket_read_size": int, "socket_keepalive": bool, "retry_on_timeout": bool,
    "max_connections": int, "health_check_interval": int, "ssl_check_hostname": bool,
    "ssl_min_version": int, "timeout": float, "protocol": int, "legacy_responses": bool,
}  # fmt: skip


def emit(profile: Profile) -> dict[str, Any]:
    """The ``redis.Redis`` keyword arguments; ``UnsupportedSetting`` for what it cannot say."""
    host, port = one_host(
        profile,
        NAME,
        DEFAULT_PORT,
        "redis.Redis connects to one server; keep one host (for Sentinel or Cluster, build "
        "redis.sentinel.Sentinel or redis.cluster.RedisCluster in your code)",
    )
    kw: dict[str, Any] = {"host": host, "port": port}
    if profile.database is not None:
        if not profile.database.isdigit() or not profile.database.isascii():
            raise UnsupportedSetting(
                NAME,
                "database",
                f"a Redis database is a number (0, 1, ...), not {profile.database!r}; "
                "write database: 0, or remove it for database 0",
            )
        kw["db"] = int(profile.database)
    kw.update(_auth(profile))
    kw.update(_tls(profile))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's hosts, port, database, auth and tls (or it is a Python object)",
    )


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for key in ("token", "refresh_token", "mechanism", "source", "properties"):
        if getattr(auth, key) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{key}",
                f"redis.Redis takes a user name and a password (AUTH); remove auth.{key}",
            )
    kw: dict[str, Any] = {}
    if auth.user is not None:
        kw["username"] = auth.user
    password = secret(profile, "auth.password")
    if password is not None:
        kw["password"] = password
    return kw


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {}
    for name, instead in (
        ("crl", "redis.Redis loads no CRL file; remove crl, or revoke on the server side"),
        ("server_name", "it sends and checks the host it connects to; list the host under "
         "the name its certificate carries (or use verify: ca)"),
        ("fingerprint", "it cannot pin a certificate; verify it against a CA (tls.ca)"),
    ):  # fmt: skip
        if getattr(tls, name) is not None:
            raise UnsupportedSetting(
                NAME, f"tls.{name}", f"redis.Redis has no option for {name}: {instead}"
            )
    if tls.max_version not in (None, "1.3"):
        raise UnsupportedSetting(
            NAME,
            "tls.max_version",
            "redis.Redis has a minimum TLS version but no maximum; remove max_version, or cap "
            "the version on the server",
        )
    kw: dict[str, Any] = {
        "ssl": True,
        "ssl_cert_reqs": "none" if tls.verify == "none" else "required",
        "ssl_check_hostname": tls.verify == "full",
    }
    if tls.verify != "none" and tls.ca != "system":
        kw["ssl_ca_certs"] = TLSFile(tls.ca, "tls.ca")
    password = secret(profile, "tls.client_key_password")
    if tls.client_cert is not None:
        cert, key = client_files(tls, password)
        kw["ssl_certfile"] = cert
        if key is not None:
            kw["ssl_keyfile"] = key
        if password is not None:
            kw["ssl_password"] = password
    elif password is not None:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key_password",
            "there is no client certificate for the password to unlock; set client_cert or "
            "remove client_key_password",
        )
    kw["ssl_min_version"] = _VERSIONS[tls.min_version]
    from .._tls import cipher_list  # deferred: the TLS module loads with the first TLS profile

    ciphers = cipher_list(tls.min_version, tls.ciphers)
    if ciphers is not None:
        kw["ssl_ciphers"] = ciphers
    return kw


# -- the client ----------------------------------------------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    return {"socket_connect_timeout": seconds, "socket_timeout": seconds}


def ping(client: Any) -> object:
    return client.ping()


def refused_login(error: BaseException) -> bool:
    """redis-py's ``AuthenticationError`` (WRONGPASS, NOAUTH, invalid password), by class."""
    return any(
        cls.__name__ == "AuthenticationError" and cls.__module__.startswith("redis")
        for cls in type(error).__mro__
    )


# -- other formats -------------------------------------------------------------------------------


def format_uri(profile: Profile) -> str:
    """``rediss://user@host:port/db?ssl_cert_reqs=required&...``, as ``Redis.from_url`` reads it."""
    kw = plain_values(NAME, emit(profile), "uri")
    scheme = "rediss" if kw.pop("ssl", False) else "redis"
    host, port = str(kw.pop("host")), kw.pop("port")
    netloc = f"[{host}]:{port}" if ":" in host else f"{quote(host, safe='')}:{port}"
    user = kw.pop("username", None)
    if user is not None:
        netloc = f"{quote(str(user), safe='')}@{netloc}"
    db = kw.pop("db", None)
    path = f"/{db}" if db is not None else ""
    query = []
    for key, value in kw.items():
        query.append(f"{key}={quote(_url_value(profile, key, value), safe='/')}")
    return f"{scheme}://{netloc}{path}" + ("?" + "&".join(query) if query else "")


def _url_value(profile: Profile, key: str, value: Any) -> str:
    """The text ``parse_url`` turns back into ``value``; ``UnsupportedSetting`` if none does."""
    typed = _URL_TYPES.get(key)
    if isinstance(value, str) and typed is None:
        return value
    if typed is bool and isinstance(value, bool):
        return "true" if value else "false"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and (typed is float or (typed is int and value == int(value))):
        return str(int(value)) if typed is int else str(value)
    raise UnsupportedSetting(
        NAME,
        f"options.{key}" if key in profile.options else key,
        f"redis.from_url reads {key} back as "
        f"{typed.__name__ if typed else 'a string'}, not {value!r}; pass it in your code "
        "(Redis.from_url(uri, " + key + "=...)), or use --format kwargs",
    )


DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="redis.Redis",
    aliases=("valkey",),
    default_port=DEFAULT_PORT,
    # The client starts in plaintext unless told otherwise (ssl=False).
    tls_default=False,
    extra="redis",
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
    formats={"uri": format_uri},
    left_out={
        "auth.password": "redis-cli asks for it with --askpass (or reads REDISCLI_AUTH); "
        "in Python pass Redis.from_url(uri, password=...)",
        "tls.client_key_password": "redis-cli takes no key password; in Python pass "
        "Redis.from_url(uri, ssl_password=...)",
    },
)
