"""Per-field environment overrides: ``CONNPROF__<PROFILE>__<FIELD>[__<SUBFIELD>]=VALUE``.

Each variable sets one field of one profile above every file, as one more layer of the
composition (``connprof._compose``), so it merges, derives and validates exactly as the same
value written in the highest file would: mappings merge key by key, lists replace, a uri or
hosts replaces the endpoints. ``<PROFILE>`` is the profile's name upper-cased with ``-`` and
``.`` written ``_``; the field path parts are the field names upper-cased (an ``options`` key
takes the spelling the files give it, else lower case). The value is a YAML flow value
(``true``, ``"1.2"``, ``[a, b]``); a secret field keeps the text as written when it is not a
YAML string (``keyring:``).

Refused, each one line naming the variable and never its value: a variable for a profile no
file defines, or whose spelling two profiles share; an unknown field (with "did you mean");
``allow_insecure`` (a weakening must be written down in a file); an empty value. A plaintext
secret is refused by validation, as in a file. Every value's origin is ``env VARIABLE``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._discover import OVERRIDE_PREFIX
from ._errors import ProfileValidationError
from ._paths import SECRET_PATHS
from ._yaml import Fragment, Origin, Path, suggest

__all__ = ["PREFIX", "Override", "env_spelling", "override_fragment",
           "parse_overrides"]  # fmt: skip

PREFIX = OVERRIDE_PREFIX
#: The blocks a ``__SUBFIELD`` may go into.
_BLOCKS = ("tls", "auth", "options")


def env_spelling(name: str) -> str:
    """How a profile name is written in a variable: ``prod-eu.v2`` → ``PROD_EU_V2``."""
    return name.upper().replace("-", "_").replace(".", "_")


@dataclass(frozen=True)
class Override:
    """One variable: the profile and field path it sets, and the value as YAML read it."""

    variable: str
    profile: str
    path: tuple[str, ...]
    value: Any

    @property
    def origin(self) -> Origin:
        # Line 0 marks a place that is not in a file: describe() gives "env NAME".
        return Origin(f"env {self.variable}", 0, 0, 0, 0)


def _error(variable: str, message: str) -> ProfileValidationError:
    return ProfileValidationError(message, f"env {variable}")


def _fields(block: tuple[str, ...]) -> tuple[str, ...]:
    from ._models import TLS, Auth, Profile  # deferred: pydantic is slow; only set variables ask

    model: Any = {(): Profile, ("tls",): TLS, ("auth",): Auth}[block]
    return tuple(f for f in model.model_fields if f != "name")


def _loader() -> Any:
    import yaml  # deferred: only a set variable is read as YAML

    class FlowLoader(yaml.SafeLoader):
        """YAML's safe scalars, a timestamp kept as text (no field takes a date)."""

    FlowLoader.yaml_implicit_resolvers = {
        first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return FlowLoader


def _value(variable: str, text: str, path: tuple[str, ...]) -> Any:
    import yaml  # deferred: the same

    if not text.strip():
        raise _error(variable, "the value is empty; give a value, or unset the variable")
    problem = None
    try:
        value = yaml.load(text, Loader=_loader())  # a SafeLoader subclass: no object tags
    except yaml.YAMLError:
        # Not the parser's message: it quotes the text, which may be a misplaced secret.
        problem = _error(
            variable,
            "the value is not a YAML flow value; quote a string, write a list as [a, b] and a "
            "mapping as {key: value}",
        )
    if problem is not None:
        raise problem
    if path in SECRET_PATHS and not isinstance(value, str):
        return text.strip()  # `keyring:` reads as a mapping; a reference is its text
    return value


def _split(variable: str, names: Iterable[str]) -> tuple[str, list[str]]:
    """The profile a variable names and the field path parts after it (as written)."""
    rest = variable[len(PREFIX) :]
    by_spelling: dict[str, list[str]] = {}
    for name in names:
        by_spelling.setdefault(env_spelling(name), []).append(name)
    matches = [s for s in by_spelling if rest.startswith(s + "__")]
    if not matches:
        spelled = rest.split("__", 1)[0] or "(nothing)"
        close = suggest(spelled, list(by_spelling))
        raise _error(
            variable,
            f"no loaded file defines a profile written {spelled}{close}"
            " (a variable writes the profile name upper-cased, '-' and '.' as '_'); fix the "
            "name or unset the variable",
        )
    if len(matches) > 1 or len(by_spelling[matches[0]]) > 1:
        named = sorted(n for s in matches for n in by_spelling[s])
        raise _error(
            variable,
            f"the profiles {', '.join(repr(n) for n in named)} are all written "
            f"{PREFIX}{matches[0]}__ in a variable; rename one of them to set it from the "
            "environment",
        )
    spelling = matches[0]
    return by_spelling[spelling][0], rest[len(spelling) + 2 :].split("__")


def _path(variable: str, profile: str, parts: list[str]) -> tuple[str, ...]:
    if not all(parts):
        raise _error(variable, "a field name is empty; separate the parts with one '__'")
    path = tuple(p.lower() for p in parts)
    allowed = _fields(())
    if path[0] not in allowed:
        raise _error(
            variable,
            f"profile '{profile}' has no field '{path[0]}'{suggest(path[0], allowed)} "
            f"(fields: {', '.join(allowed)})",
        )
    if path[0] == "allow_insecure":
        raise _error(
            variable,
            "allow_insecure cannot be set from the environment: a setting that weakens TLS "
            "must be acknowledged in a profile file, where review sees it",
        )
    if len(path) == 1:
        return path
    if path[0] not in _BLOCKS or len(path) > 2:
        raise _error(
            variable,
            f"{'.'.join(path)} is too deep: a variable sets a field, or one key of tls, auth "
            f"or options (CONNPROF__{env_spelling(profile)}__TLS__CA)",
        )
    if path[0] != "options":
        inner = _fields((path[0],))
        if path[1] not in inner:
            raise _error(
                variable,
                f"{path[0]} has no key '{path[1]}'{suggest(path[1], inner)} "
                f"(allowed: {', '.join(inner)})",
            )
        return path
    return ("options", parts[1])  # the spelling is settled against the files' options


def parse_overrides(
    variables: Mapping[str, str], names: Iterable[str]
) -> dict[str, list[Override]]:
    """Every variable read and checked against the profile ``names``, by profile.

    Raises ``ProfileValidationError`` (at ``env VARIABLE``) for the first variable refused.
    """
    names = list(names)
    out: dict[str, list[Override]] = {}
    for variable, text in variables.items():
        profile, parts = _split(variable, names)
        path = _path(variable, profile, parts)
        lookup = tuple(path) if path[0] != "options" else ()
        out.setdefault(profile, []).append(
            Override(variable, profile, path, _value(variable, text, lookup))
        )
    return out


def override_fragment(overrides: list[Override], option_keys: Iterable[str]) -> Fragment:
    """The overrides of one profile as one layer, every value's origin its variable.

    ``option_keys`` are the option names the files use, so ``__OPTIONS__REPLICASET`` sets
    ``replicaSet``. The layer has no root origin: the profile's own place stays a file's.
    """
    spelled = {k.lower(): k for k in option_keys}
    data: dict[str, Any] = {}
    origins: dict[Path, Origin] = {}
    for o in overrides:
        path = o.path
        if path[0] == "options":
            path = ("options", spelled.get(path[1].lower(), path[1].lower()))
        at = o.origin
        if len(path) == 2:
            block = data.get(path[0])
            if block is not None and not isinstance(block, dict):
                raise _error(o.variable, f"{path[0]} is set whole by another variable; keep one")
            if block is None:
                block = data[path[0]] = {}
            block[path[1]] = o.value
            origins.setdefault((path[0],), at)
        else:
            if path[0] in data:
                raise _error(o.variable, f"{path[0]} is set by another variable too; keep one")
            data[path[0]] = o.value
        _mark(o.value, path, at, origins)
    return Fragment(data, origins)


def _mark(value: Any, path: Path, at: Origin, origins: dict[Path, Origin]) -> None:
    origins[path] = at
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, (*path, k), at, origins)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _mark(v, (*path, i), at, origins)
