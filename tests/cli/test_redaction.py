"""Whatever echoes a raw endpoint string (list, errors, lint) shows it without its user info."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connprof import lint_paths
from tests.helpers import run_cli, write_file

SECRET = "hunter2-c4n4ry"
PROFILES = f"""profiles:
  exa: {{driver: pyexasol, dsn: "admin:{SECRET}@db1..3:8563"}}
  crate_url: {{driver: crate, hosts: ["https://admin:{SECRET}@db:4200", "http://u:{SECRET}@x"]}}
  bad_uri: {{driver: pymongo, uri: "mongodb://admin:{SECRET}@db:99999/"}}
  bare: {{driver: crate, hosts: ["admin:{SECRET}@db"], tls: false}}
  query: {{driver: crate, hosts: ["https://db:4200/?password={SECRET}"]}}
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    return write_file(tmp_path / "leaky.yaml", PROFILES)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_list_never_prints_the_user_info_of_an_invalid_endpoint(cfg: Path, fmt: str) -> None:
    result = run_cli("--config", str(cfg), "list", "--format", fmt)
    assert result.returncode == 1  # an invalid profile is a problem in either format
    assert SECRET not in result.stdout + result.stderr
    out = (
        result.stdout
        if fmt == "text"
        else "\n".join(r["endpoints"] for r in json.loads(result.stdout))
    )
    for shown in ("db1..3:8563", "https://db:4200,http://x", "mongodb://db:99999/", "db:4200"):
        assert shown in out, out


def test_show_and_lint_never_echo_it_either(cfg: Path) -> None:
    for name in ("exa", "crate_url", "bad_uri", "bare"):
        result = run_cli("--config", str(cfg), "show", name)
        assert SECRET not in result.stdout + result.stderr, name
    for fmt in ("text", "json", "github"):
        result = run_cli("lint", "--format", fmt, str(cfg))
        assert SECRET not in result.stdout + result.stderr, fmt
    assert all(SECRET not in d.message for d in lint_paths([cfg]))
