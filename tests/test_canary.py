"""A unique secret planted everywhere must surface only where values are asked for.

Every secret field holds a canary through every source (env, file, exec, the real keyring), and
plaintext canaries sit where validation must refuse them (a secret field, a uri password).
Then every CLI command and the public functions run, failing paths included. The canary may
appear only in ``Profile.driver_kwargs()``'s values and in ``show --reveal`` (and in what the
resolve step returns to its caller): never in stdout, stderr, an exception, a ``repr``, a log
record or a file connprof writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import connprof
from connprof._errors import ConnprofError
from connprof.secrets import (
    SecretResolver,
    check_secrets,
    delete_secret,
    resolve_secret,
    store_secret,
)
from tests import keyring_service as ks
from tests.helpers import run_cli, write_file

MARK = uuid.uuid4().hex[:16]  # what is searched for: any 16 characters of it are a leak
LEAVES = ("password", "token", "refresh_token", "client_key_password")


def canary(leaf: str) -> str:
    return f"cn-{MARK}-{leaf}"


def assert_clean(text: str, where: str) -> None:
    assert MARK not in text, f"the canary leaked into {where}: {text[:2000]}"


# -- planting ----------------------------------------------------------------------------------


def plant_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: str) -> dict[str, str]:
    refs = {}
    for leaf in LEAVES:
        name = f"CANARY_{leaf.upper()}"
        monkeypatch.setenv(name, canary(leaf))
        refs[leaf] = f"env:{name}"
    return refs


def plant_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: str) -> dict[str, str]:
    folder = tmp_path / "secret-files"
    folder.mkdir(mode=0o700)
    refs = {}
    for leaf in LEAVES:
        path = folder / leaf
        path.write_text(canary(leaf) + "\n")
        path.chmod(0o600)
        refs[leaf] = f"file:{path}"
    return refs


def plant_exec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: str) -> dict[str, str]:
    """A real program per field that prints the canary (and a line on stderr, which is not it)."""
    folder = tmp_path / "secret-tools"
    folder.mkdir(mode=0o700)
    refs = {}
    for leaf in LEAVES:
        script = folder / f"print-{leaf}"
        script.write_text(f"#!/bin/sh\necho 'signing in...' >&2\nprintf '%s\\n' '{canary(leaf)}'\n")
        script.chmod(0o700)
        refs[leaf] = f"exec:{script} --field {leaf}"
    return refs


def plant_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: str) -> dict[str, str]:
    ks.use_secret_service(monkeypatch)
    for leaf in LEAVES:
        ks.store("connprof", f"{profile}/{leaf}", canary(leaf))
    ks.store("connprof", f"{profile}-mongo/password", canary("password"))
    return dict.fromkeys(LEAVES, "keyring:")


PLANTERS = [
    pytest.param(plant_env, id="env"),
    pytest.param(plant_file, id="file"),
    pytest.param(plant_exec, id="exec"),
    pytest.param(plant_keyring, id="keyring", marks=pytest.mark.keyring),
]


def profiles_yaml(name: str, refs: dict[str, str]) -> str:
    auth = ", ".join(f'{leaf}: "{refs[leaf]}"' for leaf in LEAVES[:3])
    key_password = refs["client_key_password"]
    return f"""\
default: {name}
profiles:
  {name}:
    driver: pyexasol
    hosts: [exa.example.com]
    auth: {{user: app, {auth}}}
    tls: {{client_cert: client.pem, client_key: client.key, client_key_password: "{key_password}"}}
  {name}-mongo:
    driver: pymongo
    hosts: [db.example.com]
    auth: {{user: app, password: "{refs["password"]}"}}
  {name}-pg:
    driver: psycopg
    hosts: [pg.example.com]
    auth: {{user: app, password: "{refs["password"]}"}}
    tls: {{client_cert: client.pem, client_key: client.key, client_key_password: "{key_password}"}}
  {name}-missing:
    driver: pymongo
    hosts: [db.example.com]
    auth: {{user: app, password: "env:CANARY_NOT_SET"}}
