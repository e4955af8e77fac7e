"""Turn a canonical profile into one driver's keyword arguments: the registry and the build step.

Emitting is pure: a driver module's ``emit(profile)`` returns the arguments with *deferred*
values where I/O would be needed (a ``Secret`` to resolve, an ``SSLContextSpec`` to build, a
``Construct`` for an object such as an auth provider). ``build_kwargs`` turns those into real
values, which is where secrets are resolved and files are read; ``describe_kwargs`` turns them
into plain data for ``connprof show`` without touching anything.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import PluginError, UnsupportedSetting

if TYPE_CHECKING:
    import ssl

    from .._models import TLS, Profile

__all__ = [
    "Construct",
    "Driver",
    "DriverKwargs",
    "KeyFile",
    "SSLContextSpec",
    "Secret",
    "build_kwargs",
    "check",
    "client_files",
    "describe_kwargs",
    "emit",
    "get_driver",
    "secret",
]

#: The built-in drivers: one module each. Third parties use the entry-point group below.
DRIVER_MODULES = {
    "pymongo": "connprof.drivers._pymongo",
    "cassandra": "connprof.drivers._cassandra",
    "crate": "connprof.drivers._crate",
    "hazelcast": "connprof.drivers._hazelcast",
    "pyexasol": "connprof.drivers._pyexasol",
}
ENTRY_POINT_GROUP = "connprof.drivers"


class Driver(Protocol):
    """What a driver module (or a plugin object) provides."""

    NAME: str

    def emit(self, profile: Profile) -> dict[str, Any]:
        """The driver's keyword arguments, with deferred values; raise ``UnsupportedSetting``."""
        ...


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
    imports a driver.
    """

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return self.target.rpartition(":")[2]


@dataclass(frozen=True)
class KeyFile:
    """A client key (or combined PEM) path for a driver that loads it itself, without a password.

    Checked when arguments are built: an encrypted key is a ``TLSFileError`` there, instead of
    OpenSSL's pass-phrase prompt on the terminal (or a hang in a service). Shows as the path.
    """

    path: str
    field: str  # tls.client_key or tls.client_cert


def client_files(tls: TLS, password: Secret | None) -> tuple[str | KeyFile, str | KeyFile | None]:
    """``(cert, key)`` for a driver that loads the client certificate and key itself.

    Without a password, the file that holds the key (``client_key``, else the combined
    ``client_cert``) is a ``KeyFile``: an encrypted key is then an error when the arguments are
    built, where OpenSSL would prompt on the terminal.
    """
    assert tls.client_cert is not None
    cert: str | KeyFile = tls.client_cert
    key: str | KeyFile | None = tls.client_key
    if password is None:
        if tls.client_key is not None:
            key = KeyFile(tls.client_key, "tls.client_key")
        else:
            cert = KeyFile(tls.client_cert, "tls.client_cert")
    return cert, key


# -- the registry ------------------------------------------------------------------------------


def get_driver(name: str) -> Driver:
    """The driver module for ``name``: built-in, else the ``connprof.drivers`` entry point."""
    path = DRIVER_MODULES.get(name)
    if path is not None:
        module: Driver = importlib.import_module(path)
        return module
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        try:
            loaded: Driver = ep.load()
        except Exception as exc:
            raise PluginError(
                f"driver plugin '{name}' ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}; fix or uninstall the package that provides it"
            ) from None
        if not callable(getattr(loaded, "emit", None)):
            raise PluginError(
                f"driver plugin '{name}' ({ep.value}) has no emit(profile) function; "
                "it does not implement connprof's driver protocol"
            )
        return loaded
    known = ", ".join(sorted(DRIVER_MODULES))
    raise PluginError(f"no driver named '{name}' (built in: {known}; plugins: none installed)")


def emit(profile: Profile) -> dict[str, Any]:
    """The profile's driver arguments with deferred values: pure, no I/O."""
    return get_driver(profile.driver).emit(profile)


def check(profile: Profile) -> list[UnsupportedSetting]:
    """Every setting the profile's driver cannot express (empty when it can express them all).

    A driver stops at the first setting it refuses; to find the next one, the refused setting
    is put back to its default and the profile emitted again, so lint can list them all.
    """
    driver = get_driver(profile.driver)
    problems: list[UnsupportedSetting] = []
    current: Profile | None = profile
    while current is not None and len(problems) < 20:
        try:
            driver.emit(current)
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
        field = type(block).model_fields.get(rest)
        if field is None:
            return None
        update = {first: block.model_copy(update={rest: field.get_default()})}
    elif not rest and first in type(profile).model_fields and first not in ("driver", "name"):
        update = {first: type(profile).model_fields[first].get_default(call_default_factory=True)}
    else:
        return None
    smaller = profile.model_copy(update=update)
    return None if smaller == profile else smaller


