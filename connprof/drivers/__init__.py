"""Turn a canonical profile into one driver's keyword arguments: the plugin API and the build step.

Emitting is pure: a driver module's ``emit(profile)`` returns the arguments with *deferred*
values where I/O would be needed (a ``Secret`` to resolve, an ``SSLContextSpec`` to build, a
``Construct`` for an object such as an auth provider). ``build_kwargs`` turns those into real
values, which is where secrets are resolved and files are read; ``describe_kwargs`` turns them
into plain data for ``connprof show`` without touching anything; ``connect`` hands the built
arguments to the driver's own entry point (``DriverSpec.call``).
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ConnectArgumentConflict, DriverNotInstalled, UnsupportedSetting
from ._base import (
    Construct,
    Driver,
    DriverSpec,
    KeyFile,
    Secret,
    SSLContextSpec,
    TLSFile,
    client_files,
    secret,
)
from ._registry import BUILTIN, ENTRY_POINT_GROUP, get_driver, resolve_driver

if TYPE_CHECKING:
    import ssl

    from .._models import Profile
    from ..secrets import SecretResolver

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "Construct",
    "Driver",
    "DriverKwargs",
    "DriverSpec",
    "KeyFile",
    "SSLContextSpec",
    "Secret",
    "TLSFile",
    "build_kwargs",
    "check",
    "client_files",
    "connect",
    "describe_kwargs",
    "emit",
    "get_driver",
    "load_call",
    "plain",
    "prepare",
    "resolve_driver",
    "resolver_for",
    "secret",
]


# -- emitting -----------------------------------------------------------------------------------


def emit(profile: Profile) -> dict[str, Any]:
    """The profile's driver arguments with deferred values: pure, no I/O."""
    return get_driver(profile.driver).emit(profile)


def check(profile: Profile) -> list[UnsupportedSetting]:
    """Every setting the profile's driver cannot express (empty when it can express them all)."""
    return get_driver(profile.driver).check(profile)


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


def resolver_for(profile: Profile) -> SecretResolver:
    """The resolver a profile's references go through, for its arguments and for ``doctor``."""
    from ..secrets import SecretResolver  # deferred: lint and list load drivers, never secrets

    return SecretResolver.for_profile(profile)


def build_kwargs(profile: Profile) -> DriverKwargs:
    """Emit, then resolve every deferred value: secrets, SSL contexts, driver objects."""
    resolver = resolver_for(profile)
    values: set[str] = set()

    def get(s: Secret) -> str:
        value = resolver.get(s.reference, s.field)
        values.add(value)
        return value

    build = functools.partial(_build_object, profile=profile.name)
    built = DriverKwargs(_walk(emit(profile), get, build))
    built._secrets = frozenset(values)
    return built


def build_ssl_context_for(profile: Profile) -> ssl.SSLContext:
    """The profile's ``SSLContext``, its key password resolved."""
    # deferred: only building loads _tls and the secret stores; lint and list never do
    from .._tls import build_ssl_context

    if not profile.tls.enabled:
        raise UnsupportedSetting(
            profile.driver,
            "tls",
            f"TLS is off in profile '{profile.name}', so there is no SSLContext to build; "
            "set tls: true (or a tls block) to turn it on",
        )
    ref = secret(profile, "tls.client_key_password")
    password = None if ref is None else resolver_for(profile).get(ref.reference, ref.field)
    return build_ssl_context(profile.tls, key_password=password, profile=profile.name)


def _build_object(
    value: SSLContextSpec | Construct | TLSFile, get: Callable[[Secret], Any], *, profile: str
) -> Any:
    if isinstance(value, TLSFile):
        # deferred: only building reads TLS files
        from .._tls import check_tls_file, check_unencrypted_key

        if isinstance(value, KeyFile):
            check_unencrypted_key(
                value.path, value.field, profile=profile, takes_password=value.takes_password
            )
        else:
            check_tls_file(value.path, value.field, profile=profile)
        return value.path
    if isinstance(value, SSLContextSpec):
        from .._tls import build_ssl_context  # deferred: only building makes a context

        password = None if value.key_password is None else get(value.key_password)
        return build_ssl_context(value.tls, key_password=password, profile=profile)
    module, _, attr = value.target.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    build = functools.partial(_build_object, profile=profile)
    args = _walk(list(value.args), get, build)
    return factory(*args, **_walk(dict(value.kwargs), get, build))


