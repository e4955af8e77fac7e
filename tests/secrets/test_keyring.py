"""The keyring source against a real gnome-keyring, cross-checked with ``secret-tool``.

Under ``.ci/run`` these run in a private D-Bus session with an unlocked, throw-away keyring.
The locked and never-unlocked cases start their own nested sessions, so they never lock the
keyring the other tests (or a developer's desktop) use.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connprof._errors import SecretNotFound
from connprof.secrets import SecretResolver, delete_secret, resolve_secret, store_secret
from tests import keyring_service as ks
from tests.helpers import run_connprof_process, write_file

pytestmark = pytest.mark.keyring


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    ks.use_secret_service(monkeypatch)
    name = ks.unique_profile()
    yield name
    for leaf in ("password", "token", "refresh_token", "client_key_password"):
        ks.clear("connprof", f"{name}/{leaf}")


def test_stored_by_connprof_read_by_secret_tool(profile: str) -> None:
    store_secret("keyring:", profile=profile, field="password", value="from-connprof ü")
    store_secret("keyring:", profile=profile, field="tls.client_key_password", value="key-pw")
    assert ks.lookup("connprof", f"{profile}/password") == "from-connprof ü"
    assert ks.lookup("connprof", f"{profile}/client_key_password") == "key-pw"


def test_stored_by_secret_tool_read_by_connprof(profile: str) -> None:
    # keyring:SERVICE/USERNAME splits at the first slash: the user may contain more.
    ks.store("connprof-test-svc", f"{profile}/app/ro", "from-secret-tool")
    try:
        reference = f"keyring:connprof-test-svc/{profile}/app/ro"
        assert resolve_secret(reference, profile=profile, field="token") == "from-secret-tool"
    finally:
        ks.clear("connprof-test-svc", f"{profile}/app/ro")


def test_store_replaces_and_delete_removes(profile: str) -> None:
    store_secret("keyring:", profile=profile, field="password", value="one")
    store_secret("keyring:", profile=profile, field="password", value="two")
    assert resolve_secret("keyring:", profile=profile, field="password") == "two"
    delete_secret("keyring:", profile=profile, field="password")
    assert ks.lookup("connprof", f"{profile}/password") is None
    with pytest.raises(SecretNotFound, match="nothing to remove"):
        delete_secret("keyring:", profile=profile, field="password")


def test_a_missing_entry_names_the_entry_and_the_command(profile: str) -> None:
    with pytest.raises(SecretNotFound) as caught:
        resolve_secret("keyring:", profile=profile, field="auth.refresh_token")
    assert str(caught.value) == (
        f"profile '{profile}': auth.refresh_token (keyring:): no keyring entry (service "
        f"connprof, user {profile}/refresh_token); store it with "
        f"`connprof secret set {profile} refresh_token`"
    )


def test_the_shorthand_entry_depends_on_the_field_in_one_resolver(profile: str) -> None:
    ks.store("connprof", f"{profile}/password", "pw")
    ks.store("connprof", f"{profile}/token", "tok")
    resolver = SecretResolver(profile)
    assert resolver.get("keyring:", "password") == "pw"
    assert resolver.get("keyring:", "token") == "tok"


# -- the CLI against the real keyring ---------------------------------------------------------


def write_config(folder: Path, profile: str, password: str | None = '"keyring:"') -> Path:
    auth = f"\n    auth:\n      user: app\n      password: {password}" if password else ""
    text = f"profiles:\n  {profile}:\n    driver: pymongo\n    hosts: [db.example.com]{auth}\n"
    return write_file(folder / "connprof.yaml", text)


def test_secret_set_from_a_pipe_in_a_real_process(profile: str, tmp_path: Path) -> None:
    config = str(write_config(tmp_path, profile))
    done = run_connprof_process(
        "--config", config, "secret", "set", profile, "password", stdin="piped-pw\n"
    )
    assert done.returncode == 0, done.stderr
    assert ks.lookup("connprof", f"{profile}/password") == "piped-pw"
    assert "piped-pw" not in done.stdout + done.stderr
    check = run_connprof_process("--config", config, "secret", "check", profile)
    assert check.returncode == 0, check.stdout
    assert check.stdout.startswith("OK")
    assert "piped-pw" not in check.stdout + check.stderr
    rm = run_connprof_process("--config", config, "secret", "rm", profile, "password")
    assert rm.returncode == 0, rm.stderr
    assert ks.lookup("connprof", f"{profile}/password") is None


def test_secret_set_on_a_terminal_prompts_without_echo(profile: str, tmp_path: Path) -> None:
    config = str(write_config(tmp_path, profile))
    argv = [sys.executable, "-m", "connprof", "--config", config, "secret", "set", profile,
            "password"]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:  # the child: a real terminal on stdin/stdout/stderr
        os.execve(sys.executable, argv, dict(os.environ))
    screen = b""

    def read_until(marker: bytes) -> None:
        nonlocal screen
        deadline = time.monotonic() + 30
        while marker not in screen and time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk

    read_until(b"(input hidden): ")
    os.write(fd, b"typed-on-a-tty\n")
    read_until(b"confirm: ")
    os.write(fd, b"typed-on-a-tty\n")
    read_until(b"stored ")
    read_until(b"\n" + b"x" * 64)  # to EOF
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert b"typed-on-a-tty" not in screen  # what the terminal showed
    # The prompt says which secret is asked for.
    assert f"auth.password of profile '{profile}' (input hidden): ".encode() in screen
    assert ks.lookup("connprof", f"{profile}/password") == "typed-on-a-tty"


# -- a locked keyring and one that was never unlocked: nested private sessions ----------------

SESSION = r"""
export HOME="$1" XDG_DATA_HOME="$1/.local/share" XDG_RUNTIME_DIR="$1/run"
mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
if [ -n "$2" ]; then
  eval "$(printf %s "$2" | gnome-keyring-daemon --unlock --components=secrets)"
  for _ in $(seq 250); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
      | grep -q "boolean true" && break
    sleep 0.02
  done
