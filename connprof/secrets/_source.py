"""What a secret source is: the small protocol every source satisfies, and its messages.

A source turns the part of a reference after the colon (the *target*) into a value. Sources
that can also store (the keyring) add ``set`` and ``delete``. Every failure is a
``SecretError`` whose one line names the profile, the field, the reference and the fix, and
never the value.
"""

from __future__ import annotations

import shlex
from typing import Protocol, runtime_checkable

__all__ = ["SecretSource", "WritableSecretSource", "leaf", "shown", "where"]


@runtime_checkable
class SecretSource(Protocol):
    """Reads secrets; ``get`` returns the value or raises a ``SecretError``."""

    def get(self, target: str, *, profile: str, field: str) -> str: ...


@runtime_checkable
class WritableSecretSource(SecretSource, Protocol):
    """A source connprof can also write to and delete from (``connprof secret set``/``rm``)."""

    def ready(self, target: str, *, profile: str, field: str) -> None:
        """Raise ``SecretError`` if a write cannot work here, before anyone types a value."""

    def exists(self, target: str, *, profile: str, field: str) -> bool:
        """Whether the entry holds a value now (read and dropped: never returned)."""

    def set(self, target: str, *, profile: str, field: str, value: str) -> None: ...

    def delete(self, target: str, *, profile: str, field: str) -> None: ...


def leaf(field: str) -> str:
    """``auth.password`` → ``password``: the name the ``keyring:`` shorthand and the CLI use."""
    return field.rsplit(".", 1)[-1]


def where(profile: str, field: str, reference: str) -> str:
    """The start of every secret message: ``profile 'prod': auth.password (env:PGPASS)``."""
    return f"profile '{profile}': {field} ({reference})"


def shown(reference: str) -> str:
    """The reference as messages name it: an ``exec:`` command by its first word only."""
    kind, _, target = reference.partition(":")
    if kind != "exec":
        return reference
    try:
        words = shlex.split(target)
    except ValueError:  # an unclosed quote
        words = target.split()
    if not words:
        return "exec:"
    return f"exec:{words[0]}{' ...' if len(words) > 1 else ''}"
