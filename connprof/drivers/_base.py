"""What every driver module is made of: its facts (``DriverSpec``) and the deferred values it emits.

A driver module imports only this module, ``connprof._errors`` and its own helpers, never the
models at run time, so the registry that lists the drivers can be imported by the models.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import UnsupportedSetting

if TYPE_CHECKING:
    from .._models import TLS, Profile

__all__ = [
    "BUILTIN_DEFAULT",
    "Construct",
    "Driver",
    "DriverSpec",
    "KeyFile",
    "SSLContextSpec",
    "Secret",
    "TLSFile",
    "client_files",
    "pass_options",
    "secret",
    "written",
]

#: The origin of a value no file, variable or string gave (``show --explain`` prints it).
BUILTIN_DEFAULT = "built-in default"

#: How many refusals ``DriverSpec.check`` collects before it stops (a profile is not a fuzzer).
_MAX_REFUSALS = 20


class Driver(Protocol):
    """What a third-party driver object (a ``connprof.drivers`` entry point) provides at least.

    ``NAME`` and ``emit``; it may also give ``DEFAULT_PORT``, ``TLS_DEFAULT`` and ``CALL``, or be a
    ``DriverSpec`` itself.
    """

    NAME: str

    def emit(self, profile: Profile) -> dict[str, Any]:
        """The driver's keyword arguments, with deferred values; raise ``UnsupportedSetting``."""
        ...


@dataclass(frozen=True)
class DriverSpec:
    """One driver's facts, declared once in its module and listed in the registry.

    ``name`` is what ``driver:`` resolves to, ``aliases`` the other spellings users write,
    ``default_port`` fills ``port`` when ``hosts`` name none, ``tls_default`` is whether the driver
    encrypts when the profile does not say, ``call`` is what the arguments are for, ``extra`` the
    pip extra that installs the driver, ``string`` the connection-string field it reads.
    """

    name: str
    emit: Callable[[Profile], dict[str, Any]]
    call: str
    aliases: tuple[str, ...] = ()
    default_port: int | None = None
    tls_default: bool = False
    extra: str | None = None
    #: The connection string the driver reads as its endpoints (``uri``, ``dsn``), if any.
    string: str | None = None
    #: ``explain(data)``: notes by dotted field where the driver does something other than the
    #: value says (pyexasol's pin replaces ``verify``), from the profile's canonical plain data.
    explain: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
    # -- the client (``Profile.connect()`` and doctor's ``login`` step) -----------------------
    #: ``timeouts(seconds)``: the keyword arguments that bound the driver's connect and its
    #: first round trip to ``seconds`` (doctor's ``--timeout``), e.g. ``{"connect_timeout": 5}``.
    timeouts: Callable[[float], dict[str, Any]] | None = None
    #: ``ping(client)``: the cheapest round trip on the client ``call(**kwargs)`` returned
    #: (``SELECT 1``, ``PING``, pymongo's ``ping``); raises the driver's own error.
    ping: Callable[[Any], object] | None = None
    #: ``refused_login(error)``: True when the driver's error means the server refused the
    #: credentials (doctor reports ``auth_failed``), judged by its class or code, not its text.
    refused_login: Callable[[BaseException], bool] | None = None
    #: The client's method that releases it (``close``; cassandra and hazelcast: ``shutdown``).
    close: str = "close"
    #: ``show --format NAME``: the profile written another way (``uri``, ``env``), secrets left
    #: out; ``UnsupportedSetting`` for a setting the format cannot say.
    formats: Mapping[str, Callable[[Profile], str]] = field(default_factory=dict)
    #: For each secret field a format leaves out (``auth.password``): how the tool that reads
    #: the format gets it instead (``PGPASSWORD or ~/.pgpass``); ``show`` prints it on stderr.
    left_out: Mapping[str, str] = field(default_factory=dict)

    def check(self, profile: Profile) -> list[UnsupportedSetting]:
        """Every setting the driver cannot express (empty when it can express them all).

        ``emit`` stops at the first setting it refuses; to find the next one, the refused
        setting is put back to its default and the profile emitted again, so lint lists them all.
        """
        problems: list[UnsupportedSetting] = []
        current: Profile | None = profile
        while current is not None and len(problems) < _MAX_REFUSALS:
            try:
                self.emit(current)
            except UnsupportedSetting as problem:
                problems.append(problem)
                current = _without(current, problem.setting)
            else:
                break
        return problems


def _without(profile: Profile, setting: str) -> Profile | None:
    """``profile`` with ``setting`` back at its default, or None when that cannot be said."""
    first, _, rest = setting.partition(".")
    update: dict[str, Any]
    if first == "options" and rest in profile.options:
        update = {"options": {k: v for k, v in profile.options.items() if k != rest}}
    elif first in ("tls", "auth") and rest:
        block = getattr(profile, first)
        model_field = type(block).model_fields.get(rest)
        if model_field is None:
            return None
        update = {first: block.model_copy(update={rest: model_field.get_default()})}
    elif not rest and first in type(profile).model_fields and first not in ("driver", "name"):
        default = type(profile).model_fields[first].get_default(call_default_factory=True)
        update = {first: default}
    else:
        return None
    smaller = profile.model_copy(update=update)
    return None if smaller == profile else smaller


