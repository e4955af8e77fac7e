"""Emit ``crate.client.connect(**kw)`` arguments from a canonical profile.

The crate client (2.x) hands its TLS settings to urllib3 and has only a few of them:
``verify_ssl_cert``, ``ca_cert``, ``cert_file``, ``key_file`` and ``ssl_relax_minimum_version``.
What they cannot say is refused rather than dropped:

- ``verify: ca``: urllib3 checks the host name whenever it verifies the chain.
- ``client_key_password``: the key password is never passed to urllib3.
- ``min_version``: urllib3 2's floor is TLS 1.2; the one switch lowers it to whatever OpenSSL
  supports (TLS 1.0), so only ``"1.2"`` (nothing to emit) and ``"1.0"`` can be expressed.
  There is no maximum, cipher list, SNI name, CRL or certificate pin. Note that on Python
  >= 3.10 the switch alone does not reach a TLS 1.0/1.1-only server: urllib3 keeps Python's
  default cipher list, which has no cipher those versions can use (tests/drivers/test_crate.py
  shows it); it is emitted because it is what the profile asks of the client.
- ``ca: system`` means the OS trust store, as for every other driver. Left empty, ``ca_cert``
  falls back to the ``REQUESTS_CA_BUNDLE`` variable, a requests convention that would silently
  replace the store the profile names. So ``system`` is emitted as OpenSSL's default CA file
  (which honours ``SSL_CERT_FILE``, as ``load_default_certs()`` does), found when the arguments
  are built, never when they are emitted.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._errors import TLSFileError, UnsupportedSetting
from ._base import Construct, DriverSpec, TLSFile, client_files, pass_options, secret

if TYPE_CHECKING:
    from .._models import TLS, Profile

__all__ = ["DEFAULT_PORT", "DRIVER", "NAME", "emit", "os_trust_store"]

NAME = "crate"
DEFAULT_PORT = 4200

# connect() arguments emit() sets from the profile's fields; `options` may not set them again.
_OWN = {"servers", "verify_ssl_cert", "ca_cert", "cert_file", "key_file",
        "ssl_relax_minimum_version", "username", "password", "jwt_token", "schema"}  # fmt: skip


def emit(profile: Profile) -> dict[str, Any]:
    """The ``crate.client.connect`` keyword arguments; ``UnsupportedSetting`` for the rest."""
    kw: dict[str, Any] = {"servers": _servers(profile)}
    if profile.tls.enabled:
        kw.update(_tls(profile))
    kw.update(_auth(profile))
    if profile.database is not None:
        kw["schema"] = profile.database
    return pass_options(
        profile,
        kw,
        own=_OWN,
        from_fields="the profile's own fields (hosts, database, auth, tls)",
    )


def os_trust_store() -> str:
    """OpenSSL's default CA file: what ``ca: system`` means for crate. Runs at build time."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile:
        return paths.cafile
    raise TLSFileError(
        "tls.ca: system: the crate client takes a CA bundle file, and OpenSSL on this machine "
        f"has none (neither ${paths.openssl_cafile_env} nor {paths.openssl_cafile} names a "
        "file); install the OS CA bundle, or set tls.ca to a PEM bundle"
    )


def _servers(profile: Profile) -> list[str]:
    """Every host as a URL: the crate client speaks TLS only to an explicit ``https://``."""
    scheme = "https" if profile.tls.enabled else "http"
    port = profile.port or DEFAULT_PORT
    servers = []
    for i, entry in enumerate(profile.hosts or ()):
        if "://" in entry:
            parts = urlsplit(entry)
            if parts.scheme.lower() != scheme:
                on_off = "on" if profile.tls.enabled else "off (tls: false)"
                raise UnsupportedSetting(
                    NAME,
                    f"hosts[{i}]",
                    f"{entry} is an {parts.scheme}:// URL but TLS is {on_off} in the profile; "
                    f"write {scheme}://, or change the tls setting",
                )
            # A URL without a port means the profile's port (4200 by default), as for a plain
            # host, not the scheme's 443/80.
            with_port = parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
            servers.append(entry if parts.port is not None else with_port)
        elif entry.count(":") > 1 and not entry.startswith("["):
            servers.append(f"{scheme}://[{entry}]:{port}")  # a bare IPv6 address
        elif entry.endswith("]") or ":" not in entry:
            servers.append(f"{scheme}://{entry}:{port}")
        else:
            servers.append(f"{scheme}://{entry}")
    return servers


