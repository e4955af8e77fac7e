"""The problem codes: one table of hints, documented in docs/doctor.md, every one produced."""

from __future__ import annotations

import re
from pathlib import Path

from connprof._doctor import HINTS
from tests.helpers import ROOT

#: The codes issue #11 names; connprof adds one for offline findings it also must name, and
#: issue #12 the login step's two.
ISSUE_CODES = {
    "dns_failed",
    "connection_refused",
    "timeout",
    "not_tls",
    "untrusted_certificate",
    "expired_certificate",
    "certificate_not_yet_valid",
    "hostname_mismatch",
    "protocol_version",
    "client_certificate_required",
    "client_certificate_rejected",
    "fingerprint_mismatch",
    "missing_file",
    "bad_file",
    "key_mismatch",
    "bad_key_password",
    "secret_unresolved",
}
ADDED = {"unsupported_setting", "auth_failed", "login_failed"}


def test_every_code_has_one_hint() -> None:
    assert set(HINTS) == ISSUE_CODES | ADDED
    for code, hint in HINTS.items():
        assert hint and "\n" not in hint, code


def test_the_docs_list_every_code() -> None:
    text = (ROOT / "docs" / "doctor.md").read_text(encoding="utf-8")
    table = text[text.index("## Problem codes") :]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert documented == set(HINTS)


def test_every_code_is_produced_by_a_test() -> None:
    # A code no test asserts is a code nobody has seen happen.
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in Path(__file__).parent.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    missing = [code for code in HINTS if f'"{code}"' not in tests]
    assert not missing
