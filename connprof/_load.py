"""Read one profile file: YAML text to plain data whose every value remembers file:line:col.

The C composer (when PyYAML has it) builds the node tree; nodes are turned into data only for
what is asked for (one profile, the file's ``defaults``). A large file in plain block style is
first split into one chunk of text per profile, and only the chunks asked for are composed:
composing 4 MB takes PyYAML seconds, splitting it a tenth of one. Loading is safe: only the
standard YAML scalar tags are accepted, anchors are expanded under a budget (no "billion
laughs"), and a duplicate key is an error naming both lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from ._errors import ProfileValidationError

__all__ = [
    "Fragment",
    "Origin",
    "Path",
    "ProfileFile",
    "read_profile_file",
    "suggest",
]

#: A position inside a profile: keys and list indices from the profile's root.
Path = tuple[str | int, ...]

PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
FILE_KEYS = ("version", "default", "defaults", "profiles")
# A profile is a few dozen nodes; a budget far above that stops alias bombs before they eat memory.
NODE_BUDGET = 100_000
MAX_DEPTH = 64

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SAFE_SCALARS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    _STR,
}


class Origin(NamedTuple):
    """Where a value was written: the key's line and column, the value's, and how it got here."""

    file: str
    line: int
    column: int
    value_line: int
    value_column: int
    via: str = ""  # "", "defaults", "extends: NAME"

    def describe(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where} ({self.via})" if self.via else where

    def tagged(self, via: str) -> Origin:
        return self if self.via else self._replace(via=via)


@dataclass(frozen=True)
class Fragment:
    """A partial profile as written in one place, with the origin of every value in it."""

    data: dict[str, Any]
    origins: dict[Path, Origin] = field(default_factory=dict)


def suggest(word: str, choices: Iterator[str] | tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or nothing."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _origin(path: str, key_mark: Any, value_mark: Any) -> Origin:
    return Origin(
        path, key_mark.line + 1, key_mark.column + 1, value_mark.line + 1, value_mark.column + 1
    )


def _error(path: str, mark: Any, message: str) -> ProfileValidationError:
    return ProfileValidationError(message, path, mark.line + 1, mark.column + 1)


class _Converter:
    """Turns nodes into plain data, recording origins, under a node budget."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.budget = NODE_BUDGET
        self._scalars = yaml.SafeLoader("")  # only its scalar constructors are used

    def convert_root(self, node: Any, origins: dict[Path, Origin], key: Any) -> Any:
        """Convert one profile (or ``defaults``) with a fresh budget of its own."""
        self.budget = NODE_BUDGET
        return self.convert(node, (), origins, key)

    def convert(
        self, node: Any, at: Path, origins: dict[Path, Origin], key: Any = None, depth: int = 0
    ) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _error(
                self.path,
                node.start_mark,
                "the document expands to too many values (aliases of aliases, a 'billion "
                "laughs' file?); write the values out instead of nesting aliases",
            )
        if depth > MAX_DEPTH:
            raise _error(
                self.path,
                node.start_mark,
                f"values are nested more than {MAX_DEPTH} levels deep; flatten them",
            )
        origins[at] = _origin(self.path, (key or node).start_mark, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, _MAP)
            return self._mapping(node, at, origins, depth)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, _SEQ)
            return [
                self.convert(item, (*at, i), origins, None, depth + 1)
                for i, item in enumerate(node.value)
            ]
        return self.scalar(node)

    def _check_tag(self, node: Any, expected: str) -> None:
        if node.tag != expected:
            raise _error(
                self.path,
                node.start_mark,
                f"the tag {node.tag!r} is not allowed here; remove it (only plain strings, "
                "numbers, booleans, null, lists and mappings are read)",
            )

    def scalar(self, node: Any) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # keep dates as the text written; no field takes a date
        if node.tag not in _SAFE_SCALARS or not isinstance(node, yaml.ScalarNode):
            raise _error(
                self.path,
                node.start_mark,
                f"the tag {node.tag!r} is not allowed here; remove it (only plain strings, "
                "numbers, booleans, null, lists and mappings are read)",
            )
        return self._scalars.construct_object(node)

    def _mapping(
        self, node: Any, at: Path, origins: dict[Path, Origin], depth: int
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        merged: list[tuple[Any, Any]] = []
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                merged.extend(self._merge_sources(vnode, depth))
                continue
            name = self.key(knode)
            self.check_unique(seen, name, knode)
            result[name] = self.convert(vnode, (*at, name), origins, knode, depth + 1)
        # YAML merge keys ("<<: *base") fill only what the mapping does not say itself; the
        # first source that names a key wins, as PyYAML does.
        for knode, vnode in merged:
            name = self.key(knode)
            if name not in result:
                result[name] = self.convert(vnode, (*at, name), origins, knode, depth + 1)
        return result

    def check_unique(self, seen: dict[str, Any], name: str, knode: Any) -> None:
        """Record ``name``; a second occurrence is an error naming both lines."""
        if name in seen:
            first = seen[name].start_mark.line + 1
            raise _error(
                self.path,
                knode.start_mark,
                f"duplicate key '{name}' (first at line {first}); keep one of them",
            )
        seen[name] = knode

    def _merge_sources(self, vnode: Any, depth: int) -> list[tuple[Any, Any]]:
        """The pairs a ``<<`` brings in, highest precedence first (nested merges flattened)."""
        if depth > MAX_DEPTH:
            raise _error(self.path, vnode.start_mark, "merge keys nest too deeply; flatten them")
        sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
        pairs: list[tuple[Any, Any]] = []
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                raise _error(
                    self.path, src.start_mark, "a merge key '<<' takes a mapping or a list of them"
                )
            inner: list[tuple[Any, Any]] = []
            for knode, value in src.value:
                if knode.tag == _MERGE:
                    inner.extend(self._merge_sources(value, depth + 1))
                else:
                    self.budget -= 1
                    pairs.append((knode, value))
            pairs.extend(inner)
        return pairs

    def key(self, knode: Any) -> str:
        if not isinstance(knode, yaml.ScalarNode):
            raise _error(self.path, knode.start_mark, "a key must be a plain string")
        self.scalar(knode)  # refuses disallowed tags
        # Keys are names: keep the text as written ("on", "1.10", "010" stay themselves).
        return str(knode.value)


# Below this size composing the whole file takes a few milliseconds; above it, seconds (PyYAML
# composes about 1 MB a second here), so large files are split into one chunk per profile.
CHUNK_THRESHOLD = 256 * 1024

_UNQUOTED_REF = re.compile(r":\s+(?:keyring|env|file):\s*(?:[,}]|#|$)")
_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*][^\s,\]}]")


