"""One composition of a profile that every command reads: merged, derived, with every origin.

The stages are pure functions over the files already read: **merge** (``defaults``, ``extends``,
layers; ``connprof._merge``) → **derive** (each layer's uri or dsn filled under that layer's
YAML, then TLS on/off and the port; ``connprof._derive``) → **validate** (``validate``). The
result, ``Composed``, is a frozen record that ``load_profile``, ``show``, ``list``, ``lint``,
``parse`` and ``import`` all read; nobody derives a field again from raw dicts.

Precedence, one order for every value, whether written in YAML or said by a uri or dsn (lowest
first): the ``defaults`` of the files that define the profile; the profile it ``extends``
(itself composed the same way); the profile's own entries from the lowest-precedence file to the
highest. Inside one entry the YAML beats its own uri or dsn, key by key. A uri or dsn is a
setting of the entry that holds it: its TLS, auth and options are inherited like YAML fields; only
the endpoints (``uri``, ``dsn``, ``hosts``, ``port``) are replaced as a group.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._derive import (
    BUILTIN_DEFAULT,
    STRING_LABELS,
    StringFields,
    fill_defaults,
    fill_under,
    read_string,
    string_field,
)
from ._discover import ConfigArg, discover, nothing_found, override_variables
from ._errors import DsnError, ProfileNotFound, ProfileValidationError, UnsupportedSetting, UriError
from ._merge import merge, normalize_fragment, tag
from ._overrides import Override, override_fragment, parse_overrides
from ._paths import file_values
from ._yaml import Fragment, Origin, Path, ProfileFile, read_profile_file, suggest
from .drivers._endpoints import split_host
from .drivers._registry import ALIASES, driver_choices, resolve_driver

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ._models import Profile

__all__ = ["Composed", "Composer", "compose", "validate"]

# Provenance is kept per key inside these blocks; anything deeper is one value.
_BLOCKS = {(), ("tls",), ("auth",), ("options",)}


@dataclass(frozen=True)
class Shadowed:
    """A value the YAML wrote over what the same entry's uri or dsn says (lint's CP026)."""

    path: Path
    said: Any  # what the string says
    label: str  # "the uri" or "the dsn"
    string_origin: Origin


@dataclass(frozen=True)
class Composed:
    """One profile, merged and derived but not validated: plain data with every value's origin.

    ``data`` is the merged profile without its name (secrets as references, paths absolute);
    ``origins`` maps a path (``("tls", "ca")``) to where it was written, a value a uri or dsn
    said pointing at that string; ``notes`` names where a derived value came from (a built-in
    default, the uri). ``string`` is the parsed uri or dsn that gives the endpoints, and
    ``warnings`` what the MongoDB specification says to warn about in any uri the profile reads.
    ``problem`` is set when a uri or dsn does not parse: the rest is then the YAML alone.
    Treat every mapping in it as read-only.
    """

    name: str
    data: Mapping[str, Any]
    origins: Mapping[Path, Origin]
    notes: Mapping[Path, str]
    driver: str | None
    string: StringFields | None = None
    warnings: tuple[str, ...] = ()
    shadowed: tuple[Shadowed, ...] = ()
    #: Absolute forms of the file paths some layer wrote relative to its own file.
    relative: frozenset[str] = frozenset()
    #: The files that define the profile, highest precedence first; and every file read.
    files: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    problem: ProfileValidationError | None = None
    #: ``("uri", message)`` when that string does not parse; the message never holds a secret.
    string_problem: tuple[str, str] | None = None
    #: The untrusted project files some value of the profile comes from (``connprof._trust``):
    #: the secret resolver refuses ``exec:`` and far ``file:`` references for them.
    untrusted: tuple[str, ...] = ()

    @property
    def endpoints(self) -> tuple[tuple[str, int | None], ...]:
        """``(host, port)`` for each endpoint, as the hosts, uri or dsn name them (no lookups)."""
        if self.string is not None:
            return self.string.endpoints
        hosts = self.data.get("hosts")
        if not isinstance(hosts, list):
            return ()
        port = self.data.get("port")
        return tuple(_split_entry(str(h), port if isinstance(port, int) else None) for h in hosts)

    def from_string(self, path: Path) -> str | None:
        """``"uri"`` or ``"dsn"`` when the value at ``path`` was said by that string."""
        origin = self.origins.get(tuple(path))
        via = self.notes.get(tuple(path)) or (origin.via if origin is not None else "")
        return STRING_LABELS.get(via)

    def origin(self, path: Sequence[str | int]) -> Origin:
        """Where the value at ``path`` was written, or the nearest enclosing block."""
        p = tuple(path)
        while p not in self.origins and p:
            p = p[:-1]
        return self.origins[p]


def _split_entry(entry: str, port: int | None) -> tuple[str, int | None]:
    if "://" in entry:
        parts = urlsplit(entry)
        try:
            return parts.hostname or "", parts.port or port
        except ValueError:
            return parts.hostname or "", port
    try:
        host, given = split_host(entry, port or 0)
    except ValueError:
        return entry, port
    return host, given or None


@dataclass
class _Merged:
    """What merging one profile's layers gives, before the defaults are filled in."""

    fragment: Fragment
    warnings: list[str] = field(default_factory=list)
    shadowed: list[Shadowed] = field(default_factory=list)
    relative: set[str] = field(default_factory=set)
    problem: ProfileValidationError | None = None
    string_problem: tuple[str, str] | None = None
    strings: dict[tuple[str, str], StringFields] = field(default_factory=dict)  # by text


