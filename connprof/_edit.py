"""Add one profile to a profile file's text, or replace one, keeping every other byte as written.

``connprof add`` never rewrites what the user wrote: the new entry is text spliced into the
file (appended when ``profiles:`` is the file's last key, otherwise placed at the end of the
``profiles`` block), in the file's own indentation and line endings; a file that ends without a
newline gets one before the new entry. ``replace`` swaps only the lines of that one entry. When
the file's layout does not allow either safely (``profiles`` in flow style, an entry defining an
anchor others may use, several documents), ``EditRefused`` says why and nothing is written.
Every result is checked: read as YAML again, the file must hold exactly the same data except
the one entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from ._errors import ConnprofError

__all__ = ["EditRefused", "render_entry", "splice_profile"]

_BLANK_OR_COMMENT = re.compile(r"[ \t]*(#.*)?\Z")


class EditRefused(ConnprofError):
    """The file cannot take the new profile without rewriting what the user wrote."""


def _scalar(value: Any) -> str:
    """One YAML scalar, quoted only where YAML needs it (``"keyring:"``, ``yes``, ``1.2``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if (
        isinstance(value, str)
        and re.fullmatch(r"[A-Za-z0-9_./~@+-][A-Za-z0-9_./~@+:-]*", value)
        and not value.endswith(":")
        and yaml.safe_load(value) == value
    ):
        return value
    dumped: str = yaml.safe_dump(value, default_flow_style=True, width=1 << 30)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _lines(data: Mapping[str, Any], indent: int, step: int) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.append(f"{pad}{key}:")
            out += _lines(value, indent + step, step)
        elif isinstance(value, list):
            out.append(f"{pad}{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            out.append(f"{pad}{key}: {_scalar(value)}")
    return out


def render_entry(name: str, body: Mapping[str, Any], *, column: int = 2, step: int = 2) -> str:
    """``NAME:`` and its fields in block style, the key at ``column``, ``step`` more per level."""
    return "\n".join([f"{' ' * column}{name}:", *_lines(body, column + step, step)]) + "\n"


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _end_of_content(text: str, start: int, end: int, column: int) -> int:
    """Where an entry's own text ends: before the blank and comment lines (indented no deeper
    than its key) that precede what follows; they belong to the next entry."""
    lines = text[start:end].splitlines(keepends=True)
    while lines:
        last = lines[-1].rstrip("\r\n")
        stripped = last.lstrip(" ")
        if _BLANK_OR_COMMENT.match(last) and (not stripped or len(last) - len(stripped) <= column):
            lines.pop()
            continue
        break
    return start + sum(len(line) for line in lines)


def _compose(text: str, path: str) -> Any:
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise EditRefused(
            f"{path}: the file does not parse as YAML ({str(exc).splitlines()[0]}); fix it "
            "first (connprof lint shows where)"
        ) from None
    if len(documents) > 1:
        raise EditRefused(f"{path}: the file holds several YAML documents; add the profile by hand")
    return documents[0] if documents else None


def _defines_anchor(text: str, start: int, end: int) -> bool:
    try:
        tokens = list(yaml.scan(text[start:end], Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return True  # cannot tell: treat as unsafe
    return any(isinstance(t, yaml.AnchorToken) for t in tokens)


def splice_profile(
    text: str, name: str, body: Mapping[str, Any], *, path: str, replace: bool = False
) -> str:
    """``text`` with profile ``name`` added (or, with ``replace``, its entry swapped for ``body``).

    Raises ``EditRefused`` when that cannot be done without touching other text.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    root = _compose(text, path)
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
        head = text if not text or text.endswith("\n") else text + newline
        result = head + ("version: 1\nprofiles:\n" + render_entry(name, body)).replace(
            "\n", newline
        )
        return _checked(text, result, name, body, path, new_file=True)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise EditRefused(f"{path}: the file's top level is not a block mapping; add it by hand")
    profiles = next(
        ((k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "profiles"),
        None,
    )
    if profiles is None:  # no profiles yet: a new top-level key at the end
        head = text if not text or text.endswith("\n") else text + newline
        result = head + ("profiles:\n" + render_entry(name, body)).replace("\n", newline)
        return _checked(text, result, name, body, path)
    key, value = profiles
    if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
        if value.value:
            raise EditRefused(f"{path}: profiles: is null; write 'profiles:' alone, then retry")
        # `profiles:` with nothing under it: the entry goes on the next line.
        at = text.find("\n", key.end_mark.index)
        at = len(text) if at < 0 else at + 1
        entry = render_entry(name, body, column=key.start_mark.column + 2)
        prefix = "" if at <= len(text) and text[:at].endswith("\n") else newline
        result = text[:at] + prefix + entry.replace("\n", newline) + text[at:]
        return _checked(text, result, name, body, path)
    if not isinstance(value, yaml.MappingNode) or value.flow_style:
        raise EditRefused(
            f"{path}: profiles: is written in flow style ({{...}}); connprof add only appends to "
            "a block mapping; write the profile by hand or convert the block"
        )
    entries = [(k, v) for k, v in value.value if isinstance(k, yaml.ScalarNode)]
    column = entries[0][0].start_mark.column if entries else key.start_mark.column + 2
    step = 2
    for _k, v in entries:
        if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value:
            step = max(v.value[0][0].start_mark.column - column, 1)
            break
    entry = render_entry(name, body, column=column, step=step).replace("\n", newline)
    same = [(i, k, v) for i, (k, v) in enumerate(entries) if k.value == name]
    if same and not replace:
        raise EditRefused(
            f"{path}: profile {name!r} already exists (line {same[0][1].start_mark.line + 1}); "
            "pass --replace to replace it, or choose another name"
        )
    if same:
        if len(same) > 1:
            raise EditRefused(f"{path}: profile {name!r} is defined twice; fix the file first")
        _, k, v = same[0]
        start = _line_start(text, k.start_mark.index)
        if text[start : k.start_mark.index].strip(" "):
            raise EditRefused(
                f"{path}:{k.start_mark.line + 1}: profile {name!r} does not start its own line; "
                "replace it by hand"
            )
        if isinstance(v, yaml.MappingNode) and not v.flow_style:
            end = _end_of_content(text, start, v.end_mark.index, column)
        else:  # a flow or scalar value ends mid-line: the rest of its line is the entry's
            end = _after_line(text, v.end_mark.index)
        if _defines_anchor(text, start, end):
            raise EditRefused(
                f"{path}: profile {name!r} defines a YAML anchor (&) other entries may use; "
                "replace it by hand"
            )
        result = text[:start] + entry + text[end:]
        return _checked(text, result, name, body, path, replaced=True)
    # A new entry: after the last entry's own text (at the end of the file when profiles is last).
    end_index = value.end_mark.index
    if end_index >= len(text.rstrip(" \t\r\n")):
        at = len(text)
    else:
        at = _end_of_content(text, _line_start(text, key.start_mark.index), end_index, column)
    prefix = "" if at == 0 or text[:at].endswith("\n") else newline
    result = text[:at] + prefix + entry + text[at:]
    return _checked(text, result, name, body, path)


def _after_line(text: str, index: int) -> int:
    at = text.find("\n", index)
    return len(text) if at < 0 else at + 1


def _checked(
    old: str,
    new: str,
    name: str,
    body: Mapping[str, Any],
    path: str,
    *,
    replaced: bool = False,
    new_file: bool = False,
) -> str:
    """``new`` if it reads as ``old`` plus (or with) the one entry, else ``EditRefused``."""
    try:
        before = yaml.safe_load(old) or {}
        after = yaml.safe_load(new) or {}
    except yaml.YAMLError:
        raise EditRefused(f"{path}: the new entry would not read back; add it by hand") from None
    expected = dict(before) if isinstance(before, dict) else {}
    profiles = dict(expected.get("profiles") or {})
    if not replaced:
        profiles.pop(name, None)
    profiles[name] = dict(body)
    expected = {**expected, "profiles": profiles}
    if new_file:
        expected["version"] = 1
    if after != expected or not _keeps_bytes(old, new, replaced):
        raise EditRefused(
            f"{path}: the file's layout does not allow adding {name!r} safely; add it by hand"
        )
    return new


def _keeps_bytes(old: str, new: str, replaced: bool) -> bool:
    """Every original character is still there, in order (except a replaced entry's)."""
    if replaced:
        return True
    i = 0
    for ch in new:
        if i < len(old) and ch == old[i]:
            i += 1
    return i == len(old)
