"""One composition for every command: what ``load_profile``, ``show``, ``list``, ``lint`` and the
model itself say about a profile agree, whichever way it was written (issue 10's reports)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

import connprof
from connprof import Profile, ProfileValidationError, load_profile
from connprof._compose import Composer
from connprof._discover import find_project_file
from connprof._yaml import read_profile_file
from tests.helpers import run_cli, write_file


def write(path: Path, text: str) -> str:
    return str(write_file(path, text, dedent=True))


PARENT_CHILD = """
profiles:
  a:
    driver: pymongo
    uri: mongodb://prod1.example.com,prod2.example.com/orders?tls=true&authSource=admin&replicaSet=rs-prod
    auth: {user: app, password: "keyring:"}
  b:
    extends: a
    uri: mongodb://stg1.example.com/orders?replicaSet=rs-stg
"""


# -- a child that replaces the endpoints keeps the parent's settings ---------------------------


def test_child_with_its_own_uri_keeps_the_parents_tls_and_auth_source(tmp_path: Path) -> None:
    config = write(tmp_path / "connprof.yaml", PARENT_CHILD)
    code, out, err = run_cli("--config", config, "show", "b", "--format", "kwargs")
    assert code == 0, err
    kwargs = json.loads(out)
    assert kwargs["tls"] is True
    assert kwargs["authSource"] == "admin"
    assert kwargs["replicaSet"] == "rs-stg"  # the child's own option wins
    assert "stg1.example.com" in kwargs["host"] and "prod1" not in kwargs["host"]

    code, out, _ = run_cli("--config", config, "list", "--format", "json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["b"]["tls"].startswith("on")
    assert "stg1.example.com" in rows["b"]["endpoints"]


def test_inherited_uri_values_keep_their_origin(tmp_path: Path) -> None:
    config = write(tmp_path / "connprof.yaml", PARENT_CHILD)
    profile = load_profile("b", config=config)
    assert profile.tls.enabled is True
    assert profile.auth.source == "admin"
    # Where the value was said: the parent's uri (line 4), not the child's.
    assert profile.provenance["auth.source"].startswith(f"{config}:4:")
    assert "the uri" in profile.provenance["auth.source"]
    assert profile.provenance["options.replicaSet"].startswith(f"{config}:8:")


def test_a_child_can_still_turn_the_parents_tls_off_with_its_uri(tmp_path: Path) -> None:
    config = write(
        tmp_path / "connprof.yaml",
        """
        profiles:
          a: {driver: pymongo, uri: "mongodb://prod.example.com/?tls=true"}
          local: {extends: a, uri: "mongodb://localhost/?tls=false"}
        """,
    )
    assert load_profile("local", config=config).tls.enabled is False


# -- one precedence order for YAML and string values -------------------------------------------


@pytest.mark.parametrize(
    ("team", "personal"),
    [
        ("tls: {ca: /team/ca.pem}", "tls: {ca: /mine/ca.pem}"),
        ("tls: {ca: /team/ca.pem}", 'uri: "mongodb://db.example.com/?tlsCAFile=/mine/ca.pem"'),
        ('uri: "mongodb://db.example.com/?tlsCAFile=/team/ca.pem"', "tls: {ca: /mine/ca.pem}"),
        (
            'uri: "mongodb://db.example.com/?tlsCAFile=/team/ca.pem"',
            'uri: "mongodb://db.example.com/?tlsCAFile=/mine/ca.pem"',
        ),
    ],
    ids=["yaml-over-yaml", "uri-over-yaml", "yaml-over-uri", "uri-over-uri"],
)
def test_the_personal_file_beats_the_team_file_whether_yaml_or_uri(
    tmp_path: Path, team: str, personal: str
) -> None:
    endpoint = "" if team.startswith("uri") else 'uri: "mongodb://db.example.com/"'
    team_file = write(
        tmp_path / "team.yaml",
        f"""
        profiles:
          prod:
            driver: pymongo
            {endpoint}
            {team}
        """,
    )
    personal_file = write(tmp_path / "personal.yaml", f"profiles:\n  prod:\n    {personal}\n")
    profile = load_profile("prod", config=[personal_file, team_file])
    assert profile.tls.ca == "/mine/ca.pem"
    assert profile.provenance["tls.ca"].startswith(personal_file)


def test_inside_one_entry_the_yaml_beats_its_own_uri(tmp_path: Path) -> None:
    config = write(
        tmp_path / "connprof.yaml",
        """
        profiles:
          prod:
            driver: pymongo
            uri: "mongodb://db.example.com/?tlsCAFile=/uri/ca.pem"
            tls: {ca: /yaml/ca.pem}
        """,
    )
    assert load_profile("prod", config=config).tls.ca == "/yaml/ca.pem"


# -- the model and the loader agree -----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"driver": "pyexasol", "hosts": ["exa.example.com"], "auth": {"user": "sys"}},
        {"driver": "Exasol", "dsn": "exa1..3.example.com:8563", "auth": {"user": "sys"}},
        {"driver": "pymongo", "uri": "mongodb://db.example.com/orders?tls=true&authSource=admin"},
        {"driver": "cassandra", "hosts": ["10.0.0.1"]},
        {"driver": "crate", "hosts": ["https://crate.example.com"]},
        {"driver": "hazelcast", "hosts": ["hz.example.com"]},
    ],
    ids=lambda body: str(body["driver"]),
)
def test_model_validate_and_load_profile_give_the_same_profile_and_kwargs(
    tmp_path: Path, body: dict[str, object]
) -> None:
    import yaml

    config = tmp_path / "connprof.yaml"
    config.write_text(yaml.safe_dump({"profiles": {"p": body}}), encoding="utf-8")
    loaded = load_profile("p", config=str(config))
    built = Profile.model_validate({"name": "p", **body})
    assert built.redacted() == loaded.redacted()
    assert built.driver_kwargs() == loaded.driver_kwargs()


def test_pyexasol_by_hand_encrypts_as_the_loaded_one_does() -> None:
    built = Profile.model_validate({"name": "p", "driver": "pyexasol", "hosts": ["exa.example"]})
    assert built.tls.enabled is True
    assert built.driver_kwargs()["encryption"] is True


# -- the driver's spelling does not change what lint checks ------------------------------------


@pytest.mark.parametrize("spelling", ["pymongo", "mongodb", "MongoDB", " PyMongo "])
def test_cp026_checks_every_spelling_of_the_driver(tmp_path: Path, spelling: str) -> None:
    config = write(
        tmp_path / "team.yaml",
        f"""
        profiles:
          prod:
            driver: "{spelling}"
            uri: "mongodb://db.example.com/?tls=true&authSource=admin"
            auth: {{source: other}}
        """,
    )
    codes = [d.code for d in connprof.lint_paths([config])]
    assert codes == ["CP026"]


def test_a_pin_and_a_ca_for_pyexasol_lint_clean_as_the_readme_documents(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not read by lint without --check-files\n")
    config = write(
        tmp_path / "team.yaml",
        """
        profiles:
          exa:
            driver: pyexasol
            dsn: exa1.example.com:8563
            auth: {user: sys}
            tls:
              ca: ca.pem
              fingerprint: "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
        """,
    )
    assert connprof.lint_paths([config]) == []
    kwargs = load_profile("exa", config=config)
    sslopt = kwargs.driver_kwargs()["websocket_sslopt"]
    assert sslopt["ca_certs"].endswith("ca.pem")


# -- warnings reach users --------------------------------------------------------------------


def test_an_unknown_uri_option_is_said_by_show_and_on_the_profile(tmp_path: Path) -> None:
    config = write(
        tmp_path / "connprof.yaml",
        """
        profiles:
          prod: {driver: pymongo, uri: "mongodb://db.example.com/?replSet=rs0"}
        """,
    )
    code, out, err = run_cli("--config", config, "show", "prod", "--format", "kwargs")
    assert code == 0
    lines = [line for line in err.splitlines() if "replSet" in line]
    assert len(lines) == 1 and lines[0].startswith("connprof: warning: profile 'prod':")
    assert "replicaSet" in lines[0]  # the fix: what the user meant
    assert "replSet" not in out  # not passed on to the driver
    # A cache hit says it again.
    assert "replSet" in run_cli("--config", config, "show", "prod")[2]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile = load_profile("prod", config=config)
    assert any("replSet" in w for w in profile.warnings)
    assert any("replSet" in str(w.message) for w in caught)
    by_hand = Profile.model_validate(
        {"name": "x", "driver": "pymongo", "uri": "mongodb://db.example.com/?replSet=rs0"}
    )
    assert any("replSet" in w for w in by_hand.warnings)


def test_a_clean_uri_has_no_warnings(tmp_path: Path) -> None:
    config = write(
        tmp_path / "connprof.yaml",
        'profiles:\n  prod: {driver: pymongo, uri: "mongodb://db.example.com/?replicaSet=rs0"}\n',
    )
    code, _, err = run_cli("--config", config, "show", "prod")
    assert code == 0 and "warning" not in err
    assert load_profile("prod", config=config).warnings == ()


# -- discovery walks up to the project file ----------------------------------------------------


def test_the_project_file_is_found_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    write(project / "connprof.yaml", "profiles:\n  prod: {driver: cassandra, hosts: [db1]}\n")
    deep = project / "src" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_project_file() == str(project / "connprof.yaml")
    assert load_profile("prod").hosts == ("db1",)
    code, out, _ = run_cli("show", "prod")
    assert code == 0 and str(project / "connprof.yaml") in out


def test_the_walk_stops_at_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "outer" / "connprof.yaml", "profiles: {}\n")
    repo = tmp_path / "outer" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert find_project_file() is None


def test_the_walk_stops_at_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "connprof.yaml", "profiles: {}\n")
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    (home / "work").mkdir(parents=True)
    monkeypatch.chdir(home / "work")
    assert find_project_file() is None


def test_in_the_working_directory_it_is_named_as_written(tmp_path: Path) -> None:
    write(Path.cwd() / "connprof.yaml", "profiles: {}\n")
    assert find_project_file() == "connprof.yaml"


def test_an_incomplete_personal_profile_says_which_files_were_read(tmp_path: Path) -> None:
    team = write(tmp_path / "team.yaml", "profiles:\n  prod: {driver: cassandra, hosts: [db1]}\n")
    personal = write(tmp_path / "personal.yaml", "profiles:\n  stage: {database: ks}\n")
    with pytest.raises(ProfileValidationError) as caught:
        load_profile("stage", config=[personal, team])
    message = str(caught.value)
    assert "defined only in" in message and personal in message and team in message


# -- the composed record ---------------------------------------------------------------------


def test_composed_is_what_every_command_reads(tmp_path: Path) -> None:
    config = write(tmp_path / "connprof.yaml", PARENT_CHILD)
    composed = Composer([read_profile_file(config)]).compose("b")
    assert composed.driver == "pymongo"
    assert composed.endpoints == (("stg1.example.com", None),)
    assert composed.string is not None and composed.string.options["replicaSet"] == "rs-stg"
    assert composed.data["tls"]["enabled"] is True
    assert composed.from_string(("auth", "source")) == "uri"
    with pytest.raises(AttributeError):
        composed.name = "other"  # type: ignore[misc]
    assert os.path.isabs(composed.files[0]) or composed.files[0] == config


def test_a_warning_never_repeats_a_token_from_the_uri(tmp_path: Path) -> None:
    canary = "CANARY-7f3a9"
    config = write(
        tmp_path / "connprof.yaml",
        f"""
        profiles:
          p:
            driver: pymongo
            uri: "mongodb://db.example.com/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:{canary},bad"
        """,
    )
    code, out, err = run_cli("--config", config, "show", "p")
    assert code != 0 and "AWS_SESSION_TOKEN" in err
    assert canary not in out + err
    code, out, err = run_cli("lint", config)
    assert canary not in out + err
    from connprof import parse_mongodb_uri

    uri = parse_mongodb_uri(
        f"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:{canary},x"
    )
    assert uri.warnings and not any(canary in w for w in uri.warnings)


def test_what_users_receive_is_importable_from_connprof(tmp_path: Path) -> None:
    config = write(tmp_path / "connprof.yaml", PARENT_CHILD)
    composed = connprof.compose("b", config=config)
    assert isinstance(composed, connprof.Composed)
    assert composed.data["auth"]["source"] == "admin"
    kwargs = load_profile("a", config=config).driver_kwargs
    assert connprof.DriverKwargs.__name__ == "DriverKwargs" and callable(kwargs)
    findings = connprof.lint_paths([config])
    assert all(isinstance(d, connprof.Diagnostic) for d in findings)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_parent_project_file_another_user_owns_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As git refuses a repository another user owns (/tmp/.git planted by a neighbour).
    planted = write(tmp_path / "shared" / "connprof.yaml", "profiles: {}\n")
    os.chown(planted, 54321, 54321)
    (tmp_path / "shared" / "mine").mkdir()
    monkeypatch.chdir(tmp_path / "shared" / "mine")
    assert find_project_file() is None
    os.chown(planted, os.geteuid(), os.getegid())
    assert find_project_file() == planted


@pytest.mark.parametrize("driver", ["psycopg", "pymongo", "crate", "pyexasol"])
def test_a_tls_block_turns_tls_on_in_code_as_in_a_file(driver: str, tmp_path: Path) -> None:
    """``tls: {ca: ...}`` means TLS on (contract section 3), for ``Profile(...)`` as for a file."""
    ca = str(tmp_path / "ca.pem")
    fields = {"driver": driver, "hosts": ["db.example.com"], "tls": {"ca": ca}}
    path = tmp_path / "profiles.yaml"
    path.write_text(json.dumps({"profiles": {"p": fields}}))
    from_file = load_profile("p", config=str(path))
    in_code = Profile(name="p", **fields)
    assert from_file.tls == in_code.tls
    assert in_code.tls.enabled is True
