"""The library entry points: load one profile by name, list the names."""

from __future__ import annotations

from ._config import ConfigArg, list_profile_names, resolve_profile
from ._models import Profile

__all__ = ["list_profiles", "load_profile"]


def load_profile(name: str | None = None, *, config: ConfigArg = None) -> Profile:
    """The merged, validated profile ``name`` (or the default one), secrets still references.

    ``config`` is a path or a list of paths, highest precedence first; without it the files
    are discovered (``CONNPROF_CONFIG``, ``./connprof.yaml``, the user config dir).
    """
    resolved = resolve_profile(name, config)
    profile = Profile.model_validate(resolved.data)
    profile._provenance = dict(resolved.provenance)
    return profile


def list_profiles(*, config: ConfigArg = None) -> list[str]:
    """The names of every profile in the loaded files, sorted."""
    return list_profile_names(config)