def compose(name: str | None = None, config: ConfigArg = None) -> Composed:
    """The profile ``name`` (the default one when None) from the discovered files, composed.

    What every command reads: merged, derived, every value's origin, not validated (``validate``
    turns it into a ``Profile``). ``config`` names the files as ``load_profile``'s does. The
    ``CONNPROF__...`` variables are applied above every file, and ``untrusted`` names the
    project files no ``connprof trust`` vouched for.
    """
    from ._trust import untrusted_files  # deferred: only a composition decides trust

    paths = discover(config)
    return Composer(
        [read_profile_file(p) for p in paths],
        overrides=override_variables(),
        untrusted=untrusted_files(paths, config),
    ).compose(name)


class Composer:
    """Composes profiles from files already read (highest precedence first).

    ``overrides`` are the ``CONNPROF__...`` variables to apply above every file (none for lint,
    which reads only files); ``untrusted`` the files whose profiles resolve under the trust rule.
    """

    def __init__(
        self,
        files: Sequence[ProfileFile],
        *,
        overrides: Mapping[str, str] | None = None,
        untrusted: frozenset[str] = frozenset(),
    ) -> None:
        self.files = list(files)
        self._variables = dict(overrides or {})
        self._overrides: dict[str, list[Override]] | None = None
        self.untrusted = frozenset(untrusted)

    def overrides(self) -> dict[str, list[Override]]:
        """The override variables by profile; ``ProfileValidationError`` for one refused."""
        if self._overrides is None:
            # With no file at all, "no profile file was found" is the message that helps.
            wanted = self._variables and self.files
            self._overrides = parse_overrides(self._variables, self.all_names()) if wanted else {}
        return self._overrides

    # -- names ---------------------------------------------------------------------------------

    def all_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            seen.update(dict.fromkeys(f.names()))
        return list(seen)

    def default_name(self) -> str:
        env = os.environ.get("CONNPROF_PROFILE")
        if env:
            return env
        for f in self.files:
            if f.default:
                return f.default
        if not self.files:
            raise ProfileNotFound(f"no profile named, and {nothing_found()}")
        raise ProfileNotFound(
            "no profile named and no default: pass a NAME, set CONNPROF_PROFILE, or add "
            "'default: NAME' to your profile file"
        )

    def not_found(self, name: str) -> str:
        names = self.all_names()
        if not self.files:
            return f"no profile '{name}': {nothing_found()}"
        hint = suggest(name, names) or (
            f"; known profiles: {', '.join(sorted(names)[:10])}" if names else ""
        )
        return f"no profile '{name}' in {', '.join(f.path for f in self.files)}{hint}"

    # -- composing -----------------------------------------------------------------------------

    def compose(self, name: str | None = None) -> Composed:
        """The profile ``name`` (the default one when None), merged and derived.

        Raises ``ProfileNotFound`` for an unknown name and ``ProfileValidationError`` for what
        stops the merge itself (a cycle or a missing profile in ``extends``, a duplicate key).
        """
        if name is None:
            name = self.default_name()
        self.overrides()  # every variable checked, whichever profile is asked for
        merged = self.merge(name)
        data, notes = fill_defaults(merged.fragment.data)
        data.pop("name", None)
        string = None
        raw_driver = data.get("driver")
        driver = resolve_driver(raw_driver) if isinstance(raw_driver, str) else None
        field_name = string_field(driver, data)
        if field_name is not None and merged.problem is None:
            string = merged.strings.get((field_name, data[field_name]))
        return Composed(
            name=name,
            data=data,
            origins=MappingProxyType(dict(merged.fragment.origins)),
            notes=MappingProxyType(notes),
            driver=driver,
            string=string,
            warnings=tuple(dict.fromkeys(merged.warnings)),
            shadowed=tuple(merged.shadowed),
            relative=frozenset(merged.relative),
            files=tuple(f.path for f in self.files if name in f),
            read=tuple(f.path for f in self.files),
            problem=merged.problem,
            string_problem=merged.string_problem,
            untrusted=self._untrusted_sources(merged.fragment),
        )  # fmt: skip

    def _untrusted_sources(self, fragment: Fragment) -> tuple[str, ...]:
        if not self.untrusted:
            return ()
        used = {o.file for o in fragment.origins.values()}
        return tuple(f.path for f in self.files if f.path in self.untrusted and f.path in used)

    def merge(self, name: str, chain: tuple[str, ...] = ()) -> _Merged:
        """The profile's layers merged (``extends`` followed), each layer's string filled in."""
        defining = [f for f in self.files if name in f]
        if not defining:
            raise ProfileNotFound(self.not_found(name))
        # Lowest precedence first: the files list is highest first.
        own_layers = [_written(f, f.fragment(name)) for f in reversed(defining)]
        defaults = [
            _written(f, f.defaults, is_defaults=True)
            for f in reversed(defining)
            if f.defaults is not None
        ]
        env = self.overrides().get(name)
        if env:
            options = [
                k
                for layer, _ in (*defaults, *own_layers)
                if isinstance(layer.data.get("options"), dict)
                for k in layer.data["options"]
            ]
            # One tls key set from the environment sets that key; it does not turn TLS on
            # as a tls block written in a file does (TLS__ENABLED=true or TLS=true does).
            whole_tls = any(o.path == ("tls",) for o in env)
            layer = normalize_fragment(override_fragment(env, options), is_defaults=not whole_tls)
            own_layers.append((layer, set()))
        own = merge([layer for layer, _ in own_layers])
        result = _Merged(own)
        for _, relative in (*defaults, *own_layers):
            result.relative.update(relative)
        base: _Merged | None = None
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
            base = self.merge(parent, (*chain, name))
        # The driver decides which string a layer's uri or dsn is; the highest layer naming it wins.
        driver = own.data.get("driver")
        if driver is None and base is not None:
            driver = base.fragment.data.get("driver")
        if driver is None:
            driver = next(
                (d.data["driver"] for d, _ in reversed(defaults) if "driver" in d.data), None
            )
        driver = resolve_driver(driver)
        layers = [tag(self._derive(d, driver, name, result), "defaults") for d, _ in defaults]
        if base is not None:
            layers.append(tag(base.fragment, f"extends: {parent}"))
            result.warnings[:0] = base.warnings
            result.shadowed[:0] = base.shadowed
            result.relative.update(base.relative)
            result.strings.update(base.strings)
            if result.problem is None:
                result.problem, result.string_problem = base.problem, base.string_problem
        layers.extend(self._derive(layer, driver, name, result) for layer, _ in own_layers)
        merged = merge(layers)
        # An "extends" written in `defaults` is not followed (it would make every profile of
        # the file inherit); do not show it either. The child's own always wins the merge.
        if parent is None:
            merged.data.pop("extends", None)
        merged.origins[()] = own.origins[()]
        result.fragment = merged
        return result

    def _derive(self, layer: Fragment, driver: Any, name: str, into: _Merged) -> Fragment:
        """One layer with what its own uri or dsn says filled in under its YAML."""
        field_name = string_field(driver, layer.data)
        if field_name is None:
            return layer
        at = layer.origins.get((field_name,)) or layer.origins[()]
        # A uri set in the environment names files relative to the working directory.
        base = None
        if at.file:
            base = os.path.dirname(os.path.abspath(at.file)) if at.in_file else os.getcwd()
        try:
            said = read_string(field_name, layer.data[field_name], base)
        except (UriError, DsnError, UnsupportedSetting) as problem:
            message = str(problem).replace("secret set PROFILE", f"secret set {name}")
            if into.problem is None:
                into.problem = _at(at, f"profile '{name}': {field_name}: {message}", value=True)
                into.string_problem = (field_name, message)
            return layer
        data, filled, shadowed = fill_under(dict(layer.data), said)
        origins = dict(layer.origins)
        string_at = at.tagged(said.label)
        for path in filled:
            # Errors and provenance point at the string: "file:4:5 (the uri)".
            origins[path] = string_at
        into.strings[(field_name, data[field_name])] = said
        into.relative.update(said.relative)
        into.warnings.extend(f"{said.label} ({at.describe()}): {w}" for w in said.warnings)
        into.shadowed.extend(Shadowed(path, value, said.label, at) for path, value in shadowed)
        return Fragment(data, origins)


