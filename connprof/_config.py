"""One profile from the discovered files, validated and cached; and the listing of them all.

``resolve_profile`` is the whole path for one name: discover → read → compose (merge, derive;
``connprof._compose``) → validate. Its result is plain, secret-free data (secret fields hold
references), so it is cached on disk keyed by the identity of every file it may depend on
(path, inode, size, mtime, ctime): a warm ``connprof show`` reads one small cache file instead of
composing a 4 MB YAML file and importing pydantic. Only profiles that validated are cached;
errors are always recomputed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._discover import ConfigArg, discover, nothing_found, override_variables
from ._errors import PluginError, ProfileNotFound, ProfileValidationError, UnsupportedSetting
from ._safeio import open_regular, read_fd
from ._version import __version__
from ._yaml import PROFILE_NAME, ProfileFile, read_profile_file

if TYPE_CHECKING:
    from ._compose import Composed
    from ._models import Profile

__all__ = [
    "ResolvedProfile",
    "list_profile_names",
    "load_files",
    "resolve_profile",
    "summarize_profiles",
]

CACHE_FORMAT = 3


@dataclass(frozen=True)
class ResolvedProfile:
    """A validated profile as plain data, with where each value came from."""

    name: str
    data: dict[str, Any]  # Profile.redacted(): canonical, secrets as references
    provenance: dict[str, str] = field(default_factory=dict)  # dotted path -> "file:line:col"
    files: tuple[str, ...] = ()  # the files that define it, highest precedence first
    # The driver arguments as ``show`` prints them (secrets as references, objects described),
    # or why the driver cannot express the profile. Emitting is pure, so it is cached too.
    kwargs: dict[str, Any] | None = None
    kwargs_error: str | None = None
    #: What the MongoDB specification says to warn about in the profile's uri, one line each.
    warnings: tuple[str, ...] = ()
    #: What the arguments are for (``pymongo.MongoClient``), from the driver's registry entry.
    call: str | None = None


def load_files(paths: list[str]) -> list[ProfileFile]:
    return [read_profile_file(p) for p in paths]


# -- the cache --------------------------------------------------------------------------------


def _cache_dir() -> str | None:
    if os.environ.get("CONNPROF_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("CONNPROF_CACHE_DIR")
    if explicit:
        return explicit
    import platformdirs  # deferred: not needed with CONNPROF_CACHE_DIR set, nor by list

    return os.path.join(platformdirs.user_cache_dir("connprof", appauthor=False), "profiles")


def _cache_key(name: str | None, paths: list[str]) -> tuple[Any, ...] | None:
    stats = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        stats.append(
            (
                os.path.abspath(p),
                p,
                st.st_dev,
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
            )
        )
    wanted = name if name is not None else ("$default", os.environ.get("CONNPROF_PROFILE"))
    # HOME matters because "~" expands; the working directory because discovered and relative
    # --config paths are shown as written. The CONNPROF__... overrides are part of the profile:
    # their names as they are, their values hashed (the key is stored, and a value could be a
    # plaintext secret set by mistake).
    overrides = override_variables()
    said = ""
    if overrides:
        import hashlib  # deferred: only set variables are hashed; a plain show stays lean

        text = repr(sorted(overrides.items())).encode("utf-8", "surrogatepass")
        said = hashlib.sha256(text).hexdigest()
    return (CACHE_FORMAT, _version(), sys.version_info[:2], wanted, os.path.expanduser("~"),
            os.getcwd(), tuple(stats), tuple(overrides), said)  # fmt: skip


def _version() -> tuple[Any, ...]:
    """The code's identity: the version, and for an editable install the sources' mtimes.

    A cached profile holds emitted driver arguments; a changed driver module must not be
    answered from a cache the old code wrote.
    """
    root = os.path.dirname(os.path.abspath(__file__))
    stamps: list[int] = []
    for folder, _dirs, names in os.walk(root):
        for n in names:
            if n.endswith(".py"):
                try:
                    stamps.append(os.stat(os.path.join(folder, n)).st_mtime_ns)
                except OSError:
                    continue
    return (__version__, max(stamps, default=0), len(stamps))


def _cache_file(directory: str, key: tuple[Any, ...], name: str | None) -> str:
    digest = zlib.crc32(repr(key).encode("utf-8", "surrogatepass"))
    # The name is whatever was typed: only a valid profile name may become part of a path.
    label = name if name is not None and PROFILE_NAME.match(name) else "_"
    return os.path.join(directory, f"{label}-{digest:08x}.bin")


#: An entry is one profile's plain data and driver arguments: kilobytes. Anything larger was not
#: written by this code.
CACHE_ENTRY_LIMIT = 4 * 1024 * 1024


def _mine(st: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else: nobody else could have planted it."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _open_cache_dir(directory: str, *, create: bool) -> int | None:
    """A descriptor of ``directory`` when this user alone can write in it, else None.

    The cache decides what ``load_profile`` returns on a hit, so only a folder nobody else can
    write is used: not a symlink (``O_NOFOLLOW``), owned by this user, not group or other
    writable, checked on the open descriptor. A folder of this user's that is too open (made
    under umask 000, or by an older connprof) is closed to 0700 when writing; anyone else's
    ``CONNPROF_CACHE_DIR`` is never used. Windows has no such checks here: no cache there.
    """
    if not hasattr(os, "geteuid") or not hasattr(os, "O_DIRECTORY"):
        return None
    if create:
        _make_private_dirs(directory)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_uid == os.geteuid() and not _mine(st) and create:
            os.fchmod(fd, 0o700)
            st = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if not _mine(st):
        os.close(fd)
        return None
    return fd


def _make_private_dirs(directory: str) -> None:
    """Create ``directory`` and its missing parents 0700 whatever the umask (``os.makedirs``
    gives its mode to the last one only, and the umask masks that)."""
    missing: list[str] = []
    here = os.path.abspath(directory)
    while not os.path.lexists(here):
        missing.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # made meanwhile, by us or not: _open_cache_dir checks it
        except OSError:
            return
        try:
            os.chmod(folder, 0o700, follow_symlinks=False)
        except (OSError, NotImplementedError):
            return


def _cache_read(path: str, key: tuple[Any, ...]) -> ResolvedProfile | None:
    """The entry at ``path`` if it is one this user wrote for ``key``; anything else is a miss.

    A miss never fails: an entry that is a symlink, a FIFO, a device, someone else's or open to
    writing by others, too large, truncated or not of this code's shape is composed again.
    """
    directory, filename = os.path.split(path)
    dir_fd = _open_cache_dir(directory, create=False)
    if dir_fd is None:
        return None
    try:
        fd, st = open_regular(filename, follow_symlinks=False, dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        os.close(dir_fd)
    try:
        if not _mine(st):
            return None
        blob = read_fd(fd, path, limit=CACHE_ENTRY_LIMIT)
    except OSError:
        return None
    finally:
        os.close(fd)
    return _entry(blob, key)


def _entry(blob: bytes, key: tuple[Any, ...]) -> ResolvedProfile | None:
    """The entry ``blob`` holds for ``key``, or None for anything this code did not write."""
    try:
        stored_key, payload = marshal.loads(blob)
        if stored_key != key:
            return None
        name, data, provenance, files, kwargs, kwargs_error, warnings, call = payload
    except Exception:  # marshal raises EOFError, ValueError, TypeError, MemoryError, ...
        return None
    strings = (list, tuple)
    if not (
        isinstance(name, str)
        and isinstance(data, dict)
        and isinstance(provenance, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in provenance.items())
        and isinstance(files, strings)
        and all(isinstance(f, str) for f in files)
        and (kwargs is None or isinstance(kwargs, dict))
        and (kwargs_error is None or isinstance(kwargs_error, str))
        and isinstance(warnings, strings)
        and all(isinstance(w, str) for w in warnings)
        and (call is None or isinstance(call, str))
    ):
        return None
    return ResolvedProfile(
        name, data, provenance, tuple(files), kwargs, kwargs_error, tuple(warnings), call
    )


def _cache_write(path: str, key: tuple[Any, ...], resolved: ResolvedProfile) -> None:
    payload = (
        resolved.name,
        resolved.data,
        resolved.provenance,
        list(resolved.files),
        resolved.kwargs,
        resolved.kwargs_error,
        list(resolved.warnings),
        resolved.call,
    )
    try:
        blob = marshal.dumps((key, payload))
    except ValueError:
        return
    directory, filename = os.path.split(path)
    dir_fd = _open_cache_dir(directory, create=True)
    if dir_fd is None:
        return  # a folder someone else could write: the cache is off
    temp = f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temp, flags, 0o600, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(blob)
            os.replace(temp, filename, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise
    except OSError:
        # The cache only saves time; a read-only or full disk must not fail the command.
        return
    finally:
        os.close(dir_fd)


# -- resolving one profile --------------------------------------------------------------------


def resolve_profile(name: str | None = None, config: ConfigArg = None) -> ResolvedProfile:
    """Compose and validate one profile (the default one when ``name`` is None), cached."""
    paths = discover(config)
    directory = _cache_dir()
    key = _cache_key(name, paths) if directory else None
    if directory and key is not None:
        cache_path = _cache_file(directory, key, name)
        hit = _cache_read(cache_path, key)
        if hit is not None:
            return hit
    resolved = _resolve(compose_from(load_files(paths), name, overrides=override_variables()))
    if directory and key is not None:
        _cache_write(cache_path, key, resolved)
    return resolved


def compose_from(
    files: list[ProfileFile],
    name: str | None,
    *,
    overrides: dict[str, str] | None = None,
    untrusted: frozenset[str] = frozenset(),
) -> Composed:
    from ._compose import Composer  # deferred: a cache hit needs no composition

    return Composer(files, overrides=overrides, untrusted=untrusted).compose(name)


def _resolve(composed: Composed) -> ResolvedProfile:
    from ._compose import validate  # deferred: a cache hit needs no validation (no pydantic)
    from .drivers._registry import builtin_spec  # deferred: the same

    profile = validate(composed)
    kwargs, kwargs_error = _describe_kwargs(profile)
    spec = builtin_spec(profile.driver)
    return ResolvedProfile(
        composed.name,
        profile.redacted(),
        profile.provenance,
        composed.files,
        kwargs,
        kwargs_error,
        composed.warnings,
        spec.call if spec is not None else None,
    )


def load_validated(name: str | None, config: ConfigArg) -> tuple[Profile, tuple[str, ...]]:
    """The ``Profile`` and its uri warnings, composed from the files (for ``load_profile``).

    With an untrusted project file among the files, the profile is composed afresh rather than
    read from the cache: which files its values come from decides what its secrets may
    resolve, and trust can change without any file changing.
    """
    from ._trust import untrusted_files  # deferred: start-up of a warm show stays lean

    paths = discover(config)
    untrusted = untrusted_files(paths, config)
    if untrusted:
        from ._compose import validate  # deferred: pydantic is slow to import

        composed = compose_from(
            load_files(paths), name, overrides=override_variables(), untrusted=untrusted
        )
        fresh = validate(composed)
        fresh._warnings = composed.warnings
        return fresh, composed.warnings
    resolved = resolve_profile(name, config)
    from ._models import Profile  # deferred: pydantic is slow to import

    profile = Profile.model_validate(resolved.data)
    profile._provenance = dict(resolved.provenance)
    profile._warnings = resolved.warnings
    return profile, resolved.warnings


def list_profile_names(config: ConfigArg = None) -> list[str]:
    names: set[str] = set()
    for f in load_files(discover(config)):
        names.update(f.names())
    return sorted(names)


def _describe_kwargs(profile: Profile) -> tuple[dict[str, Any] | None, str | None]:
    from .drivers import describe_kwargs, emit, plain  # deferred: only a cache miss emits

    try:
        return plain(describe_kwargs(emit(profile))), None
    except (UnsupportedSetting, PluginError) as problem:
        return None, str(problem)


# -- summaries for `connprof list` --------------------------------------------------------------


def summarize_profiles(config: ConfigArg = None) -> list[dict[str, Any]]:
    """One row per profile: driver, endpoints, TLS, source, whether it is the default; composed
    but not validated.

    A profile that does not even compose (a missing ``extends``, a duplicate) is listed with
    its problem instead of stopping the listing.
    """
    from ._compose import Composer  # deferred: list composes, show on a cache hit does not

    paths = discover(config)
    if not paths:
        raise ProfileNotFound(nothing_found())
    composer = Composer(load_files(paths), overrides=override_variables())
    composer.overrides()  # a refused variable stops the listing: it is not one profile's problem
    try:
        default = composer.default_name()
    except ProfileNotFound:
        default = None
    rows = []
    for name in sorted(composer.all_names()):
        source = next(f.path for f in composer.files if name in f)
        try:
            composed = composer.compose(name)
        except (ProfileValidationError, ProfileNotFound) as exc:
            rows.append({"name": name, "driver": "?", "endpoints": "", "tls": "",
                         "source": source, "default": name == default,
                         "problem": str(exc)})  # fmt: skip
            continue
        problem = composed.problem
        row = {
            "name": name,
            "driver": str(composed.driver or "?"),
            "endpoints": _endpoints(composed.data),
            # A uri or dsn that does not parse: list what the YAML says, and the problem.
            "tls": "?" if problem else _tls_summary(composed.data.get("tls")),
            "source": source,
            "default": name == default,  # the profile `show` uses when no NAME is given
        }
        if problem:
            row["problem"] = str(problem)
        rows.append(row)
    return rows


def _endpoints(data: Any) -> str:
    # Never the user info, which an invalid dsn, host or crate URL may still hold verbatim:
    # what a listing shows goes through the one redaction home.
    from ._redact import strip_userinfo  # deferred: only list needs it, not a warm show

    if isinstance(data.get("uri"), str):
        # Show scheme, hosts and database only: never the user info or the options.
        return strip_userinfo(data["uri"]).split("?", 1)[0]
    if isinstance(data.get("dsn"), str):
        return strip_userinfo(str(data["dsn"]))
    hosts = data.get("hosts")
    if isinstance(hosts, list):
        port = data.get("port")
        return ",".join(
            h
            if (":" in str(h).rsplit("]", 1)[-1] or "://" in str(h)) or not port
            else f"{h}:{port}"
            for h in (strip_userinfo(str(h)).split("?", 1)[0] for h in hosts)
        )
    return ""


def _tls_summary(tls: Any) -> str:
    if not isinstance(tls, dict) or not tls.get("enabled", False):
        return "off"
    fp = tls.get("fingerprint")
    if isinstance(fp, str) and fp.lower() == "nocertcheck":
        check = "nocertcheck"
    elif fp:
        check = "pinned"
    else:
        check = f"verify {tls.get('verify', 'full')}"
    return f"on, {check}, min {tls.get('min_version', '1.2')}"