def _risky(text: str) -> bool:
    """True for anything that could tie one part of the file to another, or make a line at a
    profile's indentation something other than the start of a profile."""
    return (
        "\t" in text  # indentation is not what it looks like
        or "<<" in text  # merge keys
        or text.startswith(("\ufeff", "---", "...", "%"))
        or any(marker in text for marker in ("\n---", "\n...", "\n%"))  # documents, directives
        # Plain string scans first: the regex runs only when an anchor is possible at all.
        or (("&" in text or "*" in text) and _ANCHOR.search(text) is not None)
    )


_TOP_LINE = re.compile(r"\n([^\s#][^\n]*)")
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?:[ ]|$)")
_PROFILES_HEADER = re.compile(r"profiles:[ ]*(?:#.*)?\Z")
_ENTRY_KEY = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*):(?:[ ]|$)")


@dataclass(frozen=True)
class ChunkIndex:
    """Where each profile's lines are: ``name -> [(start, end, first line)]`` (offsets in text)."""

    chunks: dict[str, list[tuple[int, int, int]]]
    top: list[tuple[int, int, int]]  # the other top-level sections and the profiles: line

    def top_document(self, text: str) -> str:
        """The file without its profiles, every kept line at its own line number."""
        parts: list[str] = []
        line = 1
        for start, end, first in self.top:
            piece = text[start:end]
            if not piece.endswith("\n"):
                piece += "\n"
            parts.append("\n" * (first - line))
            parts.append(piece)
            line = first + piece.count("\n")
        return "".join(parts)


