"""The canonical profile as pydantic models: field validation only, no I/O.

``Profile`` is what a merged profile validates into; ``TLS`` and ``Auth`` are its blocks.
Every model forbids unknown keys and hides its input in errors (a field may hold a URI or,
by mistake, a plaintext secret, and pydantic would echo it otherwise).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._derive import derive_whole, read_string
from ._redact import userinfo
from ._secretref import check_secret_ref
from .drivers import build_kwargs, build_ssl_context_for, connect
from .drivers._registry import driver_choices, is_known_driver, resolve_driver

if TYPE_CHECKING:
    import ssl

    from ._tls import CipherVerdict

__all__ = [
    "OTHER_SPELLINGS",
    "TLS",
    "Auth",
    "FieldProblem",
    "Profile",
    "TLSVersion",
    "resolve_driver",
]

TLSVersion = Literal["1.0", "1.1", "1.2", "1.3"]
_VERSION_ORDER = {"1.0": 0, "1.1": 1, "1.2": 2, "1.3": 3}
_HEX = re.compile(r"[0-9A-Fa-f]+\Z")
_HOST = re.compile(r"[^\s:/\[\]@,]+\Z")
_PORT_SUFFIX = re.compile(r"(?P<host>.*?):(?P<port>[0-9]+)\Z")

# Keys that belong in `tls` or `auth`, never in `options` (checked lower-cased).
_TLS_OPTION_KEYS = {
    "tls", "ssl", "ssl_context", "ssl_options", "encryption", "websocket_sslopt", "verify_ssl_cert",
    "ca_cert", "cert_file", "key_file", "ssl_relax_minimum_version",
}  # fmt: skip
_AUTH_OPTION_KEYS = {
    "user", "username", "password", "token", "access_token", "refresh_token", "jwt_token",
    "auth_provider", "token_provider", "creds_username", "creds_password", "authsource",
    "authmechanism", "authmechanismproperties",
}  # fmt: skip

#: What drivers and other tools call a field, for the unknown key's did-you-mean (lower case).
OTHER_SPELLINGS: dict[tuple[str | int, ...], dict[str, str]] = {
    ("tls",): {
        "ca_file": "ca", "cafile": "ca", "ca_cert": "ca", "ca_certs": "ca", "tlscafile": "ca",
        "ssl_ca": "ca", "ssl_cafile": "ca", "ca_bundle": "ca", "sslrootcert": "ca",
        "cert": "client_cert", "cert_file": "client_cert", "certfile": "client_cert",
        "ssl_cert": "client_cert", "tlscertificatekeyfile": "client_cert",
        "key": "client_key", "key_file": "client_key", "keyfile": "client_key",
        "ssl_key": "client_key", "password": "client_key_password",
        "key_password": "client_key_password", "ssl_password": "client_key_password",
        "crl_file": "crl", "tlscrlfile": "crl", "cert_reqs": "verify", "verify_mode": "verify",
        "check_hostname": "verify", "verify_ssl_cert": "verify", "sni": "server_name",
        "server_hostname": "server_name", "hostname": "server_name", "cipher": "ciphers",
        "ssl_ciphers": "ciphers", "ssl_version": "min_version", "minimum_version": "min_version",
        "maximum_version": "max_version", "ssl_protocol": "min_version",
    },
    ("auth",): {
        "username": "user", "login": "user", "pass": "password", "passwd": "password",
        "access_token": "token", "jwt_token": "token", "authmechanism": "mechanism",
        "authsource": "source", "authmechanismproperties": "properties",
    },
    (): {"host": "hosts", "url": "hosts", "servers": "hosts", "contact_points": "hosts",
         "db": "database", "schema": "database", "keyspace": "database", "ssl": "tls"},
}  # fmt: skip

_STRICT = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, strict=False)


class _Frozen(BaseModel):
    """A frozen model whose refusal to change never repeats the value offered.

    Pydantic's own frozen error carries the input (a secret, perhaps) even with
    ``hide_input_in_errors``.
    """

    model_config = _STRICT

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        # The same error pydantic raises, built without the offered value.
        raise ValidationError.from_exception_data(
            type(self).__name__,
            [{"type": "frozen_instance", "loc": (name,), "input": "<not shown>"}],
            hide_input=True,
        )


class FieldProblem(Exception):
    """A problem with one value deep inside a profile, raised by cross-field validation.

    Deliberately not a ``ValueError``: pydantic lets it through unwrapped, so the loader can
    point at the exact key (``path``) rather than at the whole profile.
    """

    def __init__(self, path: tuple[str | int, ...], message: str, *, at_key: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.at_key = at_key  # point at the key (a key that is wrong) rather than its value


def _known_driver(value: str) -> str:
    """A built-in driver, or one a package registers in the ``connprof.drivers`` entry points."""
    if is_known_driver(value):
        return value
    raise PydanticCustomError(
        "literal_error",
        f"Input should be {driver_choices()} "
        "(or a driver a plugin registers under the connprof.drivers entry points)",
    )


def _resolve_version(value: Any) -> Any:
    # `min_version: 1.2` unquoted is a YAML float; `1.0` and `TLSv1.2` are common spellings too.
    if isinstance(value, float | int) and not isinstance(value, bool):
        value = f"{float(value):.1f}"
    if isinstance(value, str):
        value = value.strip()
        lowered = value.lower()
        for prefix in ("tlsv", "tls"):
            if lowered.startswith(prefix):
                value = value[len(prefix) :].replace("_", ".")
                break
    return value


def _resolve_fingerprint(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if value.strip().lower() == "nocertcheck":
        return "nocertcheck"
    hexed = value.strip().replace(":", "")
    if not _HEX.match(hexed):
        raise PydanticCustomError(
            "fingerprint",
            "a fingerprint is the SHA-256 of the server certificate in hex (colons allowed), "
            "or 'nocertcheck'",
        )
    return hexed.upper()


def _secret_is_text(value: Any) -> Any:
    # `password: 738412995` is a plaintext secret too, not a type error to puzzle over.
    if isinstance(value, int | float | bool):
        return "plaintext"
    return value


def _not_a_bool(value: Any) -> Any:
    # Lax pydantic takes `port: true` as 1: a number field never takes true/false.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a number, not true or false")
    return value


SecretRef = Annotated[str, BeforeValidator(_secret_is_text), AfterValidator(check_secret_ref)]
Version = Annotated[TLSVersion, BeforeValidator(_resolve_version)]
Text = Annotated[str, StringConstraints(min_length=1)]


class TLS(_Frozen):
    """The one TLS model every driver is emitted from."""

    model_config = _STRICT

    enabled: bool = True
    verify: Literal["full", "ca", "none"] = "full"
    ca: Text = "system"
    client_cert: Text | None = None
    client_key: Text | None = None
    client_key_password: SecretRef | None = None
    crl: Text | None = None
    fingerprint: Annotated[str | None, BeforeValidator(_resolve_fingerprint)] = None
    min_version: Version = "1.2"
    max_version: Version | None = None
    ciphers: Text | None = None
    server_name: Text | None = None
    ocsp: bool = True

    @model_validator(mode="after")
    def _versions_in_order(self) -> TLS:
        if self.max_version and _VERSION_ORDER[self.max_version] < _VERSION_ORDER[self.min_version]:
            raise FieldProblem(
                ("tls", "max_version"),
                "max_version is below min_version; raise max_version or lower min_version",
            )
        if self.client_key and not self.client_cert:
            raise FieldProblem(
                ("tls", "client_key"),
                "client_key needs client_cert (the certificate that goes with the key)",
            )
        verdict = self._cipher_verdict()
        if verdict is not None and verdict.problem is not None:
            raise FieldProblem(("tls", "ciphers"), verdict.problem)
        return self

    def _cipher_verdict(self) -> CipherVerdict | None:
        """What OpenSSL makes of ``ciphers`` in this block's protocol range (cached per string)."""
        if not self.enabled or self.ciphers is None:
            return None
        # deferred: ssl and the probe load only for a profile that sets ciphers
        from ._tls import judge_ciphers

        return judge_ciphers(self.ciphers, self.min_version, self.max_version)

    @property
    def weakening(self) -> tuple[tuple[str, ...], str] | None:
        """The first setting that turns verification off, below TLS 1.2 or to weak suites."""
        if not self.enabled:
            return None
        if self.verify == "none":
            return ("tls", "verify"), "verify: none turns certificate verification off"
        if self.fingerprint == "nocertcheck":
            return ("tls", "fingerprint"), "fingerprint: nocertcheck turns certificate checks off"
        if _VERSION_ORDER[self.min_version] < _VERSION_ORDER["1.2"]:
            return ("tls", "min_version"), f"min_version {self.min_version} allows TLS below 1.2"
        verdict = self._cipher_verdict()
        if verdict is not None and verdict.weakness is not None:
            return ("tls", "ciphers"), verdict.weakness
        return None


