"""YAML text to nodes with marks, and nodes to plain data whose every value remembers file:line:col.

The C composer (when PyYAML has it) builds the node tree; a ``Converter`` turns nodes into data
only for what is asked for (one profile, the file's ``defaults``). Loading is safe: only the
standard YAML scalar tags are accepted, anchors are expanded under a node budget (no "billion
laughs"), nesting is bounded, and a duplicate key is an error naming both lines.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .._errors import ProfileValidationError
from ._limits import MAP, MAX_DEPTH, MERGE, NODE_BUDGET, SCALAR_TAGS, SEQ, TIMESTAMP
from ._origin import Origin, Path

__all__ = ["LOADER", "Converter", "compose", "error_at", "origin_at", "shift_marks"]

#: The C composer when PyYAML has it (several times faster), else the pure-Python one.
LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def origin_at(path: str, key_mark: Any, value_mark: Any) -> Origin:
    return Origin(
        path, key_mark.line + 1, key_mark.column + 1, value_mark.line + 1, value_mark.column + 1
    )


def error_at(path: str, mark: Any, message: str) -> ProfileValidationError:
    return ProfileValidationError(message, path, mark.line + 1, mark.column + 1)


class Converter:
    """Turns nodes into plain data, recording origins, under a node budget."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.budget = NODE_BUDGET
        self._scalars = yaml.SafeLoader("")  # only its scalar constructors are used

    def convert_root(self, node: Any, origins: dict[Path, Origin], key: Any) -> Any:
        """Convert one profile (or ``defaults``) with a fresh budget of its own."""
        self.budget = NODE_BUDGET
        return self.convert(node, (), origins, key)

    def spend(self, node: Any) -> None:
        """Count one node against the budget; past it, the file is an alias bomb."""
        self.budget -= 1
        if self.budget < 0:
            raise error_at(
                self.path,
                node.start_mark,
                "the document expands to too many values (aliases of aliases, a 'billion "
                "laughs' file?); write the values out instead of nesting aliases",
            )

    def convert(
        self, node: Any, at: Path, origins: dict[Path, Origin], key: Any = None, depth: int = 0
    ) -> Any:
        self.spend(node)
        if depth > MAX_DEPTH:
            raise error_at(
                self.path,
                node.start_mark,
                f"values are nested more than {MAX_DEPTH} levels deep; flatten them",
            )
        origins[at] = origin_at(self.path, (key or node).start_mark, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            self._check_tag(node, MAP)
            return self._mapping(node, at, origins, depth)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, SEQ)
            return [
                self.convert(item, (*at, i), origins, None, depth + 1)
                for i, item in enumerate(node.value)
            ]
        return self.scalar(node)

    def _check_tag(self, node: Any, expected: str) -> None:
        if node.tag != expected:
            raise error_at(
                self.path,
                node.start_mark,
                f"the tag {node.tag!r} is not allowed here; remove it (only plain strings, "
                "numbers, booleans, null, lists and mappings are read)",
            )

    def scalar(self, node: Any) -> Any:
        if node.tag == TIMESTAMP:
            return node.value
        if node.tag not in SCALAR_TAGS or not isinstance(node, yaml.ScalarNode):
            raise error_at(
                self.path,
                node.start_mark,
                f"the tag {node.tag!r} is not allowed here; remove it (only plain strings, "
                "numbers, booleans, null, lists and mappings are read)",
            )
        try:
            return self._scalars.construct_object(node)
        except ValueError:
            # int() refuses more than sys.get_int_max_str_digits() digits (4300): no field
            # takes such a number, and PyYAML's message would name the interpreter's limit.
            raise error_at(
                self.path,
                node.start_mark,
                f"a number of {len(node.value)} characters is not a value any field takes; "
                "shorten it (quote it to keep it as text)",
            ) from None

    def _mapping(
        self, node: Any, at: Path, origins: dict[Path, Origin], depth: int
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        merged: list[tuple[Any, Any]] = []
        for knode, vnode in node.value:
            if knode.tag == MERGE:
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
            raise error_at(
                self.path,
                knode.start_mark,
                f"duplicate key '{name}' (first at line {first}); keep one of them",
            )
        seen[name] = knode

    def _merge_sources(self, vnode: Any, depth: int) -> list[tuple[Any, Any]]:
        """The pairs a ``<<`` brings in, highest precedence first (nested merges flattened)."""
        if depth > MAX_DEPTH:
            raise error_at(self.path, vnode.start_mark, "merge keys nest too deeply; flatten them")
        sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
        pairs: list[tuple[Any, Any]] = []
        for src in sources:
            self.spend(src)
            if not isinstance(src, yaml.MappingNode):
                raise error_at(
                    self.path, src.start_mark, "a merge key '<<' takes a mapping or a list of them"
                )
            inner: list[tuple[Any, Any]] = []
            for knode, value in src.value:
                if knode.tag == MERGE:
                    inner.extend(self._merge_sources(value, depth + 1))
                else:
                    # Counted as the list grows: chained merges double it at every level, so
                    # waiting for the conversion would first build a list of millions.
                    self.spend(knode)
                    pairs.append((knode, value))
            pairs.extend(inner)
        return pairs

    def key(self, knode: Any) -> str:
        if not isinstance(knode, yaml.ScalarNode):
            raise error_at(self.path, knode.start_mark, "a key must be a plain string")
        self.scalar(knode)  # refuses disallowed tags
        # Keys are names: keep the text as written ("on", "1.10", "010" stay themselves).
        return str(knode.value)


_UNQUOTED_REF = re.compile(r":\s+(?:keyring|env|file):\s*(?:[,}]|#|$)")


def compose(path: str, text: str) -> Any:
    """The node tree of ``text`` (None for an empty document); bad YAML is an error at its place."""
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        hint = "; check the indentation and quoting there"
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            what, hint = "a tab character", "; YAML indents with spaces only, replace the tab"
        elif mark is not None and _UNQUOTED_REF.search(_line_at(text, mark.index)):
            hint = '; a reference ending in ":" must be quoted: write "keyring:"'

        if mark is None:
            raise ProfileValidationError(f"invalid YAML: {what}{hint}", path) from None
        raise error_at(path, mark, f"invalid YAML: {what}{hint}") from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses (a control character, a lone surrogate): say which, and where.
        # The C reader counts UTF-8 bytes, the Python one characters; the reader stops at the
        # first such character, so look for it instead.
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        found = text.find(chr(char))
        line, column = _line_column(text, found if found >= 0 else exc.position)
        what = f"the character U+{char:04X} is not allowed in YAML"
        if char == 0xFEFF:
            what = "a byte order mark (U+FEFF) is allowed only at the start of the file"
        raise ProfileValidationError(
            f"invalid YAML: {what}; remove it, or write it as an escape in a double-quoted "
            'string ("\\x01")',
            path,
            line,
            column,
        ) from None
    except yaml.YAMLError as exc:
        raise ProfileValidationError(f"invalid YAML: {exc}", path) from None
    return root


def _line_at(text: str, index: int) -> str:
    """The line of ``text`` that holds ``index`` (marks count lines as YAML does; this reads
    them from the index, so a mark at the end or after a lone CR still finds its line)."""
    index = min(max(index, 0), len(text))
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end >= 0 else len(text)]


def _line_column(text: str, index: int) -> tuple[int, int]:
    index = min(max(index, 0), len(text))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def shift_marks(node: Any, lines: int) -> None:
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
