"""Secret references into values: the resolve step between merge and emit.

``resolve_secret`` reads one reference; ``SecretResolver`` reads each reference of one profile
at most once; ``store_secret``/``delete_secret`` write where a reference points (the keyring
only); ``check_secrets`` reports, without values, whether a profile's references resolve.

Sources are looked up by the reference's kind (the text before the colon): first the literal
``SOURCES`` registry, then the entry-point group ``connprof.secret_sources``, whose entries
name a source object or a class to call without arguments. A plugin that fails to load is an
error, never a skipped line in a log. Built-in kinds cannot be replaced by a plugin.

A profile that takes a value from an untrusted project file (``connprof._trust``) resolves
with that file named: no ``exec:`` runs, and no ``file:`` outside the file's folder tree is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

from .._errors import PluginError, SecretError
from .._secretref import KINDS, SECRET_FIELDS, parse_secret_ref
from .._trust import inside, refusal
from ._env import EnvSource
from ._exec import ExecSource
from ._file import FileSource
from ._keyring import DEFAULT_SERVICE, KeyringSource, entry
from ._source import SecretSource, WritableSecretSource, leaf, shown, where

if TYPE_CHECKING:
    from .._models import Profile

__all__ = [
    "ENTRY_POINT_GROUP",
    "SOURCES",
    "SecretCheck",
    "SecretResolver",
    "SecretSource",
    "WritableSecretSource",
    "check_secrets",
    "delete_secret",
    "ensure_writable",
    "foreign_service",
    "profile_references",
    "replace_secret",
    "resolve_field_name",
    "resolve_secret",
    "secret_exists",
    "store_secret",
]

ENTRY_POINT_GROUP = "connprof.secret_sources"

#: The built-in sources by kind. A new source is one module and one line here.
SOURCES: dict[str, SecretSource] = {
    "env": EnvSource(),
    "exec": ExecSource(),
    "file": FileSource(),
    "keyring": KeyringSource(),
}

_BY_LEAF = {leaf(f): f for f in SECRET_FIELDS}


def resolve_field_name(name: str) -> str:
    """``password`` or ``auth.password`` → ``auth.password``; unknown names are a ``ValueError``."""
    if name in SECRET_FIELDS:
        return name
    if name in _BY_LEAF:
        return _BY_LEAF[name]
    raise ValueError(
        f"'{name}' is not a secret field; use one of {', '.join(_BY_LEAF)} "
        f"(or {', '.join(SECRET_FIELDS)})"
    )


def _parse(reference: str, profile: str, field: str) -> tuple[str, str, str]:
    """``(kind, target, where)``; a text that is not a reference is never repeated."""
    kind, colon, target = reference.partition(":")
    if not colon or not kind.isidentifier():
        raise SecretError(
            f"profile '{profile}': {field}: the value is not a secret reference (keyring:, "
            "env:NAME, file:PATH, exec:COMMAND); store the secret with "
            f'`connprof secret set {profile} {leaf(field)}` and write "keyring:" instead'
        )
    if kind in KINDS:
        problem: str | None = None
        try:
            parse_secret_ref(reference)
        except PydanticCustomError as exc:
            problem = exc.message()
        if problem is not None:  # raised outside the handler: the text is not its context
            raise SecretError(f"{where(profile, field, kind + ':...')}: {problem}")
    return kind, target, where(profile, field, shown(reference))


def _refused(kind: str, target: str, untrusted: tuple[str, ...]) -> str | None:
    """Why an untrusted file's profile may not resolve this reference, or None."""
    for file in untrusted:
        if kind == "exec":
            return refusal(file, "its profiles run no exec: command")
        folder = os.path.dirname(os.path.abspath(file))
        if kind == "file" and not inside(target, folder):
            return refusal(file, f"its profiles read no file: outside {folder}")
    return None


