"""The ``connprof`` command as users run it: real files, output and exit codes.

In-process through ``connprof._cli.main``; a real process only where start-up (``python -m``,
the console script) or what a run imports is the point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import connprof
from connprof._schema import build_schema
from tests.helpers import run_cli, run_connprof_process, write_file

PROFILES = """
default: prod
profiles:
  prod:
    driver: pymongo
    description: Orders replica set
    uri: mongodb://app@db1.example.com,db2.example.com/orders?replicaSet=rs0&tls=true
    auth:
      password: "keyring:"
    tls:
      ca: certs/ca.pem
      client_cert: certs/client.pem
      client_key_password: env:MONGO_KEY_PASS
  events:
    driver: cassandra
    hosts: [10.0.0.1, 10.0.0.2]
    auth: {user: app, password: "env:CASS_PASS"}
  warehouse:
    driver: exasol
    dsn: exa1..3.example.com:8563
"""

SECRET_VALUES = ("key-pass-value-7c1e", "cass-pass-value-93ab")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MONGO_KEY_PASS", SECRET_VALUES[0])
    monkeypatch.setenv("CASS_PASS", SECRET_VALUES[1])
    return str(write_file(tmp_path / "team" / "profiles.yaml", PROFILES, dedent=True))


def assert_no_secret(text: str) -> None:
    for value in SECRET_VALUES:
        assert value not in text


# -- list --------------------------------------------------------------------------------------


def test_list_text(cfg: str) -> None:
    done = run_cli("--config", cfg, "list", code=0)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DRIVER", "ENDPOINTS", "TLS", "SOURCE"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert sorted(rows) == ["events", "prod", "warehouse"]
    assert rows["prod"].split()[1:3] == ["(default)", "pymongo"]
    assert "db1.example.com,db2.example.com" in rows["prod"]
    assert rows["events"].split()[1] == "cassandra"
    assert "10.0.0.1:9042,10.0.0.2:9042" in rows["events"]
    assert rows["warehouse"].split()[1] == "pyexasol"
    assert "exa1..3.example.com:8563" in rows["warehouse"]
    assert all(line.rstrip().endswith(cfg) for line in lines[1:])
    assert_no_secret(done.stdout)


def test_list_marks_the_default_profile(cfg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def marked(*args: str) -> list[str]:
        lines = run_cli("--config", cfg, "list", *args, code=0).stdout.splitlines()[1:]
        return [line.split()[0] for line in lines if "(default)" in line.split()[1]]

    assert marked() == ["prod"]  # the file's default: prod
    rows = json.loads(run_cli("--config", cfg, "list", "--format", "json", code=0).stdout)
    assert [r["name"] for r in rows if r["default"]] == ["prod"]
    monkeypatch.setenv("CONNPROF_PROFILE", "events")
    assert marked() == ["events"]  # as `show` without NAME would choose
    monkeypatch.setenv("CONNPROF_PROFILE", "")
    Path(cfg).write_text(Path(cfg).read_text().replace("default: prod\n", ""))
    assert marked() == []


def test_list_exits_1_for_a_broken_profile_in_both_formats(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        'profiles:\n  ok: {driver: pymongo, hosts: [db1]}\n  bad: {driver: pymongo, uri: "mongodb://"}\n'
    )
    for fmt in ("text", "json"):
        done = run_cli("--config", str(path), "list", "--format", fmt)
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
    rows = json.loads(done.stdout)
    assert [("problem" in r) for r in rows] == [True, False]


def test_list_json(cfg: str) -> None:
    done = run_cli("list", "--format", "json", "--config", cfg, code=0)
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows] == ["events", "prod", "warehouse"]
    for r in rows:
        assert {"name", "driver", "endpoints", "tls", "source"} <= set(r)
        assert r["source"] == cfg
    by_name = {r["name"]: r for r in rows}
    assert by_name["prod"]["driver"] == "pymongo"
    assert by_name["prod"]["endpoints"] == "mongodb://db1.example.com,db2.example.com/orders"
    assert by_name["prod"]["tls"].startswith("on")
    assert by_name["events"]["tls"] == "off"
    assert by_name["warehouse"]["tls"].startswith("on")  # pyexasol encrypts by default


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://app@db1.example.com/orders",
        "mongodb://app:s3cret@db1.example.com/orders",
        "mongodb://app:s3cr%2Fet@db1.example.com/orders",
        "mongodb://app:s3cr/et@db1.example.com/orders",  # an unescaped '/' in the password
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_list_never_shows_uri_userinfo(tmp_path: Path, uri: str, fmt: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"profiles:\n  prod:\n    driver: pymongo\n    uri: {uri}\n")
    done = run_cli("--config", str(path), "list", "--format", fmt)
    assert done.returncode in (0, 1)
    assert "app@" not in done.stdout
    assert "app:" not in done.stdout
    assert "s3cr" not in done.stdout + done.stderr
    assert "db1.example.com" in done.stdout


# -- show --------------------------------------------------------------------------------------


def test_show_yaml_has_a_header_and_references(cfg: str) -> None:
    done = run_cli("--config", cfg, "show", "prod", code=0)
    header, _, body = done.stdout.partition("\n")
    assert header == f"# profile prod from {cfg}"
    data, kwargs = yaml.safe_load_all(body)
    assert data == connprof.load_profile("prod", config=cfg).redacted()
    assert data["auth"]["password"] == "keyring:"
    assert data["tls"]["client_key_password"] == "env:MONGO_KEY_PASS"
    assert data["tls"]["ca"] == str(Path(cfg).parent / "certs" / "ca.pem")
    # The second document: what MongoClient gets, secrets still as references.
    assert "# driver arguments: pymongo.MongoClient(**kw)" in body
    assert kwargs["password"] == "keyring:"
    assert kwargs["tlsCertificateKeyFilePassword"] == "env:MONGO_KEY_PASS"
    assert kwargs["username"] == "app"
    assert kwargs["replicaSet"] == "rs0"
    assert_no_secret(done.stdout + done.stderr)


def test_show_kwargs_and_reveal(cfg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    done = run_cli("--config", cfg, "show", "events", "--format", "kwargs", code=0)
    kwargs = json.loads(done.stdout)
    assert kwargs["contact_points"] == ["10.0.0.1", "10.0.0.2"]
    assert "PlainTextAuthProvider" in kwargs["auth_provider"]
    assert "env:CASS_PASS" in kwargs["auth_provider"]
    assert_no_secret(done.stdout + done.stderr)
    revealed = run_cli("--config", cfg, "show", "events", "--format", "kwargs", "--reveal", code=0)
    assert SECRET_VALUES[1] in json.loads(revealed.stdout)["auth_provider"]
    assert "--reveal" in revealed.stderr
    assert SECRET_VALUES[1] not in revealed.stderr


def test_show_a_profile_its_driver_cannot_express(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "profiles:\n  hz:\n    driver: hazelcast\n    hosts: [h]\n"
        "    tls: {verify: none}\n    allow_insecure: true\n"
    )
    done = run_cli("--config", str(path), "show", "hz", code=1)
    assert "name: hz" in done.stdout  # the profile is still shown
    assert "driver arguments: none" in done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith("connprof: error: driver hazelcast cannot express tls.verify")
    done = run_cli("--config", str(path), "show", "hz", "--format", "kwargs", code=1)
    assert done.stdout == ""


def test_show_without_a_name_uses_the_default(cfg: str, monkeypatch) -> None:
    assert run_cli("--config", cfg, "show", code=0).stdout.startswith("# profile prod from ")
    monkeypatch.setenv("CONNPROF_PROFILE", "events")
    assert run_cli("--config", cfg, "show", code=0).stdout.startswith("# profile events from ")


def test_show_json(cfg: str) -> None:
    done = run_cli("--config", cfg, "show", "events", "--format", "json", code=0)
    doc = json.loads(done.stdout)
    assert set(doc) == {"profile", "kwargs"}
    data = doc["profile"]
    assert data == connprof.load_profile("events", config=cfg).redacted()
    assert data["auth"] == {"user": "app", "password": "env:CASS_PASS"}
    assert data["port"] == 9042
    assert_no_secret(done.stdout)


def test_show_explain_text(cfg: str) -> None:
    done = run_cli("--config", cfg, "show", "prod", "--explain", code=0)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("# profile prod")
    rows = {line.split()[0]: line for line in lines[1:]}
    provenance = connprof.load_profile("prod", config=cfg).provenance
    assert set(rows) == set(provenance)
    for key, source in provenance.items():
        assert rows[key].endswith(source), (key, rows[key], source)
    assert rows["uri"].endswith(f"{cfg}:6:5")
    assert rows["tls.ca"].split()[1] == str(Path(cfg).parent / "certs" / "ca.pem")
    assert rows["tls.verify"].split()[1:] == ["full", "built-in", "default"]
    assert rows["auth.password"].split()[1] == "keyring:"
    assert_no_secret(done.stdout)


def test_show_explain_json(cfg: str) -> None:
    done = run_cli("--config", cfg, "show", "prod", "--explain", "--format", "json", code=0)
    doc = json.loads(done.stdout)
    assert set(doc) == {"profile", "kwargs", "provenance"}
    loaded = connprof.load_profile("prod", config=cfg)
    assert doc["profile"] == loaded.redacted()
    assert doc["provenance"] == loaded.provenance
    assert doc["provenance"]["description"] == f"{cfg}:5:5"
    assert doc["provenance"]["tls.enabled"] == f"{cfg}:9:5"
    assert_no_secret(done.stdout)


def test_show_invalid_profile_exits_1_without_echoing_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "profiles:\n  prod:\n    driver: cassandra\n    hosts: [x]\n"
        "    auth: {password: plaintext-pw-4f2a}\n"
    )
    done = run_cli("--config", str(path), "show", "prod", code=1)
    [line] = done.stderr.splitlines()
    assert line.startswith(f"connprof: error: {path}:5:")
    assert "connprof secret set prod password" in line
    assert "plaintext-pw-4f2a" not in done.stdout + done.stderr


# -- schema, version, usage --------------------------------------------------------------------


def test_schema_prints_the_json_schema() -> None:
    done = run_cli("schema", code=0)
    assert json.loads(done.stdout) == build_schema()


def test_version() -> None:
    # A real `python -m connprof`: the module runs and its exit code is the command's.
    done = run_connprof_process("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"connprof {connprof.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        [],
        ["show", "--format", "xml"],
        ["list", "--format", "yaml"],
        ["show", "--no-such-flag"],
        ["show", "a", "b"],
    ],
    ids=[
        "unknown-command",
        "no-command",
        "show-format",
        "list-format",
        "unknown-flag",
        "extra-arg",
    ],
)
def test_usage_errors_exit_2(cfg: str, args: list[str]) -> None:
    done = run_cli("--config", cfg, *args, code=2)
    assert "usage: connprof" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_unknown_profile_exits_1_with_one_error_line(cfg: str) -> None:
    done = run_cli("--config", cfg, "show", "prdo", code=1)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("connprof: error: ")
    assert "did you mean 'prod'?" in lines[0]


# -- --config placement ------------------------------------------------------------------------

OVERLAY = "profiles:\n  prod:\n    description: from the overlay\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_before_or_after_the_subcommand(cfg: str, tmp_path: Path, where: str) -> None:
    overlay = tmp_path / "me.yaml"
    overlay.write_text(OVERLAY)
    configs = ["--config", str(overlay), "--config", cfg]
    args = [*configs, "show", "prod"] if where == "before" else ["show", "prod", *configs]
    data = next(yaml.safe_load_all(run_cli(*args, code=0).stdout.partition("\n")[2]))
    assert data["description"] == "from the overlay"
    assert data["driver"] == "pymongo"


def test_config_on_both_sides_of_the_subcommand_uses_every_file(cfg: str, tmp_path: Path):
    overlay = tmp_path / "me.yaml"
    overlay.write_text(OVERLAY)
    # The user names two files; neither may be dropped silently.
    done = run_cli("--config", str(overlay), "show", "prod", "--config", cfg)
    assert done.returncode == 0, done.stderr
    data = next(yaml.safe_load_all(done.stdout.partition("\n")[2]))
    assert data["description"] == "from the overlay"
    assert data["driver"] == "pymongo"


def test_config_from_the_environment(cfg: str, monkeypatch) -> None:
    monkeypatch.setenv("CONNPROF_CONFIG", cfg)
    rows = json.loads(run_cli("list", "--format", "json", code=0).stdout)
    assert [r["name"] for r in rows] == ["events", "prod", "warehouse"]


def test_console_script(cfg: str) -> None:
    script = Path(sys.executable).parent / "connprof"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    done = subprocess.run(
        [str(script), "--config", cfg, "list", "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [r["name"] for r in json.loads(done.stdout)] == ["events", "prod", "warehouse"]


# -- what a warm `show` imports ----------------------------------------------------------------

PROBE = """
import json, sys
from connprof._cli import main
rc = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "keyring"))
sys.stderr.write("MODULES " + json.dumps({"rc": rc, "loaded": loaded}) + "\\n")
"""


def _probe(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("MODULES ")]
    assert marker, done.stderr
    return json.loads(marker[-1][len("MODULES ") :])


def test_warm_show_imports_neither_pydantic_nor_keyring(cfg: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CONNPROF_CACHE_DIR", str(tmp_path / "cache"))
    cold = _probe("--config", cfg, "show", "prod")
    assert cold["rc"] == 0
    # The cold run validates, so it needs pydantic: this proves the probe sees imports.
    assert "pydantic.main" in cold["loaded"]
    assert not any(m.startswith("keyring") for m in cold["loaded"])
    warm = _probe("--config", cfg, "show", "prod")
    assert warm["rc"] == 0
    assert "pydantic.main" not in warm["loaded"]
    assert not any(m.startswith("keyring") for m in warm["loaded"])
    # And the warm output is the same profile.
    warm_output = run_cli("--config", cfg, "show", "prod", code=0).stdout
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    assert warm_output == run_cli("--config", cfg, "show", "prod", code=0).stdout


@pytest.mark.parametrize("args", [["list"], ["show"], ["show", "prod"]])
def test_no_profile_file_at_all_says_where_it_looked(args: list[str]) -> None:
    # The autouse fixture gives an empty working directory and an empty config dir.
    done = run_cli(*args, code=1)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("connprof: error: ")
    assert "no profile file was found" in lines[0]
    assert "connprof.yaml" in lines[0]
    assert "--config" in lines[0]


def test_list_reads_tls_settings_inside_a_uri_or_dsn(tmp_path: Path) -> None:
    # The TLS column must not present "verify full" for tlsInsecure=true or /nocertcheck.
    path = write_file(
        tmp_path / "strings.yaml",
        """
        profiles:
          mongo-insecure:
            driver: pymongo
            uri: mongodb://db1.example.com/?tls=true&tlsInsecure=true
            allow_insecure: true
          mongo-plain:
            driver: pymongo
            uri: mongodb://db1.example.com/?tls=true&replicaSet=rs0
          exa-nocheck:
            driver: pyexasol
            dsn: exa1.example.com/nocertcheck:8563
            allow_insecure: true
        """,
        dedent=True,
    )
    listed = run_cli("--config", str(path), "list", "--format", "json", code=0)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["mongo-insecure"]["tls"] == "on, verify none, min 1.2"
    assert rows["exa-nocheck"]["tls"] == "on, nocertcheck, min 1.2"
    assert rows["mongo-plain"]["tls"] == "on, verify full, min 1.2"


def test_each_command_builds_the_same_options_alone_as_in_the_whole_parser() -> None:
    # A run builds only its command's options (start-up time); the table must name every one.
    import argparse

    from connprof._cli import COMMANDS, _command_word, _parser

    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return dict(action.choices)

    whole = subparsers(_parser())
    assert set(whole) == set(COMMANDS)
    for name, full in whole.items():
        alone = subparsers(_parser(name))[name]
        assert alone.format_help() == full.format_help(), name
    assert _command_word(["--config", "show", "list"]) == "list"
    assert _command_word(["--config=a.yaml", "show", "prod"]) == "show"
    assert _command_word(["--help", "show"]) is None
    assert _command_word(["completion", "bash"]) is None  # it describes every command
    assert _command_word(["nope"]) is None  # argparse lists the commands


def test_usage_errors_still_name_every_command() -> None:
    done = run_cli("nope")
    assert done.returncode == 2
    for name in ("show", "doctor", "trust", "completion"):
        assert name in done.stderr
