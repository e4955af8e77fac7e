"""``lint_paths`` on generated profile files: diagnostics, never an exception but ConnprofError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from connprof import lint_paths
from connprof._lint.report import FORMATS
from tests.fuzz.checks import check_error, check_text
from tests.fuzz.strategies import profile_files

_FOLDER = Path(tempfile.mkdtemp(prefix="connprof-fuzz-lint-"))


@given(profile_files(), st.booleans())
def test_lint_paths(text: str, check_files: bool) -> None:
    path = _FOLDER / "connprof.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        found = lint_paths([path], check_files=check_files)
    except Exception as exc:
        check_error(exc)
        return
    for d in found:
        check_text(d.format(), "a diagnostic")
    for fmt, render in FORMATS.items():
        # JSON spreads over lines by design; text and github give one line per finding.
        lines = 10**6 if fmt == "json" else max(len(found), 1)
        check_text(render(found), f"the {fmt} report", lines=lines)
