"""Run every rule over every profile of some files, placing each finding at file:line:col.

Positions cost time: composing 5 MB of YAML with marks takes PyYAML many seconds. So a large
file is linted twice over, cheaply first: its profiles are read as plain data (by
``connprof._lint.fastyaml``, or PyYAML's C loader for what that reader declines), merged and
checked with every position stubbed out, and only a profile with a finding is linted again from
its composed, positioned text (only its own chunk of the file, see ``connprof._load``), which gives
the reported positions. The first pass may over-report (a rule that needs a position to decide
says yes) but never under-report: anything it cannot read exactly as the positioned loader would
(duplicate keys, tags, anchors, non-string keys, deep nesting) sends the file or profile to the
positioned pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from .._config import _fill_derived, _nothing_found, _Resolver, _validate, discover
from .._errors import ConfigNotFound, ProfileNotFound, ProfileValidationError
from .._load import (
    MAX_DEPTH,
    NODE_BUDGET,
    Fragment,
    Origin,
    Path,
    ProfileFile,
    _risky,
    read_profile_file,
    suggest,
)
from .._merge import ENDPOINT_FIELDS
from .diagnostics import RULES, Diagnostic
from .fastyaml import parse_plain
from .rules import (
    FILE_FIELDS,
    PROFILE_RULES,
    ProfileContext,
    driver_settings,
    read_from_string,
)

__all__ = ["lint_config", "lint_paths"]

#: Files at least this large get the plain-data first pass; smaller ones compose in no time.
FAST_THRESHOLD = 64 * 1024
_YAML_SUFFIXES = (".yaml", ".yml")


def lint_paths(
    paths: Iterable[str | os.PathLike[str]], *, check_files: bool = False
) -> list[Diagnostic]:
    """Lint each file on its own (a folder: its ``*.yaml`` files), findings sorted by file and line.

    A profile with no driver, no endpoints and no ``extends`` is read as an overlay of a
    profile in another file (a ``profiles.d`` layer): its fields are checked, its completeness
    is not; except in a project file (``connprof.yaml``, ``*.connprof.yaml``), which holds
    whole profiles. To check layers together, lint them as one configuration (``lint_config``).
    """
    found: list[Diagnostic] = []
    for path in _expand(paths):
        found.extend(_lint([path], check_files=check_files, standalone=True))
    return sorted(set(found))


def _may_hold_overlays(path: str) -> bool:
    """A project file (``connprof.yaml``, ``*.connprof.yaml``) holds whole profiles.

    Anything else linted on its own may be a layer, like a personal ``profiles.d`` file.
    """
    name = os.path.basename(path)
    return not (name == "connprof.yaml" or name.endswith(".connprof.yaml"))


def lint_config(config: Any = None, *, check_files: bool = False) -> list[Diagnostic]:
    """Lint the files ``connprof show`` would read (``--config`` or discovery), as layers."""
    paths = discover(config)
    if not paths:
        raise ProfileNotFound(_nothing_found())
    return sorted(set(_lint(paths, check_files=check_files, standalone=False)))


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    out: list[str] = []
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs.sort()
                out.extend(
                    os.path.join(folder, n) for n in sorted(names) if n.endswith(_YAML_SUFFIXES)
                )
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise ConfigNotFound(f"{path}: no such file; name a profile file or a folder", path)
    return out


def _from_error(exc: ProfileValidationError, path: str) -> list[Diagnostic]:
    return [
        Diagnostic(p.path or path, p.line or 1, p.column or 1, "CP001", "error", _with_fix(p))
        for p in exc.problems
    ]


def _with_fix(problem: ProfileValidationError) -> str:
    # Most validation messages say what to do; pydantic's own ("Input should be ...") do not.
    if "; " in problem.message:
        return problem.message
    return f"{problem.message}; correct the value (`connprof schema` lists what each field takes)"


def _lint(paths: list[str], *, check_files: bool, standalone: bool) -> list[Diagnostic]:
    files: list[ProfileFile] = []
    found: list[Diagnostic] = []
    for path in paths:
        try:
            files.append(read_profile_file(path))
        except ProfileValidationError as exc:
            found.extend(_from_error(exc, path))
    if found and not standalone:
        # A layer that does not load makes every profile it touches look wrong: report it alone.
        return found
    if files:
        found.extend(_Linter(files, standalone=standalone, check_files=check_files).run())
    return found


# -- the plain-data first pass -------------------------------------------------------------------


class _Unsure(Exception):
    """The plain loader met something the positioned loader reads differently."""


_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float", _STR}  # fmt: skip


class _PlainLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The C loader, refusing (with ``_Unsure``) what ``connprof._load`` would read otherwise."""