# -- deferred values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A secret reference, resolved only when arguments are built. Shows as its reference."""

    reference: str
    field: str  # dotted: auth.password, tls.client_key_password ...

    def __repr__(self) -> str:
        return f"Secret({self.field}={self.reference})"


def secret(profile: Profile, dotted: str) -> Secret | None:
    """The ``Secret`` for a profile's secret field, or None when the field is empty."""
    block, leaf = dotted.split(".")
    reference = getattr(getattr(profile, block), leaf)
    return None if reference is None else Secret(reference, dotted)


@dataclass(frozen=True)
class SSLContextSpec:
    """An ``ssl.SSLContext`` to build from the profile's TLS block (``connprof._tls``)."""

    tls: TLS
    key_password: Secret | None = None


@dataclass(frozen=True)
class Construct:
    """An object the driver wants, e.g. ``cassandra.auth:PlainTextAuthProvider``.

    Built by importing ``target`` (``module:attribute``) at build time, so emitting never
    imports a driver. ``shown`` is what ``show`` prints (and a ``--format`` writes) instead of
    the call, for a call that returns a known value once a check passes (psycopg's
    ``sslrootcert=system``, which needs libpq 16).
    """

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()
    shown: str | None = None

    @property
    def name(self) -> str:
        return self.target.rpartition(":")[2]


@dataclass(frozen=True)
class TLSFile:
    """A CA, certificate or CRL path handed to a driver that opens the file itself.

    Checked when the arguments are built: it must be a readable regular file, else a
    ``TLSFileError`` naming the profile, the field and the path (the driver would raise a bare
    ``FileNotFoundError``, or block on a FIFO). Shows as the path.
    """

    path: str
    field: str  # tls.ca, tls.crl, tls.client_cert or tls.client_key


@dataclass(frozen=True)
class KeyFile(TLSFile):
    """A client key (or combined PEM) path for a driver that loads it itself, without a password.

    Checked when arguments are built: an encrypted key is a ``TLSFileError`` there, instead of
    OpenSSL's pass-phrase prompt on the terminal (or a hang in a service). ``takes_password``
    says whether the driver has a key-password option, which decides the fix the error gives.
    Shows as the path.
    """

    takes_password: bool = True


def client_files(
    tls: TLS, password: Secret | None, *, takes_password: bool = True
) -> tuple[TLSFile, TLSFile | None]:
    """``(cert, key)`` for a driver that loads the client certificate and key itself.

    Without a password, the file that holds the key (``client_key``, else the combined
    ``client_cert``) is a ``KeyFile``: an encrypted key is then an error when the arguments are
    built, where OpenSSL would prompt on the terminal. ``takes_password`` is False for a driver
    with no key-password option (crate).
    """
    assert tls.client_cert is not None
    cert = TLSFile(tls.client_cert, "tls.client_cert")
    key = None if tls.client_key is None else TLSFile(tls.client_key, "tls.client_key")
    if password is None:
        if key is not None:
            key = KeyFile(key.path, key.field, takes_password)
        else:
            cert = KeyFile(cert.path, cert.field, takes_password)
    return cert, key


def written(profile: Profile, dotted: str) -> bool:
    """Whether the profile states ``dotted`` (``tls.ocsp``) itself, rather than leaving it at
    the built-in default: by its provenance, or for a profile built in code, by the fields its
    block was given."""
    origin = profile.provenance.get(dotted)
    if origin is not None:
        return origin != BUILTIN_DEFAULT
    block, _, leaf = dotted.partition(".")
    value = getattr(profile, block)
    return leaf in getattr(value, "model_fields_set", ())


def pass_options(
    profile: Profile,
    kw: dict[str, Any],
    *,
    own: Collection[str],
    from_fields: str,
    refused: Mapping[str, str] = MappingProxyType({}),
    fold: Callable[[str], str] = str,
) -> dict[str, Any]:
    """``kw`` with the profile's ``options`` passed through, verbatim.

    A key the driver's ``emit`` sets from the profile's own fields (``own``, compared after
    ``fold``: pymongo reads names case-insensitively) is refused, saying it comes
    ``from_fields``; a key in ``refused`` is refused with its own reason.
    """
    for key, value in profile.options.items():
        if fold(key) in own:
            raise UnsupportedSetting(
                profile.driver,
                f"options.{key}",
                f"connprof sets {key} from {from_fields}; remove it from options",
            )
        if key in refused:
            raise UnsupportedSetting(profile.driver, f"options.{key}", refused[key])
        kw[key] = value
    return kw
