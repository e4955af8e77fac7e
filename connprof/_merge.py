"""Layers, ``defaults`` and ``extends`` into one profile whose every value knows its origin.

Pure functions over ``Fragment``s: no file is read here. Precedence, lowest first: the
``defaults`` of the files that define the profile, then the profile it ``extends`` (itself fully
merged), then the profile's own fragments from the lowest-precedence file to the highest.
Mappings merge key by key; lists and scalars replace. The endpoint fields are one group: a
layer that names ``uri``, ``dsn`` or ``hosts`` replaces all of the lower layers' endpoints.
"""

from __future__ import annotations

import os
from typing import Any

from ._errors import ProfileValidationError
from ._paths import PATH_FIELDS, SECRET_PATHS, resolve_path
from ._yaml import Fragment, Origin, Path

__all__ = [
    "ENDPOINT_FIELDS",
    "merge",
    "normalize_fragment",
    "tag",
]

ENDPOINT_FIELDS = ("uri", "dsn", "hosts")


def tag(fragment: Fragment, via: str) -> Fragment:
    """The same fragment with every origin marked as coming ``via`` defaults or extends."""
    return Fragment(fragment.data, {p: o.tagged(via) for p, o in fragment.origins.items()})


def normalize_fragment(fragment: Fragment, *, is_defaults: bool = False) -> Fragment:
    """Put one file's profile (or its ``defaults``) into mergeable shape.

    ``tls: true/false`` becomes ``{enabled: ...}``; a ``tls`` block written in a profile turns
    TLS on unless it says otherwise (a block in ``defaults`` only sets values, it does not turn
    TLS on for every profile of the file); relative paths become absolute against the folder
    of the file; two endpoint fields in one place are an error.
    """
    data = dict(fragment.data)
    origins = dict(fragment.origins)
    root = origins.get(())
    folder = os.path.dirname(os.path.abspath(root.file)) if root else os.getcwd()

    if "name" in data:
        at = origins[("name",)]
        raise ProfileValidationError(
            "unknown key 'name': a profile's name is its key under 'profiles:'; remove it",
            at.file, at.line, at.column,
        )  # fmt: skip
    given = [f for f in ENDPOINT_FIELDS if f in data]
    if len(given) > 1:
        at = origins[(given[1],)]
        raise ProfileValidationError(
            f"{given[0]} and {given[1]} both give the endpoints; keep one of them",
            at.file, at.line, at.column,
        )  # fmt: skip

    tls = data.get("tls")
    if isinstance(tls, bool):
        data["tls"] = {"enabled": tls}
        origins[("tls", "enabled")] = origins[("tls",)]
    elif isinstance(tls, dict):
        tls = data["tls"] = dict(tls)
        if "enabled" not in tls and not is_defaults:
            tls["enabled"] = True
            origins[("tls", "enabled")] = origins[("tls",)]
        for key in PATH_FIELDS:
            if key in tls and not (key == "ca" and tls[key] == "system"):
                tls[key] = resolve_path(tls[key], folder)
    for section, key in SECRET_PATHS:
        block = data.get(section)
        if isinstance(block, dict) and isinstance(block.get(key), str):
            ref = block[key]
            if ref.startswith("file:") and len(ref) > len("file:"):
                data[section] = block = dict(block)
                block[key] = "file:" + resolve_path(ref[len("file:") :], folder)
    return Fragment(data, origins)


def _merge_data(
    base: Any,
    over: Any,
    at: Path,
    base_origins: dict[Path, Origin],
    over_origins: dict[Path, Origin],
    out: dict[Path, Origin],
) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        result = dict(base)
        if at == () and any(f in over for f in ENDPOINT_FIELDS):
            for f in (*ENDPOINT_FIELDS, "port"):
                result.pop(f, None)
        for key, value in over.items():
            sub = (*at, key)
            if key in result:
                result[key] = _merge_data(result[key], value, sub, base_origins, over_origins, out)
            else:
                result[key] = value
                _copy_origins(over_origins, sub, out)
        for key in result:
            if key not in over:
                _copy_origins(base_origins, (*at, key), out)
        if at in over_origins:
            out[at] = over_origins[at]
        elif at in base_origins:
            out[at] = base_origins[at]
        return result
    _copy_origins(over_origins, at, out)
    return over


def _copy_origins(source: dict[Path, Origin], prefix: Path, out: dict[Path, Origin]) -> None:
    n = len(prefix)
    for path, origin in source.items():
        if path[:n] == prefix:
            out[path] = origin


def merge(layers: list[Fragment]) -> Fragment:
    """Deep-merge ``layers``, lowest precedence first."""
    data: dict[str, Any] = {}
    origins: dict[Path, Origin] = {}
    for layer in layers:
        out: dict[Path, Origin] = {}
        data = _merge_data(data, layer.data, (), origins, layer.origins, out)
        origins = out
    return Fragment(data, origins)