"""


def bad_yaml() -> str:
    return f"""\
profiles:
  leak-plain:
    driver: pymongo
    hosts: [db.example.com]
    auth: {{user: app, password: "{canary("plain")}"}}
  leak-uri:
    driver: pymongo
    uri: "mongodb://app:{canary("uri")}@db.example.com/orders"
  leak-option:
    driver: pymongo
    hosts: [db.example.com]
    options: {{password: "{canary("option")}"}}
"""


@pytest.fixture(params=PLANTERS)
def planted(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    name = ks.unique_profile()
    refs = request.param(monkeypatch, tmp_path, name)
    good = tmp_path / "connprof.yaml"
    good.write_text(profiles_yaml(name, refs))
    bad = tmp_path / "bad.yaml"
    bad.write_text(bad_yaml())
    yield name, good, bad
    if request.param is plant_keyring:
        for profile in (name, f"{name}-mongo", f"{name}-imported", f"{name}-added"):
            for leaf in LEAVES:
                ks.clear("connprof", f"{profile}/{leaf}")


# -- the CLI -----------------------------------------------------------------------------------

URI = f"mongodb://app:{canary('parse')}@db.example.com/orders?tls=true"


def cli_runs(name: str, good: Path, bad: Path) -> list[tuple[list[str], str]]:
    """``(argv, stdin)`` for every command, on good and bad files, failing paths included."""
    g, b = ["--config", str(good)], ["--config", str(bad)]
    runs: list[list[str]] = [
        [*g, "list"],
        [*g, "list", "--format", "json"],
        [*b, "list"],
        [*b, "list", "--format", "json"],
        [*g, "schema"],
        [*g, "secret", "check"],
        [*b, "secret", "check"],
        [*g, "lint"],
        ["lint", str(good), str(bad)],
        ["lint", "--format", "json", str(bad)],
        ["lint", "--format", "github", "--check-files", str(bad)],
        [*g, "parse", URI],
        [*g, "parse", "-"],
        [*g, "import", URI, "--name", f"{name}-imported"],
        [*g, "trust", "--list"],
        ["trust", str(good)],
        ["trust", "--list"],
        ["trust", "--remove", str(good)],
        ["fingerprint", "--file", str(good)],
        [*g, "completion", "bash"],
        [
            *g,
            "add",
            f"{name}-added",
            "--driver",
            "crate",
            "--host",
            "c1",
            "--user",
            "app",
            "--password-stdin",
        ],
        [*g, "add", f"{name}-bad", "--driver", "pymongo", "--uri", URI],
    ]
    for profile in (name, f"{name}-mongo", f"{name}-missing"):
        runs.append([*g, "secret", "check", profile])
        for extra in (["--offline"], ["--offline", "--format", "json"], ["--timeout", "0.3"]):
            runs.append([*g, "doctor", profile, *extra])
        for extra in ([], ["--explain"], ["--format", "json"], ["--format", "json", "--explain"],
                      ["--format", "yaml"], ["--format", "kwargs"]):  # fmt: skip
            runs.append([*g, "show", profile, *extra])
    # The other formats leave every secret out (and say so on stderr, by field name).
    for profile, formats in ((f"{name}-pg", ("uri", "env")), (f"{name}-mongo", ("uri",))):
        for fmt in formats:
            runs.append([*g, "show", profile, "--format", fmt])
    for profile in ("leak-plain", "leak-uri", "leak-option"):
        runs.append([*b, "show", profile])
        runs.append([*b, "show", profile, "--reveal"])
        runs.append([*b, "secret", "check", profile])
        runs.append([*b, "secret", "set", profile, "password"])
    # Last, as they change what the checks above read.
    runs += [
        [*g, "secret", "set", f"{name}-mongo", "password"],
        [*g, "secret", "rm", f"{name}-mongo", "password"],
        [*g, "secret", "set", f"{name}-mongo", "password", canary("argument")],
    ]
    stdin_for = {"parse": URI + "\n", "set": canary("stdin") + "\n", "add": canary("stdin") + "\n"}
    return [(argv, next((v for k, v in stdin_for.items() if k in argv), "")) for argv in runs]


#: Every command connprof has; a new one fails test_every_command_is_covered until added above.
COVERED = {
    "list",
    "show",
    "schema",
    "secret",
    "lint",
    "parse",
    "import",
    "trust",
    "doctor",
    "fingerprint",
    "completion",
    "add",
}


def test_every_command_is_covered() -> None:
    from connprof._cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    assert set(commands) <= COVERED, f"add {set(commands) - COVERED} to the canary runs"


def test_no_cli_command_shows_the_canary(
    planted: tuple[str, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    isolated: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    name, good, bad = planted
    codes = {}
    for argv, stdin in cli_runs(name, good, bad):
        code, out, err = run_cli(*argv, stdin=stdin)
        codes[" ".join(argv)] = code
        assert code != 3, f"connprof {argv} crashed: {err}"
        assert_clean(out, f"stdout of connprof {' '.join(argv)}")
        assert_clean(err, f"stderr of connprof {' '.join(argv)}")
    assert_clean(caplog.text, "log records")
    for record in caplog.records:
        assert_clean(repr(record.args) + record.getMessage(), "a log record")
    # Nothing connprof wrote (cache, imported profiles) holds a value.
    for root in (
        isolated.home,
        isolated.config_home,
        isolated.cache_home,
        isolated.state_home,
        isolated.cwd,
    ):
        for path in Path(root).rglob("*"):
            if path.is_file():
                assert_clean(path.read_bytes().decode("latin-1"), f"the file {path}")
    # The runs did exercise the paths they mean to: successes and failures.
    assert codes[f"--config {good} secret check {name}-mongo"] == 0
    assert codes[f"--config {good} secret check {name}-missing"] == 1
    assert codes[f"--config {bad} show leak-plain"] == 1
    assert codes[f"--config {good} show {name}-pg --format env"] == 0
    assert codes[f"--config {good} show {name}-mongo --format uri"] == 0


# -- the library -------------------------------------------------------------------------------


def exceptions_of(call: Callable[[], Any]) -> list[BaseException]:
    """The exception ``call`` raises with its whole cause/context chain, or []."""
    try:
        call()
    except Exception as exc:
        chain: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and len(chain) < 20:
            chain.append(current)
            current = current.__cause__ or current.__context__
        return chain
    return []


def test_no_public_function_shows_the_canary(
    planted: tuple[str, Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name, good, bad = planted
    seen: list[tuple[str, str]] = []

    def look(label: str, value: Any) -> None:
        seen.append((label, repr(value)))
        seen.append((label, str(value)))

    for profile_name in (name, f"{name}-mongo", f"{name}-missing"):
        profile = connprof.load_profile(profile_name, config=str(good))
        look("profile", profile)
        look("redacted", profile.redacted())
        look("provenance", profile.provenance)
        look("model_dump", profile.model_dump())
        look("check_secrets", check_secrets(profile))
        resolver = SecretResolver(profile_name)
        for field, reference in (("password", profile.auth.password),):
            with contextlib.suppress(ConnprofError):
                resolver.get(str(reference), field)
        look("resolver", resolver)
    look("list_profiles", connprof.list_profiles(config=str(good)))
    failing: list[Callable[[], Any]] = [
        lambda: resolve_secret("env:CANARY_NOT_SET", profile=name, field="password"),
        lambda: resolve_secret(canary("not-a-reference"), profile=name, field="password"),
        lambda: store_secret(
            "env:CANARY_PASSWORD", profile=name, field="password", value=canary("store")
        ),
        lambda: store_secret("keyring:", profile=name, field="nope", value=canary("store")),
        lambda: delete_secret("file:/nonexistent", profile=name, field="password"),
        lambda: connprof.load_profile(f"{name}-missing", config=str(good)).driver_kwargs(),
        lambda: connprof.parse_mongodb_uri(f"mongodb://app:{canary('bad')}@/"),
        lambda: connprof.parse_mongodb_uri(f"mongodb://app:{canary('bad')}@h/?tls=maybe"),
    ]
    failing += [
        (lambda p=p: connprof.load_profile(p, config=str(bad)))  # type: ignore[misc]
        for p in ("leak-plain", "leak-uri", "leak-option")
    ]
    for call in failing:
        for exc in exceptions_of(call):
            look("exception", exc)
            look("exception args", exc.args)
    parsed = connprof.parse_mongodb_uri(URI)
    look("MongoURI", parsed)
    look("format_mongodb_uri", connprof.format_mongodb_uri(parsed))
    from connprof._lint import lint_paths

    look("lint_paths", lint_paths([str(good), str(bad)]))
    for label, text in seen:
        assert_clean(text, label)
    assert_clean(caplog.text, "log records")


# -- where the canary must appear ----------------------------------------------------------------


@pytest.mark.xfail(
    not hasattr(connprof.Profile, "driver_kwargs"),
    reason="driver_kwargs lands with issue 3",
    strict=False,
)
def test_canary_only_in_driver_kwargs_and_reveal(
    planted: tuple[str, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, good, _ = planted
    kwargs = connprof.load_profile(f"{name}-mongo", config=str(good)).driver_kwargs()
    assert canary("password") in [str(v) for v in kwargs.values()]
    assert_clean(repr(kwargs), "repr(driver_kwargs())")
    assert_clean(str(kwargs), "str(driver_kwargs())")
    code, out, err = run_cli("--config", str(good), "show", f"{name}-mongo", "--reveal")
    assert code == 0, err
    assert canary("password") in out
    assert "--reveal" in err  # it says that it prints values
    assert_clean(err, "stderr of show --reveal")
    # Without --reveal the same command shows the reference only.
    code, out, _ = run_cli("--config", str(good), "show", f"{name}-mongo")
    assert code == 0
    assert_clean(out, "show without --reveal")


def test_show_does_not_import_keyring(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "connprof.yaml"
    config.write_text(profiles_yaml("prod", dict.fromkeys(LEAVES, "keyring:")))
    code = (
        "import sys\n"
        "from connprof._cli import main\n"
        f"for _ in range(2):  # uncached, then from the cache\n"
        f"    assert main(['--config', {str(config)!r}, 'show', 'prod-mongo']) == 0\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] in ('keyring', 'secretstorage', 'jeepney'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    for env in ({}, {"CONNPROF_NO_CACHE": "1"}):
        done = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, **env},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "LOADED []" in done.stderr, done.stderr


DRIVER_PROFILES = """\
profiles:
  mongo:
    driver: pymongo
    hosts: [db.example.com]
    auth: {user: app, password: "env:CANARY_PASSWORD"}
    tls: {client_cert: /nowhere/client.pem, client_key_password: "env:CANARY_CLIENT_KEY_PASSWORD"}
  cass:
    driver: cassandra
    hosts: [10.0.0.1]
    auth: {user: app, password: "env:CANARY_PASSWORD"}
  crate:
    driver: crate
    hosts: [crate.example.com]
    auth: {user: app, password: "env:CANARY_PASSWORD"}
  hz-creds:
    driver: hazelcast
    hosts: [hz.example.com]
    auth: {user: app, password: "env:CANARY_PASSWORD"}
    tls: {client_cert: /nowhere/c.pem, client_key: /nowhere/c.key,
          client_key_password: "env:CANARY_CLIENT_KEY_PASSWORD"}
  hz-token:
    driver: hazelcast
    hosts: [hz.example.com]
    auth: {token: "env:CANARY_TOKEN"}
  exa:
    driver: pyexasol
    dsn: exa.example.com
    auth: {user: app, password: "env:CANARY_PASSWORD"}
    tls: {client_cert: /nowhere/c.pem, client_key: /nowhere/c.key,
          client_key_password: "env:CANARY_CLIENT_KEY_PASSWORD"}
  exa-refresh:
    driver: pyexasol
    dsn: exa.example.com
    auth: {user: app, refresh_token: "env:CANARY_REFRESH_TOKEN"}
  exa-token:
    driver: pyexasol
    dsn: exa.example.com
    auth: {user: app, token: "env:CANARY_TOKEN"}
