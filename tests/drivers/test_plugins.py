"""Third-party drivers: a real installed distribution with a ``connprof.drivers`` entry point."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import connprof
from connprof._errors import PluginError, ProfileValidationError

FAKEDB = """\
    NAME = "fakedb"

    def emit(profile):
        from connprof.drivers import secret
        address = f"{profile.hosts[0]}:{profile.port or 1234}"
        return {"address": address, "secret": secret(profile, "auth.password")}
"""


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> Path:
    site = tmp_path / "site"
    dist = site / "connprof_fakedb-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: connprof-fakedb\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[connprof.drivers]\nfakedb = connprof_fakedb_test\n")
    (site / "connprof_fakedb_test.py").write_text(textwrap.dedent(module))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "connprof_fakedb_test", raising=False)
    return site


def profile_file(tmp_path: Path, driver: str = "fakedb") -> str:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"profiles:\n  x:\n    driver: {driver}\n    hosts: [db.internal]\n"
        '    auth: {user: u, password: "env:FAKEDB_PW"}\n'
    )
    return str(path)


def test_a_plugin_driver_emits_and_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, FAKEDB)
    monkeypatch.setenv("FAKEDB_PW", "plugin-pw-5d1")
    profile = connprof.load_profile("x", config=profile_file(tmp_path))
    assert profile.driver == "fakedb"
    kw = profile.driver_kwargs()
    assert kw == {"address": "db.internal:1234", "secret": "plugin-pw-5d1"}
    assert "plugin-pw-5d1" not in repr(kw)


def test_show_prints_a_plugin_drivers_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = install(tmp_path, monkeypatch, FAKEDB)
    monkeypatch.setenv("PYTHONPATH", str(site))
    done = subprocess.run(
        [sys.executable, "-m", "connprof", "--config", profile_file(tmp_path), "show", "x",
         "--format", "kwargs"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"secret": "env:FAKEDB_PW"' in done.stdout


def test_a_plugin_that_fails_to_load_is_an_error_not_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, "raise ImportError('fakedb-client is missing')\n")
    profile = connprof.load_profile("x", config=profile_file(tmp_path))
    with pytest.raises(PluginError, match=r"driver plugin 'fakedb' .*fakedb-client is missing"):
        profile.driver_kwargs()


def test_an_unknown_driver_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ProfileValidationError, match="driver: Input should be 'pymongo'"):
        connprof.load_profile("x", config=profile_file(tmp_path, driver="fakedb"))
