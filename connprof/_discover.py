"""Which files hold profiles, highest precedence first (the format's section 5).

``--config`` (or the ``config`` argument), else ``CONNPROF_CONFIG``, else the project file (the
nearest ``connprof.yaml`` in the working directory or a parent, up to the repository root or the
home directory) above the personal files in the user config dir.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ._errors import ConfigNotFound

__all__ = [
    "OVERRIDE_PREFIX",
    "ConfigArg",
    "discover",
    "find_project_file",
    "nothing_found",
    "override_variables",
    "user_config_dir",
]

ConfigArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None

PROJECT_FILE = "connprof.yaml"
#: ``CONNPROF__<PROFILE>__<FIELD>``: one field of one profile (``connprof._overrides`` reads them).
OVERRIDE_PREFIX = "CONNPROF__"


def override_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The override variables set now, sorted by name (read per call, never at import).

    Here, beside the other variables discovery reads, so a warm ``show`` that has none does not
    load the module that parses them.
    """
    env = os.environ if environ is None else environ
    return {k: env[k] for k in sorted(env) if k.startswith(OVERRIDE_PREFIX)}


def user_config_dir() -> str:
    import platformdirs  # deferred: only discovery needs it, and it is read per call

    return platformdirs.user_config_dir("connprof", appauthor=False)


def find_project_file(start: str | None = None) -> str | None:
    """The nearest ``connprof.yaml`` in ``start`` (the working directory) or a parent folder.

    The walk stops at the first folder holding ``.git`` (the repository root) or at the home
    directory, whichever comes first, so a file above the project or the home directory is never
    read by surprise; a file in a parent folder that another user owns is not read either. The
    path is returned as the user would write it: relative to the working directory when it is
    below it, absolute otherwise.
    """
    cwd = os.path.abspath(os.getcwd())
    here = os.path.abspath(start or cwd)
    home = os.path.abspath(os.path.expanduser("~"))
    while True:
        candidate = os.path.join(here, PROJECT_FILE)
        if os.path.isfile(candidate):
            if here == cwd:
                return PROJECT_FILE
            # Above the working directory, only a file of this user's (or root's) is read, as git
            # refuses a repository another user owns: /tmp/connprof.yaml planted by a neighbour
            # must not configure a run in /tmp/mywork. The walk stops there.
            return candidate if _trusted_owner(candidate) else None
        if os.path.exists(os.path.join(here, ".git")) or here == home:
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _trusted_owner(path: str) -> bool:
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return False
    return owner in (os.geteuid(), 0)


def discover(config: ConfigArg = None) -> list[str]:
    """The profile files in precedence order, highest first."""
    if config is not None:
        paths = [config] if isinstance(config, str | os.PathLike) else list(config)
        return [_explicit(os.fspath(p)) for p in paths]
    env = os.environ.get("CONNPROF_CONFIG")
    if env:
        return [_explicit(p) for p in env.split(os.pathsep) if p]
    found = []
    project = find_project_file()
    if project is not None:
        found.append(project)
    user_dir = user_config_dir()
    main = os.path.join(user_dir, "profiles.yaml")
    if os.path.isfile(main):
        found.append(main)
    try:
        extra = sorted(
            n for n in os.listdir(os.path.join(user_dir, "profiles.d")) if n.endswith(".yaml")
        )
    except OSError:
        extra = []
    found.extend(os.path.join(user_dir, "profiles.d", n) for n in extra)
    return found


def _explicit(path: str) -> str:
    if not path.strip():
        raise ConfigNotFound("--config '' is empty; give the path of a profile file", path)
    expanded = os.path.expanduser(path)
    if os.path.isdir(expanded):
        raise ConfigNotFound(
            f"{path}: is a directory; give a profile file (for example {path}/connprof.yaml)", path
        )
    if not os.path.isfile(expanded):
        what = "not a regular file" if os.path.exists(expanded) else "no such profile file"
        raise ConfigNotFound(f"{path}: {what}; check --config or CONNPROF_CONFIG", path)
    return expanded


def nothing_found() -> str:
    """Where discovery looked, for the message when it found no file."""
    return (
        "no profile file was found (looked for connprof.yaml in this folder and its parents up "
        "to the repository root or home directory, "
        f"{os.path.join(user_config_dir(), 'profiles.yaml')} and profiles.d/*.yaml beside it); "
        "pass --config PATH or set CONNPROF_CONFIG"
    )