def _written(
    f: ProfileFile, fragment: Fragment, *, is_defaults: bool = False
) -> tuple[Fragment, set[str]]:
    """The entry in mergeable shape, and the absolute forms of the paths it wrote relative."""
    return normalize_fragment(fragment, is_defaults=is_defaults), _relative(f, fragment.data)


def _relative(f: ProfileFile, data: Mapping[str, Any]) -> set[str]:
    written = [v for _, v in file_values(data) if not v.startswith(("/", "~"))]
    if not written:
        return set()
    folder = os.path.dirname(os.path.abspath(f.path))
    return {os.path.normpath(os.path.join(folder, v)) for v in written}


# -- validating ------------------------------------------------------------------------------------


def validate(composed: Composed) -> Profile:
    """The validated ``Profile``; ``ProfileValidationError`` at file:line:col otherwise."""
    if composed.problem is not None:
        raise composed.problem
    profile, error = validate_data({**composed.data, "name": composed.name}, composed)
    if error is not None:
        # Raised outside the except blocks: pydantic's error, whose data may hold the
        # input, must not travel along as __context__.
        raise error
    assert profile is not None
    profile._provenance = provenance(composed, profile.redacted())
    # The trust rule travels with the profile, so every path that validates a composition
    # (load_profile, doctor, show --reveal) resolves its secrets under it.
    profile._untrusted = composed.untrusted
    return profile