def index_chunks(text: str) -> ChunkIndex | None:
    """Split a block-style profile file into one chunk per profile, or None when unsure."""
    if _risky(text):
        return None
    # Patterns anchor on "\n" rather than "^" with MULTILINE: several times faster on
    # megabytes; the first line of the file is looked at on its own.
    tops = [(m.start() + 1, m.group(1)) for m in _TOP_LINE.finditer(text)]
    if text[:1] not in ("", " ", "#", "\n", "\r"):
        tops.insert(0, (0, text.split("\n", 1)[0]))
    if not all(_TOP_KEY.match(line) for _, line in tops):
        return None
    headers = [i for i, (_, line) in enumerate(tops) if line.startswith("profiles:")]
    if len(headers) != 1 or not _PROFILES_HEADER.match(tops[headers[0]][1].rstrip()):
        return None
    h = headers[0]
    region_start = text.find("\n", tops[h][0])
    if region_start < 0:
        return None
    region_end = tops[h + 1][0] if h + 1 < len(tops) else len(text)
    first = re.compile(r"\n( +)[^\s#]").search(text, region_start, region_end)
    if first is None:
        return None
    indent = len(first.group(1))
    shallower = re.compile(rf"\n {{1,{indent - 1}}}[^\s#]") if indent > 1 else None
    if shallower and shallower.search(text, region_start, region_end):
        return None  # a line less indented than the profiles: not a layout this index reads
    region_start += 1

    bounds = [start for start, _ in tops] + [len(text)]
    sections = [
        (start, region_start if i == h else bounds[i + 1]) for i, (start, _) in enumerate(tops)
    ]
    starts: list[tuple[int, str]] = []
    entry = re.compile(rf"\n {{{indent}}}([^\s#][^\n]*)")
    for m in entry.finditer(text, region_start - 1, region_end):
        key = _ENTRY_KEY.match(m.group(1))
        if key is None:
            return None
        starts.append((m.start() + 1, key.group(1)))
    lines = _line_numbers(text, sorted([s for s, _ in sections] + [s for s, _ in starts]))
    top = [(s, e, lines[s]) for s, e in sections]
    chunks: dict[str, list[tuple[int, int, int]]] = {}
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else region_end
        chunk = text[start:end]
        if chunk.count("{") != chunk.count("}") or chunk.count("[") != chunk.count("]"):
            return None  # a flow collection may run across profiles
        chunks.setdefault(name, []).append((start, end, lines[start]))
    return ChunkIndex(chunks, top)


def _line_numbers(text: str, offsets: list[int]) -> dict[int, int]:
    """1-based line of each offset (given in increasing order), counting newlines once."""
    lines: dict[int, int] = {}
    position, line = 0, 1
    for offset in offsets:
        line += text.count("\n", position, offset)
        position = offset
        lines[offset] = line
    return lines


def _shift_marks(node: Any, lines: int) -> None:
    """Move a composed chunk's marks to where its text stands in the whole file."""
    stack = [node]
    while stack:
        current = stack.pop()
        # The C loader's marks are read-only: put moved copies in their place.
        m = current.start_mark
        current.start_mark = yaml.Mark(m.name, m.index, m.line + lines, m.column, None, 0)
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.extend((k, v))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


