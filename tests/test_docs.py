"""The documentation: generated pages match the code, and the README stays the front door.

The lint-rule table, the CLI reference and the API list in ``docs/`` are generated from
``RULES``, the argument parser and ``connprof.__all__`` (``python -m connprof._docs``); like the
JSON Schema, they must not drift from the code they describe.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from connprof import _docs

ROOT = Path(__file__).resolve().parents[1]


def test_generated_pages_match_the_code() -> None:
    drifted = _docs.check(ROOT / "docs")
    assert not drifted, f"{drifted} drifted from the code: run python -m connprof._docs"


def test_check_fails_on_drift_and_regeneration_fixes_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for page in {page for page, _ in _docs.REGIONS}:
        (docs / page).write_bytes((ROOT / "docs" / page).read_bytes())
    cli = docs / "cli.md"
    cli.write_text(cli.read_text().replace("| `--explain` |", "| `--explained` |"))
    command = [sys.executable, "-m", "connprof._docs", "--docs", str(docs)]
    drift = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert drift.returncode == 1
    assert "cli.md: generated text drifted; run python -m connprof._docs" in drift.stderr
    subprocess.run(command, check=True, capture_output=True)
    assert cli.read_bytes() == (ROOT / "docs" / "cli.md").read_bytes()


def test_a_new_command_appears_in_the_cli_page() -> None:
    # Commands other branches add show up on regeneration, hidden ones never.
    from connprof._cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    new = sub.add_parser("frobnicate", help="frobnicate a profile")
    new.add_argument("--level", choices=("low", "high"), default="low", help="how hard")
    sub.add_parser("__hidden", help=argparse.SUPPRESS)
    page = _docs.render_cli(parser)
    assert "| [`connprof frobnicate`](#connprof-frobnicate) | frobnicate a profile |" in page
    assert "connprof frobnicate [--level {low,high}]" in page
    assert "| `--level {low,high}` | how hard (default: `low`) |" in page
    assert "__hidden" not in page


def test_every_public_name_is_on_the_api_page() -> None:
    import connprof

    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in connprof.__all__:
        if not name.startswith("_"):
            assert f"::: connprof.{name}\n" in page


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    blocks = readme.split("```sh\n")
    assert blocks[1].startswith(
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/connprof --config "
        "sample_profiles/connprof.yaml show prod\n```"
    )
    assert blocks[2].startswith(
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && "
        ".venv/bin/python -m pytest\n```"
    )


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_every_page_is_in_the_nav(page: str) -> None:
    # mkdocs only mentions a page left out of the nav; --strict does not fail on it.
    assert f": {page}\n" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