def _plugin(kind: str, at: str) -> SecretSource:
    # deferred: importlib.metadata is slow to import; only a plugin kind gets here
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == kind]
    if not found:
        raise SecretError(
            f"{at}: no secret source handles '{kind}:' references (built in: "
            f"{', '.join(SOURCES)}); install the package that provides it, or use one of those"
        )
    if len(found) > 1:
        values = ", ".join(ep.value for ep in found)
        raise SecretError(
            f"{at}: several installed packages provide the '{kind}' secret source ({values}); "
            "uninstall all but one"
        )
    ep = found[0]
    try:
        obj = ep.load()
        source = obj() if isinstance(obj, type) else obj
    except Exception as exc:
        raise PluginError(
            f"{at}: the '{kind}' secret source plugin ({ep.value}) failed to load "
            f"({type(exc).__name__}: {exc}); reinstall or uninstall the package that provides it"
        ) from exc
    if not isinstance(source, SecretSource):
        raise PluginError(
            f"{at}: the '{kind}' secret source plugin ({ep.value}) has no "
            "get(target, *, profile, field) method; report it to its authors"
        )
    return source


def _source(kind: str, at: str) -> SecretSource:
    return SOURCES.get(kind) or _plugin(kind, at)


def resolve_secret(
    reference: str, *, profile: str, field: str, untrusted: tuple[str, ...] = ()
) -> str:
    """The value ``reference`` points at, for ``field`` of ``profile``; raises ``SecretError``.

    ``untrusted`` names the untrusted project files the profile takes values from: then an
    ``exec:`` is refused, and a ``file:`` outside each one's folder tree.
    """
    field = resolve_field_name(field)
    kind, target, at = _parse(reference, profile, field)
    why = _refused(kind, target, untrusted)
    if why is not None:
        raise SecretError(f"{at}: {why}")
    source = _source(kind, at)
    failed: str | None = None
    try:
        value = source.get(target, profile=profile, field=field)
    except SecretError:
        raise
    except Exception as exc:
        # A plugin's own exception: named, not trusted to be free of the value, so neither
        # kept as the cause nor as the context (raised below, outside this handler).
        failed = type(exc).__name__
    if failed is not None:
        raise SecretError(f"{at}: the '{kind}' secret source failed ({failed}); check its setup")
    if not isinstance(value, str) or not value:
        raise SecretError(f"{at}: the '{kind}' secret source returned no text; check its setup")
    return value


class SecretResolver:
    """Resolves one profile's references, each at most once; create one per use.

    Values live only as long as the resolver, and its ``repr`` shows how many, never which.
    """

    __slots__ = ("_profile", "_untrusted", "_values")

    def __init__(self, profile: str, *, untrusted: tuple[str, ...] = ()) -> None:
        self._profile = profile
        self._untrusted = tuple(untrusted)
        self._values: dict[tuple[str, str], str] = {}

    @classmethod
    def for_profile(cls, profile: Profile) -> SecretResolver:
        """A resolver for ``profile`` that keeps the trust rule of the files it came from."""
        return cls(profile.name, untrusted=profile.untrusted)

    @property
    def profile(self) -> str:
        return self._profile

    def get(self, reference: str, field: str) -> str:
        """The value of ``reference`` for ``field``; a second ask for it is not resolved again."""
        field = resolve_field_name(field)
        # An empty target (`keyring:`) is a shorthand whose entry depends on the field.
        key = (reference, field if reference.endswith(":") else "")
        if key not in self._values:
            self._values[key] = resolve_secret(
                reference, profile=self._profile, field=field, untrusted=self._untrusted
            )
        return self._values[key]

    def refused(self, reference: str, field: str) -> str | None:
        """Why the trust rule refuses ``reference`` (one line, as ``get`` raises it), or None.

        Nothing is resolved: ``doctor --offline`` tells an untrusted ``exec:`` apart this way
        without running it.
        """
        field = resolve_field_name(field)
        kind, target, at = _parse(reference, self._profile, field)
        why = _refused(kind, target, self._untrusted)
        return None if why is None else f"{at}: {why}"

    def __repr__(self) -> str:
        return f"SecretResolver(profile={self._profile!r}, resolved={len(self._values)})"


def ensure_writable(reference: str, *, profile: str, field: str) -> None:
    """Raise ``SecretError`` (saying what to do instead) unless connprof can store there."""
    field = resolve_field_name(field)
    kind, target, at = _parse(reference, profile, field)
    source = _source(kind, at)
    if isinstance(source, WritableSecretSource):
        source.ready(target, profile=profile, field=field)
        return
    if kind == "env":
        fix = (
            f"connprof cannot set environment variables; export {target}=... (or add it to "
            "your CI's secrets) instead"
        )
    elif kind == "file":
        fix = (
            f"connprof does not write secret files; write it yourself: (umask 077; cat > {target})"
        )
    else:
        fix = f"the '{kind}' source is read-only; store the secret with the tool that manages it"
    raise SecretError(f"{at}: {fix}")