class ProfileFile:
    """One loaded file: its top-level settings now, each profile's data when asked for.

    Built from the composed node tree of the whole file, or, for a large file in plain block
    style, from a ``ChunkIndex``: then only the text of the profiles asked for is composed.
    """

    def __init__(
        self, path: str, root: Any, *, text: str = "", index: ChunkIndex | None = None
    ) -> None:
        self.path = path
        self.version: int = 1
        self.default: str | None = None
        self.default_origin: Origin | None = None
        self.defaults: Fragment | None = None
        self._converter = _Converter(path)
        self._entries: dict[str, list[tuple[Any, Any]]] = {}
        self._fragments: dict[str, Fragment] = {}
        self._text = text
        self._index = index
        if root is not None:
            self._read_top(root)

    def _read_top(self, root: Any) -> None:
        if not isinstance(root, yaml.MappingNode):
            raise _error(
                self.path,
                root.start_mark,
                "a profile file is a mapping with 'profiles:' (and optionally 'version', "
                "'default', 'defaults'); see connprof schema",
            )
        seen: dict[str, Any] = {}
        for knode, vnode in root.value:
            key = self._converter.key(knode)
            if key not in FILE_KEYS:
                raise _error(
                    self.path,
                    knode.start_mark,
                    f"unknown top-level key '{key}'{suggest(key, FILE_KEYS)} (allowed: "
                    + ", ".join(FILE_KEYS)
                    + ")",
                )
            self._converter.check_unique(seen, key, knode)
            getattr(self, f"_top_{key}")(knode, vnode)

    def _top_version(self, knode: Any, vnode: Any) -> None:
        value = self._converter.scalar(vnode) if isinstance(vnode, yaml.ScalarNode) else None
        if value != 1 or isinstance(value, bool):
            raise _error(self.path, vnode.start_mark, "version must be 1 (the only format so far)")

    def _top_default(self, knode: Any, vnode: Any) -> None:
        value = self._converter.scalar(vnode) if isinstance(vnode, yaml.ScalarNode) else None
        if value is None:
            return
        if not isinstance(value, str) or not PROFILE_NAME.match(value):
            raise _error(
                self.path, vnode.start_mark, "default must be the name of a profile in this file"
            )
        self.default = value
        self.default_origin = _origin(self.path, knode.start_mark, vnode.start_mark)

    def _top_defaults(self, knode: Any, vnode: Any) -> None:
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            return
        if not isinstance(vnode, yaml.MappingNode):
            raise _error(
                self.path,
                vnode.start_mark,
                "defaults must be a mapping of profile fields (a partial profile)",
            )
        origins: dict[Path, Origin] = {}
        data = self._converter.convert_root(vnode, origins, knode)
        self.defaults = Fragment(data, origins)

    def _top_profiles(self, knode: Any, vnode: Any) -> None:
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            return
        if not isinstance(vnode, yaml.MappingNode):
            raise _error(self.path, vnode.start_mark, "profiles must be a mapping of NAME: profile")
        for pk, pv in vnode.value:
            if pk.tag == _MERGE:
                raise _error(
                    self.path,
                    pk.start_mark,
                    "a merge key '<<' cannot stand for profiles; use 'extends: NAME' in a profile",
                )
            self._entries.setdefault(self._converter.key(pk), []).append((pk, pv))

    # -- per-profile access -------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self._index.chunks if self._index else self._entries)

    def __contains__(self, name: str) -> bool:
        return name in (self._index.chunks if self._index else self._entries)

    def name_origin(self, name: str) -> Origin:
        mark = self._entry_nodes(name)[0][0].start_mark
        return _origin(self.path, mark, mark)

    def _entry_nodes(self, name: str) -> list[tuple[Any, Any]]:
        if self._index is not None and name not in self._entries:
            self._entries[name] = self._compose_chunks(name)
        return self._entries[name]

    def _compose_chunks(self, name: str) -> list[tuple[Any, Any]]:
        """Compose only the lines of profile ``name``, with marks at their places in the file."""
        assert self._index is not None
        pairs: list[tuple[Any, Any]] = []
        for start, end, line in self._index.chunks[name]:
            try:
                root: Any = yaml.compose("profiles:\n" + self._text[start:end], Loader=_Loader)
            except yaml.YAMLError:
                return self._full_entries(name)
            profiles = root.value[0][1] if isinstance(root, yaml.MappingNode) else None
            if not isinstance(profiles, yaml.MappingNode) or len(profiles.value) != 1:
                return self._full_entries(name)
            knode, vnode = profiles.value[0]
            _shift_marks(knode, line - 2)
            _shift_marks(vnode, line - 2)
            pairs.append((knode, vnode))
        return pairs

    def _full_entries(self, name: str) -> list[tuple[Any, Any]]:
        # The chunk did not compose on its own: let the whole file speak, errors and all.
        full = _compose(self.path, self._text)
        self._index = None
        self._entries = {}
        if full is not None:
            self._read_top(full)
        return self._entries[name]

    def fragment(self, name: str) -> Fragment:
        """The profile as this file writes it (checked for name, duplicates and node budget)."""
        cached = self._fragments.get(name)
        if cached is not None:
            return cached
        entries = self._entry_nodes(name)
        knode, vnode = entries[0]
        if len(entries) > 1:
            again = entries[1][0].start_mark
            raise _error(
                self.path,
                again,
                f"duplicate profile '{name}' (first at line {knode.start_mark.line + 1}); "
                "keep one of them, or use 'extends' to share settings",
            )
        if not PROFILE_NAME.match(name):
            raise _error(
                self.path,
                knode.start_mark,
                f"bad profile name '{name}': use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit",
            )
        if isinstance(vnode, yaml.ScalarNode) and self._converter.scalar(vnode) is None:
            data: Any = {}
            origins: dict[Path, Origin] = {}
        else:
            origins = {}
            data = self._converter.convert_root(vnode, origins, knode)
            if not isinstance(data, dict):
                raise _error(
                    self.path,
                    vnode.start_mark,
                    f"profile '{name}' must be a mapping of fields (driver, hosts, tls, ...)",
                )
        origins[()] = self.name_origin(name)
        fragment = Fragment(data, origins)
        self._fragments[name] = fragment
        return fragment


