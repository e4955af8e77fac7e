"""Emit ``pymysql.connect(**kw)`` arguments from a canonical profile (MySQL and MariaDB).

PyMySQL takes an ``ssl.SSLContext`` as ``ssl=`` and uses it as it is (``design/drivers.md``
section 8), so TLS is the one context connprof builds (``connprof._tls``): the chain, the host
name, the CA or the OS store, versions, ciphers, a CRL and the client key with its password all
come from there. Its own ``ssl_*`` flags are never used; they have traps (``ssl_ca`` alone
verifies nothing; ``ssl_verify_identity`` without ``ssl_ca`` checks no host name).

- TLS off is ``ssl_disabled=True``, written out: without it PyMySQL 1.2 tries TLS whenever the
  server offers it, without verifying anything, and falls back to plaintext.
- It checks the certificate against the host it connects to, with no other name, and cannot
  pin a certificate: ``server_name`` and ``fingerprint`` are refused. ``ocsp``: the standard
  ``ssl`` module has no OCSP checks, so there is nothing to switch.
- One server per connection: several hosts are refused.
- ``read_default_file`` and ``read_default_group`` are refused in ``options``: an option file
  can set the host, the password and TLS behind the profile's back.
- The uri (``--format uri``) is MySQL's URI-like connection string, as MySQL Shell reads it
  (``mysql://user@host:3306/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=...``); PyMySQL has no parser.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._errors import UnsupportedSetting
from ._base import DriverSpec, SSLContextSpec, pass_options, secret
from ._endpoints import one_host

if TYPE_CHECKING:
    from .._models import Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit", "format_uri"]

NAME = "pymysql"
DEFAULT_PORT = 3306

# The arguments emit() sets from the profile's own fields; `options` may not set them again.
_OWN = {"host", "port", "database", "db", "passwd", "unix_socket", "named_pipe"}
_REFUSED_OPTIONS = {
    "read_default_file": "an option file (my.cnf) can set the host, the password and TLS "
    "where the profile does not show them; write those settings in the profile instead",
    "read_default_group": "it reads an option file (my.cnf) group, which can set the host, the "
    "password and TLS; write those settings in the profile instead",
}
_SSL_MODE = {"full": "VERIFY_IDENTITY", "ca": "VERIFY_CA", "none": "REQUIRED"}
_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


def emit(profile: Profile) -> dict[str, Any]:
    """The ``pymysql.connect`` keyword arguments; ``UnsupportedSetting`` for the rest."""
    host, port = one_host(
        profile,
        NAME,
        DEFAULT_PORT,
        "pymysql.connect opens one connection to one server; keep one host (or a proxy "
        "such as MaxScale or ProxySQL in front of the others)",
    )
    kw: dict[str, Any] = {"host": host, "port": port}
    kw.update(_auth(profile))
    if profile.database is not None:
        kw["database"] = profile.database
    kw.update(_tls(profile))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's hosts, port, database and auth",
        refused=_REFUSED_OPTIONS,
    )


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for key in ("token", "refresh_token", "mechanism", "source", "properties"):
        if getattr(auth, key) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{key}",
                "pymysql.connect takes a user and a password (the server picks the auth "
                f"plugin); remove auth.{key}",
            )
    kw: dict[str, Any] = {}
    if auth.user is not None:
        kw["user"] = auth.user
    password = secret(profile, "auth.password")
    if password is not None:
        kw["password"] = password
    return kw


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {"ssl_disabled": True}
    for key, instead in (
        ("server_name", "list the host under the name its certificate carries (or use "
         "verify: ca)"),
        ("fingerprint", "verify the certificate against a CA instead (tls.ca)"),
    ):  # fmt: skip
        if getattr(tls, key) is not None:
            raise UnsupportedSetting(
                NAME,
                f"tls.{key}",
                f"PyMySQL checks the host it connects to and has no option for {key}; {instead}",
            )
    if tls.client_key_password and not tls.client_cert:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key_password",
            "there is no client certificate for the password to unlock; set client_cert or "
            "remove client_key_password",
        )
    return {"ssl": SSLContextSpec(tls, key_password=secret(profile, "tls.client_key_password"))}


# -- the client ----------------------------------------------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    # PyMySQL wants each one above zero; the connect timeout bounds the TLS handshake too.
    return {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}


def ping(client: Any) -> object:
    with client.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()


#: ER_ACCESS_DENIED_ERROR, and MariaDB's and MySQL's "using password: NO" for a plugin user.
_ACCESS_DENIED = (1045, 1698)


def refused_login(error: BaseException) -> bool:
    """PyMySQL's ``OperationalError`` whose first argument is an access-denied error code."""
    return (
        type(error).__name__ == "OperationalError"
        and type(error).__module__.startswith("pymysql")
        and bool(error.args)
        and error.args[0] in _ACCESS_DENIED
    )


# -- other formats -------------------------------------------------------------------------------


def format_uri(profile: Profile) -> str:
    """MySQL's URI-like connection string (MySQL Shell): ``mysql://user@host:port/db?ssl-...``."""
    kw = emit(profile)
    host, port = str(kw["host"]), kw["port"]
    netloc = f"[{host}]:{port}" if ":" in host else f"{quote(host, safe='')}:{port}"
    if "user" in kw:
        netloc = f"{quote(str(kw['user']), safe='')}@{netloc}"
    path = "/" + quote(str(kw["database"]), safe="") if "database" in kw else ""
    for key in profile.options:
        raise UnsupportedSetting(
            NAME,
            f"options.{key}",
            f"MySQL's URI-like string has no parameter for PyMySQL's {key}; pass it in your "
            "code, or use --format kwargs",
        )
    query = [("ssl-mode", "DISABLED")] if not profile.tls.enabled else _tls_query(profile)
    text = "&".join(f"{k}={quote(v, safe=',')}" for k, v in query)
    return f"mysql://{netloc}{path}?{text}"


def _tls_query(profile: Profile) -> list[tuple[str, str]]:
    tls = profile.tls
    query = [("ssl-mode", _SSL_MODE[tls.verify])]
    if tls.verify != "none":
        query.append(("ssl-ca", tls.ca if tls.ca != "system" else _os_ca_file()))
        if tls.crl is not None:
            query.append(("ssl-crl", tls.crl))
    if tls.client_cert is not None:
        query.append(("ssl-cert", tls.client_cert))
        query.append(("ssl-key", tls.client_key or tls.client_cert))
    last = _VERSIONS.index(tls.max_version or "1.3")
    versions = _VERSIONS[_VERSIONS.index(tls.min_version) : last + 1]
    query.append(("tls-version", ",".join(f"TLSv{v}" for v in versions)))
    if tls.ciphers is not None:
        query.append(("ssl-cipher", tls.ciphers))
    return query


def _os_ca_file() -> str:
    """MySQL clients have no "system" store: the OS bundle's file stands for it."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile:
        return paths.cafile
    raise UnsupportedSetting(
        NAME,
        "tls.ca",
        "MySQL clients take a CA file, and OpenSSL on this machine names none for the system "
        "store; set tls.ca to a PEM bundle",
    )


DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="pymysql.connect",
    aliases=("mysql", "mariadb"),
    default_port=DEFAULT_PORT,
    # Plaintext unless the profile says otherwise, written as ssl_disabled=True (see above).
    tls_default=False,
    extra="pymysql",
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
    formats={"uri": format_uri},
    left_out={
        "auth.password": "mysqlsh and mysql ask for it; in Python pass it to pymysql.connect",
        "tls.client_key_password": "MySQL clients take no key password: they need the key "
        "decrypted (openssl pkey -in KEY -out KEY.dec)",
    },
)
