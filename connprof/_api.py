"""The library entry points: load one profile by name, list the names."""

from __future__ import annotations

import warnings

from ._config import list_profile_names, load_validated
from ._discover import ConfigArg
from ._models import Profile

__all__ = ["list_profiles", "load_profile"]


def load_profile(name: str | None = None, *, config: ConfigArg = None) -> Profile:
    """The composed, validated profile ``name`` (or the default one), secrets still references.

    ``config`` is a path or a list of paths, highest precedence first; without it the files
    are discovered (``CONNPROF_CONFIG``, the nearest ``connprof.yaml`` up to the repository
    root, the user config dir). What the MongoDB specification says to warn about in the uri is
    on ``Profile.warnings`` and is issued as a Python ``UserWarning`` too (once per place, as
    Python shows warnings).
    """
    profile, said = load_validated(name, config)
    for text in said:
        warnings.warn(f"connprof: profile '{profile.name}': {text}", UserWarning, stacklevel=2)
    return profile


def list_profiles(*, config: ConfigArg = None) -> list[str]:
    """The names of every profile in the loaded files, sorted."""
    return list_profile_names(config)