def validate_data(
    data: dict[str, Any], composed: Composed
) -> tuple[Profile | None, ProfileValidationError | None]:
    """``(profile, None)`` or ``(None, error)`` for ``data`` placed with ``composed``'s origins.

    Lint validates a stand-in for an overlay this way; ``validate`` validates the composition.
    """
    from pydantic import ValidationError  # deferred: pydantic is slow to import (show, lint)

    from ._models import FieldProblem, Profile  # deferred: the same

    name = data["name"]
    try:
        return Profile.model_validate(data), None
    except FieldProblem as problem:
        text = f"profile '{name}': {_dotted(problem.path)}: {problem.message}"
        return None, _at(composed.origin(problem.path), text, value=not problem.at_key)
    except ValidationError as exc:
        return None, _translate(exc, name, composed)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "profile"


def _at(origin: Origin, message: str, *, value: bool = False) -> ProfileValidationError:
    if not origin.in_file:
        return ProfileValidationError(message, origin.file)  # "env CONNPROF__PROD__HOSTS: ..."
    line, column = (
        (origin.value_line, origin.value_column) if value else (origin.line, origin.column)
    )
    return ProfileValidationError(message, origin.file, line, column)


def _model_fields(path: Path) -> tuple[str, ...]:
    from ._models import TLS, Auth, Profile  # deferred: pydantic is slow to import

    models: dict[Path, Any] = {(): Profile, ("tls",): TLS, ("auth",): Auth}
    model = models.get(path)
    if model is None:
        return ()
    return tuple(f for f in model.model_fields if f != "name")


