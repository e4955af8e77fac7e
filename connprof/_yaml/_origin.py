"""What a reading gives: partial profiles whose every value remembers where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Fragment", "Origin", "Path"]

#: A position inside a profile: keys and list indices from the profile's root.
Path = tuple[str | int, ...]


class Origin(NamedTuple):
    """Where a value was written: the key's line and column, the value's, and how it got here."""

    file: str
    line: int
    column: int
    value_line: int
    value_column: int
    via: str = ""  # "", "defaults", "extends: NAME"

    @property
    def in_file(self) -> bool:
        """False for a value set outside any file (``env CONNPROF__...``: line 0)."""
        return self.line > 0

    def describe(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.in_file else self.file
        return f"{where} ({self.via})" if self.via else where

    def tagged(self, via: str) -> Origin:
        return self if self.via else self._replace(via=via)


@dataclass(frozen=True)
class Fragment:
    """A partial profile as written in one place, with the origin of every value in it."""

    data: dict[str, Any]
    origins: dict[Path, Origin] = field(default_factory=dict)