# -- building and describing -------------------------------------------------------------------


class DriverKwargs(dict[str, Any]):
    """The built arguments: a plain ``dict`` for ``**kw``, whose repr hides secret values."""

    _secrets: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        hidden = self._secrets

        def mask(value: Any) -> Any:
            if isinstance(value, str) and value in hidden:
                return "<secret>"
            if isinstance(value, Mapping):
                return {k: mask(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(mask(v) for v in value)
            return value

        return f"DriverKwargs({ {k: mask(v) for k, v in self.items()}!r})"

    __str__ = __repr__


def build_kwargs(profile: Profile) -> DriverKwargs:
    """Emit, then resolve every deferred value: secrets, SSL contexts, driver objects."""
    from ..secrets import SecretResolver

    resolver = SecretResolver(profile.name)
    values: set[str] = set()

    def get(s: Secret) -> str:
        value = resolver.get(s.reference, s.field)
        values.add(value)
        return value

    built = DriverKwargs(_walk(emit(profile), get, _build_object))
    built._secrets = frozenset(values)
    return built


def build_ssl_context_for(profile: Profile) -> ssl.SSLContext:
    """The profile's ``SSLContext``, its key password resolved."""
    from .._tls import build_ssl_context
    from ..secrets import SecretResolver

    if not profile.tls.enabled:
        raise UnsupportedSetting(
            profile.driver,
            "tls",
            f"TLS is off in profile '{profile.name}', so there is no SSLContext to build; "
            "set tls: true (or a tls block) to turn it on",
        )
    ref = secret(profile, "tls.client_key_password")
    password = None if ref is None else SecretResolver(profile.name).get(ref.reference, ref.field)
    return build_ssl_context(profile.tls, key_password=password)


def _build_object(value: SSLContextSpec | Construct | KeyFile, get: Callable[[Secret], Any]) -> Any:
    if isinstance(value, KeyFile):
        from .._tls import check_unencrypted_key

        check_unencrypted_key(value.path, value.field)
        return value.path
    if isinstance(value, SSLContextSpec):
        from .._tls import build_ssl_context

        password = None if value.key_password is None else get(value.key_password)
        return build_ssl_context(value.tls, key_password=password)
    module, _, attr = value.target.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    args = _walk(list(value.args), get, _build_object)
    return factory(*args, **_walk(dict(value.kwargs), get, _build_object))


def describe_kwargs(emitted: Mapping[str, Any], *, reveal: Resolve | None = None) -> dict[str, Any]:
    """Plain data for ``show``: secrets as references (values with ``reveal``), objects named."""
    from .._tls import describe_tls

    def get(s: Secret) -> str:
        return s.reference if reveal is None else reveal(s)

    def describe(value: SSLContextSpec | Construct | KeyFile, get: Callable[[Secret], Any]) -> Any:
        if isinstance(value, KeyFile):
            return value.path
        if isinstance(value, SSLContextSpec):
            password = None if value.key_password is None else get(value.key_password)
            return {"SSLContext": describe_tls(value.tls, key_password=password)}
        args = [_walk(a, get, describe) for a in value.args]
        kwargs = _walk(dict(value.kwargs), get, describe)
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"{value.target.replace(':', '.')}({', '.join(shown)})"

    return _walk(dict(emitted), get, describe)  # type: ignore[no-any-return]


Resolve = Callable[[Secret], str]


def _walk(
    value: Any,
    get: Callable[[Secret], Any],
    obj: Callable[[Any, Callable[[Secret], Any]], Any],
) -> Any:
    if isinstance(value, Secret):
        return get(value)
    if isinstance(value, SSLContextSpec | Construct | KeyFile):
        return obj(value, get)
    if isinstance(value, dict):
        return {k: _walk(v, get, obj) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, get, obj) for v in value]
    if isinstance(value, tuple):
        return tuple(_walk(v, get, obj) for v in value)
    return value


def plain(value: Any) -> Any:
    """JSON-ready form of described arguments (enums by name: ``ssl.CERT_REQUIRED``)."""
    if isinstance(value, enum.Enum):
        return f"{type(value).__module__.split('.')[0]}.{value.name}"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
