"""Secret sources: one contract every source meets, then each source's own rules.

The contract runs against ``env:``, ``file:`` and the real keyring (gnome-keyring on a private
D-Bus session under ``.ci/run``; values planted and read back with ``secret-tool``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connprof import load_profile
from connprof._errors import (
    PluginError,
    SecretBackendUnavailable,
    SecretError,
    SecretNotFound,
)
from connprof.secrets import (
    SecretResolver,
    check_secrets,
    delete_secret,
    ensure_writable,
    resolve_field_name,
    resolve_secret,
    store_secret,
)
from connprof.secrets._file import mode_problem
from tests import keyring_service as ks
from tests.helpers import install_plugin, write_profiles

# Spaces, a colon, non-ASCII and a trailing space: all part of the secret.
VALUE = "pä ss:wörd\twith spaces "


# -- the contract, for every source ----------------------------------------------------------


class Env:
    kind = "env"
    fix = "export "

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.monkeypatch = monkeypatch

    def plant(self, profile: str, field: str, value: str) -> str:
        name = f"CONNPROF_TEST_{uuid.uuid4().hex[:8].upper()}"
        self.monkeypatch.setenv(name, value)
        return f"env:{name}"

    def replace(self, reference: str, profile: str, field: str, value: str) -> None:
        self.monkeypatch.setenv(reference.removeprefix("env:"), value)

    def missing(self, profile: str) -> str:
        return f"env:CONNPROF_TEST_UNSET_{uuid.uuid4().hex[:8].upper()}"

    def cleanup(self) -> None:
        pass


class File:
    kind = "file"
    fix = "create it"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.dir = tmp_path / "secrets"
        self.dir.mkdir(mode=0o700)

    def plant(self, profile: str, field: str, value: str) -> str:
        path = self.dir / f"{profile}-{field}"
        self.replace(f"file:{path}", profile, field, value)
        return f"file:{path}"

    def replace(self, reference: str, profile: str, field: str, value: str) -> None:
        path = Path(reference.removeprefix("file:"))
        path.write_text(value + "\n", encoding="utf-8")  # as `echo` writes it
        path.chmod(0o600)

    def missing(self, profile: str) -> str:
        return f"file:{self.dir / 'nothing-here'}"

    def cleanup(self) -> None:
        pass


class Exec:
    """A real program per reference that prints the value, as vault or op would."""

    kind = "exec"
    fix = "install it"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.dir = tmp_path / "tools"
        self.dir.mkdir(mode=0o700)

    def plant(self, profile: str, field: str, value: str) -> str:
        reference = f"exec:{self.dir / f'{profile}-{field}'} --field {field}"
        self.replace(reference, profile, field, value)
        return reference

    def replace(self, reference: str, profile: str, field: str, value: str) -> None:
        script = Path(reference.removeprefix("exec:").split()[0])
        script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{value}'\n", encoding="utf-8")
        script.chmod(0o700)

    def missing(self, profile: str) -> str:
        return f"exec:{self.dir / 'no-such-tool'}"

    def cleanup(self) -> None:
        pass


class Keyring:
    kind = "keyring"
    fix = "connprof secret set"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        ks.use_secret_service(monkeypatch)
        self.planted: list[tuple[str, str]] = []

    def plant(self, profile: str, field: str, value: str) -> str:
        # The shorthand: service connprof, user PROFILE/LEAF, written by another program.
        self.replace("keyring:", profile, field, value)
        return "keyring:"

    def replace(self, reference: str, profile: str, field: str, value: str) -> None:
        entry = ("connprof", f"{profile}/{field.rsplit('.', 1)[-1]}")
        ks.store(*entry, value)
        self.planted.append(entry)

    def missing(self, profile: str) -> str:
        return "keyring:"

    def cleanup(self) -> None:
        for entry in self.planted:
            ks.clear(*entry)


SOURCES = [
    pytest.param(Env, id="env"),
    pytest.param(File, id="file"),
    pytest.param(Exec, id="exec"),
    pytest.param(Keyring, id="keyring", marks=pytest.mark.keyring),
]


@pytest.fixture(params=SOURCES)
def source(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Env | File | Keyring]:
    made = request.param(monkeypatch, tmp_path)
    yield made
    made.cleanup()


@pytest.fixture
def profile() -> str:
    return ks.unique_profile()


def test_a_reference_resolves_to_exactly_the_stored_value(source: Env, profile: str) -> None:
    reference = source.plant(profile, "auth.password", VALUE)
    assert resolve_secret(reference, profile=profile, field="auth.password") == VALUE


def test_the_tls_key_password_field_resolves_too(source: Env, profile: str) -> None:
    reference = source.plant(profile, "tls.client_key_password", "key-pass")
    got = resolve_secret(reference, profile=profile, field="tls.client_key_password")
    assert got == "key-pass"


def test_a_missing_secret_says_where_it_looked_and_how_to_fix_it(source: Env, profile: str) -> None:
    reference = source.missing(profile)
    with pytest.raises(SecretNotFound) as caught:
        resolve_secret(reference, profile=profile, field="auth.password")
    message = str(caught.value)
    assert "\n" not in message
    assert f"profile '{profile}'" in message
    assert "auth.password" in message
    assert f"({reference})" in message
    assert source.fix in message


def test_a_resolver_reads_each_reference_once(source: Env, profile: str) -> None:
    reference = source.plant(profile, "auth.password", "first")
    resolver = SecretResolver(profile)
    assert resolver.get(reference, "auth.password") == "first"
    source.replace(reference, profile, "auth.password", "second")
    # The same resolver keeps what it read; a new one (a new driver_kwargs call) reads again.
    assert resolver.get(reference, "auth.password") == "first"
    assert SecretResolver(profile).get(reference, "auth.password") == "second"
    assert "first" not in repr(resolver)
    assert "second" not in repr(resolver)


def test_check_secrets_reports_each_reference_without_its_value(
    source: Env, profile: str, tmp_path: Path
) -> None:
    good = source.plant(profile, "auth.password", VALUE)
    bad = source.missing(profile) if source.kind != "keyring" else "keyring:"
    config = write_profile(tmp_path, profile, password=good, token=bad)
    checks = check_secrets(load_profile(profile, config=str(config)))
    assert [(c.field, c.reference, c.ok) for c in checks] == [
        ("auth.password", good, True),
        ("auth.token", bad, False),
    ]
    assert VALUE.strip() not in repr(checks)
    assert source.fix in checks[1].message


# -- helpers -----------------------------------------------------------------------------------


def write_profile(folder: Path, name: str, **auth: str) -> Path:
    profile = {"driver": "pymongo", "hosts": ["db.example.com"], "auth": auth}
    return write_profiles(folder / "profiles.yaml", {name: profile})


# -- field names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "dotted"),
    [
        ("password", "auth.password"),
        ("token", "auth.token"),
        ("refresh_token", "auth.refresh_token"),
        ("client_key_password", "tls.client_key_password"),
        ("tls.client_key_password", "tls.client_key_password"),
    ],
)
def test_field_names_short_and_dotted(given: str, dotted: str) -> None:
    assert resolve_field_name(given) == dotted


def test_an_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="password, token, refresh_token, client_key_password"):
        resolve_field_name("pasword")


def test_a_value_that_is_not_a_reference_is_refused_without_repeating_it() -> None:
    with pytest.raises(SecretError) as caught:
        resolve_secret("hunter2", profile="prod", field="password")
    assert "hunter2" not in str(caught.value)
    assert "connprof secret set prod password" in str(caught.value)


# -- env: --------------------------------------------------------------------------------------


def test_an_empty_variable_is_not_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASS", "")
    with pytest.raises(SecretNotFound, match="PGPASS is empty"):
        resolve_secret("env:PGPASS", profile="prod", field="password")


def test_the_environment_is_read_when_resolving_not_at_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LATE_SECRET", "late")
    assert resolve_secret("env:LATE_SECRET", profile="p", field="token") == "late"


def test_env_references_cannot_be_stored_and_say_what_to_do() -> None:
    with pytest.raises(SecretError) as caught:
        store_secret("env:PGPASS", profile="prod", field="password", value="x")
    assert "export PGPASS=..." in str(caught.value)
    with pytest.raises(SecretError, match="export PGPASS"):
        delete_secret("env:PGPASS", profile="prod", field="password")


# -- file: -------------------------------------------------------------------------------------


def secret_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / f"secret-{uuid.uuid4().hex[:6]}"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"pw\n", "pw"),
        (b"pw", "pw"),
        (b"pw\r\n", "pw"),
        (b"pw\n\n", "pw\n"),  # only one newline goes: the rest is the secret's
        (b" pw \n", " pw "),
        ("pä\n".encode(), "pä"),
    ],
)
def test_a_file_loses_exactly_one_trailing_newline(
    tmp_path: Path, content: bytes, value: str
) -> None:
    path = secret_file(tmp_path, content)
    assert resolve_secret(f"file:{path}", profile="p", field="password") == value


def test_a_relative_file_reference_is_relative_to_the_profile_file(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    secret = folder / "db.pw"
    secret.write_text("from-beside-the-profile\n")
    secret.chmod(0o600)
    config = write_profile(folder, "prod", password="file:db.pw")
    profile = load_profile("prod", config=str(config))
    assert profile.auth.password == f"file:{secret}"
    assert check_secrets(profile)[0].ok
    value = resolve_secret(profile.auth.password, profile="prod", field="password")
    assert value == "from-beside-the-profile"


def test_an_empty_file_is_not_a_password(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"\n")
    with pytest.raises(SecretNotFound, match="is empty"):
        resolve_secret(f"file:{path}", profile="p", field="password")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="is a directory"):
        resolve_secret(f"file:{tmp_path}", profile="p", field="password")


def test_a_file_that_is_not_text_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"\xffsecret-bytes\xfe")
    with pytest.raises(SecretError) as caught:
        resolve_secret(f"file:{path}", profile="p", field="password")
    assert "not UTF-8" in str(caught.value)
    assert "secret-bytes" not in str(caught.value)
    assert caught.value.__context__ is None or "secret" not in str(caught.value.__context__)


def test_a_kubernetes_style_symlinked_secret_is_read(tmp_path: Path) -> None:
    # Kubernetes mounts secret keys as symlinks into a timestamped ..data directory.
    volume = tmp_path / "volume"
    stamped = volume / "..2026_01_01"
    stamped.mkdir(parents=True)
    (stamped / "password").write_text("k8s-pw")
    (stamped / "password").chmod(0o600)
    (volume / "..data").symlink_to(stamped.name)
    (volume / "password").symlink_to("..data/password")
    assert resolve_secret(f"file:{volume / 'password'}", profile="p", field="password") == "k8s-pw"


def _stat(mode: int, uid: int) -> os.stat_result:
    # A stat result for the pure policy function; the fields after st_uid are irrelevant.
    return os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "owner", "me", "refused"),
    [
        (0o600, 1000, 1000, None),
        (0o400, 1000, 1000, None),
        (0o640, 1000, 1000, "chmod 600"),  # my file: strict, as ssh and libpq are
        (0o644, 1000, 1000, "chmod 600"),
        (0o644, 0, 1000, None),  # Kubernetes' default secret mount, root-owned
        (0o444, 0, 1000, None),  # Docker swarm secrets
        (0o640, 0, 1000, None),  # Kubernetes with fsGroup
        (0o644, 0, 0, None),  # a container running as root
        (0o640, 2000, 1000, None),  # a service account's file, shared by group
        (0o666, 0, 1000, "chmod go-w"),  # anyone could swap the secret
        (0o620, 1000, 1000, "chmod go-w"),
        (0o602, 0, 0, "chmod go-w"),
    ],
)
def test_the_file_permission_policy(mode: int, owner: int, me: int, refused: str | None) -> None:
    problem = mode_problem("/run/secrets/pw", _stat(mode, owner), me)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None
        assert refused in problem


def test_a_world_writable_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"swapped-in\n", 0o666)
    with pytest.raises(SecretError) as caught:
        resolve_secret(f"file:{path}", profile="prod", field="password")
    assert "chmod go-w" in str(caught.value)
    assert "swapped-in" not in str(caught.value)


def test_a_readable_file_of_mine_follows_the_policy_for_who_i_am(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"shared\n", 0o644)
    reference = f"file:{path}"
    if os.geteuid() == 0:
        # Root, as in most containers: root-owned 0644 mounts must work.
        assert resolve_secret(reference, profile="p", field="password") == "shared"
    else:
        with pytest.raises(SecretError, match="chmod 600"):
            resolve_secret(reference, profile="p", field="password")


def test_file_references_cannot_be_stored_and_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as caught:
        ensure_writable(f"file:{tmp_path / 'pw'}", profile="prod", field="password")
    assert "umask 077" in str(caught.value)
    assert not (tmp_path / "pw").exists()


# -- plugins (entry point group connprof.secret_sources) --------------------------------------


def install_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, target: str
) -> None:
    """A real installed distribution on sys.path whose entry point adds the 'vault' kind."""
    install_plugin(
        tmp_path / "site", monkeypatch, group="connprof.secret_sources", name="vault",
        target=target, source=module,
    )  # fmt: skip


VAULT = """\
    class VaultSource:
        def get(self, target, *, profile, field):
            return f"vault says {target} for {profile}/{field}"