def _tls(profile: Profile) -> dict[str, Any]:
    tls = profile.tls
    _refuse_what_crate_cannot_say(tls)
    kw: dict[str, Any] = {"verify_ssl_cert": tls.verify != "none"}
    if tls.ca != "system":
        kw["ca_cert"] = TLSFile(tls.ca, "tls.ca")
    elif tls.verify != "none":
        kw["ca_cert"] = Construct(f"{__name__}:os_trust_store")
    # crate takes no key password: an encrypted key would make OpenSSL prompt on the terminal,
    # so the file holding the key is checked when the arguments are built.
    if tls.client_cert:
        kw["cert_file"], key = client_files(tls, None, takes_password=False)
        if key is not None:
            kw["key_file"] = key
    if tls.min_version == "1.0":
        kw["ssl_relax_minimum_version"] = True
    return kw


def _refuse_what_crate_cannot_say(tls: TLS) -> None:
    if tls.verify == "ca":
        raise UnsupportedSetting(
            NAME,
            "tls.verify",
            "verify: ca (the chain without the host name) is impossible with the crate client: "
            "urllib3 checks the host name whenever it verifies. Use verify: full with a "
            "certificate that names the host you connect to",
        )
    if tls.client_key_password:
        raise UnsupportedSetting(
            NAME,
            "tls.client_key_password",
            "the crate client takes no key password; decrypt the key into a file only you can "
            "read (`openssl pkey -in client-encrypted.key -out client.key && chmod 600 "
            "client.key`) and remove client_key_password",
        )
    if tls.min_version in ("1.1", "1.3"):
        raise UnsupportedSetting(
            NAME,
            "tls.min_version",
            "the crate client allows TLS 1.2 and newer, or (ssl_relax_minimum_version) every "
            'version OpenSSL supports; use min_version "1.2", or "1.0" for an old server',
        )
    if tls.max_version is not None and tls.max_version != "1.3":
        raise UnsupportedSetting(
            NAME,
            "tls.max_version",
            "the crate client has no maximum TLS version; remove max_version, or cap the "
            "version on the server",
        )
    for key, value, instead in (
        ("ciphers", tls.ciphers, "remove ciphers, or restrict them on the server"),
        (
            "server_name",
            tls.server_name,
            "list the hosts under the names their certificates carry",
        ),
        ("crl", tls.crl, "remove crl; revoke by replacing the server certificate and its CA"),
        ("fingerprint", tls.fingerprint, "verify against a CA instead (tls.ca)"),
    ):
        if value:
            raise UnsupportedSetting(
                NAME, f"tls.{key}", f"the crate client has no option for {key}; {instead}"
            )


def _auth(profile: Profile) -> dict[str, Any]:
    auth = profile.auth
    for key in ("refresh_token", "mechanism", "source", "properties"):
        if getattr(auth, key) is not None:
            raise UnsupportedSetting(
                NAME,
                f"auth.{key}",
                "the crate client takes a user and password, or a JWT (auth.token); remove it",
            )
    password = secret(profile, "auth.password")
    token = secret(profile, "auth.token")
    if token is not None:
        if auth.user is not None or password is not None:
            raise UnsupportedSetting(
                NAME,
                "auth.token",
                "the crate client accepts a JWT or user credentials, not both (it fails at the "
                "first request); keep auth.token alone, or auth.user and auth.password",
            )
        return {"jwt_token": token}
    if password is not None and auth.user is None:
        raise UnsupportedSetting(
            NAME,
            "auth.password",
            "the crate client sends no password without a user name; set auth.user",
        )
    kw: dict[str, Any] = {}
    if auth.user is not None:
        kw["username"] = auth.user
    if password is not None:
        kw["password"] = password
    return kw


# -- the client (Profile.connect() and doctor's login) -------------------------------------------


def timeouts(seconds: float) -> dict[str, Any]:
    """The HTTP client's connect and read timeout (urllib3's), for every request."""
    return {"timeout": seconds}


def ping(connection: Any) -> object:
    """``SELECT 1`` on a cursor (``connect()`` already asked every server ``GET /``)."""
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT 1")
        return cursor.fetchone()
    finally:
        cursor.close()


# No refused_login: crate raises ProgrammingError for a 401 without its status or code, so
# a refused login keeps the driver's text (login_failed) rather than be guessed from it.


# The driver starts in plaintext unless told otherwise.
DRIVER = DriverSpec(
    name=NAME,
    emit=emit,
    call="crate.client.connect",
    aliases=("cratedb",),
    default_port=DEFAULT_PORT,
    tls_default=False,
    extra="crate",
    timeouts=timeouts,
    ping=ping,
)
