"""The one list of drivers: each built-in driver's ``DriverSpec``, and plugins by entry point.

Literal, so mypy checks every driver against ``DriverSpec`` and a reader can grep it. It imports
the driver modules (which import no models), never the models: the models import it for their
defaults. Adding a driver is one module and one line in ``BUILTIN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .._errors import PluginError
from . import _cassandra, _crate, _hazelcast, _psycopg, _pyexasol, _pymongo, _pymysql, _redis
from ._base import DriverSpec

__all__ = [
    "ALIASES",
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "builtin_spec",
    "driver_choices",
    "get_driver",
    "is_known_driver",
    "resolve_driver",
]

ENTRY_POINT_GROUP = "connprof.drivers"

BUILTIN: Mapping[str, DriverSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _pymongo.DRIVER,
            _cassandra.DRIVER,
            _crate.DRIVER,
            _hazelcast.DRIVER,
            _pyexasol.DRIVER,
            _psycopg.DRIVER,
            _redis.DRIVER,
            _pymysql.DRIVER,
        )
    }
)
ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: spec.name for spec in BUILTIN.values() for alias in spec.aliases}
)


def resolve_driver(value: Any) -> Any:
    """``MongoDB`` → ``pymongo`` and the other aliases, case and spaces aside; else as given."""
    if isinstance(value, str):
        key = value.strip().lower()
        return ALIASES.get(key, key)
    return value


def builtin_spec(name: Any) -> DriverSpec | None:
    """The facts of a built-in driver (any spelling), None for a plugin or an unknown name."""
    return BUILTIN.get(resolve_driver(name)) if isinstance(name, str) else None


def _plugin_names() -> list[str]:
    from importlib.metadata import entry_points  # deferred: reads installed metadata, slow

    return [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)]


def is_known_driver(name: str) -> bool:
    """A built-in driver, or one a package registers under the ``connprof.drivers`` entry points.

    Only the names are read; a plugin is imported when its arguments are emitted.
    """
    return name in BUILTIN or (bool(name) and name in _plugin_names())


def driver_choices() -> str:
    """``'pymongo', 'cassandra', ... or 'pyexasol'``, for messages."""
    names = [f"'{n}'" for n in BUILTIN]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def get_driver(name: str) -> DriverSpec:
    """The driver named ``name``: built-in, else the ``connprof.drivers`` entry point."""
    spec = BUILTIN.get(name)
    if spec is not None:
        return spec
    from importlib.metadata import entry_points  # deferred: only plugins need the metadata

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        try:
            loaded = ep.load()
        except Exception as exc:  # a plugin may raise anything on import: say which, loudly
            raise PluginError(
                f"driver plugin '{name}' ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}; fix or uninstall the package that provides it"
            ) from None
        if isinstance(loaded, DriverSpec):
            return loaded
        emit = getattr(loaded, "emit", None)
        if not callable(emit):
            raise PluginError(
                f"driver plugin '{name}' ({ep.value}) has no emit(profile) function; "
                "it does not implement connprof's driver protocol"
            )
        return DriverSpec(
            name=name,
            emit=emit,
            call=str(getattr(loaded, "CALL", ep.value)),
            default_port=getattr(loaded, "DEFAULT_PORT", None),
            tls_default=bool(getattr(loaded, "TLS_DEFAULT", False)),
        )
    known = ", ".join(sorted(BUILTIN))
    raise PluginError(f"no driver named '{name}' (built in: {known}; plugins: none installed)")
