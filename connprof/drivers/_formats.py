"""What ``show --format uri|env`` starts from: the emitted arguments as plain values, secrets out.

A format writes what ``emit`` decided, never a second reading of the profile, so the string and
the keyword arguments cannot drift apart. Deferred values become what they stand for: a file as
its path, a checked value (``Construct.shown``) as that value. A ``Secret`` is left out (the CLI
says how the tool gets it); any other deferred object is a setting text cannot say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._errors import UnsupportedSetting
from ._base import Construct, Secret, SSLContextSpec, TLSFile

__all__ = ["plain_values"]


def plain_values(driver: str, emitted: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    """``emitted`` without its secrets, each deferred value as the text it stands for."""
    out: dict[str, Any] = {}
    for key, value in emitted.items():
        if isinstance(value, Secret):
            continue
        if isinstance(value, TLSFile):
            out[key] = value.path
        elif isinstance(value, Construct) and value.shown is not None:
            out[key] = value.shown
        elif isinstance(value, Construct | SSLContextSpec):
            raise UnsupportedSetting(
                driver,
                "options" if key not in ("ssl", "ssl_context") else "tls",
                f"--format {fmt} cannot write {key}, an object built in Python; "
                "use --format kwargs, or connect through connprof",
            )
        else:
            out[key] = value
    return out