"""


def test_a_plugin_source_resolves_its_own_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_vault(tmp_path, monkeypatch, VAULT, "connprof_vault_test:VaultSource")
    got = resolve_secret("vault:db/prod", profile="prod", field="password")
    assert got == "vault says db/prod for prod/auth.password"


def test_a_plugin_kind_is_a_valid_reference_in_a_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_vault(tmp_path, monkeypatch, VAULT, "connprof_vault_test:VaultSource")
    config = write_profile(tmp_path, "prod", password="vault:db/prod")
    [check] = check_secrets(load_profile("prod", config=str(config)))
    assert check.ok, check.message


def test_a_plugin_that_fails_to_load_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_vault(
        tmp_path, monkeypatch, "raise ImportError('hvac is missing')\n",
        "connprof_vault_test:VaultSource",
    )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        resolve_secret("vault:db/prod", profile="prod", field="password")
    message = str(caught.value)
    assert "failed to load" in message
    assert "hvac is missing" in message
    assert "profile 'prod'" in message


def test_a_plugin_without_get_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_vault(
        tmp_path, monkeypatch, "class VaultSource: pass\n", "connprof_vault_test:VaultSource"
    )
    with pytest.raises(PluginError, match=r"has no get\(target"):
        resolve_secret("vault:db/prod", profile="prod", field="password")


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(SecretError, match="built in: env, exec, file, keyring"):
        resolve_secret("vault:db/prod", profile="prod", field="password")


# -- no keyring here ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        "keyring.backends.fail.Keyring",
        "keyring.backends.null.Keyring",
        "no.such.Backend",
    ],
)
def test_no_keyring_backend_is_unavailable_with_a_way_out(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    calls = [
        lambda: resolve_secret("keyring:", profile="prod", field="password"),
        lambda: store_secret("keyring:", profile="prod", field="password", value="never-stored"),
        lambda: delete_secret("keyring:svc/user", profile="prod", field="password"),
    ]
    for call in calls:
        with pytest.raises(SecretBackendUnavailable) as caught:
            call()
        message = str(caught.value)
        assert "profile 'prod': auth.password (keyring:" in message
        assert "env:NAME or file:PATH" in message
        assert "never-stored" not in message


def test_secret_service_without_a_session_bus_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", ks.SECRET_SERVICE)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(SecretBackendUnavailable, match="not usable here"):
        resolve_secret("keyring:", profile="prod", field="password")


def test_env_and_file_references_never_import_keyring(tmp_path: Path) -> None:
    path = secret_file(tmp_path, b"from-file\n")
    code = textwrap.dedent(
        f"""
        import sys
        from connprof.secrets import resolve_secret
        assert resolve_secret("env:CP_T", profile="p", field="password") == "from-env"
        assert resolve_secret("file:{path}", profile="p", field="password") == "from-file"
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("keyring", "secretstorage")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "CP_T": "from-env"},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"
