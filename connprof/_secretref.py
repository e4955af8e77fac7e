"""The secret-reference syntax: ``keyring:``, ``keyring:SERVICE/USER``, ``env:NAME``, ``file:PATH``,
``exec:COMMAND ARGS``.

Parsing only: turning a reference into a value is the job of the secret sources. A value that
is not a reference (nor of a kind a plugin adds through ``connprof.secret_sources``) is
treated as a plaintext secret and refused, and no message here ever repeats it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

__all__ = ["SECRET_FIELDS", "SecretRef", "check_secret_ref", "parse_secret_ref"]

#: Dotted names of the profile fields that hold secret references.
SECRET_FIELDS = ("auth.password", "auth.token", "auth.refresh_token", "tls.client_key_password")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
KINDS = ("keyring", "env", "file", "exec")


@dataclass(frozen=True)
class SecretRef:
    """A parsed reference: ``kind`` is keyring/env/file, ``target`` what follows the colon."""

    kind: str
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def _plugin_kind(kind: str) -> bool:
    """Whether an installed package adds ``kind`` through ``connprof.secret_sources``.

    Asked only for a kind that is not built in, so the usual references cost nothing.
    """
    if not kind.isidentifier():
        return False
    # deferred: importlib.metadata is slow to import, and built-in kinds never get here
    from importlib.metadata import entry_points

    return any(ep.name == kind for ep in entry_points(group="connprof.secret_sources"))


def _misspelt_kind(kind: str) -> str | None:
    """The built-in kind ``kind`` is a misspelling of (``evn``, ``KEYRING``), or None."""
    if not kind.isalpha() or len(kind) > 12:
        return None
    if kind.lower() in KINDS:
        return kind.lower()
    import difflib  # deferred: slow to import, and only a mistake needs it

    close = difflib.get_close_matches(kind.lower(), KINDS, n=1, cutoff=0.6)
    return close[0] if close else None


def parse_secret_ref(text: str) -> SecretRef:
    """Parse a reference or raise ``PydanticCustomError`` without echoing ``text``."""
    kind, colon, target = text.partition(":")
    if colon and kind not in KINDS and not _plugin_kind(kind):
        meant = _misspelt_kind(kind)
        if meant is not None:
            # Named by the suggestion only: what precedes the colon might be part of a secret.
            raise PydanticCustomError(
                "secret_reference",
                f"this is no secret reference (the kinds are keyring:, env:NAME, file:PATH, in "
                f"lower case); did you mean '{meant}:'?",
            )
    if not colon or (kind not in KINDS and not _plugin_kind(kind)):
        raise PydanticCustomError(
            "plaintext_secret",
            "a secret field holds a reference, not the secret: store the value with "
            '`connprof secret set PROFILE FIELD` and write "keyring:" here, quoted (or env:NAME, '
            "file:PATH, exec:COMMAND)",
        )
    if kind == "keyring" and target:
        service, slash, user = target.partition("/")
        if not (slash and service and user):
            raise PydanticCustomError(
                "secret_reference",
                "a keyring reference is `keyring:` (service connprof, user PROFILE/FIELD) or "
                "`keyring:SERVICE/USERNAME`",
            )
    if kind == "env" and not _ENV_NAME.match(target):
        raise PydanticCustomError(
            "secret_reference",
            "an env reference is env:NAME with NAME made of letters, digits and '_'",
        )
    if kind == "file" and not target.strip():
        raise PydanticCustomError("secret_reference", "a file reference is file:PATH")
    if kind == "exec" and not _splits(target):
        raise PydanticCustomError(
            "secret_reference",
            "an exec reference is exec:COMMAND ARGS, split as a shell would (check the quotes)",
        )
    return SecretRef(kind, target)


def _splits(command: str) -> bool:
    try:
        return bool(shlex.split(command))
    except ValueError:  # an unclosed quote
        return False


def check_secret_ref(text: str) -> str:
    """Pydantic after-validator: keep the reference text once it parses."""
    parse_secret_ref(text)
    return text