class Auth(_Frozen):
    """Who connects: a user and secret references (never the secrets themselves)."""

    model_config = _STRICT

    user: Text | None = None
    password: SecretRef | None = None
    token: SecretRef | None = None
    refresh_token: SecretRef | None = None
    mechanism: Text | None = None
    source: Text | None = None
    properties: dict[str, str | int | bool] | None = None


def _check_host(value: str, driver: str) -> str:
    text = value.strip()
    if text != value or not text:
        raise PydanticCustomError("host", "a host has no surrounding spaces and is not empty")
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        if driver != "crate" or not text.lower().startswith(("https://", "http://")):
            raise PydanticCustomError(
                "host",
                "URLs in hosts are for crate (https://host:4200); for MongoDB use uri:, for "
                "Exasol dsn:, otherwise write host or host:port",
            )
        parts = urlsplit(text)
        if not parts.hostname:
            raise PydanticCustomError("host", "the URL has no host; write https://host:4200")
        if parts.username or parts.password:
            raise PydanticCustomError(
                "host",
                "the URL carries credentials; put the user in auth.user and the password in "
                'a secret reference (auth.password: "keyring:")',
            )
        try:
            _ = parts.port
        except ValueError:
            raise PydanticCustomError(
                "host", "the URL's port is not a number from 1 to 65535"
            ) from None
        return text
    host, port = text, None
    if text.startswith("["):
        close = text.find("]")
        rest = text[close + 1 :] if close > 0 else "x"
        if close < 0 or (rest and not re.fullmatch(r":[0-9]+", rest)):
            raise PydanticCustomError("host", "write an IPv6 address as [addr] or [addr]:port")
        host, port = text[1:close], rest[1:] or None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise PydanticCustomError(
                "host", "the text in [brackets] is not an IPv6 address"
            ) from None
    elif text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise PydanticCustomError(
                "host", "write an IPv6 address as [addr] or [addr]:port"
            ) from None
        return f"[{text}]"
    else:
        match = _PORT_SUFFIX.match(text)
        if match:
            host, port = match["host"], match["port"]
        if not _HOST.match(host):
            raise PydanticCustomError(
                "host", "a host is a name or address, optionally with :port (no spaces, '/', '@')"
            )
    if port is not None and (len(port) > 5 or not 1 <= int(port) <= 65535):
        raise PydanticCustomError("host", "the port must be a number from 1 to 65535")
    return text


