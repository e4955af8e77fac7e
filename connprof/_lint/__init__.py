"""``connprof lint``: check profile files without a keyring, a network or the secrets.

Results (``Diagnostic``) are kept apart from how they are shown (``connprof._lint.report``).
Every rule code, its severity and its fix are listed in ``RULES``.
"""

from __future__ import annotations

from .diagnostics import RULES, Diagnostic, Severity
from .engine import lint_config, lint_paths

__all__ = ["RULES", "Diagnostic", "Severity", "lint_config", "lint_paths"]
