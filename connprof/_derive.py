"""Values a profile leaves to connprof: what its uri or dsn says, TLS on or off, the port.

Pure functions over plain data, shared by the composition (``connprof._compose``, which runs
them on each layer and keeps the origins) and by the model (``Profile.model_validate`` runs them
on the whole mapping), so a profile built either way is the same profile. Driver facts come from
the registry, which imports no models.

The string fields are settings of the profile that holds them: ``read_string`` turns a ``uri``
(pymongo) or ``dsn`` (pyexasol) into canonical fields, ``fill_under`` puts them under the YAML
of the same layer (the YAML wins key by key), and the layers then merge like any other fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._paths import PATH_FIELDS, resolve_path
from ._uri.exasol import exasol_profile_fields, parse_exasol_dsn
from .drivers._base import BUILTIN_DEFAULT
from .drivers._registry import BUILTIN as BUILTIN_SPECS
from .drivers._registry import resolve_driver

__all__ = [
    "BUILTIN_DEFAULT",
    "STRING_LABELS",
    "StringFields",
    "fill_defaults",
    "fill_under",
    "read_string",
    "string_field",
]

_LABELS = {"uri": "the uri", "dsn": "the dsn"}
#: The origin label of a value a string said -> the string's field: ``"the uri"`` -> ``"uri"``.
STRING_LABELS = {label: field for field, label in _LABELS.items()}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class StringFields:
    """What one ``uri`` or ``dsn`` says, as canonical profile fields."""

    field: str  # "uri" or "dsn"
    fields: Mapping[str, Any]  # tls, auth, database, options: only what the string sets
    warnings: tuple[str, ...]  # what the MongoDB spec says to warn about (ignored options ...)
    endpoints: tuple[tuple[str, int | None], ...]  # (host, port) as the string names them
    options: Mapping[str, Any]  # a uri's options by their spec names (empty for a dsn)
    srv: bool = False  # mongodb+srv://: the hosts come from DNS
    relative: tuple[str, ...] = ()  # absolute forms of the file paths it wrote relative

    @property
    def label(self) -> str:
        return _LABELS[self.field]


def string_field(driver: Any, data: Mapping[str, Any]) -> str | None:
    """``"uri"`` or ``"dsn"`` when ``data`` holds the string the (resolved) driver reads."""
    spec = BUILTIN_SPECS.get(driver) if isinstance(driver, str) else None
    field = spec.string if spec is not None else None
    if field is None or not isinstance(data.get(field), str):
        return None
    if field == "uri" and "://" not in data[field]:
        return None  # not a connection string at all: the uri's validator says so
    return field


def read_string(field: str, text: str, base: str | None) -> StringFields:
    """Parse ``text`` (a uri or dsn) into fields; relative file paths resolve against ``base``.

    Raises ``UriError``, ``DsnError`` or ``UnsupportedSetting`` with messages that never carry
    a secret.
    """
    if field == "uri":
        # deferred: the MongoDB parser is large and loads only for a profile with a uri
        from ._uri.mongodb import mongodb_profile_fields, parse_mongodb_uri

        # A token is refused even where the properties are malformed and the parser drops
        # them (MongoURI.names_session_token), so it is never printed with the profile.
        uri = parse_mongodb_uri(text)
        fields = mongodb_profile_fields(uri)
        tls = fields.get("tls")
        relative: list[str] = []
        if isinstance(tls, dict):
            for key in PATH_FIELDS:
                if isinstance(tls.get(key), str):
                    written = tls[key]
                    tls[key] = _string_path(written, base)
                    if not written.startswith(("/", "~")):
                        relative.append(tls[key])
        srv = uri.scheme == "mongodb+srv"
        return StringFields(
            "uri", fields, uri.warnings, uri.hosts, uri.options, srv, tuple(relative)
        )
    dsn = parse_exasol_dsn(text)
    # The dsn stays the endpoint: its ports are its own, not a profile-wide `port`.
    fields = {k: v for k, v in exasol_profile_fields(dsn).items() if k != "port"}
    return StringFields("dsn", fields, (), tuple((h, p) for h, p, _ in dsn.nodes), {})


def _string_path(path: str, base: str | None) -> str:
    # Relative to the file that holds the string, as every path is (connprof._merge); without a
    # file (a profile built by hand), as written.
    return os.path.expanduser(path) if base is None else str(resolve_path(path, base))


def fill_under(
    data: dict[str, Any], said: StringFields
) -> tuple[dict[str, Any], list[Path], list[tuple[Path, Any]]]:
    """``data`` with what the string says filled in where the YAML of the same layer is silent.

    Returns the new data, the paths filled from the string, and ``(path, string's value)`` for
    each value the YAML wrote over (lint's CP026 says where the two disagree).
    """
    out = dict(data)
    filled: list[Path] = []
    shadowed: list[tuple[Path, Any]] = []
    for key, value in said.fields.items():
        if isinstance(value, dict):
            own = out.get(key)
            if key == "tls" and own is False:
                continue  # `tls: false` in YAML wins; validation reports leftovers
            block = dict(own) if isinstance(own, dict) else {}
            for sub, subvalue in value.items():
                if sub in block:
                    shadowed.append(((key, sub), subvalue))
                    continue
                block[sub] = subvalue
                filled.append((key, sub))
            out[key] = block
        elif key in out:
            shadowed.append(((key,), value))
        else:
            out[key] = value
            filled.append((key,))
    return out, filled, shadowed


def fill_defaults(data: dict[str, Any]) -> tuple[dict[str, Any], dict[Path, str]]:
    """``tls.enabled`` and ``port`` where no layer says them, with a note on where each came from.

    TLS: on for ``https://`` hosts; with a uri, what the uri says (off when it says nothing, as
    in pymongo); otherwise the driver's own default (pyexasol encrypts, the others do not).
    ``port``: the driver's default port, when ``hosts`` are given.
    """
    out = dict(data)
    notes: dict[Path, str] = {}
    driver = resolve_driver(out.get("driver"))
    spec = BUILTIN_SPECS.get(driver) if isinstance(driver, str) else None
    tls = out.get("tls")
    if tls is None or (isinstance(tls, dict) and "enabled" not in tls):
        tls = dict(tls or {})
        hosts = out.get("hosts")
        if isinstance(out.get("uri"), str) and out["uri"]:
            tls["enabled"] = False  # the uri turns TLS on when it says so (filled in already)
            notes[("tls", "enabled")] = "the uri"
        elif isinstance(hosts, list | tuple) and any(
            str(h).lower().startswith("https://") for h in hosts
        ):
            tls["enabled"] = True
            notes[("tls", "enabled")] = "the https:// hosts"
        elif spec is not None:
            tls["enabled"] = spec.tls_default
            notes[("tls", "enabled")] = f"{BUILTIN_DEFAULT} for {spec.name}"
        out["tls"] = tls
    if (
        out.get("hosts") is not None
        and out.get("port") is None
        and spec is not None
        and spec.default_port is not None
    ):
        out["port"] = spec.default_port
        notes[("port",)] = f"{BUILTIN_DEFAULT} for {spec.name}"
    return out, notes


def derive_whole(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """One mapping, read as a single layer: its string's fields under it, then the defaults.

    What ``Profile.model_validate`` applies, so a profile built by hand gets the same defaults
    and string fields as one loaded from files (which ran the same steps per layer already).
    A string that does not parse raises its ``UriError`` or ``DsnError``. A mapping that needs
    nothing (a composed one, say) is returned as it is, uncopied: lint validates thousands.
    """
    driver = resolve_driver(data.get("driver"))
    field = string_field(driver, data)
    tls = data.get("tls")
    settled = isinstance(tls, dict) and "enabled" in tls
    if field is None and settled and (data.get("hosts") is None or data.get("port") is not None):
        return data
    out = dict(data)
    if isinstance(tls, bool):
        out["tls"] = {"enabled": tls}
    elif isinstance(tls, dict) and "enabled" not in tls:
        out["tls"] = {**tls, "enabled": True}  # a block turns TLS on, as in a file (_merge)
    if field is not None:
        out, _, _ = fill_under(out, read_string(field, out[field], None))
    return fill_defaults(out)[0]
