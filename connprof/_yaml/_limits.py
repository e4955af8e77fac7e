"""What a profile file may hold, stated once for both readings: names, keys, tags, size, depth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "FILE_KEYS",
    "MAP",
    "MAX_DEPTH",
    "MERGE",
    "NODE_BUDGET",
    "PROFILE_NAME",
    "SCALAR_TAGS",
    "SEQ",
    "STR",
    "TIMESTAMP",
    "suggest",
    "within_limits",
]

PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
FILE_KEYS = ("version", "default", "defaults", "profiles")
# A profile is a few dozen nodes; a budget far above that stops alias bombs before they eat memory.
NODE_BUDGET = 100_000
MAX_DEPTH = 64

STR = "tag:yaml.org,2002:str"
TIMESTAMP = "tag:yaml.org,2002:timestamp"  # kept as the text written: no field takes a date
MERGE = "tag:yaml.org,2002:merge"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
#: The scalar tags read as values (and the only ones a key may have).
SCALAR_TAGS = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        STR,
    }
)


def suggest(word: str, choices: Iterator[str] | tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or nothing."""
    import difflib  # deferred: slow to import, and only a mistake needs it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Beyond(Exception):
    """A limit is crossed: stop counting."""


def within_limits(value: dict[str, Any] | list[Any]) -> bool:
    """Whether plain data (one profile, or ``defaults``) keeps to the node budget and depth.

    It errs towards False: a value this refuses may still be within what the positioned
    reading accepts, never the other way round.
    """
    try:
        return _count(value, 0) <= NODE_BUDGET
    except _Beyond:
        return False


def _count(container: Any, depth: int) -> int:
    if depth >= MAX_DEPTH:
        raise _Beyond
    n = 1
    for v in container.values() if isinstance(container, dict) else container:
        n += _count(v, depth + 1) if isinstance(v, dict | list) else 1
        if n > NODE_BUDGET:
            raise _Beyond
    return n
