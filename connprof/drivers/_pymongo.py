"""Emit ``pymongo.MongoClient(**kw)`` arguments from a canonical profile.

pymongo builds its own ``SSLContext`` from its ``tls*`` options (``pymongo.ssl_support``), so
the TLS block is spelled as those options, and whatever they cannot say is refused:

- pymongo takes no SSLContext, SNI name, cipher string or protocol range. Its context is
  ``SSLContext(PROTOCOL_TLS_CLIENT)``, whose floor on Python >= 3.10 is TLS 1.2 and whose ceiling
  is the newest version OpenSSL knows (1.3). So ``min_version: "1.2"`` and ``max_version: "1.3"``
  are what pymongo does already and emit nothing; any other version, ``ciphers``,
  ``server_name`` and ``fingerprint`` are refused.
- The client certificate and key must be one file (``tlsCertificateKeyFile``).
- The default database is only read from a URI given as ``host``, so ``host`` is always a
  ``mongodb://h1:p1,h2:p2/db`` (or ``mongodb+srv://host/db``) URI without credentials or options;
  everything else is a keyword argument, where pymongo validates strictly (a bad value in a URI
  is only a warning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._errors import UnsupportedSetting
from ._base import DriverSpec, TLSFile, client_files, pass_options, secret
from ._formats import plain_values

if TYPE_CHECKING:
    from .._models import TLS, Auth, Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit", "format_uri"]

NAME = "pymongo"
DEFAULT_PORT = 27017

# What pymongo's own context does (see the module docstring): these values need no argument.
_IMPLIED_MIN = "1.2"
_IMPLIED_MAX = "1.3"

# The arguments emit() sets itself; an `options` key may not set them a second time. pymongo
# reads option names case-insensitively, so the check is too.
_OWN = {"host", "port", "username", "password", "authsource", "authmechanism",
        "authmechanismproperties"}  # fmt: skip


def emit(profile: Profile) -> dict[str, Any]:
    """The ``MongoClient`` keyword arguments; ``UnsupportedSetting`` for what pymongo lacks."""
    kw: dict[str, Any] = {"host": _host_uri(profile)}
    kw.update(_tls(profile))
    kw.update(_auth(profile))
    return pass_options(
        profile,
        kw,
        own={key.lower() for key in kw} | _OWN,
        from_fields="the profile's own fields (hosts, uri, database, auth, tls)",
        fold=str.lower,
    )


def _host_uri(profile: Profile) -> str:
    """``mongodb://h1:p1,h2:p2/db``: the seeds and the default database, nothing else."""
    database = profile.database
    if profile.uri is not None:
        # deferred: the URI parser is large; emit needs it only for a profile with a uri
        from .._uri.mongodb import parse_mongodb_uri

        parsed = parse_mongodb_uri(profile.uri)
        scheme = parsed.scheme
        seeds = [_seed(host, port) for host, port in parsed.hosts]
        # The loader folds the uri's database into the profile; the uri's own is the fallback.
        database = database or parsed.database
    else:
        scheme = "mongodb"
        seeds = [_seed_from_hosts_entry(entry, profile.port) for entry in profile.hosts or ()]
    path = "/" + quote(database, safe="") if database else "/"
    return f"{scheme}://{','.join(seeds)}{path}"


def _seed(host: str, port: int | None) -> str:
    if host.endswith(".sock"):
        # A Unix socket path goes into the URI percent-encoded (the MongoDB URI spec).
        return quote(host, safe="")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