def read_profile_file(path: str) -> ProfileFile:
    """Read and compose ``path``; raise ``ProfileValidationError`` with a position on bad YAML."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        from ._errors import ConfigNotFound

        raise ConfigNotFound(
            f"{path}: no such file; check the --config path or CONNPROF_CONFIG", path
        ) from None
    except OSError as exc:
        raise ProfileValidationError(
            f"cannot read the file ({exc.strerror}); check its permissions", path
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProfileValidationError(
            "the file is not UTF-8 text; save it as UTF-8", path, line, column
        ) from None
    if len(text) >= CHUNK_THRESHOLD:
        index = index_chunks(text)
        if index is not None:
            try:
                top = yaml.compose(index.top_document(text), Loader=_Loader)
            except yaml.YAMLError:
                top = index = None  # the full composer reports it, with its position
            if index is not None:
                return ProfileFile(path, top, text=text, index=index)
    return ProfileFile(path, _compose(path, text))


def _compose(path: str, text: str) -> Any:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        hint = "; check the indentation and quoting there"
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            what, hint = "a tab character", "; YAML indents with spaces only, replace the tab"
        elif mark is not None and _UNQUOTED_REF.search(text.split("\n")[mark.line]):
            hint = '; a reference ending in ":" must be quoted: write "keyring:"'

        if mark is None:
            raise ProfileValidationError(f"invalid YAML: {what}{hint}", path) from None
        raise _error(path, mark, f"invalid YAML: {what}{hint}") from None
    except yaml.YAMLError as exc:
        raise ProfileValidationError(f"invalid YAML: {exc}", path) from None
    return root
