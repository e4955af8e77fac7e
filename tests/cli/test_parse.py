"""``connprof parse`` and ``connprof import``, end to end through ``connprof._cli.main``."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from connprof._discover import user_config_dir
from tests.helpers import run_cli, write_file

FP = "135A1D2DCE102DE866F58267521F4232153545A075DC85F8F7596F57E588A181"


def as_profile_file(tmp_path: Path, body: str, name: str = "parsed") -> str:
    """The printed profile put under ``profiles: NAME`` in a file, as the user would."""
    text = f"version: 1\nprofiles:\n  {name}:\n{textwrap.indent(body, '    ')}"
    return str(write_file(tmp_path / "from-parse.yaml", text))


def shown(*argv: str) -> dict[str, object]:
    code, out, err = run_cli(*argv, "--format", "json")
    assert code == 0, err
    document = yaml.safe_load(out)
    # `show --format json` prints {"profile": ..., "kwargs": ...}, or the bare profile.
    return dict(document.get("profile", document))


def profiles_d() -> Path:
    return Path(user_config_dir()) / "profiles.d"


# -- parse: Exasol DSNs ------------------------------------------------------------------------


def test_parse_a_dsn_prints_a_profile_that_loads(tmp_path: Path) -> None:
    code, out, err = run_cli("parse", f"exa1..3.example.com/{FP.lower()}:8564")
    assert (code, err) == (0, "")
    body = yaml.safe_load(out)
    assert body == {
        "driver": "pyexasol",
        "hosts": ["exa1.example.com", "exa2.example.com", "exa3.example.com"],
        "port": 8564,
        "tls": {"fingerprint": FP},
    }
    data = shown("--config", as_profile_file(tmp_path, out), "show", "parsed")
    assert data["hosts"] == body["hosts"]
    assert data["port"] == 8564
    assert data["tls"]["fingerprint"] == FP  # type: ignore[index]
    assert data["tls"]["enabled"] is True  # type: ignore[index]


def test_parse_nodes_on_different_ports_name_each_port(tmp_path: Path) -> None:
    code, out, _ = run_cli("parse", "a1..2:9000,b")
    assert code == 0
    assert yaml.safe_load(out) == {"driver": "pyexasol", "hosts": ["a1:9000", "a2:9000", "b:8563"]}
    data = shown("--config", as_profile_file(tmp_path, out), "show", "parsed")
    assert data["hosts"] == ["a1:9000", "a2:9000", "b:8563"]


def test_parse_nocertcheck_is_acknowledged_out_loud(tmp_path: Path) -> None:
    code, out, err = run_cli("parse", "exa-dev/nocertcheck")
    assert code == 0
    body = yaml.safe_load(out)
    assert body["tls"] == {"fingerprint": "nocertcheck"}
    assert body["allow_insecure"] is True
    assert err.startswith("connprof: note: the DSN says nocertcheck")
    assert err.count("\n") == 1
    data = shown("--config", as_profile_file(tmp_path, out), "show", "parsed")
    assert data["allow_insecure"] is True


@pytest.mark.parametrize(
    "dsn", ["exa1..3.example.com:8564", f"a1..2:9000,b/{FP}", "n08..10,m/nocertcheck:8563"]
)
def test_the_parsed_profile_gives_pyexasol_the_same_nodes(tmp_path: Path, dsn: str) -> None:
    from tests.uri.test_exasol import pyexasol_nodes

    code, out, _ = run_cli("parse", dsn)
    assert code == 0
    path = as_profile_file(tmp_path, out)
    code, kwargs, err = run_cli("--config", path, "show", "parsed", "--format", "kwargs")
    assert code == 0, err
    assert pyexasol_nodes(json.loads(kwargs)["dsn"]) == pyexasol_nodes(dsn)


@pytest.mark.parametrize("driver", ["pyexasol", "exasol"])
def test_parse_with_driver_given(driver: str) -> None:
    code, out, _ = run_cli("parse", "exa", "--driver", driver)
    assert code == 0
    assert yaml.safe_load(out) == {"driver": "pyexasol", "hosts": ["exa"], "port": 8563}


@pytest.mark.parametrize(
    ("string", "message"),
    [
        ("exa:8563/AB", "DSN part 'exa:8563/AB': the fingerprint goes before the port"),
        ("exa1, exa2", "DSN part ' exa2' contains whitespace"),
        ("a/AB,b/CD", "the DSN gives its nodes different fingerprints"),
        ("", "the DSN is empty"),
    ],
)
def test_parse_a_bad_dsn_is_one_error_line(string: str, message: str) -> None:
    code, out, err = run_cli("parse", string)
    assert (code, out) == (1, "")
    assert err.startswith(f"connprof: error: {message}")
    assert err.count("\n") == 1


def test_parse_an_unknown_scheme_asks_for_the_driver() -> None:
    code, out, err = run_cli("parse", "postgresql://app:hunter2-pw@db.example.com/orders")
    assert (code, out) == (1, "")
    assert err == (
        "connprof: error: cannot tell which driver a 'postgresql':// string is for: connprof "
        "reads mongodb:// and mongodb+srv:// URIs and Exasol DSNs; pass --driver pymongo or "
        "--driver pyexasol\n"
    )


def test_parse_a_dsn_with_credentials_never_shows_them() -> None:
    code, out, err = run_cli("parse", "sys:hunter2-pw@exa:8563")
    assert (code, out) == (1, "")
    assert "hunter2" not in err
    assert "user info" in err


def test_parse_refuses_other_drivers_as_a_usage_error() -> None:
    code, _, err = run_cli("parse", "db1:9042", "--driver", "cassandra")
    assert code == 2
    assert "invalid choice: 'cassandra'" in err


def test_the_string_can_come_from_stdin() -> None:
    # So that a password stays out of the shell history and the process list.
    code, out, _ = run_cli("parse", "-", stdin="exa1..2:9000\n")
    assert code == 0
    assert yaml.safe_load(out)["hosts"] == ["exa1", "exa2"]
    assert yaml.safe_load(out)["port"] == 9000


# -- import: Exasol DSNs -----------------------------------------------------------------------


def test_import_writes_a_profile_file_that_discovery_finds() -> None:
    code, out, err = run_cli("import", f"exa1..2/{FP}:8563", "--name", "warehouse")
    target = profiles_d() / "warehouse.yaml"
    assert (code, err) == (0, "")
    assert out == f"connprof: wrote profile 'warehouse' to {target}\n"
    document = yaml.safe_load(target.read_text())
    assert document == {
        "version": 1,
        "profiles": {
            "warehouse": {
                "driver": "pyexasol",
                "hosts": ["exa1", "exa2"],
                "port": 8563,
                "tls": {"fingerprint": FP},
            }
        },
    }
    # No --config: found the way every connprof command finds profiles.
    data = shown("show", "warehouse")
    assert data["hosts"] == ["exa1", "exa2"]
    assert data["tls"]["fingerprint"] == FP  # type: ignore[index]
    assert [p.name for p in profiles_d().iterdir()] == ["warehouse.yaml"]  # no temp file left


def test_import_never_replaces_a_file_without_force() -> None:
    assert run_cli("import", "exa-old", "--name", "wh")[0] == 0
    target = profiles_d() / "wh.yaml"
    before = target.read_text()
    code, out, err = run_cli("import", "exa-new", "--name", "wh")
    assert (code, out) == (1, "")
    assert err == (
        f"connprof: error: {target} already exists; pass --force to replace it, or choose "
        "another --name\n"
    )
    assert target.read_text() == before
    code, _, _ = run_cli("import", "exa-new", "--name", "wh", "--force")
    assert code == 0
    assert yaml.safe_load(target.read_text())["profiles"]["wh"]["hosts"] == ["exa-new"]
    assert sorted(p.name for p in profiles_d().iterdir()) == ["wh.yaml"]


def test_import_never_shadows_a_profile_of_another_file_without_force() -> None:
    Path("connprof.yaml").write_text("profiles:\n  wh: {driver: pyexasol, dsn: 'exa-team'}\n")
    code, out, err = run_cli("import", "exa-mine", "--name", "wh")
    assert (code, out) == (1, "")
    assert err == (
        "connprof: error: profile 'wh' already exists in connprof.yaml; choose another --name, "
        "or pass --force to write it anyway (the files then merge)\n"
    )
    assert not (profiles_d() / "wh.yaml").exists()
    code, out, err = run_cli("import", "exa-mine", "--name", "wh", "--force")
    assert code == 0
    assert "connprof.yaml defines 'wh' too; the files merge" in err
    assert (profiles_d() / "wh.yaml").exists()


def test_import_says_when_the_written_file_will_not_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "only.yaml"
    other.write_text("profiles: {}\n")
    monkeypatch.setenv("CONNPROF_CONFIG", str(other))
    code, _, err = run_cli("import", "exa", "--name", "wh")
    assert code == 0
    assert "CONNPROF_CONFIG is set, so connprof reads only those files" in err


@pytest.mark.parametrize("name", ["../evil", ".hidden", "a b", "x/y", ""])
def test_import_refuses_a_name_that_is_no_profile_name(name: str) -> None:
    code, out, err = run_cli("import", "exa", "--name", name)
    assert (code, out) == (1, "")
    assert err.startswith(f"connprof: error: --name {name!r} is not a profile name")
    assert not profiles_d().exists()


def test_import_of_a_bad_dsn_writes_nothing() -> None:
    code, _, err = run_cli("import", "exa:abc", "--name", "wh")
    assert code == 1
    assert err.startswith("connprof: error: DSN part 'exa:abc': the port 'abc' is not a number")
    assert not profiles_d().exists()


def test_import_needs_a_name() -> None:
    code, _, err = run_cli("import", "exa")
    assert code == 2
    assert "--name" in err


def test_written_file_is_private_to_the_user() -> None:
    assert run_cli("import", "exa", "--name", "wh")[0] == 0
    assert (profiles_d() / "wh.yaml").stat().st_mode & 0o077 == 0
    assert os.access(profiles_d() / "wh.yaml", os.R_OK)


# -- MongoDB URIs ------------------------------------------------------------------------------

PASSWORD = "hunter2-Pw/x"  # a "/" too: it must be percent-encoded in the URI, and decoded here
URI = (
    "mongodb://app:hunter2-Pw%2Fx@db1.example.com,db2.example.com:27018/orders"
    "?replicaSet=rs0&tls=true&tlsCAFile=certs/ca.pem&authSource=admin&w=majority"
)


def test_parse_a_uri_prints_a_profile_without_the_password(tmp_path: Path) -> None:
    code, out, err = run_cli("parse", URI)
    assert code == 0
    assert "hunter2" not in out + err
    body = yaml.safe_load(out)
    assert body == {
        "driver": "pymongo",
        "uri": "mongodb://db1.example.com,db2.example.com:27018",
        "database": "orders",
        "auth": {"user": "app", "source": "admin", "password": "keyring:"},
        # The URI's relative path meant the working directory; the profile says so outright.
        "tls": {"enabled": True, "ca": str(Path.cwd() / "certs" / "ca.pem")},
        "options": {"replicaSet": "rs0", "w": "majority"},
    }
    assert err == (
        "connprof: the URI's password is not printed: the profile says auth.password: "
        '"keyring:". Store it under the name you give the profile: connprof secret set NAME '
        "password\n"
    )
    data = shown("--config", as_profile_file(tmp_path, out), "show", "parsed")
    assert data["auth"] == body["auth"]
    assert data["tls"]["ca"] == body["tls"]["ca"]  # type: ignore[index]


def test_parse_an_srv_uri_with_verification_off(tmp_path: Path) -> None:
    code, out, err = run_cli("parse", "mongodb+srv://cluster0.example.net/?tlsInsecure=true")
    assert code == 0
    body = yaml.safe_load(out)
    assert body["uri"] == "mongodb+srv://cluster0.example.net"
    assert body["tls"] == {"enabled": True, "verify": "none", "ocsp": False}
    assert body["allow_insecure"] is True
    assert "connprof: note: the URI turns certificate verification off" in err
    shown("--config", as_profile_file(tmp_path, out), "show", "parsed")


def test_parse_reports_the_uris_warnings() -> None:
    code, out, err = run_cli("parse", "mongodb://db/?replicaset=rs0&colour=red")
    assert code == 0
    assert yaml.safe_load(out)["options"] == {"replicaSet": "rs0"}
    assert "connprof: note: the URI warns: " in err
    assert "colour" in err


def test_the_parsed_profile_gives_pymongo_the_same_options(tmp_path: Path) -> None:
    import pymongo

    uri = (
        "mongodb://db1.example.com,db2.example.com:27018/orders?replicaSet=rs0&tls=true"
        "&tlsAllowInvalidHostnames=true&w=majority&readPreference=nearest&maxPoolSize=7"
    )
    code, out, _ = run_cli("parse", uri)
    assert code == 0
    path = as_profile_file(tmp_path, out)
    code, kwargs, err = run_cli("--config", path, "show", "parsed", "--format", "kwargs")
    assert code == 0, err
    ours = pymongo.MongoClient(**json.loads(kwargs), connect=False)
    theirs = pymongo.MongoClient(uri, connect=False)
    try:
        for client in (ours, theirs):
            assert client.get_default_database().name == "orders"
        a, b = ours.options, theirs.options
        assert a.replica_set_name == b.replica_set_name == "rs0"
        assert a.read_preference == b.read_preference
        assert a.write_concern == b.write_concern
        assert a.pool_options.max_pool_size == b.pool_options.max_pool_size == 7
        ctx_a, ctx_b = a.pool_options._ssl_context, b.pool_options._ssl_context
        assert (ctx_a.check_hostname, ctx_a.verify_mode) == (
            ctx_b.check_hostname,
            ctx_b.verify_mode,
        )
        assert ctx_a.check_hostname is False
        assert sorted(ours.topology_description.server_descriptions()) == sorted(
            theirs.topology_description.server_descriptions()
        )
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("driver", ["pymongo", "mongodb"])
def test_parse_with_driver_pymongo(driver: str) -> None:
    code, out, _ = run_cli("parse", "mongodb://db:27017", "--driver", driver)
    assert code == 0
    assert yaml.safe_load(out) == {"driver": "pymongo", "uri": "mongodb://db:27017"}


def test_parse_a_bad_uri_never_shows_its_password() -> None:
    code, out, err = run_cli("parse", "mongodb://app:hunter2-pw@h1,h2/?directConnection=true")
    assert (code, out) == (1, "")
    assert err.startswith("connprof: error: ")
    assert err.count("\n") == 1
    assert "hunter2" not in err


def test_a_dsn_given_as_pymongo_is_a_uri_error() -> None:
    code, _, err = run_cli("parse", "exa1..3:8563", "--driver", "pymongo")
    assert code == 1
    assert err == (
        "connprof: error: a MongoDB connection string starts with mongodb:// or mongodb+srv://\n"
    )


def test_import_a_uri_without_a_password_needs_no_keyring() -> None:
    # conftest sets keyring's "fail" backend: any keyring use would be an error here.
    code, out, err = run_cli(
        "import", "mongodb://app@db1,db2/orders?replicaSet=rs0", "--name", "orders"
    )
    assert (code, err) == (0, "")
    assert out == f"connprof: wrote profile 'orders' to {profiles_d() / 'orders.yaml'}\n"
    data = shown("show", "orders")
    assert data["uri"] == "mongodb://db1,db2"
    assert data["auth"] == {"user": "app"}
    assert data["options"] == {"replicaSet": "rs0"}


def test_import_without_a_keyring_stores_nothing_and_writes_nothing() -> None:
    code, out, err = run_cli("import", URI, "--name", "orders")
    assert (code, out) == (1, "")
    assert err.startswith("connprof: error: ")
    assert "no keyring is available here" in err
    assert "hunter2" not in err
    assert not (profiles_d() / "orders.yaml").exists()


@pytest.mark.keyring
def test_import_stores_the_password_in_the_real_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    from connprof.secrets import resolve_secret
    from tests import keyring_service as ks

    ks.use_secret_service(monkeypatch)
    name = ks.unique_profile()
    try:
        code, out, err = run_cli("import", URI, "--name", name)
        assert code == 0, err
        assert "hunter2" not in out + err
        assert (
            f"stored the URI's password in the keyring (service connprof, user {name}/password)"
            in err
        )
        # Read back by another program, and by connprof as a profile's reference resolves.
        assert ks.lookup("connprof", f"{name}/password") == PASSWORD
        assert resolve_secret("keyring:", profile=name, field="password") == PASSWORD
        text = (profiles_d() / f"{name}.yaml").read_text()
        assert "hunter2" not in text
        assert yaml.safe_load(text)["profiles"][name]["auth"]["password"] == "keyring:"
    finally:
        ks.clear("connprof", f"{name}/password")