def _other_spelling(parent: Path, key: str) -> str:
    """``"; did you mean 'ca'?"`` for a name another library uses (``ca_file``), or nothing."""
    from ._models import OTHER_SPELLINGS  # deferred: pydantic is slow to import

    meant = OTHER_SPELLINGS.get(parent, {}).get(key.lower().replace("-", "_"))
    return f"; did you mean '{meant}'?" if meant else ""


def _missing_driver(composed: Composed) -> str:
    text = f"missing 'driver': add driver: {driver_choices().replace(chr(39), '')}"
    if len(composed.files) == 1 and len(composed.read) > 1:
        # Defined only in one layer (a personal overlay, say): say which files were read.
        text += (
            f" (profile '{composed.name}' is defined only in {composed.files[0]}; files read: "
            f"{', '.join(composed.read)})"
        )
    return text


def _translate(exc: ValidationError, name: str, composed: Composed) -> ProfileValidationError:
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
            hint = suggest(key, allowed) or _other_spelling(parent, key)
            text = f"unknown key '{key}'{inside}{hint}"
            if allowed:
                text += f" (allowed: {', '.join(allowed)})"
            problems.append(_at(composed.origin(loc), f"profile '{name}': {text}"))
            continue
        if kind == "missing" and loc == ("driver",):
            text = _missing_driver(composed)
            problems.append(_at(composed.origins[()], f"profile '{name}': {text}"))
            continue
        if kind == "endpoints" and len(composed.files) == 1 and len(composed.read) > 1:
            msg = err["msg"] + (
                f" (profile '{name}' is defined only in {composed.files[0]}; files read: "
                f"{', '.join(composed.read)})"
            )
            problems.append(_at(composed.origins[()], f"profile '{name}': {msg}", value=True))
            continue
        msg = err["msg"]
        if kind == "plaintext_secret":
            field_name = str(loc[-1]) if loc and loc[-1] != "uri" else "password"
            msg = msg.replace("secret set PROFILE FIELD", f"secret set {name} {field_name}")
            msg = msg.replace("secret set PROFILE password", f"secret set {name} password")
        elif kind == "literal_error" and loc == ("driver",):
            msg += f" (aliases: {', '.join(ALIASES)})"
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
        problems.append(_at(composed.origin(loc), f"profile '{name}': {text}", value=True))
    problems.sort(key=lambda p: (p.path or "", p.line or 0, p.column or 0))
    first = problems[0]
    return ProfileValidationError(
        first.message, first.path, first.line, first.column, problems=tuple(problems)
    )


def provenance(composed: Composed, canonical: Mapping[str, Any]) -> dict[str, str]:
    """``{"tls.ca": "connprof.yaml:12:7", "tls.verify": "built-in default", ...}`` for each leaf."""
    out: dict[str, str] = {}

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict) and value and path in _BLOCKS:
            for k, v in value.items():
                walk(v, (*path, k))
            return
        if path == ("name",):
            return
        origin = composed.origins.get(path)
        if origin is not None:
            out[_dotted(path)] = origin.describe()
        elif path in composed.notes:
            out[_dotted(path)] = composed.notes[path]
        else:
            out[_dotted(path)] = BUILTIN_DEFAULT

    walk(dict(canonical), ())
    return out
