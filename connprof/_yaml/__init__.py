"""Read profile files: YAML text to partial profiles whose values remember file:line:col.

One function, ``read_profile_file(path, *, positions=True)``, gives one type, ``ProfileFile``,
read one of two ways under one set of limits and tags (``_limits``):

- positioned (``_positioned``, the default): PyYAML composes the file with marks, and nodes
  become data only for what is asked for (one profile, the file's ``defaults``). A large file
  in plain block style is first split into one chunk of text per profile (``_chunks``), and
  only the chunks asked for are composed: composing 4 MB takes PyYAML seconds, splitting it a
  tenth of one.
- plain (``_plain``, ``positions=False``): the same data several times faster, every origin a
  stub; lint's first pass over large files. Whatever it could read otherwise than the
  positioned reading, it leaves to the positioned reading.

Loading is safe either way: only the standard YAML scalar tags are accepted, anchors are
expanded under a budget (no "billion laughs"), and a duplicate key is an error naming both
lines.
"""

from __future__ import annotations

from ._file import ProfileFile, read_profile_file
from ._limits import FILE_KEYS, MAX_DEPTH, NODE_BUDGET, PROFILE_NAME, suggest
from ._origin import Fragment, Origin, Path

__all__ = [
    "FILE_KEYS",
    "MAX_DEPTH",
    "NODE_BUDGET",
    "PROFILE_NAME",
    "Fragment",
    "Origin",
    "Path",
    "ProfileFile",
    "read_profile_file",
    "suggest",
]
