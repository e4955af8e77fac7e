"""What ``doctor`` found, as frozen records: one ``Check`` per step, the ``Report`` that holds them.

The records are plain data (no secret value ever goes into one: messages name fields and
references). ``Report.to_json()`` is the ``--format json`` document; ``format_text`` the
terminal form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = ["STEPS", "CertificateInfo", "Check", "Report", "Step", "format_text"]

Step = Literal["files", "secrets", "dns", "tcp", "tls", "certificate", "login"]
#: Every step, in the order they run (``login`` once per profile, after every endpoint).
STEPS: tuple[Step, ...] = ("files", "secrets", "dns", "tcp", "tls", "certificate", "login")

#: The target of the checks that need no connection (files, secrets, driver settings).
OFFLINE_TARGET = "files"


@dataclass(frozen=True)
class Check:
    """One step's outcome for one target (``host:port``, or ``files`` for the offline checks).

    ``ok`` is False for a failure, which has a stable ``problem`` code and a ``hint``; a check
    that passed with a caveat (verification off, a certificate about to expire, a step skipped)
    has ``ok`` True and ``warning`` True.
    """

    target: str
    step: Step
    ok: bool
    message: str
    problem: str | None = None
    hint: str | None = None
    warning: bool = False

    @property
    def mark(self) -> str:
        """``✓``, ``✗`` or ``!``."""
        if not self.ok:
            return "✗"
        return "!" if self.warning else "✓"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "step": self.step,
            "ok": self.ok,
            "problem": self.problem,
            "message": self.message,
            "hint": self.hint,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class CertificateInfo:
    """The certificate a server presented, and the connection it was presented on."""

    subject: str
    issuer: str
    not_after: str  # ISO-8601, UTC ("" when the certificate could not be read)
    sans: tuple[str, ...]
    fingerprint_sha256: str  # upper-case hex of the SHA-256 of the leaf's DER (as pyexasol)
    tls_version: str
    cipher: str
    verified: bool  # whether the chain was checked against the profile's CA

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_after": self.not_after,
            "sans": list(self.sans),
            "fingerprint_sha256": self.fingerprint_sha256,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Report:
    """Everything one ``doctor`` run checked for one profile."""

    profile: str
    driver: str
    checks: tuple[Check, ...]
    certificate: Mapping[str, CertificateInfo] = field(default_factory=lambda: MappingProxyType({}))
    offline: bool = False

    @property
    def ok(self) -> bool:
        """True when every check passed (warnings allowed)."""
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "driver": self.driver,
            "ok": self.ok,
            "offline": self.offline,
            "checks": [c.to_dict() for c in self.checks],
            "certificate": {t: c.to_dict() for t, c in self.certificate.items()},
        }

    def to_json(self) -> str:
        """The ``connprof doctor --format json`` document."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


_COLOURS = {"✓": "\033[32m", "✗": "\033[31m", "!": "\033[33m"}
_RESET = "\033[0m"


def format_text(report: Report, *, colour: bool = False) -> str:
    """One line per check (mark, target, step, message), the hint under each failure."""
    width = max((len(c.target) for c in report.checks), default=5)
    lines = [f"connprof doctor: profile {report.profile} (driver {report.driver})"]
    for c in report.checks:
        mark = f"{_COLOURS[c.mark]}{c.mark}{_RESET}" if colour else c.mark
        code = f" [{c.problem}]" if c.problem else ""
        lines.append(f"{mark} {c.target:<{width}}  {c.step:<11}  {c.message}{code}")
        if c.hint and (not c.ok or c.warning):
            lines.append(f"  {' ' * width}  {'':<11}  hint: {c.hint}")
    failed = len(report.problems)
    warned = sum(c.ok and c.warning for c in report.checks)
    summary = f"{failed} problem{'s' * (failed != 1)} found" if failed else "every check passed"
    if warned:
        summary += f", {warned} warning{'s' * (warned != 1)}"
    if report.offline:
        summary += " (offline: no connection was made)"
    lines.append(summary)
    return "\n".join(lines) + "\n"