def _mapping(loader: Any, node: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for knode, vnode in node.value:
        if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _SCALAR_TAGS:
            raise _Unsure  # merge keys, complex keys, tagged keys
        key = str(knode.value)  # keys stay as written, as connprof._load keeps them
        if key in result:
            raise _Unsure  # a duplicate: the positioned loader names both lines
        result[key] = loader.construct_object(vnode, deep=True)
    return result


def _sequence(loader: Any, node: Any) -> list[Any]:
    return [loader.construct_object(child, deep=True) for child in node.value]


def _refuse(loader: Any, node: Any) -> Any:
    raise _Unsure


_PlainLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
_PlainLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_PlainLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
for _tag in ("binary", "omap", "pairs", "set"):
    _PlainLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
_PlainLoader.add_constructor(None, _refuse)


def _within_limits(value: Any) -> bool:
    """The node budget and depth ``connprof._load`` enforces per profile."""
    try:
        return _count(value, 0) <= NODE_BUDGET
    except _Unsure:
        return False


def _count(container: Any, depth: int) -> int:
    if depth >= MAX_DEPTH:
        raise _Unsure
    n = 1
    for v in container.values() if isinstance(container, dict) else container:
        n += _count(v, depth + 1) if isinstance(v, dict | list) else 1
        if n > NODE_BUDGET:
            raise _Unsure
    return n


# The keys whose origins normalize_fragment and the merge look up directly.
_LOOKED_UP = ("tls", "name", "extends", *ENDPOINT_FIELDS)


class _PlainFile(ProfileFile):
    """A ``ProfileFile`` over plain data: every origin is the file's first line (a stub)."""

    def __init__(self, path: str, data: dict[str, Any], default: str | None) -> None:
        super().__init__(path, None)
        self.default = default
        self._stub = Origin(path, 1, 1, 1, 1)
        self._profiles: dict[str, Any] = data.get("profiles") or {}
        defaults = data.get("defaults")
        self.defaults = self._fragment(defaults) if isinstance(defaults, dict) else None

    def _fragment(self, data: dict[str, Any]) -> Fragment:
        # normalize_fragment looks these up by key; they all point at the stub.
        origins: dict[Path, Origin] = {(): self._stub}
        origins.update({(k,): self._stub for k in _LOOKED_UP if k in data})
        return Fragment(data, origins)

    def names(self) -> list[str]:
        return list(self._profiles)

    def __contains__(self, name: str) -> bool:
        return name in self._profiles

    def fragment(self, name: str) -> Fragment:
        cached = self._fragments.get(name)
        if cached is not None:
            return cached
        value = self._profiles[name]
        if value is None:
            value = {}
        if not isinstance(value, dict) or not _within_limits(value):
            raise _Unsure
        fragment = self._fragments[name] = self._fragment(value)
        return fragment


def _plain_file(positioned: ProfileFile) -> ProfileFile | None:
    """The plain-data twin of a large file, or None when only the positioned reading is exact."""
    try:
        if os.path.getsize(positioned.path) < FAST_THRESHOLD:
            return None
        with open(positioned.path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError):
        return None
    if _risky(text):  # anchors, merge keys, tabs, several documents
        return None
    data: Any = parse_plain(text)
    if data is None:
        try:
            data = yaml.load(text, Loader=_PlainLoader)  # a SafeLoader subclass
        except (_Unsure, yaml.YAMLError, RecursionError):
            return None
    if not isinstance(data, dict) or not isinstance(data.get("profiles") or {}, dict):
        return None
    if set(data.get("profiles") or {}) != set(positioned.names()):
        return None
    return _PlainFile(positioned.path, data, positioned.default)


# -- linting -----------------------------------------------------------------------------------


class _Linter:
    def __init__(self, files: list[ProfileFile], *, standalone: bool, check_files: bool) -> None:
        self.files = files
        self.standalone = standalone
        self.check_files = check_files
        self._exists: dict[str, bool] = {}

    def exists(self, path: str) -> bool:
        known = self._exists.get(path)
        if known is None:
            known = self._exists[path] = os.path.exists(path)
        return known

    def run(self) -> list[Diagnostic]:
        found = self._defaults_named()
        positioned = _Resolver(self.files)
        plain = [_plain_file(f) for f in self.files]
        fast = _Resolver([p or f for p, f in zip(plain, self.files, strict=True)])
        use_fast = any(p is not None for p in plain)
        for name in positioned.all_names():
            if use_fast:
                try:
                    if not self.profile(name, fast):
                        continue
                except Exception:
                    pass  # whatever went wrong, the positioned pass below says it properly
            found.extend(self.profile(name, positioned))
        return found

    def _defaults_named(self) -> list[Diagnostic]:
        """CP033: ``default:`` must name a profile of the linted files."""
        found = []
        for f in self.files:
            if f.default is None or f.default_origin is None:
                continue
            scope = [f] if self.standalone else self.files
            if not any(f.default in g for g in scope):
                names = [n for g in scope for n in g.names()]
                o = f.default_origin
                found.append(
                    Diagnostic(
                        o.file, o.value_line, o.value_column, "CP033", "error",
                        f"default names '{f.default}', which no linted file defines"
                        f"{suggest(f.default, names)}; name a defined profile or remove default:",
                    )
                )  # fmt: skip
        return found

    def profile(self, name: str, resolver: _Resolver) -> list[Diagnostic]:
        """Every finding for one profile (positions are stubs with a plain-data resolver)."""
        try:
            chain, found = self._extends_chain(name, resolver)
            if found:
                return found
            merged = resolver.merged(name)
        except ProfileValidationError as exc:
            return _from_error(exc, resolver.files[0].path)
        try:
            data, notes = _fill_derived(merged, name)
        except ProfileValidationError as exc:
            # A uri or dsn that does not parse: say so, and lint what the YAML itself writes.
            found.extend(_from_error(exc, merged.origins[()].file))
            data, notes = dict(merged.data), {}
        overlay = (
            self.standalone
            and _may_hold_overlays(self.files[0].path)
            and not any(k in data for k in ("driver", "extends", *ENDPOINT_FIELDS))
        )
        relative = self._relative_paths(chain, resolver) | _uri_relative(
            data, notes, merged.origins
        )
        ctx = ProfileContext(
            name,
            data,
            merged.origins,
            notes,
            relative=frozenset(relative),
            overlay=overlay,
            exists=self.exists,
        )
        for rule in PROFILE_RULES:
            found.extend(rule(ctx))
        candidate = {**data, "name": name}
        if overlay:
            # Validate the fields an overlay writes against a stand-in for the rest.
            candidate.update(driver="pymongo", hosts=["overlay.invalid"])
        # A value read from the uri or dsn is placed at that string, as the rules place it.
        origins = dict(merged.origins)
        for path in notes:
            string = ctx.from_string(path)
            if string is not None and string in origins:
                origins[path] = origins[string]
        profile, error = _validate(candidate, origins)
        if error is not None:
            found.extend(_from_error(error, merged.origins[()].file))
        else:
            ctx.profile = profile
            found.extend(driver_settings(ctx))
        if self.check_files:
            from .files import check_files

            found.extend(check_files(ctx))
        return _drop_shadowed(found)

    def _extends_chain(self, name: str, resolver: _Resolver) -> tuple[list[str], list[Diagnostic]]:
        """The profile and those it extends, or CP032 for a missing name or a cycle."""
        chain = [name]
        while True:
            current = chain[-1]
            # The highest-precedence file that writes `extends` decides, as in the merge.
            own = next(
                (
                    fragment
                    for f in resolver.files
                    if current in f and "extends" in (fragment := f.fragment(current)).data
                ),
                None,
            )
            parent = own.data["extends"] if own is not None else None
            if own is None or not isinstance(parent, str):
                return chain, []  # none, or not a name: the schema check reports that
            o = own.origins.get(("extends",)) or own.origins[()]
            if parent in chain:
                cycle = " -> ".join((*chain, parent))
                message = f"extends makes a cycle ({cycle}); remove one of the extends"
            elif not any(parent in f for f in resolver.files):
                known = resolver.all_names()
                message = (
                    f"extends names '{parent}', which no linted file defines"
                    f"{suggest(parent, known)}; name a defined profile, or lint the layers "
                    "together (connprof --config LAYER ... lint)"
                )
            else:
                chain.append(parent)
                continue
            severity = RULES["CP032"].severity
            return chain, [
                Diagnostic(o.file, o.value_line, o.value_column, "CP032", severity, message)
            ]

    def _relative_paths(self, chain: list[str], resolver: _Resolver) -> set[str]:
        """Absolute forms of the file paths the profile's layers wrote as relative paths."""
        out: set[str] = set()
        for name in chain:
            for f in resolver.files:
                if name in f:
                    out.update(_relative(f, f.fragment(name)))
                    if f.defaults is not None:
                        out.update(_relative(f, f.defaults))
        return out


def _relative(f: ProfileFile, fragment: Fragment) -> list[str]:
    values = [v for v in _written_paths(fragment.data) if not v.startswith(("/", "~"))]
    if not values:
        return []
    folder = os.path.dirname(os.path.abspath(f.path))
    return [os.path.normpath(os.path.join(folder, v)) for v in values if not os.path.isabs(v)]


# The uri options that name files, and the tls keys they fill.
_URI_FILES = {"tlscafile": "ca", "tlscertificatekeyfile": "client_cert", "tlscrlfile": "crl"}


def _uri_relative(
    data: dict[str, Any], notes: dict[Path, str], origins: dict[Path, Origin]
) -> set[str]:
    """The tls files read from the uri that it names by relative paths (as resolved values)."""
    uri = data.get("uri")
    tls = data.get("tls")
    if not isinstance(uri, str) or "?" not in uri or not isinstance(tls, dict):
        return set()
    from urllib.parse import parse_qsl

    out = set()
    for key, raw in parse_qsl(uri.split("?", 1)[1]):
        field = _URI_FILES.get(key.lower())
        value = tls.get(field) if field else None
        if (
            isinstance(value, str)
            and read_from_string(("tls", str(field)), notes, origins) == ("uri",)
            and not raw.startswith(("/", "~"))
        ):
            out.add(value)
    return out


def _written_paths(data: dict[str, Any]) -> list[str]:
    values: list[str] = []
    tls = data.get("tls")
    if isinstance(tls, dict):
        for key in FILE_FIELDS:
            value = tls.get(key)
            if isinstance(value, str) and not (key == "ca" and value == "system"):
                values.append(value)
    for block in (data.get("auth"), tls):
        if isinstance(block, dict):
            values += [
                v[5:] for v in block.values() if isinstance(v, str) and v.startswith("file:")
            ]
    return [v for v in values if v]


def _drop_shadowed(found: list[Diagnostic]) -> list[Diagnostic]:
    """A schema error (CP001) at the very place a specific rule reported says less: drop it."""
    specific = {(d.path, d.line, d.column) for d in found if d.code != "CP001"}
    return [d for d in found if d.code != "CP001" or (d.path, d.line, d.column) not in specific]