class Profile(_Frozen):
    """A merged, validated profile: frozen, secrets as references.

    ``load_profile`` builds it; ``redacted()`` is its canonical form with secrets as
    references, the form ``connprof show`` prints.
    """

    model_config = _STRICT

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    driver: Annotated[str, BeforeValidator(resolve_driver), AfterValidator(_known_driver)]
    description: str | None = None
    tags: tuple[str, ...] = ()
    extends: str | None = None
    uri: Text | None = None
    dsn: Text | None = None
    hosts: tuple[str, ...] | None = None
    port: Annotated[int | None, BeforeValidator(_not_a_bool)] = Field(default=None, ge=1, le=65535)
    database: Text | None = None
    auth: Auth = Auth()
    tls: TLS = TLS(enabled=False)
    options: dict[str, Any] = Field(default_factory=dict)
    allow_insecure: bool = False

    @model_validator(mode="before")
    @classmethod
    def _derived(cls, data: Any) -> Any:
        # The same string fields and defaults the loader gives (connprof._derive), so a profile
        # validated by hand equals the one load_profile returns.
        return derive_whole(data) if isinstance(data, dict) else data

    @field_validator("uri")
    @classmethod
    def _uri_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.lower().startswith(("mongodb://", "mongodb+srv://")):
            raise PydanticCustomError(
                "uri_scheme", "uri must start with mongodb:// or mongodb+srv://"
            )
        info = userinfo(value)
        if info is not None and ":" in info:
            raise PydanticCustomError(
                "plaintext_secret",
                "the uri carries a password; remove it from the uri and reference it in "
                'auth.password (connprof secret set PROFILE password, then password: "keyring:")',
            )
        return value

    @field_validator("options")
    @classmethod
    def _options_are_not_tls_or_auth(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            lowered = key.lower()
            if lowered in _TLS_OPTION_KEYS or lowered.startswith(("tls", "ssl")):
                raise FieldProblem(
                    ("options", key),
                    "TLS settings belong in the tls block (ca, verify, client_cert, "
                    "min_version, ...), which every driver is emitted from; move it there",
                    at_key=True,
                )
            if lowered in _AUTH_OPTION_KEYS:
                raise FieldProblem(
                    ("options", key),
                    'credentials belong in the auth block (user, password: "keyring:", token, '
                    "mechanism, source); move it there",
                    at_key=True,
                )
        return value

    @model_validator(mode="after")
    def _endpoints_fit_the_driver(self) -> Profile:
        given = [f for f in ("uri", "dsn", "hosts") if getattr(self, f) is not None]
        if len(given) > 1:
            raise PydanticCustomError(
                "endpoints",
                "give the endpoints once: {fields} are both set; keep one",
                {"fields": " and ".join(given)},
            )
        if not given:
            raise PydanticCustomError(
                "endpoints",
                "no endpoint: add hosts: [host:port] (or uri: for pymongo, dsn: for pyexasol)",
            )
        if self.uri is not None and self.driver != "pymongo":
            raise FieldProblem(("uri",), f"uri is for driver pymongo; for {self.driver} use hosts:")
        if self.dsn is not None and self.driver != "pyexasol":
            raise FieldProblem(
                ("dsn",), f"dsn is for driver pyexasol; for {self.driver} use hosts:"
            )
        if self.port is not None and self.hosts is None:
            raise FieldProblem(
                ("port",), "port goes with hosts; put the port inside the uri or dsn instead"
            )
        for i, host in enumerate(self.hosts or ()):
            try:
                _check_host(host, self.driver)
            except PydanticCustomError as exc:
                raise FieldProblem(("hosts", i), exc.message()) from None
        weak = self.tls.weakening
        if weak and not self.allow_insecure:
            path, what = weak
            raise FieldProblem(
                path,
                f"{what}; add 'allow_insecure: true' to the profile to acknowledge it, or "
                "remove the setting",
            )
        return self

    _provenance: dict[str, str] = PrivateAttr(default_factory=dict)
    _warnings: tuple[str, ...] | None = PrivateAttr(default=None)
    _untrusted: tuple[str, ...] = PrivateAttr(default=())

    @property
    def untrusted(self) -> tuple[str, ...]:
        """The untrusted project files this profile takes values from (``connprof trust``).

        Non-empty, ``driver_kwargs()`` runs no ``exec:`` and reads no ``file:`` outside each
        file's folder tree.
        """
        return self._untrusted

    @property
    def provenance(self) -> dict[str, str]:
        """Where each value came from: ``{"tls.ca": "connprof.yaml:12:7", ...}``."""
        return dict(self._provenance)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the MongoDB specification says to warn about in the uri (ignored options ...).

        ``connprof show`` prints them on stderr; ``load_profile`` also issues each as a Python
        ``UserWarning``. Empty for a profile without a uri.
        """
        if self._warnings is not None:
            return self._warnings  # composed from files: every layer's uri, with its place
        if self.uri is None or self.driver != "pymongo":
            return ()
        return tuple(f"the uri: {w}" for w in read_string("uri", self.uri, None).warnings)

    def redacted(self) -> dict[str, Any]:
        """The canonical form as plain data; secret fields hold their references, never values."""
        return self.model_dump(mode="json", exclude_none=True)

    def driver_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for this profile's driver, secrets resolved.

        Pass them on: ``pymongo.MongoClient(**kw)``, ``cassandra.cluster.Cluster(**kw)``,
        ``crate.client.connect(**kw)``, ``hazelcast.HazelcastClient(**kw)``,
        ``pyexasol.connect(**kw)``, ``psycopg.connect(**kw)``, ``redis.Redis(**kw)``,
        ``pymysql.connect(**kw)``. Raises ``UnsupportedSetting`` for what the driver cannot
        express and ``SecretError`` for a reference that does not resolve. The returned dict's
        repr hides the secret values.
        """
        return build_kwargs(self)

    def connect(self, **extra: Any) -> Any:
        """The driver's ready client, built from ``driver_kwargs()``, with ``extra`` passed on.

        ``pymongo.MongoClient``, the cassandra ``Cluster``, a crate connection,
        ``HazelcastClient``, a pyexasol connection, a psycopg connection, ``redis.Redis``, a
        PyMySQL connection: whatever the driver's entry point returns, connected as far as the
        driver connects at construction (crate, hazelcast, pyexasol, psycopg and PyMySQL do;
        ``MongoClient`` connects in the background, ``Cluster`` on ``cluster.connect()``,
        ``redis.Redis`` at its first command). Close it the driver's way.

        ``extra`` may not name a key the profile already sets: ``ConnectArgumentConflict``
        (change the profile instead; an override could turn verification off unseen). A driver
        that is not installed is ``DriverNotInstalled`` naming the pip extra. The driver's own
        errors (a refused connection, a wrong password) pass through.
        """
        return connect(self, **extra)

    def ssl_context(self) -> ssl.SSLContext:
        """An ``ssl.SSLContext`` for this profile's TLS block, for any driver or your own code."""
        return build_ssl_context_for(self)