# -- connecting ---------------------------------------------------------------------------------


def load_call(spec: DriverSpec) -> Callable[..., Any]:
    """The driver's entry point (``pymongo.MongoClient``), imported now.

    A driver that is not installed (or does not import) is a one-line ``DriverNotInstalled``
    naming the pip extra, never a bare ``ImportError`` traceback.
    """
    module, sep, attr = spec.call.partition(":")
    if not sep:
        module, _, attr = spec.call.rpartition(".")
    install = (
        f"pip install 'connprof[{spec.extra}]'"
        if spec.extra
        else "install the package that provides it"
    )
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").partition(".")[0] == top:
            why = f"the {spec.name} driver is not installed (cannot import {module})"
        else:
            why = f"the {spec.name} driver does not import ({type(exc).__name__}: {exc})"
        raise DriverNotInstalled(f"{why}; {install}", driver=spec.name, extra=spec.extra) from None
    try:
        call: Callable[..., Any] = getattr(loaded, attr)
    except AttributeError:
        raise DriverNotInstalled(
            f"the installed {module} has no {attr} (the {spec.name} driver connprof expects); "
            f"{install}",
            driver=spec.name,
            extra=spec.extra,
        ) from None
    return call


def prepare(
    profile: Profile, extra: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
) -> tuple[Callable[..., Any], DriverKwargs]:
    """The driver's entry point and every argument for it: the profile's, then ``extra``.

    ``extra`` may not name a key the profile sets (``ConnectArgumentConflict``); ``defaults``
    (doctor's timeouts) fill only keys neither sets. Keys compare case-insensitively, as
    pymongo's options do.
    """
    spec = get_driver(profile.driver)
    call = load_call(spec)  # a missing driver is said before any secret is resolved
    emitted = {k.lower(): k for k in emit(profile)}
    clash = tuple(k for k in extra if k.lower() in emitted)
    if clash:
        names = ", ".join(clash)
        raise ConnectArgumentConflict(
            f"connect() was given {names}, which profile '{profile.name}' already sets for "
            f"{spec.name}; change the profile instead (an override here could turn "
            "verification off unseen)",
            names=clash,
        )
    built = build_kwargs(profile)
    merged = DriverKwargs(built)
    merged._secrets = built._secrets
    merged.update(extra)
    taken = {k.lower() for k in merged}
    for key, value in (defaults or {}).items():
        if key.lower() not in taken:
            merged[key] = value
    return call, merged


def connect(profile: Profile, **extra: Any) -> Any:
    """The driver's client for ``profile``: ``call(**driver_kwargs(), **extra)``."""
    call, kwargs = prepare(profile, extra)
    return call(**kwargs)


def describe_kwargs(emitted: Mapping[str, Any], *, reveal: Resolve | None = None) -> dict[str, Any]:
    """Plain data for ``show``: secrets as references (values with ``reveal``), objects named."""
    from .._tls import describe_tls  # deferred: lint and list never describe a context

    def get(s: Secret) -> str:
        return s.reference if reveal is None else reveal(s)

    def describe(value: SSLContextSpec | Construct | TLSFile, get: Callable[[Secret], Any]) -> Any:
        if isinstance(value, TLSFile):
            return value.path
        if isinstance(value, SSLContextSpec):
            password = None if value.key_password is None else get(value.key_password)
            return {"SSLContext": describe_tls(value.tls, key_password=password)}
        if value.shown is not None:
            return value.shown
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
    if isinstance(value, SSLContextSpec | Construct | TLSFile):
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