def _seed_from_hosts_entry(entry: str, default_port: int | None) -> str:
    # The model has checked the shape: host, host:port, [v6], [v6]:port or a bare v6 address.
    if entry.count(":") > 1 and not entry.startswith("["):
        host, port = f"[{entry}]", default_port
    elif entry.startswith("["):
        close = entry.index("]")
        host, rest = entry[: close + 1], entry[close + 1 :]
        port = int(rest[1:]) if rest else default_port
    elif ":" in entry:
        host, _, port_text = entry.rpartition(":")
        port = int(port_text)
    else:
        host, port = entry, default_port
    return host if port is None else f"{host}:{port}"


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    srv = (profile.uri or "").lower().startswith("mongodb+srv://")
    if not tls.enabled:
        # mongodb+srv:// turns TLS on by itself; a profile that says off must say so to pymongo.
        return {"tls": False} if srv else {}
    _refuse_what_pymongo_cannot_say(tls)
    kw: dict[str, Any] = {"tls": True}
    if tls.ca != "system":
        # With no tlsCAFile pymongo loads the OS store (load_default_certs): that is "system".
        kw["tlsCAFile"] = TLSFile(tls.ca, "tls.ca")
    if tls.verify == "none":
        # This also turns the OCSP check off; pymongo rejects tlsDisableOCSPEndpointCheck beside
        # it, so `ocsp` is not emitted here.
        kw["tlsAllowInvalidCertificates"] = True
    else:
        if tls.verify == "ca":
            kw["tlsAllowInvalidHostnames"] = True
        if not tls.ocsp:
            kw["tlsDisableOCSPEndpointCheck"] = True
    if tls.crl:
        kw["tlsCRLFile"] = TLSFile(tls.crl, "tls.crl")
    password = secret(profile, "tls.client_key_password")
    if tls.client_cert:
        # Without a password, an encrypted key would make OpenSSL prompt on the terminal:
        # KeyFile checks the file when the arguments are built.
        kw["tlsCertificateKeyFile"], _ = client_files(tls, password)
    if password is not None:
        kw["tlsCertificateKeyFilePassword"] = password
    return kw


def _refuse_what_pymongo_cannot_say(tls: TLS) -> None:
    if tls.client_key:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key",
            "pymongo takes the certificate and its key in one file (tlsCertificateKeyFile); "
            "combine them once with `cat client.key client.crt > client.pem && chmod 600 "
            "client.pem`, then set client_cert: client.pem and remove client_key",
        )
    if tls.client_key_password and not tls.client_cert:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key_password",
            "there is no client certificate for the password to unlock; set client_cert or "
            "remove client_key_password",
        )
    if tls.crl and tls.verify == "none":
        raise UnsupportedSetting(
            NAME,
            "tls.crl",
            "pymongo rejects a CRL while certificate checks are off (verify: none); remove crl "
            "or verify the server",
        )
    if tls.fingerprint:
        raise UnsupportedSetting(
            NAME,
            "tls.fingerprint",
            "pymongo cannot pin a server certificate; verify it against a CA instead (tls.ca)",
        )
    if tls.min_version != _IMPLIED_MIN:
        raise UnsupportedSetting(
            NAME,
            "tls.min_version",
            f"pymongo always allows TLS {_IMPLIED_MIN} and newer and has no option for another "
            f'minimum; remove min_version (or set it to "{_IMPLIED_MIN}"), and enforce a '
            "higher minimum on the server",
        )
    if tls.max_version is not None and tls.max_version != _IMPLIED_MAX:
        raise UnsupportedSetting(
            NAME,
            "tls.max_version",
            "pymongo has no option for a maximum TLS version; remove max_version, or cap the "
            "version on the server",
        )
    if tls.ciphers:
        raise UnsupportedSetting(
            NAME,
            "tls.ciphers",
            "pymongo has no option for a cipher list and uses OpenSSL's defaults; remove "
            "ciphers, or restrict them on the server",
        )
    if tls.server_name:
        raise UnsupportedSetting(
            NAME,
            "tls.server_name",
            "pymongo sends and verifies the host name it connects to, with no option for "
            "another; list the hosts under the names their certificates carry (or use "
            "verify: ca to skip the host name check)",
        )


