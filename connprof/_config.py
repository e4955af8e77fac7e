"""Which files hold profiles, and one profile from them: discovered, merged, validated, cached.

``resolve_profile`` is the whole load → merge → validate path for one name. Its result is
plain, secret-free data (secret fields hold references), so it is cached on disk keyed by the
identity of every file it may depend on (path, inode, size, mtime, ctime): a warm
``connprof show`` reads one small cache file instead of composing a 4 MB YAML file and importing
pydantic. Only profiles that validated are cached; errors are always recomputed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import ConfigNotFound, ProfileNotFound, ProfileValidationError
from ._load import PROFILE_NAME, Fragment, Origin, Path, ProfileFile, read_profile_file, suggest
from ._merge import merge, normalize_fragment, tag

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ._models import Profile

__all__ = [
    "ConfigArg",
    "ResolvedProfile",
    "discover",
    "list_profile_names",
    "load_files",
    "resolve_profile",
]

ConfigArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None

CACHE_FORMAT = 2
BUILTIN = "built-in default"
# Provenance is kept per key inside these blocks; anything deeper is one value.
_BLOCKS = {(), ("tls",), ("auth",), ("options",)}


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


# -- discovery --------------------------------------------------------------------------------


def user_config_dir() -> str:
    import platformdirs

    return platformdirs.user_config_dir("connprof", appauthor=False)


def discover(config: ConfigArg = None) -> list[str]:
    """The profile files in precedence order, highest first (see the format's section 5)."""
    if config is not None:
        paths = [config] if isinstance(config, str | os.PathLike) else list(config)
        return [_explicit(os.fspath(p)) for p in paths]
    env = os.environ.get("CONNPROF_CONFIG")
    if env:
        return [_explicit(p) for p in env.split(os.pathsep) if p]
    found = []
    if os.path.isfile("connprof.yaml"):
        found.append("connprof.yaml")
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
        raise ConfigNotFound(
            f"{path}: no such profile file; check --config or CONNPROF_CONFIG", path
        )
    return expanded


def load_files(paths: list[str]) -> list[ProfileFile]:
    return [read_profile_file(p) for p in paths]


# -- the cache --------------------------------------------------------------------------------


def _cache_dir() -> str | None:
    if os.environ.get("CONNPROF_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("CONNPROF_CACHE_DIR")
    if explicit:
        return explicit
    import platformdirs

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
    # --config paths are shown as written.
    return (CACHE_FORMAT, _version(), sys.version_info[:2], wanted, os.path.expanduser("~"),
            os.getcwd(), tuple(stats))  # fmt: skip


def _version() -> tuple[Any, ...]:
    """The code's identity: the version, and for an editable install the sources' mtimes.

    A cached profile holds emitted driver arguments; a changed driver module must not be
    answered from a cache the old code wrote.
    """
    from . import __version__

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
    import zlib

    digest = zlib.crc32(repr(key).encode("utf-8", "surrogatepass"))
    # The name is whatever was typed: only a valid profile name may become part of a path.
    label = name if name is not None and PROFILE_NAME.match(name) else "_"
    return os.path.join(directory, f"{label}-{digest:08x}.bin")


def _cache_read(path: str, key: tuple[Any, ...]) -> ResolvedProfile | None:
    import marshal

    try:
        with open(path, "rb") as stream:
            stored_key, payload = marshal.loads(stream.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if stored_key != key:
        return None
    name, data, provenance, files, kwargs, kwargs_error = payload
    return ResolvedProfile(name, data, provenance, tuple(files), kwargs, kwargs_error)


def _cache_write(path: str, key: tuple[Any, ...], resolved: ResolvedProfile) -> None:
    import marshal
    import tempfile

    payload = (
        resolved.name,
        resolved.data,
        resolved.provenance,
        list(resolved.files),
        resolved.kwargs,
        resolved.kwargs_error,
    )
    try:
        blob = marshal.dumps((key, payload))
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")  # created 0600
        with os.fdopen(fd, "wb") as stream:
            stream.write(blob)
        os.replace(tmp, path)
    except (OSError, ValueError):
        # The cache only saves time; a read-only or full disk must not fail the command.
        return


# -- resolving one profile --------------------------------------------------------------------


def resolve_profile(name: str | None = None, config: ConfigArg = None) -> ResolvedProfile:
    """Load, merge and validate one profile (the default one when ``name`` is None)."""
    paths = discover(config)
    directory = _cache_dir()
    key = _cache_key(name, paths) if directory else None
    if directory and key is not None:
        cache_path = _cache_file(directory, key, name)
        hit = _cache_read(cache_path, key)
        if hit is not None:
            return hit
    resolved = _Resolver(load_files(paths)).resolve(name)
    if directory and key is not None:
        _cache_write(cache_path, key, resolved)
    return resolved


def list_profile_names(config: ConfigArg = None) -> list[str]:
    names: set[str] = set()
    for f in load_files(discover(config)):
        names.update(f.names())
    return sorted(names)


class _Resolver:
    """Merges and validates profiles from a list of loaded files (highest precedence first)."""

    def __init__(self, files: list[ProfileFile]) -> None:
        self.files = files

    def default_name(self) -> str:
        env = os.environ.get("CONNPROF_PROFILE")
        if env:
            return env
        for f in self.files:
            if f.default:
                return f.default
        if not self.files:
            raise ProfileNotFound(f"no profile named, and {_nothing_found()}")
        raise ProfileNotFound(
            "no profile named and no default: pass a NAME, set CONNPROF_PROFILE, or add "
            "'default: NAME' to your profile file"
        )

    def all_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            seen.update(dict.fromkeys(f.names()))
        return list(seen)

    def merged(self, name: str, chain: tuple[str, ...] = ()) -> Fragment:
        """The raw merged profile (not validated), ``extends`` applied."""
        defining = [f for f in self.files if name in f]
        if not defining:
            raise ProfileNotFound(self._not_found(name))
        # Lowest precedence first: the files list is highest first.
        own = merge([normalize_fragment(f.fragment(name)) for f in reversed(defining)])
        defaults = [
            tag(normalize_fragment(f.defaults, is_defaults=True), "defaults")
            for f in reversed(defining)
            if f.defaults is not None
        ]
        layers = [*defaults]
        parent = own.data.get("extends")
        if parent is not None:
            at = own.origins.get(("extends",)) or own.origins[()]
            if not isinstance(parent, str):
                raise _at(at, "extends takes the name of one profile", value=True)
            if parent == name or parent in chain:
                cycle = " -> ".join((*chain, name, parent))
                raise _at(
                    at, f"extends makes a cycle ({cycle}); remove one of the extends", value=True
                )
            if not any(parent in f for f in self.files):
                raise _at(
                    at,
                    f"extends names '{parent}', which no loaded file defines"
                    f"{suggest(parent, self.all_names())}",
                    value=True,
                )
            base = self.merged(parent, (*chain, name))
            layers.append(tag(base, f"extends: {parent}"))
        layers.append(own)
        result = merge(layers)
        # An "extends" written in `defaults` is not followed (it would make every profile of
        # the file inherit); do not show it either. The child's own always wins the merge.
        if parent is None:
            result.data.pop("extends", None)
        result.origins[()] = own.origins[()]
        return result

    def _not_found(self, name: str) -> str:
        names = self.all_names()
        if not self.files:
            return f"no profile '{name}': {_nothing_found()}"
        hint = suggest(name, names) or (
            f"; known profiles: {', '.join(sorted(names)[:10])}" if names else ""
        )
        return f"no profile '{name}' in {', '.join(f.path for f in self.files)}{hint}"

    def resolve(self, name: str | None) -> ResolvedProfile:
        if name is None:
            name = self.default_name()
        merged = self.merged(name)
        data, notes = _fill_derived(merged, name)

        profile, error = _validate({**data, "name": name}, merged.origins)
        if error is not None:
            # Raised outside the except blocks: pydantic's error, whose data may hold the
            # input, must not travel along as __context__.
            raise error
        assert profile is not None
        canonical = profile.redacted()
        provenance = _provenance(canonical, merged.origins, notes)
        files = tuple(f.path for f in self.files if name in f)
        kwargs, kwargs_error = _describe_kwargs(profile)
        return ResolvedProfile(name, canonical, provenance, files, kwargs, kwargs_error)


def _describe_kwargs(profile: Profile) -> tuple[dict[str, Any] | None, str | None]:
    from ._errors import PluginError, UnsupportedSetting
    from .drivers import describe_kwargs, emit, plain

    try:
        return plain(describe_kwargs(emit(profile))), None
    except (UnsupportedSetting, PluginError) as problem:
        return None, str(problem)


def _validate(
    data: dict[str, Any], origins: dict[Path, Origin]
) -> tuple[Profile | None, ProfileValidationError | None]:
    from pydantic import ValidationError

    from ._models import FieldProblem, Profile

    name = data["name"]
    try:
        return Profile.model_validate(data), None
    except FieldProblem as problem:
        origin = _origin_for(origins, problem.path)
        text = f"profile '{name}': {_dotted(problem.path)}: {problem.message}"
        return None, _at(origin, text, value=not problem.at_key)
    except ValidationError as exc:
        return None, _translate(exc, name, origins)


def _nothing_found() -> str:
    return (
        "no profile file was found (looked for ./connprof.yaml, "
        f"{os.path.join(user_config_dir(), 'profiles.yaml')} and profiles.d/*.yaml beside it); "
        "pass --config PATH or set CONNPROF_CONFIG"
    )


def _fill_derived(merged: Fragment, name: str) -> tuple[dict[str, Any], dict[Path, str]]:
    """Values the profile leaves to connprof: what its uri or dsn says, TLS on/off, the port."""
    from ._models import DEFAULT_PORTS, DRIVER_TLS_DEFAULT, resolve_driver

    data = dict(merged.data)
    notes: dict[Path, str] = {}
    driver = resolve_driver(data.get("driver"))
    _merge_string_fields(data, merged.origins, name, driver)
    tls = data.get("tls")
    if tls is None or (isinstance(tls, dict) and "enabled" not in tls):
        tls = dict(tls or {})
        hosts = data.get("hosts")
        if isinstance(data.get("uri"), str) and data["uri"]:
            tls["enabled"] = False  # the uri turns TLS on when it says so (merged above)
            notes[("tls", "enabled")] = "the uri"
        elif isinstance(hosts, list) and any(str(h).lower().startswith("https://") for h in hosts):
            tls["enabled"] = True
            notes[("tls", "enabled")] = "the https:// hosts"
        elif driver in DRIVER_TLS_DEFAULT:
            tls["enabled"] = DRIVER_TLS_DEFAULT[driver]
            notes[("tls", "enabled")] = f"{BUILTIN} for {driver}"
        data["tls"] = tls
    if data.get("hosts") is not None and data.get("port") is None and driver in DEFAULT_PORTS:
        data["port"] = DEFAULT_PORTS[driver]
        notes[("port",)] = f"{BUILTIN} for {driver}"
    return data, notes


#: Fields a uri or dsn may name that hold file paths, relative to the file that holds the string.
_PATH_KEYS = ("ca", "client_cert", "client_key", "crl")


def _merge_string_fields(
    data: dict[str, Any],
    origins: dict[Path, Origin],
    name: str,
    driver: Any,
) -> None:
    """Merge what a ``uri`` (pymongo) or ``dsn`` (pyexasol) says under the profile's own YAML.

    The YAML wins key by key (lint warns where the two disagree), so a team file can pin
    ``tls.ca`` while the uri comes from elsewhere. Parse errors point at the string.
    """
    from ._errors import DsnError, UnsupportedSetting, UriError

    uri, dsn = data.get("uri"), data.get("dsn")
    if driver == "pymongo" and isinstance(uri, str) and "://" in uri:
        field, label = ("uri",), "the uri"
        from ._uri.mongodb import mongodb_profile_fields, parse_mongodb_uri

        parse: Any = lambda: mongodb_profile_fields(parse_mongodb_uri(uri))  # noqa: E731
    elif driver == "pyexasol" and isinstance(dsn, str):
        field, label = ("dsn",), "the dsn"
        from ._uri.exasol import exasol_profile_fields, parse_exasol_dsn

        # The dsn stays the endpoint: its ports are its own, not a profile-wide `port`.
        parse = lambda: {  # noqa: E731
            k: v for k, v in exasol_profile_fields(parse_exasol_dsn(dsn)).items() if k != "port"
        }
    else:
        return
    at = _origin_for(origins, field)
    try:
        fields: dict[str, Any] = parse()
    except (UriError, DsnError, UnsupportedSetting) as problem:
        message = str(problem).replace("secret set PROFILE", f"secret set {name}")
        raise _at(at, f"profile '{name}': {field[0]}: {message}", value=True) from None
    base = os.path.dirname(os.path.abspath(at.file)) if at.file else None
    for key, value in fields.items():
        if isinstance(value, dict):
            own = data.get(key)
            block = dict(own) if isinstance(own, dict) else {}
            if key == "tls" and own is False:
                continue  # `tls: false` in YAML wins; validation reports leftovers
            for sub, subvalue in value.items():
                if sub in block:
                    continue
                is_path = key == "tls" and sub in _PATH_KEYS and isinstance(subvalue, str)
                block[sub] = _string_path(subvalue, base) if is_path else subvalue
                # Errors and provenance point at the string: "file:4:5 (the uri)".
                origins[(key, sub)] = at.tagged(label)
            data[key] = block
        elif key not in data:
            data[key] = value
            origins[(key,)] = at.tagged(label)


def _string_path(path: str, base: str | None) -> str:
    path = os.path.expanduser(path)
    if base is None or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "profile"


def _origin_for(origins: dict[Path, Origin], path: Sequence[str | int]) -> Origin:
    p = tuple(path)
    while p not in origins and p:
        p = p[:-1]
    return origins[p]


def _at(origin: Origin, message: str, *, value: bool = False) -> ProfileValidationError:
    line, column = (
        (origin.value_line, origin.value_column) if value else (origin.line, origin.column)
    )
    return ProfileValidationError(message, origin.file, line, column)


def _model_fields(path: Path) -> tuple[str, ...]:
    from ._models import TLS, Auth, Profile

    models: dict[Path, Any] = {(): Profile, ("tls",): TLS, ("auth",): Auth}
    model = models.get(path)
    if model is None:
        return ()
    return tuple(f for f in model.model_fields if f != "name")


def _translate(
    exc: ValidationError, name: str, origins: dict[Path, Origin]
) -> ProfileValidationError:
    problems: list[ProfileValidationError] = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        where = _dotted(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            parent = loc[:-1]
            allowed = _model_fields(parent)
            inside = f" in {_dotted(parent)}" if parent else ""
            text = f"unknown key '{key}'{inside}{suggest(key, allowed)}"
            if allowed:
                text += f" (allowed: {', '.join(allowed)})"
            problems.append(_at(_origin_for(origins, loc), f"profile '{name}': {text}"))
            continue
        if kind == "missing" and loc == ("driver",):
            text = "missing 'driver': add driver: pymongo, cassandra, crate, hazelcast or pyexasol"
            problems.append(_at(origins[()], f"profile '{name}': {text}"))
            continue
        msg = err["msg"]
        if kind == "plaintext_secret":
            field = str(loc[-1]) if loc and loc[-1] != "uri" else "password"
            msg = msg.replace("secret set PROFILE FIELD", f"secret set {name} {field}")
            msg = msg.replace("secret set PROFILE password", f"secret set {name} password")
        elif kind == "literal_error" and loc == ("driver",):
            msg += " (aliases: mongodb, scylla, cratedb, exasol)"
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        # Users write YAML lists and mappings, not tuples and model instances.
        msg = msg.replace("a valid tuple", "a list").replace("a valid list", "a list")
        if kind in ("model_type", "dict_type") and loc in (("tls",), ("auth",)):
            msg = (
                "tls takes true, false or a mapping of TLS settings (verify, ca, ...)"
                if loc == ("tls",)
                else 'auth takes a mapping (user, password: "keyring:", token, ...)'
            )
        elif kind in ("model_type", "dict_type"):
            msg = "expected a mapping of key: value"
        text = f"{where}: {msg}" if loc else msg
        problems.append(_at(_origin_for(origins, loc), f"profile '{name}': {text}", value=True))
    problems.sort(key=lambda p: (p.path or "", p.line or 0, p.column or 0))
    first = problems[0]
    return ProfileValidationError(
        first.message, first.path, first.line, first.column, problems=tuple(problems)
    )


def _provenance(
    canonical: dict[str, Any], origins: dict[Path, Origin], notes: dict[Path, str]
) -> dict[str, str]:
    """``{"tls.ca": "connprof.yaml:12:7", "tls.verify": "built-in default", ...}`` for each leaf."""
    out: dict[str, str] = {}

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict) and value and path in _BLOCKS:
            for k, v in value.items():
                walk(v, (*path, k))
            return
        if path == ("name",):
            return
        origin = origins.get(path)
        if origin is not None:
            out[_dotted(path)] = origin.describe()
        elif path in notes:
            out[_dotted(path)] = notes[path]
        else:
            out[_dotted(path)] = BUILTIN

    walk(canonical, ())
    return out


# -- summaries for `connprof list` --------------------------------------------------------------


def summarize_profiles(config: ConfigArg = None) -> list[dict[str, Any]]:
    """One row per profile: driver, endpoints, TLS, source; merged but not validated.

    A profile that does not even merge (a missing ``extends``, a duplicate) is listed with
    its problem instead of stopping the listing.
    """
    from ._models import resolve_driver

    paths = discover(config)
    if not paths:
        raise ProfileNotFound(_nothing_found())
    resolver = _Resolver(load_files(paths))
    rows = []
    for name in sorted(resolver.all_names()):
        source = next(f.path for f in resolver.files if name in f)
        problem = None
        try:
            merged = resolver.merged(name)
        except (ProfileValidationError, ProfileNotFound) as exc:
            rows.append({"name": name, "driver": "?", "endpoints": "", "tls": "",
                         "source": source, "problem": str(exc)})  # fmt: skip
            continue
        try:
            data, _ = _fill_derived(merged, name)
        except ProfileValidationError as exc:
            # A uri or dsn that does not parse: list what the YAML says, and the problem.
            data, problem = dict(merged.data), str(exc)
        row = {
            "name": name,
            "driver": str(resolve_driver(data.get("driver")) or "?"),
            "endpoints": _endpoints(data),
            "tls": "?" if problem else _tls_summary(data.get("tls")),
            "source": source,
        }
        if problem:
            row["problem"] = problem
        rows.append(row)
    return rows


def _endpoints(data: dict[str, Any]) -> str:
    if isinstance(data.get("uri"), str):
        # Show scheme, hosts and database only: never the user info or the options.
        from ._redact import strip_userinfo

        return strip_userinfo(data["uri"]).split("?", 1)[0]
    if isinstance(data.get("dsn"), str):
        return str(data["dsn"])
    hosts = data.get("hosts")
    if isinstance(hosts, list):
        port = data.get("port")
        return ",".join(
            h
            if (":" in str(h).rsplit("]", 1)[-1] or "://" in str(h)) or not port
            else f"{h}:{port}"
            for h in map(str, hosts)
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
