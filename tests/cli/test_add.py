"""``connprof add NAME``: in a real pseudo-terminal, and with flags and no terminal.

The file it writes to keeps every byte the user wrote; nothing is written when the profile
would not validate; secrets go to the real Secret Service (as the keyring tests run it) and
appear in the file only as ``"keyring:"``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests import keyring_service as ks
from tests.helpers import ROOT, run_cli, write_file

CERTS = ROOT / "sample_profiles" / "certs"
#: The prompt for the driver: every built-in driver, in the registry's order.
DRIVERS = "driver (pymongo, cassandra, crate, hazelcast, pyexasol, psycopg, redis, pymysql)"
CA = str(CERTS / "ca.pem")


def personal() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "connprof" / "profiles.yaml"


def profiles(path: Path) -> dict[str, dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    result: dict[str, dict[str, object]] = data["profiles"]
    return result


def connprof(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A real process with no terminal: stdin a pipe (closed at once unless ``stdin``)."""
    return subprocess.run(
        [sys.executable, "-m", "connprof", *argv],
        input=stdin if stdin is not None else "",
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def secret_profile(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    ks.use_secret_service(monkeypatch)
    name = ks.unique_profile()
    yield name
    for leaf in ("password", "client_key_password"):
        ks.clear("connprof", f"{name}/{leaf}")


# -- with flags, no terminal -----------------------------------------------------------------------


def test_flags_without_a_terminal_write_the_personal_file() -> None:
    done = connprof("add", "orders", "--driver", "mongodb", "--host", "db1.example.com",
                    "--host", "db2.example.com:27018", "--user", "app", "--ca", CA)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "next: connprof doctor orders"
    assert profiles(personal()) == {
        "orders": {
            "driver": "pymongo",
            "hosts": ["db1.example.com", "db2.example.com:27018"],
            "auth": {"user": "app"},
            "tls": {"ca": CA},
        }
    }
    assert stat.S_IMODE(personal().stat().st_mode) == 0o600
    shown = run_cli("show", "orders", "--format", "json", code=0)
    assert '"tlsCAFile"' in shown.stdout


def test_a_missing_answer_without_a_terminal_is_an_error_not_a_hang() -> None:
    started = time.monotonic()
    done = connprof("add", "orders", "--driver", "pymongo")  # no --host, stdin not a terminal
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    assert done.stderr == (
        "connprof: error: --host is needed (no terminal to ask on); pass --host, or run "
        "connprof add on a terminal\n"
    )
    assert not personal().exists()


def test_an_invalid_profile_is_not_written(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    target = write_file(folder / "team.yaml", "profiles:\n  a: {driver: crate, hosts: [c1]}\n")
    before = target.read_bytes()
    for args in (
        ["--driver", "pymongo", "--host", "db1:99999"],  # no such port
        ["--driver", "crate", "--host", "c1", "--ca", CA, "--verify", "ca"],  # crate cannot
        ["--driver", "pymongo", "--uri", "mongodb://u:hunter2@db1/"],  # a password in a uri
        ["--driver", "nosuchdriver", "--host", "x"],
    ):
        done = run_cli("add", "new", "--file", str(target), *args, code=1)
        assert "nothing was written" in done.stderr or "unknown driver" in done.stderr, done
        assert "hunter2" not in done.stdout + done.stderr
        assert target.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["team.yaml"]  # no temporary file left


def test_the_error_points_into_the_file_it_would_have_written(tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    done = run_cli("add", "x", "--file", str(target), "--driver", "pymongo", "--host", "h:0",
                   code=1)  # fmt: skip
    assert done.stderr.startswith(f"connprof: error: the profile would not load: {target}:")
    assert not target.exists()


ORIGINAL = (
    "# my profiles, by hand\r\n"
    "version: 1   # the only version\r\n"
    "profiles:\r\n"
    "    legacy:            # odd indentation: four, then eight\r\n"
    "        driver: crate\r\n"
    "        hosts:\r\n"
    "        -   crate1.example.com\r\n"
    "\r\n"
    "    # the last one, and no newline at the end\r\n"
    "    other: {driver: cassandra, hosts: [10.0.0.1]}  # flow, on purpose"
)


def test_every_original_byte_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_bytes(ORIGINAL.encode())
    target.chmod(0o640)
    done = run_cli("add", "fresh", "--file", str(target), "--driver", "cassandra",
                   "--host", "10.0.0.2", "--tls", "off", code=0)  # fmt: skip
    after = target.read_bytes()
    assert after.startswith(ORIGINAL.encode() + b"\r\n")  # appended, in the file's line endings
    added = after[len(ORIGINAL) + 2 :].decode()
    assert added == (
        "    fresh:\r\n        driver: cassandra\r\n        hosts: [10.0.0.2]\r\n"
        "        tls: false\r\n"
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the mode is kept
    assert set(profiles(target)) == {"legacy", "other", "fresh"}
    assert "added profile 'fresh'" in done.stdout


def test_a_block_in_the_middle_of_the_file(tmp_path: Path) -> None:
    text = "profiles:\n  a:\n    driver: crate\n    hosts: [c1]\n\n# team defaults\ndefaults:\n  tls: {min_version: '1.2'}\n"  # noqa: E501
    target = write_file(tmp_path / "p.yaml", text)
    run_cli("add", "b", "--file", str(target), "--driver", "crate", "--host", "c2", "--tls",
            "off", code=0)  # fmt: skip
    head = "profiles:\n  a:\n    driver: crate\n    hosts: [c1]\n"
    assert target.read_text() == (
        head + "  b:\n    driver: crate\n    hosts: [c2]\n    tls: false\n" + text[len(head) :]
    )


def test_an_existing_name_is_refused_unless_replace(tmp_path: Path) -> None:
    text = (
        "profiles:\n  a:   # keep me\n    driver: crate\n    hosts: [c1]\n"
        "  # b is the one to replace\n  b:\n    driver: crate\n    hosts: [c2]\n"
        "  c: {driver: crate, hosts: [c3]}\n"
    )
    target = write_file(tmp_path / "p.yaml", text)
    refused = run_cli("add", "b", "--file", str(target), "--driver", "crate", "--host", "x",
                      "--tls", "off", code=1)  # fmt: skip
    assert "profile 'b' already exists (line 6); pass --replace" in refused.stderr
    assert target.read_text() == text
    done = run_cli("add", "b", "--file", str(target), "--driver", "crate", "--host", "x",
                   "--tls", "off", "--replace", code=0)  # fmt: skip
    assert "replaced profile 'b'" in done.stdout
    assert target.read_text() == text.replace(
        "  b:\n    driver: crate\n    hosts: [c2]\n",
        "  b:\n    driver: crate\n    hosts: [x]\n    tls: false\n",
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("profiles: {b: {driver: crate, hosts: [c2]}}\n", "flow style"),
        ("profiles:\n  b: &base\n    driver: crate\n    hosts: [c2]\n  c:\n    <<: *base\n",
         "defines a YAML anchor"),
        ("profiles:\n  a: {driver: crate, hosts: [c1]}\n---\nprofiles: {}\n", "several YAML"),
    ],
)  # fmt: skip
def test_replace_refuses_what_it_cannot_do_safely(tmp_path: Path, text: str, why: str) -> None:
    target = write_file(tmp_path / "p.yaml", text)
    done = run_cli("add", "b", "--file", str(target), "--driver", "crate", "--host", "x",
                   "--tls", "off", "--replace", code=1)  # fmt: skip
    assert why in done.stderr
    assert target.read_text() == text


def test_a_name_another_loaded_file_defines_is_refused(tmp_path: Path) -> None:
    write_file(Path("connprof.yaml"), "profiles:\n  team: {driver: crate, hosts: [c1]}\n")
    done = run_cli("add", "team", "--driver", "crate", "--host", "x", code=1)
    assert "profile 'team' is already defined in connprof.yaml" in done.stderr
    assert not personal().exists()


@pytest.mark.keyring
def test_password_stdin_goes_to_the_keyring_only(secret_profile: str) -> None:
    name = secret_profile
    done = connprof("add", name, "--driver", "crate", "--host", "crate1.example.com",
                    "--user", "app", "--password-stdin", stdin="s3cret-from-stdin\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ks.lookup("connprof", f"{name}/password") == "s3cret-from-stdin"
    assert profiles(personal())[name]["auth"] == {"user": "app", "password": "keyring:"}
    assert "s3cret" not in personal().read_text() + done.stdout + done.stderr
    check = connprof("secret", "check", name)
    assert check.returncode == 0, check.stdout


# -- on a terminal ---------------------------------------------------------------------------------


class Terminal:
    """``connprof ARGV`` on a real pseudo-terminal: what it shows, and typing answers."""

    def __init__(self, *argv: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a real terminal on stdin, stdout and stderr
            os.execve(sys.executable, [sys.executable, "-m", "connprof", *argv], dict(os.environ))
        self.screen = b""

    def expect(self, marker: str, timeout: float = 30) -> None:
        """Read until ``marker`` shows (then mark it seen), failing after ``timeout`` seconds."""
        wanted = marker.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.screen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            self.screen += chunk
        if wanted not in self.screen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        assert wanted in self.screen, self.screen.decode(errors="replace")
        self.screen = self.screen.replace(wanted, b"<" + wanted + b">", 1)

    def type(self, text: str) -> None:
        os.write(self.fd, f"{text}\n".encode())

    def wait(self) -> int:
        with contextlib.suppress(AssertionError):
            self.expect("\0never", timeout=10)  # to the end of its output
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.mark.keyring
def test_on_a_terminal_it_asks_and_hides_the_password(secret_profile: str) -> None:
    name = secret_profile
    term = Terminal("add", name)
    term.expect(DRIVERS + ": ")
    term.type("mongo")  # not a driver: asked again
    term.expect("unknown driver 'mongo'")
    term.type("mongodb")
    term.expect("hosts, comma-separated, or a uri: ")
    term.type("db1.example.com, db2.example.com")
    term.expect("user (Enter: none): ")
    term.type("app")
    term.expect("TLS (Y/n): ")
    term.type("")
    term.expect("CA file (Enter: the system store): ")
    term.type("/no/such/ca.pem")  # asked again
    term.expect("no such file: /no/such/ca.pem")
    term.type(CA)
    term.expect("client certificate file (Enter: none): ")
    term.type("")
    term.expect("verify (full, ca, none) [full]: ")
    term.type("")
    term.expect("a password for app, kept in the keyring (Y/n): ")
    term.type("y")
    term.expect(f"auth.password of profile '{name}' (input hidden): ")
    term.type("typed-on-the-terminal")
    term.expect("again, to confirm: ")
    term.type("typed-on-the-terminal")
    term.expect(f"next: connprof doctor {name}")
    assert term.wait() == 0, term.screen
    assert b"typed-on-the-terminal" not in term.screen  # hidden input is not echoed
    assert ks.lookup("connprof", f"{name}/password") == "typed-on-the-terminal"
    assert profiles(personal()) == {
        name: {
            "driver": "pymongo",
            "hosts": ["db1.example.com", "db2.example.com"],
            "auth": {"user": "app", "password": "keyring:"},
            "tls": {"ca": CA},
        }
    }


def test_on_a_terminal_a_profile_that_does_not_validate_is_asked_again() -> None:
    term = Terminal("add", "svc", "--driver", "cassandra", "--tls", "off")
    term.expect("hosts, comma-separated: ")
    term.type("node1:99999")
    term.expect("user (Enter: none): ")
    term.type("")
    term.expect("the port must be a number from 1 to 65535; nothing was written")
    term.expect(DRIVERS + " [cassandra]: ")
    term.type("")  # Enter keeps the answer
    term.expect("hosts, comma-separated [node1:99999]: ")
    term.type("node1:9043")
    term.expect("user (Enter: none): ")
    term.type("")
    term.expect("TLS (Y/n): ")
    term.type("n")
    term.type("")
    term.expect("next: connprof doctor svc")
    assert term.wait() == 0, term.screen
    assert profiles(personal()) == {
        "svc": {"driver": "cassandra", "hosts": ["node1:9043"], "tls": False}
    }


def test_end_of_input_on_a_terminal_stops_without_writing() -> None:
    term = Terminal("add", "svc")
    term.expect(DRIVERS + ": ")
    os.write(term.fd, b"\x04")  # Ctrl-D
    assert term.wait() == 1
    assert b"no answer (end of input); nothing was written" in term.screen
    assert not personal().exists()


def test_a_uri_decides_tls_and_flags_add_to_it() -> None:
    run_cli("add", "u1", "--driver", "pymongo", "--uri", "mongodb://db1/x?tls=false", code=0)
    run_cli("add", "u2", "--driver", "exasol", "--dsn", "exa1..2:8563", "--ca", CA, code=0)
    assert profiles(personal()) == {
        "u1": {"driver": "pymongo", "uri": "mongodb://db1/x?tls=false"},
        "u2": {"driver": "pyexasol", "dsn": "exa1..2:8563", "tls": {"ca": CA}},
    }
    shown = json.loads(run_cli("show", "u1", "--format", "json", code=0).stdout)
    assert shown["profile"]["tls"]["enabled"] is False  # as the uri says
