"""Which profile files are trusted to run commands and read files (the ``mise trust`` pattern).

A discovered project file (``connprof.yaml`` in a cloned repository) was written by someone
else: until the user runs ``connprof trust``, a profile that takes any value from it runs no
``exec:`` command and resolves no ``file:`` reference outside that file's own folder tree.
Trusted without asking: the files in the user config dir, every file the user named
(``--config``, ``CONNPROF_CONFIG``, ``load_profile(config=...)``), and every file when
``CONNPROF_TRUST_PROJECT=1`` (CI, containers).

``connprof trust`` records the file's resolved path in ``trusted.json`` under platformdirs'
``user_state_dir("connprof")``, written atomically, mode 0600 in a 0700 folder. That record
decides what runs, so it is read as data a neighbour could have planted: a record (or folder)
another user owns, or that group or others can write, is ignored.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable

from ._discover import ConfigArg, user_config_dir
from ._errors import ConfigNotFound, ConnprofError

__all__ = [
    "TRUST_ENV",
    "forget",
    "inside",
    "is_trusted",
    "record",
    "refusal",
    "state_file",
    "trust_all",
    "trusted_paths",
    "untrusted_files",
]

TRUST_ENV = "CONNPROF_TRUST_PROJECT"
_STATE_LIMIT = 1024 * 1024
_FORMAT = 1


def trust_all() -> bool:
    """``CONNPROF_TRUST_PROJECT=1`` (or true/yes/on): every file is trusted; read per call."""
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def state_file() -> str:
    import platformdirs  # deferred: only a project file's trust needs the state dir

    return os.path.join(platformdirs.user_state_dir("connprof", appauthor=False), "trusted.json")


def _key(path: str) -> str:
    """A file's identity in the record: its resolved path (symlinks and ``..`` gone)."""
    return os.path.realpath(os.path.expanduser(path))


def _safe(st: os.stat_result, *, folder: bool) -> bool:
    mode = stat.S_IMODE(st.st_mode)
    ok_type = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
    owner_ok = os.name == "nt" or st.st_uid == os.geteuid()
    return ok_type and owner_ok and not mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_state() -> tuple[list[str], str | None]:
    """The recorded paths, and why the record was ignored (None when it was read or absent)."""
    from ._safeio import open_regular, read_fd  # deferred: only trust decisions read the record

    path = state_file()
    try:
        folder_st = os.stat(os.path.dirname(path))
    except OSError:
        return [], None
    if not _safe(folder_st, folder=True):
        return [], f"{os.path.dirname(path)} is not a folder only you can write"
    try:
        fd, st = open_regular(path, follow_symlinks=False)
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        return [], f"{path} cannot be read ({exc.strerror})"
    try:
        if not _safe(st, folder=False):
            return [], f"{path} is owned by another user or writable by others"
        blob = read_fd(fd, path, limit=_STATE_LIMIT)
    except OSError as exc:
        return [], f"{path} cannot be read ({exc.strerror})"
    finally:
        os.close(fd)
    try:
        doc = json.loads(blob.decode("utf-8"))
        paths = doc["trusted"]
        if not (isinstance(paths, list) and all(isinstance(p, str) for p in paths)):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return [], f"{path} is not a trust record connprof wrote"
    return paths, None


def trusted_paths() -> tuple[list[str], str | None]:
    """What ``connprof trust --list`` shows: the recorded paths, and why a record was ignored."""
    return _read_state()


def _write_state(paths: Iterable[str]) -> None:
    import tempfile  # deferred: only `connprof trust` writes

    path = state_file()
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)
        if os.name != "nt" and st.st_uid != os.geteuid():
            raise ConnprofError(
                f"{folder} belongs to another user; remove it or set XDG_STATE_HOME"
            )
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(folder, 0o700)
        blob = json.dumps({"version": _FORMAT, "trusted": sorted(set(paths))}, indent=1)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".trusted-")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(blob + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConnprofError(f"cannot write the trust record {path} ({exc.strerror})") from None


def record(path: str) -> str:
    """Trust the profile file ``path``; returns the resolved path recorded."""
    key = _key(path)
    if os.path.isdir(key):  # `connprof trust .`: the project file in that folder
        key = os.path.join(key, "connprof.yaml")
    if not os.path.isfile(key):
        raise ConfigNotFound(
            f"{path}: no such profile file; give the path of a connprof.yaml", path
        )
    paths, _ = _read_state()
    if key not in paths:
        _write_state([*paths, key])
    return key


def forget(path: str) -> bool:
    """Stop trusting ``path``; False when it was not recorded."""
    key = _key(path)
    paths, _ = _read_state()
    kept = [p for p in paths if p not in (key, os.path.abspath(os.path.expanduser(path)))]
    if len(kept) == len(paths):
        return False
    _write_state(kept)
    return True


def is_trusted(path: str) -> bool:
    """Whether ``connprof trust`` recorded ``path`` (or ``CONNPROF_TRUST_PROJECT`` is set)."""
    return trust_all() or _key(path) in _read_state()[0]


def _in_user_dir(path: str) -> bool:
    return inside(path, user_config_dir())


def untrusted_files(paths: list[str], config: ConfigArg) -> frozenset[str]:
    """Which of the discovered ``paths`` are untrusted, as ``discover`` spelled them."""
    if config is not None or os.environ.get("CONNPROF_CONFIG") or trust_all():
        return frozenset()  # files the user named, or every file trusted
    candidates = [p for p in paths if not _in_user_dir(p)]
    if not candidates:
        return frozenset()
    recorded = set(_read_state()[0])
    return frozenset(p for p in candidates if _key(p) not in recorded)


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it, symlinks and ``..`` resolved on both sides."""
    real, base = _key(path), _key(folder)
    try:
        return os.path.commonpath([real, base]) == base
    except ValueError:  # different drives
        return False


def refusal(file: str, what: str) -> str:
    """The one line a refusal ends with: the file, what it may not do, and the fix."""
    return (
        f"{file} is a project file you have not trusted, so {what}; read it, then run "
        f"`connprof trust {file}` (or set {TRUST_ENV}=1 in CI)"
    )
