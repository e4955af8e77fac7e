"""``CONNPROF__<PROFILE>__<FIELD>[__<SUBFIELD>]`` overrides: every field kind, every refusal,
provenance, precedence over layered files, the cache, lint's indifference, and the CI recipe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import connprof
from connprof import ProfileValidationError, SecretBackendUnavailable
from tests.helpers import run_cli, run_connprof_process, write_file

TEAM = """\
default: prod
profiles:
  prod:
    driver: pymongo
    uri: mongodb://app@db1.example.com/orders?replicaSet=rs0&tls=true
    auth:
      password: "keyring:"
    options: {appName: orders}
  orders-eu.v2:
    driver: cassandra
    hosts: [eu1.example.com]
"""


@pytest.fixture
def team(isolated: object) -> str:
    return str(write_file(Path("team.yaml"), TEAM))


def load(config: str, name: str = "prod") -> connprof.Profile:
    return connprof.load_profile(name, config=config)


def refused(config: str, name: str = "prod") -> str:
    with pytest.raises(ProfileValidationError) as caught:
        load(config, name)
    return str(caught.value)


# -- every field kind ----------------------------------------------------------------------------


def test_a_list_replaces_the_uri_endpoints(team: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF__PROD__HOSTS", "[db1:27017, db2:27017]")
    p = load(team)
    assert p.hosts == ("db1:27017", "db2:27017")
    assert p.uri is None
    assert p.auth.password == "keyring:"  # the rest of the entry stays


def test_scalars_read_as_yaml(team: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__PORT", "9142")
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__DATABASE", "events")
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__TAGS", "[prod, eu]")
    p = load(team, "orders-eu.v2")
    assert (p.port, p.database, p.tags) == (9142, "events", ("prod", "eu"))


def test_nested_tls_keys(team: str, monkeypatch: pytest.MonkeyPatch, isolated: object) -> None:
    monkeypatch.setenv("CONNPROF__PROD__TLS__CA", "certs/team-ca.pem")
    monkeypatch.setenv("CONNPROF__PROD__TLS__MIN_VERSION", '"1.3"')
    monkeypatch.setenv("CONNPROF__PROD__TLS__VERIFY", "ca")
    p = load(team)
    # A relative path in a variable means the working directory, where the variable was set.
    assert p.tls.ca == os.path.join(os.getcwd(), "certs", "team-ca.pem")
    assert (p.tls.min_version, p.tls.verify, p.tls.enabled) == ("1.3", "ca", True)  # the uri
    # One tls key does not turn TLS on where the files leave it off.
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__TLS__SERVER_NAME", "db.internal")
    eu = load(team, "orders-eu.v2")
    assert (eu.tls.enabled, eu.tls.server_name) == (False, "db.internal")


def test_tls_off_and_on_as_a_whole(team: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__TLS", "true")
    assert load(team, "orders-eu.v2").tls.enabled is True
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__TLS", "{verify: full, server_name: db.internal}")
    p = load(team, "orders-eu.v2")
    assert (p.tls.enabled, p.tls.server_name) == (True, "db.internal")


def test_an_auth_reference(team: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF__PROD__AUTH__PASSWORD", "env:CI_DB_PASSWORD")
    monkeypatch.setenv("CI_DB_PASSWORD", "from-ci")
    p = load(team)
    assert p.auth.password == "env:CI_DB_PASSWORD"
    assert p.driver_kwargs()["password"] == "from-ci"


def test_a_reference_that_is_not_a_yaml_string_is_kept_as_written(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__AUTH__PASSWORD", "keyring:")  # YAML: a mapping
    assert load(team, "orders-eu.v2").auth.password == "keyring:"


def test_an_options_key_takes_the_files_spelling(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__PROD__OPTIONS__APPNAME", "ci-run")
    monkeypatch.setenv("CONNPROF__PROD__OPTIONS__CONNECTTIMEOUTMS", "5000")
    options = load(team).options
    assert options["appName"] == "ci-run"
    assert options["connecttimeoutms"] == 5000


# -- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CONNPROF__PROD__TLS__VERFIY", "full", "tls has no key 'verfiy'; did you mean 'verify'?"),
        ("CONNPROF__PROD__HOST", "[a]", "no field 'host'; did you mean 'hosts'?"),
        ("CONNPROF__PROD__AUTH__PASSWROD", "env:X", "did you mean 'password'?"),
        ("CONNPROF__PROD__TLS__CA__X", "y", "too deep"),
        ("CONNPROF__PROD__ALLOW_INSECURE", "true", "cannot be set from the environment"),
        ("CONNPROF__PROD__PORT", "", "the value is empty"),
        ("CONNPROF__PROD__HOSTS", "[db1, db2", "not a YAML flow value"),
        ("CONNPROF__PRDO__PORT", "1", "no loaded file defines a profile written PRDO"),
        ("CONNPROF__ORDERS_EU__PORT", "1", "did you mean 'ORDERS_EU_V2'?"),
    ],
)
def test_a_refused_variable_is_named_in_one_line(
    team: str, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    # Asking for another profile does not hide it: a variable is never silently ignored.
    for name in ("prod", "orders-eu.v2"):
        message = refused(team, name)
        assert message.startswith(f"env {variable}: ")
        assert says in message
        assert "\n" not in message
    code, _out, err = run_cli("--config", team, "list")
    assert code == 1
    assert err.startswith(f"connprof: error: env {variable}: ")


def test_a_plaintext_secret_is_refused_without_being_repeated(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__PROD__AUTH__PASSWORD", "hunter2-correct-horse")
    message = refused(team)
    assert message.startswith("env CONNPROF__PROD__AUTH__PASSWORD: ")
    assert "a secret field holds a reference" in message
    assert "hunter2" not in message
    code, out, err = run_cli("--config", team, "show", "prod")
    assert code == 1
    assert "hunter2" not in out + err


def test_a_weakening_from_the_environment_needs_the_file_to_say_so(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__PROD__TLS__VERIFY", "none")
    message = refused(team)
    assert message.startswith("env CONNPROF__PROD__TLS__VERIFY: ")
    assert "allow_insecure" in message


def test_two_profiles_with_one_spelling_are_ambiguous(
    isolated: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(
        write_file(
            Path("p.yaml"),
            "profiles:\n  a-b: {driver: crate, hosts: [x]}\n  a.b: {driver: crate, hosts: [y]}\n",
        )
    )
    monkeypatch.setenv("CONNPROF__A_B__PORT", "4300")
    message = refused(config, "a-b")
    assert "'a-b', 'a.b'" in message
    assert "rename one" in message


# -- provenance, precedence, show ------------------------------------------------------------------


def test_explain_names_the_variable_and_show_says_each_override(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__PROD__TLS__CA", "/etc/ssl/team-ca.pem")
    monkeypatch.setenv("CONNPROF__PROD__AUTH__USER", "ci")
    assert load(team).provenance["tls.ca"] == "env CONNPROF__PROD__TLS__CA"
    code, out, err = run_cli("--config", team, "show", "prod", "--explain")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("tls.ca "))
    assert row.split() == ["tls.ca", "/etc/ssl/team-ca.pem", "env", "CONNPROF__PROD__TLS__CA"]
    lines = [line for line in err.splitlines() if "CONNPROF__" in line]
    assert lines == [
        "connprof: CONNPROF__PROD__AUTH__USER overrides auth.user of profile 'prod'",
        "connprof: CONNPROF__PROD__TLS__CA overrides tls.ca of profile 'prod'",
    ]
    # JSON output stays JSON; the lines are on stderr.
    code, out, err = run_cli("--config", team, "show", "prod", "--format", "json")
    assert json.loads(out)["profile"]["tls"]["ca"] == "/etc/ssl/team-ca.pem"
    assert err.count("overrides") == 2


def test_without_variables_show_says_nothing_of_overrides(team: str) -> None:
    code, _, err = run_cli("--config", team, "show", "prod")
    assert code == 0
    assert "CONNPROF__" not in err


def test_the_environment_beats_both_layered_files(
    isolated: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = write_file(
        Path("team.yaml"),
        "profiles:\n  prod: {driver: crate, hosts: [team.example.com], port: 4201,"
        " database: team}\n",
    )
    personal = write_file(
        Path("personal.yaml"), "profiles:\n  prod: {port: 4202, auth: {user: me}}\n"
    )
    config = [str(personal), str(team)]
    monkeypatch.setenv("CONNPROF__PROD__PORT", "4203")
    p = connprof.load_profile("prod", config=config)
    assert (p.port, p.database, p.auth.user) == (4203, "team", "me")
    assert p.provenance["port"] == "env CONNPROF__PROD__PORT"
    assert p.provenance["database"].startswith(f"{team}:")
    assert p.provenance["auth.user"].startswith(f"{personal}:")


def test_an_override_of_the_parent_reaches_the_child(
    isolated: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(
        write_file(
            Path("p.yaml"),
            "profiles:\n  base: {driver: crate, hosts: [x], port: 4201}\n"
            "  child: {extends: base}\n",
        )
    )
    monkeypatch.setenv("CONNPROF__BASE__PORT", "4299")
    p = connprof.load_profile("child", config=config)
    assert p.port == 4299
    assert p.provenance["port"] == "env CONNPROF__BASE__PORT (extends: base)"


def test_a_changed_variable_is_never_served_from_the_cache(
    team: str, monkeypatch: pytest.MonkeyPatch, isolated: object
) -> None:
    monkeypatch.delenv("CONNPROF_NO_CACHE", raising=False)
    for port in ("9001", "9002"):
        monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__PORT", port)
        _code, out, _ = run_cli("--config", team, "show", "orders-eu.v2", "--format", "json")
        assert json.loads(out)["profile"]["port"] == int(port)
    monkeypatch.delenv("CONNPROF__ORDERS_EU_V2__PORT")
    _code, out, _ = run_cli("--config", team, "show", "orders-eu.v2", "--format", "json")
    assert json.loads(out)["profile"]["port"] == 9042  # the driver's default again
    cached = list(Path(isolated.cache_home).rglob("*.bin"))  # type: ignore[attr-defined]
    assert cached, "the cache was not used"


def test_the_cache_does_not_store_a_variables_value(
    team: str, monkeypatch: pytest.MonkeyPatch, isolated: object
) -> None:
    monkeypatch.setenv("CONNPROF__ORDERS_EU_V2__DESCRIPTION", "marker-in-the-key")
    monkeypatch.setenv("CONNPROF__PROD__DESCRIPTION", "another-marker")
    run_cli("--config", team, "show", "orders-eu.v2", code=0)
    blobs = [p.read_bytes() for p in Path(isolated.cache_home).rglob("*.bin")]  # type: ignore[attr-defined]
    assert blobs
    # The shown profile's own description is data; the other profile's value is only key.
    assert not any(b"another-marker" in b for b in blobs)


# -- lint ignores the environment ------------------------------------------------------------------


def test_lint_output_is_the_same_with_variables_set(
    team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = run_cli("lint", "--format", "json", team)
    for variable, value in (
        ("CONNPROF__PROD__TLS__VERIFY", "none"),
        ("CONNPROF__PROD__AUTH__PASSWORD", "plaintext"),
        ("CONNPROF__NOPE__PORT", "1"),
        ("CONNPROF__PROD__HOSTS", "[a, b]"),
    ):
        monkeypatch.setenv(variable, value)
    assert run_cli("lint", "--format", "json", team) == before
    assert run_cli("lint", team) == run_cli("lint", team)


# -- done when: a CI runner with no keyring, the team file unchanged ----------------------------


def test_a_ci_runner_without_a_keyring_uses_the_team_file_with_one_variable_per_secret(
    isolated: object, tmp_path: Path
) -> None:
    # The team file as committed: a project file, keyring references, found by discovery.
    repo = Path(isolated.cwd)  # type: ignore[attr-defined]
    (repo / ".git").mkdir()
    write_file(repo / "connprof.yaml", TEAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNPROF")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # no keyring on the runner
    without = run_connprof_process("show", "prod", "--reveal", "--format", "kwargs", env=env)
    assert without.returncode == 1
    assert "keyring" in without.stderr
    env["CONNPROF__PROD__AUTH__PASSWORD"] = "env:CI_DB_PASSWORD"
    env["CI_DB_PASSWORD"] = "ci-secret-value"
    ran = run_connprof_process("show", "prod", "--reveal", "--format", "kwargs", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["password"] == "ci-secret-value"
    assert "CONNPROF__PROD__AUTH__PASSWORD overrides auth.password" in ran.stderr
    # And the library, as a test suite on the runner calls it.
    os.environ.update(CONNPROF__PROD__AUTH__PASSWORD="env:CI_DB_PASSWORD", CI_DB_PASSWORD="v")
    try:
        assert connprof.load_profile().driver_kwargs()["password"] == "v"
    finally:
        del os.environ["CONNPROF__PROD__AUTH__PASSWORD"], os.environ["CI_DB_PASSWORD"]
    with pytest.raises(SecretBackendUnavailable):
        connprof.load_profile().driver_kwargs()


def test_with_no_profile_file_the_missing_file_is_the_message(
    isolated: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNPROF__PROD__PORT", "1")
    code, _, err = run_cli("show", "prod")
    assert code == 1
    assert "no profile file was found" in err
