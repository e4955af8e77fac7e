"""The ``env:NAME`` source: a secret from an environment variable (CI, containers)."""

from __future__ import annotations

import os

from .._errors import SecretNotFound
from ._source import where

__all__ = ["EnvSource"]


class EnvSource:
    """Reads ``os.environ`` when asked, never at import. Read-only: connprof cannot export."""

    def get(self, target: str, *, profile: str, field: str) -> str:
        value = os.environ.get(target)
        at = where(profile, field, f"env:{target}")
        if value is None:
            raise SecretNotFound(
                f"{at}: the environment variable {target} is not set; "
                f"export {target}=... before running (in CI, map the secret to {target})"
            )
        # An empty value is nearly always a CI secret that did not expand, not a password.
        if not value:
            raise SecretNotFound(
                f"{at}: the environment variable {target} is empty; "
                f"export {target}=... with the secret"
            )
        return value
