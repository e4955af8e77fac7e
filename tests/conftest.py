"""Keep every test away from the real machine: its home, config and cache dirs, cwd and env."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest_plugins = ["tests.helpers", "tests.servers"]  # certs, handshake; real servers (lazy)

_CONNPROF_VARS = ("CONNPROF_CONFIG", "CONNPROF_PROFILE", "CONNPROF_NO_CACHE", "CONNPROF_CACHE_DIR",
                  "CONNPROF_TRUST_PROJECT", "CONNPROF_EXEC_TIMEOUT")  # fmt: skip


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Fresh HOME, XDG config/cache dirs and working directory; no CONNPROF_* variables.

    Subprocesses inherit all of it (monkeypatch edits ``os.environ`` and the process cwd).
    """
    home = tmp_path / "home"
    config_home = tmp_path / "xdg-config"
    cache_home = tmp_path / "xdg-cache"
    state_home = tmp_path / "xdg-state"  # the trust record (connprof trust)
    cwd = tmp_path / "cwd"
    for d in (home, config_home, cache_home, state_home, cwd):
        d.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    for name in _CONNPROF_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("CONNPROF__")]:  # per-field overrides
        monkeypatch.delenv(name)
    # No test may read or write the real keyring; tests that need one install their own.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.chdir(cwd)
    return SimpleNamespace(
        home=home, config_home=config_home, cache_home=cache_home, state_home=state_home, cwd=cwd
    )