"""


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _values(v)
    else:
        yield value


@pytest.mark.parametrize(
    ("name", "leaves"),
    [
        ("mongo", ("password", "client_key_password")),
        ("cass", ("password",)),
        ("crate", ("password",)),
        ("hz-creds", ("password", "client_key_password")),
        ("hz-token", ("token",)),
        ("exa", ("password", "client_key_password")),
        ("exa-refresh", ("refresh_token",)),
        ("exa-token", ("token",)),
    ],
)
def test_every_driver_carries_the_canary_only_in_its_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    leaves: tuple[str, ...],
) -> None:
    plant_env(monkeypatch, tmp_path, name)
    config = tmp_path / "drivers.yaml"
    # driver_kwargs() checks that each TLS file it hands over is there (contents are not read).
    files = tmp_path / "nowhere"
    for leaf in ("client.pem", "c.pem", "c.key"):
        write_file(files / leaf, "a PEM file\n")
    config.write_text(DRIVER_PROFILES.replace("/nowhere/", f"{files}/"))
    kwargs = connprof.load_profile(name, config=str(config)).driver_kwargs()
    assert_clean(repr(kwargs), f"repr(driver_kwargs()) of {name}")
    assert_clean(str(kwargs), f"str(driver_kwargs()) of {name}")
    # The values reach the driver: as strings, or inside the objects connprof builds.
    reached = [v for v in _values(kwargs) if isinstance(v, str)] + vars_deep(kwargs)
    for leaf in leaves:
        assert canary(leaf) in reached, f"{leaf} did not reach the driver"
    code, out, err = run_cli("--config", str(config), "show", name, "--format", "kwargs")
    assert code == 0, err
    assert_clean(out + err, f"show --format kwargs of {name}")


def vars_deep(kwargs: dict[str, Any]) -> list[Any]:
    """Attribute values of the objects built for the driver (auth and token providers)."""
    seen = []
    for v in _values(kwargs):
        for attr in getattr(v, "__dict__", {}).values():
            # hazelcast keeps its token as bytes
            seen.append(attr.decode() if isinstance(attr, bytes) else attr)
    return seen


def test_a_key_password_that_fails_does_not_leak(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    certs: Any,
) -> None:
    plant_env(monkeypatch, tmp_path, "cass")
    config = tmp_path / "tlsfail.yaml"
    config.write_text(
        "profiles:\n  cass:\n    driver: cassandra\n    hosts: [10.0.0.1]\n"
        f"    tls: {{client_cert: {certs.client_cert}, client_key: {certs.client_key_encrypted},"
        ' client_key_password: "env:CANARY_CLIENT_KEY_PASSWORD"}\n'
    )
    profile = connprof.load_profile("cass", config=str(config))
    with pytest.raises(ConnprofError) as failed:
        profile.driver_kwargs()
    assert "password" in str(failed.value)
    assert_clean(str(failed.value) + repr(failed.value), "the wrong-key-password error")
    with pytest.raises(ConnprofError) as failed:
        profile.ssl_context()
    assert_clean(str(failed.value), "ssl_context()'s error")
