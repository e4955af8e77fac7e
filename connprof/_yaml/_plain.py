"""YAML text to plain data, fast and without positions, or None where that could be inexact.

``read_plain(text)`` is what ``read_profile_file(path, positions=False)`` reads: the values the
positioned reading (``connprof._yaml._positioned``) gives, keys kept as written, timestamps as
text. It tries ``parse_plain``, a reader of the plain block style profile files are written in,
ten times faster than PyYAML, then PyYAML's C loader (``PlainLoader``) for what that declines.
Anything either could read differently from the positioned reading (duplicate keys, tags,
anchors, merge keys, non-string keys) makes it return None.

``parse_plain`` returns exactly what ``yaml.load(text, Loader=PlainLoader)`` returns, or None
for anything outside the subset it knows: block mappings and sequences of scalars, single-line
plain and quoted scalars, and single-line flow collections of scalars. Scalars are typed by
PyYAML's own resolver and constructors, so ``yes``, ``1.2`` and ``0o17`` mean what they mean
to PyYAML.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ._chunks import risky
from ._limits import SCALAR_TAGS, STR, TIMESTAMP

__all__ = ["PlainLoader", "Unsure", "parse_plain", "read_plain"]


class _Unsupported(Exception):
    """Outside the subset: let PyYAML read it."""


_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?: +|$)")
# Characters that start something other than a plain scalar (or may, depending on what follows).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_END = re.compile(r"[,\]}]| #|: |:$")
_resolver: Any = yaml.resolver.Resolver()
_constructor = yaml.SafeLoader("")
_scalars: dict[str, Any] = {}


def _plain_value(text: str) -> Any:
    """A plain scalar as PyYAML types it (memoised: profile files repeat their values)."""
    try:
        return _scalars[text]
    except KeyError:
        pass
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    if tag == STR:
        value: Any = text
    elif tag == TIMESTAMP:
        value = text  # kept as written, as the positioned reading does
    elif tag in SCALAR_TAGS:
        # The constructor function itself: construct_object would keep every node it saw.
        value = _constructor.yaml_constructors[tag](_constructor, yaml.ScalarNode(tag, text))
    else:
        raise _Unsupported  # merge keys, "=" and the like
    if len(_scalars) < 100_000:
        _scalars[text] = value
    return value


def _key(text: str) -> str:
    if _resolver.resolve(yaml.ScalarNode, text, (True, False)) not in SCALAR_TAGS:
        raise _Unsupported  # e.g. a timestamp key: the positioned loader decides
    if len(_keys) < 100_000:
        _keys[text] = text
    return text


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A quoted scalar starting at ``text[start]``: its value and the index after it."""
    quote = text[start]
    if quote == '"':
        end = text.find('"', start + 1)
        if end < 0 or "\\" in text[start:end]:
            raise _Unsupported  # escapes, or a string running over several lines
        return text[start + 1 : end], end + 1
    parts = []
    i = start + 1
    while True:
        end = text.find("'", i)
        if end < 0:
            raise _Unsupported
        parts.append(text[i:end])
        if text[end + 1 : end + 2] == "'":  # '' is one quote
            parts.append("'")
            i = end + 2
            continue
        return "".join(parts), end + 1


def _rest_is_empty(text: str, i: int) -> None:
    rest = text[i:]
    stripped = rest.lstrip(" ")
    if stripped and not (stripped.startswith("#") and len(stripped) < len(rest)):
        raise _Unsupported


def _plain(text: str) -> Any:
    """A block-context plain scalar that runs to the end of the line (or a comment)."""
    if text[0] in _INDICATORS or text.startswith("- "):
        raise _Unsupported
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut]
    text = text.rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise _Unsupported
    return _plain_value(text)


def _value(text: str) -> Any:
    """The value after ``key: `` or ``- ``, which is not empty."""
    first = text[0]
    if first in "\"'":
        value, end = _quoted(text, 0)
        _rest_is_empty(text, end)
        return value
    if first in "[{":
        value, end = _flow(text, 0)
        _rest_is_empty(text, end)
        return value
    return _plain(text)


def _flow_scalar(text: str, i: int) -> tuple[Any, int]:
    if text[i] in "\"'":
        return _quoted(text, i)
    if text[i] in _INDICATORS:
        raise _Unsupported
    m = _FLOW_END.search(text, i)
    end = m.start() if m else len(text)
    raw = text[i:end].rstrip(" ")
    if not raw or raw.endswith(":") or any(c in raw for c in "[]{}"):
        raise _Unsupported
    return _plain_value(raw), end


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _flow(text: str, start: int) -> tuple[Any, int]:
    """A one-line ``[a, b]`` or ``{k: v}`` of scalars; nesting is left to PyYAML."""
    close = "]" if text[start] == "[" else "}"
    items: list[Any] = []
    mapping: dict[str, Any] = {}
    i = _skip(text, start + 1)
    if text[i : i + 1] == close:
        return ([] if close == "]" else {}), i + 1
    while True:
        if i >= len(text):
            raise _Unsupported
        if close == "]":
            value, i = _flow_scalar(text, i)
            items.append(value)
        else:
            m = _KEY.match(text, i)
            if m is None or not text[m.end() - 1 : m.end()] == " ":
                raise _Unsupported
            key = _key(m.group(1))
            if key in mapping:
                raise _Unsupported
            mapping[key], i = _flow_scalar(text, m.end())
        i = _skip(text, i)
        if text[i : i + 1] == ",":
            i = _skip(text, i + 1)
            if text[i : i + 1] in ("", "]", "}", ","):
                raise _Unsupported  # a trailing or empty entry
            continue
        if text[i : i + 1] == close:
            return (items if close == "]" else mapping), i + 1
        raise _Unsupported