def _auth(profile: Profile) -> dict[str, Any]:
    auth: Auth = profile.auth
    if auth.token is not None or auth.refresh_token is not None:
        which = "auth.token" if auth.token is not None else "auth.refresh_token"
        raise UnsupportedSetting(
            NAME,
            which,
            "pymongo takes no bearer token; for MONGODB-OIDC set auth.mechanism: MONGODB-OIDC "
            "and auth.properties: {ENVIRONMENT: ...}, or use user and password",
        )
    kw: dict[str, Any] = {}
    password = secret(profile, "auth.password")
    if password is not None and auth.user is None:
        # pymongo drops a password without a user without a word: refuse instead.
        raise UnsupportedSetting(
            NAME,
            "auth.password",
            "pymongo ignores a password without a user name; set auth.user",
        )
    if auth.user is not None:
        kw["username"] = auth.user
    if password is not None:
        kw["password"] = password
    if auth.source is not None:
        kw["authSource"] = auth.source
    if auth.mechanism is not None:
        kw["authMechanism"] = auth.mechanism
    if auth.properties:
        kw["authMechanismProperties"] = dict(auth.properties)
    return kw


# -- other formats -------------------------------------------------------------------------------


def format_uri(profile: Profile) -> str:
    """``mongodb://user@h1,h2/db?tls=true&...``: the emitted arguments as one connection string.

    The password and the key password are left out; every other argument is a URI option,
    which ``MongoClient(uri)`` reads back to the same settings. An option the URI has no name
    for is refused, since pymongo would only warn and ignore it.
    """
    # deferred: the URI option table is large; only this format needs it
    from .._uri.mongodb import _BY_KEY

    kw = plain_values(NAME, emit(profile), "uri")
    scheme, _, rest = str(kw.pop("host")).partition("://")
    user = kw.pop("username", None)
    if user is not None:
        rest = f"{quote(str(user), safe='')}@{rest}"
    query = []
    for key, value in kw.items():
        known = _BY_KEY.get(key.lower())
        text = _uri_value(value)
        if known is None or text is None:
            raise UnsupportedSetting(
                NAME,
                f"options.{key}" if key in profile.options else key,
                f"a MongoDB URI has no option {key} for {value!r} (pymongo would ignore it "
                "with a warning); pass it to MongoClient in your code, or use --format kwargs",
            )
        query.append(f"{known[0].name}={text}")
    return f"{scheme}://{rest}" + ("?" + "&".join(query) if query else "")


def _uri_value(value: Any) -> str | None:
    """An option value as the URI spells it, or None for a value it has no spelling for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return quote(str(value), safe="/:")
    if isinstance(value, dict) and all(isinstance(v, str | bool) for v in value.values()):
        # authMechanismProperties: KEY:VALUE pairs, comma-separated.
        pairs = [f"{k}:{_uri_value(v)}" for k, v in value.items()]
        return ",".join(quote(p, safe="/:") for p in pairs)
    return None


# -- the client (Profile.connect() and doctor's login) -------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """Server selection, the TCP connect and each read bounded (pymongo counts milliseconds)."""
    ms = max(1, round(seconds * 1000))
    return {"serverSelectionTimeoutMS": ms, "connectTimeoutMS": ms, "socketTimeoutMS": ms}


def ping(client: Any) -> object:
    """``admin.command("ping")``: selects a server, authenticates, one round trip."""
    return client.admin.command("ping")


#: The server's ``AuthenticationFailed`` (code 18), as pymongo's ``OperationFailure.code``.
_AUTHENTICATION_FAILED = 18


def refused_login(error: BaseException) -> bool:
    """pymongo raises ``OperationFailure`` with the server's code 18 for refused credentials."""
    # deferred: only a login that failed gets here, with pymongo loaded by it
    from pymongo.errors import OperationFailure

    return isinstance(error, OperationFailure) and error.code == _AUTHENTICATION_FAILED


# The driver starts in plaintext unless told otherwise.
DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="pymongo.MongoClient",
    aliases=("mongodb",),
    default_port=DEFAULT_PORT,
    tls_default=False,
    extra="pymongo",
    string="uri",
    formats={"uri": format_uri},
    left_out={
        "auth.password": "mongosh asks for it (--password with no value); in Python pass "
        "MongoClient(uri, password=...)",
        "tls.client_key_password": "mongosh takes --tlsCertificateKeyFilePassword; in Python "
        "pass MongoClient(uri, tlsCertificateKeyFilePassword=...)",
    },
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
)
