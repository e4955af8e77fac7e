"""Third-party drivers: a real installed distribution with a ``connprof.drivers`` entry point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import connprof
from connprof._errors import PluginError, ProfileValidationError
from tests.helpers import install_plugin, run_connprof_process, write_profiles

FAKEDB = """\
    NAME = "fakedb"

    def emit(profile):
        from connprof.drivers import secret
        address = f"{profile.hosts[0]}:{profile.port or 1234}"
        return {"address": address, "secret": secret(profile, "auth.password")}
"""


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> Path:
    """The distribution connprof-fakedb, whose module ``module`` is the driver ``fakedb``."""
    return install_plugin(
        tmp_path / "site", monkeypatch, group="connprof.drivers", name="fakedb",
        target="connprof_fakedb_test", source=module,
    )  # fmt: skip


def profile_file(tmp_path: Path, driver: str = "fakedb") -> str:
    profile = {"driver": driver, "hosts": ["db.internal"],
               "auth": {"user": "u", "password": "env:FAKEDB_PW"}}  # fmt: skip
    return str(write_profiles(tmp_path / "p.yaml", {"x": profile}))


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
    # A real process, so the entry point is found as a user's installed plugin is: on the path
    # the process starts with.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    )
    done = run_connprof_process(
        "--config", profile_file(tmp_path), "show", "x", "--format", "kwargs"
    )
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