def parse_plain(text: str) -> dict[str, Any] | None:
    """The document as plain data, or None when it is not in the subset this reader knows."""
    if "\r" in text or any(c in text for c in "\x85\u2028\u2029\ufeff\t"):
        return None
    if yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        return _parse(text)
    except (_Unsupported, yaml.YAMLError, ValueError, RecursionError):
        return None


_KEY_LINE = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?: +(.*))?\Z")
_keys: dict[str, str] = {}


def _parse(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    # Open containers, innermost last: (indent, container).
    stack: list[tuple[int, Any]] = [(0, root)]
    top_indent: int = 0
    top: Any = root
    pending: tuple[Any, str] | None = None  # a mapping and a key whose value is a nested block
    pending_indent = -1
    for line in text.split("\n"):
        m = _KEY_LINE.match(line)
        if m is not None:
            indent = len(m.group(1))
            content = line[indent:]
        else:
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
        if pending is not None:
            parent, pkey = pending
            pending = None
            if indent > pending_indent:
                child: Any = [] if m is None and content[:2] in ("- ", "-") else {}
                parent[pkey] = child
                stack.append((indent, child))
                top_indent, top = indent, child
            else:
                parent[pkey] = None  # `key:` with nothing below it
        if indent != top_indent:
            while indent < stack[-1][0]:
                stack.pop()
            top_indent, top = stack[-1]
            if indent != top_indent:
                raise _Unsupported  # a continuation line, or indentation this reader does not know
        if m is None:
            if top.__class__ is not list or not content.startswith("- "):
                raise _Unsupported  # `-` alone, a key this reader does not know, ...
            item = content[2:].lstrip(" ")
            if not item or item[0] == "#" or _KEY.match(item):
                raise _Unsupported  # nested blocks and mappings inside sequences
            top.append(_value(item))
            continue
        if top.__class__ is not dict:
            raise _Unsupported
        key = _keys.get(m.group(2)) or _key(m.group(2))
        if key in top:
            raise _Unsupported  # a duplicate: the positioned loader reports it
        rest = m.group(3)
        if not rest or rest[0] == "#":
            top[key] = None
            pending, pending_indent = (top, key), indent
            continue
        if rest[0] not in _INDICATORS and "#" not in rest and ": " not in rest:
            # The common case, a plain scalar and nothing else, without the general path.
            rest = rest.rstrip(" ")
            if rest[-1] == ":":
                raise _Unsupported
            value = _scalars.get(rest)
            top[key] = value if value is not None or rest in _scalars else _plain_value(rest)
        else:
            top[key] = _value(rest)
    if pending is not None:
        pending[0][pending[1]] = None
    if not root:
        raise _Unsupported  # an empty document is None to PyYAML
    return root


# -- PyYAML's C loader, for what parse_plain declines ------------------------------------------


class Unsure(Exception):
    """The plain loader met something the positioned reading reads differently."""


class PlainLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The C loader, refusing (with ``Unsure``) what the positioned reading reads otherwise."""


def _mapping(loader: Any, node: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for knode, vnode in node.value:
        if not isinstance(knode, yaml.ScalarNode) or knode.tag not in SCALAR_TAGS:
            raise Unsure  # merge keys, complex keys, tagged keys
        key = str(knode.value)  # keys stay as written, as the positioned reading keeps them
        if key in result:
            raise Unsure  # a duplicate: the positioned reading names both lines
        result[key] = loader.construct_object(vnode, deep=True)
    return result


def _sequence(loader: Any, node: Any) -> list[Any]:
    return [loader.construct_object(child, deep=True) for child in node.value]


def _refuse(loader: Any, node: Any) -> Any:
    raise Unsure


PlainLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
PlainLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)
PlainLoader.add_constructor(TIMESTAMP, lambda loader, node: node.value)
for _tag in ("binary", "omap", "pairs", "set"):
    PlainLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
PlainLoader.add_constructor(None, _refuse)


def read_plain(text: str) -> dict[str, Any] | None:
    """The document as plain data when it reads as the positioned reading reads it, else None.

    Only the values are vouched for; what the document means (known top-level keys, the
    limits) is for the caller to check.
    """
    if risky(text):  # anchors, merge keys, tabs, several documents
        return None
    data: Any = parse_plain(text)
    if data is None:
        try:
            data = yaml.load(text, Loader=PlainLoader)  # a SafeLoader subclass
        except (Unsure, yaml.YAMLError, RecursionError, ValueError):
            return None  # ValueError: a number beyond int()'s digit limit
    return data if isinstance(data, dict) else None
