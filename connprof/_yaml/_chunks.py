"""Split a large block-style profile file into one chunk of text per profile, without YAML.

Composing 4 MB takes PyYAML seconds, splitting it a tenth of one; the positioned reading then
composes only the chunks of the profiles asked for. The split declines (None) any layout where
a line at a profile's indentation might not start a profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ChunkIndex", "index_chunks", "risky"]

_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*][^\s,\]}]")


def risky(text: str) -> bool:
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
    if risky(text):
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