def _writable(reference: str, profile: str, field: str) -> tuple[WritableSecretSource, str]:
    ensure_writable(reference, profile=profile, field=field)
    kind, target, at = _parse(reference, profile, field)
    source = _source(kind, at)
    assert isinstance(source, WritableSecretSource)
    return source, target


def store_secret(reference: str, *, profile: str, field: str, value: str) -> None:
    """Store ``value`` where ``reference`` points (keyring references only)."""
    field = resolve_field_name(field)
    source, target = _writable(reference, profile, field)
    if not value:
        raise SecretError(
            f"{where(profile, field, reference)}: the secret is empty; nothing was stored"
        )
    source.set(target, profile=profile, field=field, value=value)


def replace_secret(reference: str, *, profile: str, field: str, value: str) -> None:
    """Store ``value`` where ``reference`` points, removing every entry there first.

    A Secret Service may hold several items for one service and user (one stored by
    ``secret-tool``, one by the keyring library: a write adds its own beside the other, and
    a read may then find the old one). ``--force`` means the new value is the one read back.
    """
    field = resolve_field_name(field)
    source, target = _writable(reference, profile, field)
    if not value:
        raise SecretError(
            f"{where(profile, field, reference)}: the secret is empty; nothing was stored"
        )
    for _ in range(16):  # a bound: a backend whose deletes do nothing must not loop forever
        if not source.exists(target, profile=profile, field=field):
            break
        source.delete(target, profile=profile, field=field)
    source.set(target, profile=profile, field=field, value=value)


def secret_exists(reference: str, *, profile: str, field: str) -> bool:
    """Whether the entry ``reference`` points at holds a value (keyring references only).

    The value is read and dropped, never returned: ``secret set`` and ``import`` ask this
    before replacing an entry, so that none is overwritten without ``--force``.
    """
    field = resolve_field_name(field)
    source, target = _writable(reference, profile, field)
    return source.exists(target, profile=profile, field=field)


def foreign_service(reference: str, *, profile: str, field: str) -> str | None:
    """The keyring service ``reference`` names when it is not connprof's own, else None.

    ``keyring:other-app/alice`` is another application's entry: connprof reads it, but writes
    or deletes it only when told to (``--force``).
    """
    kind, _, target = reference.partition(":")
    if kind != "keyring":
        return None
    service, _ = entry(target, profile=profile, field=resolve_field_name(field))
    return None if service == DEFAULT_SERVICE else service


def delete_secret(reference: str, *, profile: str, field: str) -> None:
    """Remove the entry ``reference`` points at (keyring references only)."""
    field = resolve_field_name(field)
    source, target = _writable(reference, profile, field)
    source.delete(target, profile=profile, field=field)


@dataclass(frozen=True)
class SecretCheck:
    """Whether one reference resolves: never the value, only where it was looked for."""

    profile: str
    field: str
    reference: str
    ok: bool
    message: str


def profile_references(profile: Profile) -> list[tuple[str, str]]:
    """``(field, reference)`` for each secret field the profile sets, in a fixed order."""
    found = []
    for dotted in SECRET_FIELDS:
        block, key = dotted.split(".")
        reference = getattr(getattr(profile, block), key)
        if reference is not None:
            found.append((dotted, str(reference)))
    return found


def _found(reference: str, profile: str, field: str) -> str:
    kind, _, target = reference.partition(":")
    if kind == "keyring":
        service, username = entry(target, profile=profile, field=field)
        return f"keyring entry found (service {service}, user {username})"
    if kind == "env":
        return f"{target} is set"
    if kind == "file":
        return f"{target} is readable"
    if kind == "exec":
        return f"the command {shown(reference)[5:]} printed a value"
    return "resolves"


def check_secrets(profile: Profile) -> list[SecretCheck]:
    """Resolve each of the profile's references and report the outcome, dropping the values."""
    resolver = SecretResolver.for_profile(profile)
    checks = []
    for field, reference in profile_references(profile):
        try:
            resolver.get(reference, field)
        except SecretError as exc:
            checks.append(SecretCheck(profile.name, field, reference, False, str(exc)))
        else:
            message = _found(reference, profile.name, field)
            checks.append(SecretCheck(profile.name, field, reference, True, message))
    return checks
