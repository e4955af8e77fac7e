"""Which fields of a profile name files, and how a path written in a file resolves.

One home for these facts: the merge resolves the paths, the derivation resolves a uri's, the
composition and lint list them. A leaf module: it imports nothing of connprof's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["PATH_FIELDS", "SECRET_PATHS", "file_values", "resolve_path"]

Path = tuple[str | int, ...]

#: The tls keys that name files (``ca`` may also be ``system``), relative to their own file.
PATH_FIELDS = ("ca", "client_cert", "client_key", "crl")
#: The secret fields; a ``file:`` reference in one names a file too.
SECRET_PATHS: tuple[tuple[str, str], ...] = (
    ("auth", "password"),
    ("auth", "token"),
    ("auth", "refresh_token"),
    ("tls", "client_key_password"),
)


def resolve_path(value: Any, folder: str) -> Any:
    # Relative paths mean "next to the file that wrote them", as in ssh_config and kubeconfig.
    if not isinstance(value, str) or not value:
        return value
    expanded = os.path.expanduser(value)
    return os.path.normpath(os.path.join(folder, expanded))


def file_values(data: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """``(path, file)`` for every file a merged profile names: TLS files, ``file:`` secrets."""
    tls = data.get("tls")
    if isinstance(tls, dict):
        for key in PATH_FIELDS:
            value = tls.get(key)
            if (
                isinstance(value, str)
                and value
                and not (key == "ca" and value == "system")
                and "-----BEGIN" not in value  # inline key material is CP004's, not a path
            ):
                yield ("tls", key), value
    for path in SECRET_PATHS:
        block = data.get(path[0])
        value = block.get(path[1]) if isinstance(block, dict) else None
        if isinstance(value, str) and value.startswith("file:") and len(value) > 5:
            yield path, value[5:]
