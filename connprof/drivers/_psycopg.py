"""Emit ``psycopg.connect(**kw)`` arguments (libpq keywords) from a canonical profile.

libpq reads its TLS settings from keywords, and fills every keyword a program leaves out from
``PG*`` environment variables and files in ``~/.postgresql`` (``design/drivers.md`` section 6).
So connprof writes every TLS keyword the profile decides, and the environment cannot change
what the profile says:

- ``verify: full`` is ``sslmode=verify-full``, ``ca`` is ``verify-ca``, ``none`` is ``require``
  with no ``sslrootcert`` (libpq's ``require`` with a root certificate verifies the chain).
  TLS off is ``sslmode=disable``, written out: libpq's own default, ``prefer``, is unverified
  opportunistic TLS that ``PGSSLMODE`` may change. ``tls_default`` is False, so a profile
  without a ``tls`` key is plaintext, which lint reports for a host that is not loopback.
- ``ca: system`` is ``sslrootcert=system`` (the OS store, libpq >= 16, which allows it only
  with ``verify-full``); a CA file is its path. Both replace ``~/.postgresql/root.crt`` and
  ``PGSSLROOTCERT``. Which libpq is installed is checked when the arguments are built, never
  when they are emitted (emitting imports no driver): an older libpq is ``UnsupportedSetting``.
- Without a client certificate, ``sslcertmode=disable`` (libpq >= 16, checked the same way),
  or libpq would send ``~/.postgresql/postgresql.crt`` or ``$PGSSLCERT`` to the server. An
  older libpq is refused only when such a file is there to be sent; otherwise the keyword is
  left out (psycopg drops a None). A
  combined certificate and key file is given as both ``sslcert`` and ``sslkey`` (libpq reads
  the key from ``~/.postgresql/postgresql.key`` otherwise). ``client_key_password`` is
  ``sslpassword``.
- ``ssl_min_protocol_version`` is always written (``PGSSLMINPROTOCOLVERSION`` could lower it).
- ``server_name``: libpq checks the certificate against ``host`` and connects to ``hostaddr``,
  so it is expressible when every host is an IP address (``host`` is then the name, repeated,
  and ``hostaddr`` the addresses); for a host name it is refused.
- libpq has no cipher list, certificate pin or OCSP check: ``ciphers``, ``fingerprint`` and an
  explicit ``ocsp: true`` are refused (left at its default, ``ocsp`` has nothing to switch). A
  CRL with ``verify: none`` is refused (libpq reads it only with a root certificate).
- ``auth.mechanism`` is ``require_auth`` (libpq >= 16): ``scram-sha-256``, ``md5``,
  ``password``, ``gss``, ``sspi`` or ``none``. Tokens, ``source`` and ``properties`` are refused.
- Several hosts are libpq's comma lists; ``port`` is one value when every host has the same.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._errors import UnsupportedSetting
from ._base import Construct, DriverSpec, TLSFile, client_files, pass_options, secret, written
from ._endpoints import is_ip, split_host
from ._formats import plain_values

if TYPE_CHECKING:
    from .._models import Profile

__all__ = [
    "DEFAULT_PORT",
    "DRIVER",
    "NAME",
    "emit",
    "format_env",
    "format_uri",
    "libpq_value",
    "no_client_cert",
]

NAME = "psycopg"
DEFAULT_PORT = 5432

_SSLMODE = {"full": "verify-full", "ca": "verify-ca", "none": "require"}
_PROTOCOLS = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}
_MECHANISMS = ("scram-sha-256", "md5", "password", "gss", "sspi", "none")

#: libpq 18's keywords (``psycopg.pq.Conninfo.get_defaults()``) and their environment variables:
#: the keywords a uri may carry, and what ``--format env`` writes.
LIBPQ_ENV: dict[str, str | None] = {
    "service": "PGSERVICE", "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE",
    "channel_binding": "PGCHANNELBINDING", "connect_timeout": "PGCONNECT_TIMEOUT",
    "dbname": "PGDATABASE", "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT",
    "client_encoding": "PGCLIENTENCODING", "options": "PGOPTIONS", "application_name": "PGAPPNAME",
    "fallback_application_name": None, "keepalives": None, "keepalives_idle": None,
    "keepalives_interval": None, "keepalives_count": None, "tcp_user_timeout": None,
    "sslmode": "PGSSLMODE", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "sslcertmode": "PGSSLCERTMODE", "sslpassword": None, "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER", "require_auth": "PGREQUIREAUTH",
    "min_protocol_version": "PGMINPROTOCOLVERSION", "max_protocol_version": "PGMAXPROTOCOLVERSION",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "gssdelegation": "PGGSSDELEGATION",
    "replication": None, "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS", "scram_client_key": None,
    "scram_server_key": None, "oauth_issuer": None, "oauth_client_id": None,
    "oauth_client_secret": None, "oauth_scope": None, "sslkeylogfile": None,
}  # fmt: skip

# The keywords emit() sets from the profile's fields; `options` may not set them again.
_OWN = {"host", "hostaddr", "port", "dbname", "require_auth", "conninfo"}
# Keywords that would let something other than the profile decide, and what to do instead.
_REFUSED_OPTIONS = {
    "service": "a service (pg_service.conf) fills in settings from a file the profile does not "
    "show; write those settings in the profile instead",
    "passfile": "the password comes from auth.password (file:PATH reads a file); remove passfile",
    "oauth_client_secret": "a secret cannot be an option (options are shown and cached in "
    "plaintext); remove it",
    "scram_client_key": "a secret cannot be an option; remove it",
    "scram_server_key": "a secret cannot be an option; remove it",
}


def emit(profile: Profile) -> dict[str, Any]:
    """The ``psycopg.connect`` keyword arguments; ``UnsupportedSetting`` for what libpq lacks."""
    kw: dict[str, Any] = _endpoints(profile)
    if profile.database is not None:
        kw["dbname"] = profile.database
    kw.update(_auth(profile))
    kw.update(_tls(profile))
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's own fields (hosts, port, database, auth, tls)",
        refused=_REFUSED_OPTIONS,
    )


def libpq_value(value: str, minimum: int, setting: str, keyword: str) -> str:
    """``value``, if the installed libpq (major version) is at least ``minimum``. Build time."""
    import psycopg  # deferred: only building the arguments asks which libpq is installed

    found = psycopg.pq.version()
    if found >= minimum * 10000:
        return value
    raise UnsupportedSetting(
        NAME,
        setting,
        f"{keyword}={value} needs libpq {minimum} or newer and psycopg uses libpq "
        f"{found // 10000}; install psycopg[binary] (it bundles a recent libpq) or a newer "
        "libpq",
    )


def no_client_cert() -> str | None:
    """``sslcertmode=disable`` where libpq has it (16 and newer). Build time.

    An older libpq has no way to say "send no certificate" and sends the one it finds itself
    (``$PGSSLCERT``, else ``~/.postgresql/postgresql.crt``): where there is none, there is
    nothing to say (None: psycopg leaves the keyword out); where there is one, it is refused.
    """
    import psycopg  # deferred: only building the arguments asks which libpq is installed

    found = psycopg.pq.version()
    if found >= 160000:
        return "disable"
    default = os.environ.get("PGSSLCERT") or os.path.expanduser("~/.postgresql/postgresql.crt")
    if not os.path.exists(default):
        return None
    raise UnsupportedSetting(
        NAME,
        "tls.client_cert",
        f"the profile names no client certificate, but libpq {found // 10000} sends {default} "
        "(sslcertmode=disable needs libpq 16 or newer); install psycopg[binary] (it bundles a "
        "recent libpq), or set tls.client_cert to the certificate meant for this server",
    )


def _gated(keyword: str, value: str, setting: str) -> Construct:
    return Construct(f"{__name__}:libpq_value", args=(value, 16, setting, keyword), shown=value)


def _endpoints(profile: Profile) -> dict[str, Any]:
    pairs = [split_host(entry, profile.port or DEFAULT_PORT) for entry in profile.hosts or ()]
    hosts = [host for host, _ in pairs]
    ports = [port for _, port in pairs]
    kw: dict[str, Any] = {}
    name = profile.tls.server_name if profile.tls.enabled else None
    if name is not None:
        named = [h for h in hosts if not is_ip(h)]
        if named:
            raise UnsupportedSetting(
                NAME,
                "tls.server_name",
                f"libpq checks the certificate against the host it is given, and {named[0]} is "
                "a name, not an address; list the hosts under the names their certificates "
                "carry, or give IP addresses in hosts (libpq then connects to them, as "
                "hostaddr, and checks server_name)",
            )
        kw["host"] = ",".join([name] * len(hosts))
        kw["hostaddr"] = ",".join(hosts)
    else:
        kw["host"] = ",".join(hosts)
    kw["port"] = ports[0] if len(set(ports)) == 1 else ",".join(map(str, ports))
    return kw


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for key in ("token", "refresh_token", "source", "properties"):
        if getattr(auth, key) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{key}",
                "libpq takes a user and a password (and require_auth as auth.mechanism); "
                f"remove auth.{key}",
            )
    kw: dict[str, Any] = {}
    if auth.user is not None:
        kw["user"] = auth.user
    password = secret(profile, "auth.password")
    if password is not None:
        kw["password"] = password
    if auth.mechanism is not None:
        mechanism = auth.mechanism.lower()
        if mechanism not in _MECHANISMS:
            raise UnsupportedSetting(
                NAME,
                "auth.mechanism",
                f"libpq's require_auth takes {', '.join(_MECHANISMS)}; use one of them, or "
                "remove auth.mechanism to accept what the server asks for",
            )
        kw["require_auth"] = _gated("require_auth", mechanism, "auth.mechanism")
    return kw


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    if not tls.enabled:
        return {"sslmode": "disable"}
    for name, instead in (
        ("ciphers", "remove ciphers, or restrict them on the server (ssl_ciphers)"),
        ("fingerprint", "verify the certificate against a CA instead (tls.ca)"),
    ):
        if getattr(tls, name) is not None:
            raise UnsupportedSetting(
                NAME, f"tls.{name}", f"libpq has no option for {name}; {instead}"
            )
    if tls.ocsp and written(profile, "tls.ocsp"):
        # Left at its default, ocsp means "where the driver checks OCSP": libpq never does.
        # Asked for in so many words, it is a promise libpq cannot keep.
        raise UnsupportedSetting(
            NAME,
            "tls.ocsp",
            "libpq has no OCSP check; remove ocsp: true, and revoke by the CRL (tls.crl)",
        )
    kw: dict[str, Any] = {"sslmode": _SSLMODE[tls.verify]}
    if tls.verify != "none":
        if tls.ca != "system":
            kw["sslrootcert"] = TLSFile(tls.ca, "tls.ca")
        elif tls.verify == "ca":
            raise UnsupportedSetting(
                NAME,
                "tls.verify",
                "libpq allows the system trust store (sslrootcert=system) only with "
                "verify-full; use verify: full, or set tls.ca to a CA bundle file",
            )
        else:
            kw["sslrootcert"] = _gated("sslrootcert", "system", "tls.ca")
        if tls.crl is not None:
            kw["sslcrl"] = TLSFile(tls.crl, "tls.crl")
    elif tls.crl is not None:
        raise UnsupportedSetting(
            NAME,
            "tls.crl",
            "libpq checks a CRL only while it verifies the server (verify: none sends no root "
            "certificate); remove crl, or verify the server",
        )
    password = secret(profile, "tls.client_key_password")
    if tls.client_cert is not None:
        cert, key = client_files(tls, password)
        if key is None:
            # The key is in the certificate's file; libpq would read ~/.postgresql's otherwise.
            key = cert
            cert = TLSFile(cert.path, cert.field)
        kw["sslcert"], kw["sslkey"] = cert, key
        if password is not None:
            kw["sslpassword"] = password
    elif password is not None:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key_password",
            "there is no client certificate for the password to unlock; set client_cert or "
            "remove client_key_password",
        )
    else:
        kw["sslcertmode"] = Construct(f"{__name__}:no_client_cert", shown="disable")
    kw["ssl_min_protocol_version"] = _PROTOCOLS[tls.min_version]
    if tls.max_version is not None:
        kw["ssl_max_protocol_version"] = _PROTOCOLS[tls.max_version]
    return kw


# -- the client ----------------------------------------------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """libpq's connect_timeout: whole seconds, per host, and libpq treats 1 as 2."""
    return {"connect_timeout": max(2, int(-(-seconds // 1)))}


def ping(client: Any) -> object:
    return client.execute("SELECT 1").fetchone()


#: What the server says when it refuses the credentials (28P01 invalid_password, 28000
#: invalid_authorization_specification). A failed connection carries no SQLSTATE in psycopg
#: (libpq gives none for it), so the server's message is the only sign; these are its texts.
_REFUSED_TEXTS = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "certificate authentication failed",
    "peer authentication failed",
    'fatal:  role "',  # ... does not exist (28000)
    "no password supplied",  # libpq: the server asked for a password and none was given
    "connection requires a valid client certificate",  # pg_hba: cert, or clientcert=verify-*
)


def refused_login(error: BaseException) -> bool:
    state = getattr(error, "sqlstate", None)
    if state in ("28P01", "28000"):
        return True
    if state is not None or type(error).__name__ != "OperationalError":
        return False
    text = str(error).lower()
    return any(marker in text for marker in _REFUSED_TEXTS)


# -- other formats -------------------------------------------------------------------------------


def format_uri(profile: Profile) -> str:
    """``postgresql://user@h1:p1,h2:p2/dbname?sslmode=...``: libpq's URI, no password in it."""
    kw = plain_values(NAME, emit(profile), "uri")
    hosts = str(kw.pop("host")).split(",")
    ports = str(kw.pop("port")).split(",")
    ports = ports * len(hosts) if len(ports) == 1 else ports
    netloc = ",".join(f"{_uri_host(host)}:{port}" for host, port in zip(hosts, ports, strict=True))
    user = kw.pop("user", None)
    if user is not None:
        netloc = f"{quote(str(user), safe='')}@{netloc}"
    dbname = kw.pop("dbname", None)
    path = "/" + quote(str(dbname), safe="") if dbname is not None else "/"
    query = []
    for key, value in kw.items():
        _known(profile, key, "uri", "the uri")
        query.append(f"{key}={quote(str(value), safe='/')}")
    return f"postgresql://{netloc}{path}" + ("?" + "&".join(query) if query else "")


def _uri_host(host: str) -> str:
    return f"[{host}]" if ":" in host else quote(host, safe="")


def format_env(profile: Profile) -> str:
    """``export PGHOST=...`` lines, for ``eval "$(connprof show NAME --format env)"``."""
    import shlex  # deferred: only this format quotes for a shell; the registry loads this module

    # A service (PGSERVICE) outranks the variables, and a stray PGHOSTADDR would send the
    # connection elsewhere: neither is the profile's.
    lines = ["unset PGSERVICE PGHOSTADDR"]
    for key, value in plain_values(NAME, emit(profile), "env").items():
        variable = _known(profile, key, "env", "libpq's environment")
        lines.append(f"export {variable}={shlex.quote(str(value))}")
    return "\n".join(lines) + "\n"


def _known(profile: Profile, key: str, fmt: str, where: str) -> str:
    """The PG* variable of a libpq keyword; ``UnsupportedSetting`` if ``where`` cannot say it."""
    setting = f"options.{key}" if key in profile.options else key
    if key not in LIBPQ_ENV:
        raise UnsupportedSetting(
            NAME,
            setting,
            f"{key} is a psycopg argument, not a libpq keyword, so {where} cannot say it; "
            "pass it in your code, or use --format kwargs",
        )
    variable = LIBPQ_ENV[key]
    if variable is None and fmt == "env":
        raise UnsupportedSetting(
            NAME,
            setting,
            f"libpq reads {key} from no environment variable; use --format uri, or pass it "
            "in the connection string",
        )
    return variable or key


DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="psycopg.connect",
    aliases=("postgresql", "postgres"),
    default_port=DEFAULT_PORT,
    # Plaintext unless the profile says otherwise, written as sslmode=disable (see above).
    tls_default=False,
    extra="psycopg",
    timeouts=timeouts,
    ping=ping,
    refused_login=refused_login,
    formats={"uri": format_uri, "env": format_env},
    left_out={
        "auth.password": "psql and libpq read it from PGPASSWORD or ~/.pgpass, else psql asks",
        "tls.client_key_password": "psql asks for the key's pass phrase; a program passes "
        "sslpassword=... itself",
    },
)
