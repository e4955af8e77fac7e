"""Every file connprof reads for a user, planted as a FIFO or a device: no hang, no MemoryError.

Profile files, ``file:`` secrets and the TLS files ``lint --check-files`` reads each come
through ``connprof._safeio``; the cache has its own tests in tests/test_config.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import connprof
from connprof import ConnprofError, SecretError
from tests.helpers import run_cli, write_file

pytestmark = pytest.mark.skipif(
    not (hasattr(os, "mkfifo") and os.path.exists("/dev/zero")), reason="needs FIFOs and /dev/zero"
)


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception, failing the test if it is still running after
    ``seconds`` (a blocked ``open()`` of a FIFO cannot be interrupted otherwise)."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(("ok", call()))
        except BaseException as exc:
            box.append(("raised", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: it blocked or read on"
    kind, value = box[0]
    if kind == "raised":
        raise value
    return value


@pytest.fixture(params=["fifo", "dev_zero"])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A FIFO, or a symlink to /dev/zero, at a path that looks like a file."""
    path = tmp_path / "planted" / "thing"
    path.parent.mkdir()
    if request.param == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def test_a_profile_file_that_is_a_fifo_or_a_device(
    tmp_path: Path, hostile: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    target = tmp_path / "cwd-repo"
    target.mkdir()
    (target / "connprof.yaml").symlink_to(hostile)
    monkeypatch.chdir(target)
    # Discovered (a cloned repository's connprof.yaml) or named: an error, not a hang.
    for config in (None, str(hostile)):
        with pytest.raises(ConnprofError) as caught:
            within(10, lambda config=config: connprof.load_profile("p", config=config))
        assert "\n" not in str(caught.value)
    with pytest.raises(ConnprofError, match="not a regular file"):
        connprof.lint_paths([target / "connprof.yaml"])
    found = within(10, lambda: connprof.lint_paths([target]))  # the folder: each *.yaml in it
    assert [d.code for d in found] == ["CP001"], found
    assert "not a regular file" in found[0].message
    result = within(10, lambda: run_cli("lint", str(target)))
    assert result.returncode == 1 and result.stdout.count("\n") == 1, result


def secret_profile(tmp_path: Path, target: Path) -> Path:
    return write_file(
        tmp_path / "p.yaml",
        "profiles:\n  p:\n    driver: cassandra\n    hosts: [db]\n"
        f'    auth: {{user: app, password: "file:{target}"}}\n',
    )


def test_a_file_secret_that_is_a_fifo_or_a_device(
    tmp_path: Path, hostile: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    cfg = secret_profile(tmp_path, hostile)
    profile = connprof.load_profile("p", config=str(cfg))
    with pytest.raises(SecretError, match="not a regular file"):
        within(10, profile.driver_kwargs)
    result = within(10, lambda: run_cli("--config", str(cfg), "secret", "check", "p"))
    assert result.returncode == 1 and "not a regular file" in result.stdout, result
    assert "Traceback" not in result.stderr


def test_a_file_secret_larger_than_any_secret_is_refused_unread(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    big = tmp_path / "secret.txt"
    big.write_bytes(b"x" * (1 << 20))
    big.chmod(0o600)
    cfg = secret_profile(tmp_path, big)
    with pytest.raises(SecretError, match="larger than 64 KiB"):
        connprof.load_profile("p", config=str(cfg)).driver_kwargs()


def test_a_loose_file_secret_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    # The mode is judged on the open descriptor, before the content is read (a FIFO would have
    # hung an open() that came first).
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2-9f1a\n")
    secret.chmod(0o666)
    cfg = secret_profile(tmp_path, secret)
    with pytest.raises(SecretError, match="writable by group or others") as caught:
        connprof.load_profile("p", config=str(cfg)).driver_kwargs()
    assert "hunter2" not in repr(caught.value)


def test_lint_check_files_with_tls_files_that_are_fifos_or_devices(
    tmp_path: Path, hostile: Path
) -> None:
    cfg = write_file(
        tmp_path / "p.yaml",
        "profiles:\n  p:\n    driver: cassandra\n    hosts: [db]\n"
        f"    tls:\n      ca: {hostile}\n      client_cert: {hostile}\n"
        f"      client_key: {hostile}\n",
    )
    found = within(20, lambda: connprof.lint_paths([cfg], check_files=True))
    cp041 = sorted(d.line for d in found if d.code == "CP041")
    assert cp041 == [6, 7, 8], [d.format() for d in found]
    assert all("not a regular file" in d.message for d in found if d.code == "CP041")
    result = within(20, lambda: run_cli("lint", "--check-files", str(cfg)))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result


def test_lint_check_files_with_a_ca_too_large_to_be_a_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    with ca.open("wb") as out:
        out.truncate(17 * 1024 * 1024)  # sparse: 17 MiB of zeros, above the 16 MiB limit
    cfg = write_file(
        tmp_path / "p.yaml",
        f"profiles:\n  p:\n    driver: cassandra\n    hosts: [db]\n    tls:\n      ca: {ca}\n",
    )
    found = connprof.lint_paths([cfg], check_files=True)
    assert [(d.code, d.line) for d in found] == [("CP041", 6)], [d.format() for d in found]
    assert "larger than 16 MiB" in found[0].message
