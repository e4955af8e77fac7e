"""Finding the real Secret Service for keyring tests, and the skip-or-fail rule around it.

``.ci/run`` starts gnome-keyring in a private D-Bus session and sets
``CONNPROF_REQUIRE_KEYRING=1``: there, a missing Secret Service fails the keyring tests. On a
developer machine without one they are skipped, with the reason shown by ``-ra``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


def unavailable_reason() -> str | None:
    """Why the Secret Service cannot be used here, or None when it can."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset); run under bash .ci/run"
    if shutil.which("secret-tool") is None:
        return "secret-tool is not installed (apt-get install libsecret-tools)"
    from keyring.backends.SecretService import Keyring

    try:
        Keyring.priority  # noqa: B018 - the property probes D-Bus for the service
    except RuntimeError as exc:
        return f"no Secret Service on the session bus ({exc})"
    return None


def need(reason: str | None) -> None:
    """Skip (developer machine) or fail (CI, CONNPROF_REQUIRE_KEYRING=1) when ``reason``."""
    if reason is None:
        return
    if os.environ.get("CONNPROF_REQUIRE_KEYRING", "") not in ("", "0"):
        pytest.fail(f"CONNPROF_REQUIRE_KEYRING=1 but the keyring tests cannot run: {reason}")
    pytest.skip(f"keyring tests need a Secret Service: {reason}")


def use_secret_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point keyring (and so connprof) at the real Secret Service for this test."""
    need(unavailable_reason())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", SECRET_SERVICE)


def unique_profile() -> str:
    # A name no real profile has: on a developer's own keyring, nothing is overwritten.
    return f"connprof-test-{uuid.uuid4().hex[:12]}"


def secret_tool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["secret-tool", *args], check=False, input=stdin, capture_output=True, text=True, timeout=30
    )


def lookup(service: str, username: str) -> str | None:
    """The value ``secret-tool`` finds for an entry, or None."""
    done = secret_tool("lookup", "service", service, "username", username)
    return done.stdout if done.returncode == 0 else None


def store(service: str, username: str, value: str) -> None:
    done = secret_tool(
        "store", "--label", f"connprof test {username}", "service", service, "username",
        username, stdin=value,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def clear(service: str, username: str) -> None:
    secret_tool("clear", "service", service, "username", username)