fi
shift 2
exec "$@"
"""


def in_session(
    home: Path, unlock_with: str, *argv: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a fresh D-Bus session whose gnome-keyring keeps its files in ``home``."""
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon", "dbus-send")
               if shutil.which(t) is None]  # fmt: skip
    ks.need(f"{', '.join(missing)} not installed" if missing else None)
    runtime = home / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    # Set before the bus starts: a daemon D-Bus activates gets the bus's environment, and with
    # the outer session's runtime dir or bus address it would find the outer keyring instead.
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": ks.SECRET_SERVICE,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", SESSION, "session", str(home), unlock_with,
         *argv],
        input=stdin, capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip


def test_a_locked_keyring_is_an_error_with_a_fix(tmp_path: Path) -> None:
    home = tmp_path / "keyring-home"
    home.mkdir()
    config = str(write_config(tmp_path, "prod"))
    store = textwrap.dedent(
        """
        from connprof.secrets import store_secret
        store_secret("keyring:", profile="prod", field="password", value="locked-away")
        """
    )
    first = in_session(home, "right-password", sys.executable, "-c", store)
    assert first.returncode == 0, first.stderr
    # The same keyring file, unlocked with the wrong password, stays locked.
    check = in_session(home, "wrong-password", sys.executable, "-m", "connprof", "--config",
                       config, "secret", "check", "prod")  # fmt: skip
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout.startswith("FAIL")
    assert "the keyring is locked" in check.stdout
    assert "gnome-keyring-daemon --unlock" in check.stdout
    assert "locked-away" not in check.stdout + check.stderr
    show = in_session(home, "wrong-password", sys.executable, "-m", "connprof", "--config",
                      config, "show", "prod", "--reveal")  # fmt: skip
    assert show.returncode == 1
    assert "connprof: error: profile 'prod': auth.password (keyring:): the keyring is locked" in (
        show.stderr
    )
    assert "locked-away" not in show.stdout + show.stderr


def test_a_keyring_that_was_never_unlocked_is_an_error_with_a_fix(tmp_path: Path) -> None:
    # gnome-keyring is activated by D-Bus, has no collection, and wants a prompt: none here.
    home = tmp_path / "keyring-home"
    home.mkdir()
    config = str(write_config(tmp_path, "prod"))
    done = in_session(home, "", sys.executable, "-m", "connprof", "--config", config, "secret",
                      "set", "prod", "password", stdin="never-stored\n")  # fmt: skip
    assert done.returncode == 1
    assert "the keyring could not be opened" in done.stderr, done.stderr
    assert "never-stored" not in done.stdout + done.stderr
