"""What ``import`` and ``secret set/rm`` may do to the keyring (issue 15, item 7).

- ``import`` writes the profile file first, exclusively, and only then the keyring; a keyring
  failure takes the file back. An entry that already holds a value (another profile's password,
  or one left behind) is kept unless ``--force``; of racing imports, only the one whose file was
  written changes the keyring.
- ``secret set`` over an entry that holds a value needs ``--force``, checked before the prompt;
  ``secret set/rm`` of another service's entry (``keyring:other-app/alice``) needs ``--force``.

Against the real Secret Service (``.ci/run`` starts one), except where a backend that fails on
purpose is the point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connprof._discover import user_config_dir
from tests import keyring_service as ks
from tests.helpers import Stdin, run_cli, write_file

PASSWORD = "hunter2-imp0rt"
URI = f"mongodb://app:{PASSWORD}@db.example.com/orders"


def target(name: str) -> Path:
    return Path(user_config_dir()) / "profiles.d" / f"{name}.yaml"


@pytest.fixture
def name(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    ks.use_secret_service(monkeypatch)
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    profile = ks.unique_profile()
    yield profile
    for leaf in ("password", "token"):
        ks.clear("connprof", f"{profile}/{leaf}")


# -- import ---------------------------------------------------------------------------------------


@pytest.mark.keyring
def test_import_keeps_an_existing_entry_without_force(name: str) -> None:
    ks.store("connprof", f"{name}/password", "another-profiles-password")
    done = run_cli("import", URI, "--name", name, code=1)
    assert "already holds a password" in done.stderr and "--force" in done.stderr
    assert done.stderr.count("\n") == 1 and PASSWORD not in done.stderr
    assert ks.lookup("connprof", f"{name}/password") == "another-profiles-password"
    assert not target(name).exists()
    run_cli("import", URI, "--name", name, "--force", code=0)
    assert ks.lookup("connprof", f"{name}/password") == PASSWORD
    assert target(name).exists()


@pytest.mark.keyring
def test_import_over_an_existing_file_changes_no_keyring_entry(name: str) -> None:
    write_file(target(name), "profiles: {}\n")
    run_cli("import", URI, "--name", name, code=1)
    assert ks.lookup("connprof", f"{name}/password") is None


@pytest.mark.keyring
def test_racing_imports_that_fail_change_nothing(name: str, tmp_path: Path) -> None:
    # Ten imports of one name at once, each with its own password: one writes the file, and
    # the keyring holds that one's password; the others exit 1 having changed nothing.
    runs = 10
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "connprof", "import", "-", "--name", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runs)
    ]
    passwords = [f"pw-{i}-{uuid.uuid4().hex[:6]}" for i in range(runs)]
    for proc, pw in zip(procs, passwords, strict=True):
        assert proc.stdin is not None
        proc.stdin.write(f"mongodb://app:{pw}@db.example.com/\n")
        proc.stdin.close()
    codes = []
    for proc in procs:
        proc.wait(timeout=120)
        codes.append(proc.returncode)
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    winners = [i for i, code in enumerate(codes) if code == 0]
    assert len(winners) == 1, codes
    assert sorted(codes) == [0] + [1] * (runs - 1), codes
    assert ks.lookup("connprof", f"{name}/password") == passwords[winners[0]]


FAILING_WRITE = """
    from keyring.backend import KeyringBackend

    class NoWrites(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise RuntimeError("the store refused the write")

        def delete_password(self, service, username):
            raise RuntimeError("no deletes")
    """


@pytest.fixture
def no_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "no_writes_backend.py").write_text(textwrap.dedent(FAILING_WRITE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "no_writes_backend", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_writes_backend.NoWrites")


def test_a_keyring_that_fails_the_write_takes_the_new_file_back(no_writes: None) -> None:
    done = run_cli("import", URI, "--name", "orders", code=1)
    assert "failed to write the entry" in done.stderr and PASSWORD not in done.stderr
    assert not target("orders").exists()
    assert not [p for p in target("orders").parent.iterdir() if p.name.startswith(".import-")]


def test_a_keyring_that_fails_the_write_puts_the_old_file_back(no_writes: None) -> None:
    old = "# mine\nprofiles:\n  orders: {driver: crate, hosts: [x]}\n"
    write_file(target("orders"), old)
    run_cli("import", URI, "--name", "orders", "--force", code=1)
    assert target("orders").read_text() == old


# -- secret set / rm -----------------------------------------------------------------------------


def profile_file(tmp_path: Path, name: str, reference: str) -> str:
    return str(
        write_file(
            tmp_path / "connprof.yaml",
            f"profiles:\n  {name}:\n    driver: pymongo\n    hosts: [db.example.com]\n"
            f'    auth: {{user: app, password: "{reference}"}}\n',
        )
    )


@pytest.mark.keyring
def test_secret_set_over_a_value_needs_force_and_asks_for_nothing(
    name: str, tmp_path: Path
) -> None:
    cfg = profile_file(tmp_path, name, "keyring:")
    ks.store("connprof", f"{name}/password", "the-current-one")
    stdin = Stdin("a-new-one\n")
    done = run_cli("--config", cfg, "secret", "set", name, "password", stdin=stdin, code=1)
    assert "already holds a value; pass --force" in done.stderr
    assert stdin.tell() == 0  # nothing was read: the user typed nothing for nothing
    assert ks.lookup("connprof", f"{name}/password") == "the-current-one"
    run_cli("--config", cfg, "secret", "set", name, "password", "--force", stdin="a-new-one\n",
            code=0)  # fmt: skip
    assert ks.lookup("connprof", f"{name}/password") == "a-new-one"


@pytest.mark.keyring
def test_another_services_entry_is_neither_written_nor_removed_without_force(
    name: str, tmp_path: Path
) -> None:
    service, user = f"other-app-{uuid.uuid4().hex[:8]}", "alice"
    cfg = profile_file(tmp_path, name, f"keyring:{service}/{user}")
    ks.store(service, user, "alices-own")
    try:
        for argv in (("set", name, "password"), ("rm", name, "password")):
            done = run_cli("--config", cfg, "secret", *argv, stdin="replaced\n", code=1)
            assert f"belongs to the keyring service '{service}'" in done.stderr, done
            assert ks.lookup(service, user) == "alices-own"
        # Reading it is fine: that is what the reference is for.
        assert run_cli("--config", cfg, "secret", "check", name, code=0).stdout.startswith("OK")
        # A fresh entry of another service also needs --force; with it, set and rm act.
        ks.clear(service, user)
        run_cli("--config", cfg, "secret", "set", name, "password", stdin="x\n", code=1)
        assert ks.lookup(service, user) is None
        run_cli("--config", cfg, "secret", "set", name, "password", "--force", stdin="x\n",
                code=0)  # fmt: skip
        assert ks.lookup(service, user) == "x"
        run_cli("--config", cfg, "secret", "rm", name, "password", "--force", code=0)
        assert ks.lookup(service, user) is None
    finally:
        ks.clear(service, user)


@pytest.mark.keyring
def test_secret_set_of_an_empty_entry_needs_no_force(name: str, tmp_path: Path) -> None:
    cfg = profile_file(tmp_path, name, "keyring:")
    run_cli("--config", cfg, "secret", "set", name, "password", stdin="first\n", code=0)
    assert ks.lookup("connprof", f"{name}/password") == "first"
    assert os.environ.get("PYTHON_KEYRING_BACKEND") == ks.SECRET_SERVICE
