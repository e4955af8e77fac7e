"""Where profiles come from and how they combine: discovery, layering, defaults, extends,
relative paths, the default profile, provenance, lazy validation and the on-disk cache."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import platformdirs
import pytest

import connprof
from connprof import ConfigNotFound, ConnprofError, ProfileNotFound, ProfileValidationError
from connprof._config import resolve_profile
from tests.helpers import run_cli, write_file


def write(path: Path, text: str) -> str:
    return str(write_file(path, text, dedent=True))


def described(description: str, name: str = "prod") -> str:
    """A file with one valid profile whose description tells which file it came from."""
    return f"""
    profiles:
      {name}:
        driver: cassandra
        hosts: [db.example.com]
        description: {description}
    """


def two_profiles(default: str) -> str:
    """Profiles ``a`` and ``b`` and the file's ``default:``."""
    return f"""
    default: {default}
    profiles:
      a: {{driver: cassandra, hosts: [a.example.com]}}
      b: {{driver: cassandra, hosts: [b.example.com]}}
    """


def user_dir() -> Path:
    return Path(platformdirs.user_config_dir("connprof", appauthor=False))


def cache_files(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))


@pytest.fixture
def cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "cache" / "profiles"
    monkeypatch.setenv("CONNPROF_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")


# -- discovery ---------------------------------------------------------------------------------


def test_user_config_dir_is_isolated_from_the_real_machine(isolated) -> None:
    assert user_dir().is_relative_to(isolated.config_home)


def test_project_file_is_found_in_the_working_directory(isolated, no_cache) -> None:
    write(isolated.cwd / "connprof.yaml", described("project"))
    assert connprof.load_profile("prod").description == "project"


def test_user_profiles_yaml_is_found(no_cache) -> None:
    write(user_dir() / "profiles.yaml", described("user"))
    assert connprof.load_profile("prod").description == "user"


def test_project_file_beats_user_profiles_yaml(isolated, no_cache) -> None:
    write(user_dir() / "profiles.yaml", described("user"))
    write(isolated.cwd / "connprof.yaml", described("project"))
    assert connprof.load_profile("prod").description == "project"


def test_profiles_yaml_beats_profiles_d(no_cache) -> None:
    write(user_dir() / "profiles.d" / "00-first.yaml", described("profiles.d"))
    write(user_dir() / "profiles.yaml", described("user"))
    assert connprof.load_profile("prod").description == "user"


def test_profiles_d_files_in_name_order_first_wins(no_cache) -> None:
    # Written in reverse order so that directory order cannot pass by luck.
    write(user_dir() / "profiles.d" / "30-c.yaml", described("c"))
    write(user_dir() / "profiles.d" / "20-b.yaml", described("b"))
    write(user_dir() / "profiles.d" / "10-a.yaml", described("a"))
    assert connprof.load_profile("prod").description == "a"
    (user_dir() / "profiles.d" / "10-a.yaml").unlink()
    assert connprof.load_profile("prod").description == "b"


def test_profiles_d_reads_only_yaml_files(no_cache) -> None:
    write(user_dir() / "profiles.d" / "team.yaml", described("team"))
    # Backups and notes beside them are not profile files (and are not even valid ones).
    write(user_dir() / "profiles.d" / "00-team.yaml.bak", "profiles: [this is not read]\n")
    write(user_dir() / "profiles.d" / "00-notes.txt", ":::\n")
    assert connprof.load_profile("prod").description == "team"
    assert connprof.list_profiles() == ["prod"]


def test_all_discovered_files_contribute_names(isolated, no_cache) -> None:
    write(isolated.cwd / "connprof.yaml", described("x", name="project-only"))
    write(user_dir() / "profiles.yaml", described("x", name="user-only"))
    write(user_dir() / "profiles.d" / "a.yaml", described("x", name="d-only"))
    assert connprof.list_profiles() == ["d-only", "project-only", "user-only"]


def test_connprof_config_lists_files_joined_by_pathsep(isolated, tmp_path, monkeypatch, no_cache):
    first = write(tmp_path / "one.yaml", described("one"))
    second = write(tmp_path / "two.yaml", described("two", name="other"))
    write(isolated.cwd / "connprof.yaml", described("project"))
    monkeypatch.setenv("CONNPROF_CONFIG", os.pathsep.join([first, second]))
    assert connprof.load_profile("prod").description == "one"  # not the project file
    assert connprof.list_profiles() == ["other", "prod"]
    monkeypatch.setenv("CONNPROF_CONFIG", os.pathsep.join([second, first]))
    write(tmp_path / "two.yaml", described("two"))
    assert connprof.load_profile("prod").description == "two"


def test_config_argument_overrides_env_and_discovery(isolated, tmp_path, monkeypatch, no_cache):
    env_file = write(tmp_path / "env.yaml", described("env"))
    explicit = write(tmp_path / "explicit.yaml", described("explicit"))
    write(isolated.cwd / "connprof.yaml", described("project"))
    write(user_dir() / "profiles.yaml", described("user"))
    monkeypatch.setenv("CONNPROF_CONFIG", env_file)
    assert connprof.load_profile("prod", config=explicit).description == "explicit"
    assert connprof.load_profile("prod", config=[explicit, env_file]).description == "explicit"
    assert connprof.load_profile("prod", config=[env_file, explicit]).description == "env"
    assert connprof.load_profile("prod", config=Path(explicit)).description == "explicit"


def test_config_path_expands_tilde(isolated, no_cache) -> None:
    write(isolated.home / "team.yaml", described("home"))
    assert connprof.load_profile("prod", config="~/team.yaml").description == "home"


def test_missing_config_file_raises_config_not_found(tmp_path, monkeypatch, no_cache) -> None:
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigNotFound) as info:
        connprof.load_profile("prod", config=missing)
    assert isinstance(info.value, ConnprofError)
    assert isinstance(info.value, FileNotFoundError)
    assert "nope.yaml" in str(info.value)
    # A missing file is never skipped silently, even next to one that exists.
    present = write(tmp_path / "ok.yaml", described("ok"))
    with pytest.raises(ConfigNotFound):
        connprof.load_profile("prod", config=[present, missing])
    monkeypatch.setenv("CONNPROF_CONFIG", os.pathsep.join([present, missing]))
    with pytest.raises(ConfigNotFound):
        connprof.load_profile("prod")


def test_missing_config_file_exits_1_with_one_error_line(tmp_path) -> None:
    missing = tmp_path / "nope.yaml"
    done = run_cli("--config", str(missing), "show", "prod")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("connprof: error: ")
    assert str(missing) in lines[0]
    assert done.stdout == ""


# -- layering ----------------------------------------------------------------------------------


def test_personal_overlay_adds_auth_to_the_team_profile(isolated, no_cache) -> None:
    team = write(
        isolated.cwd / "connprof.yaml",
        """
        profiles:
          prod:
            driver: pymongo
            uri: mongodb://db1.example.com,db2.example.com/orders?replicaSet=rs0
        """,
    )
    personal = write(
        user_dir() / "profiles.yaml",
        """
        profiles:
          prod:
            auth: {user: alice, password: "keyring:"}
        """,
    )
    p = connprof.load_profile("prod")
    assert p.uri == "mongodb://db1.example.com,db2.example.com/orders?replicaSet=rs0"
    assert (p.auth.user, p.auth.password) == ("alice", "keyring:")
    assert team == str(isolated.cwd / "connprof.yaml")
    assert p.provenance["uri"] == "connprof.yaml:4:5"  # discovered: shown as found
    assert p.provenance["auth.user"] == f"{personal}:3:12"
    assert p.provenance["auth.password"] == f"{personal}:3:25"


def test_higher_file_wins_key_by_key(tmp_path, no_cache) -> None:
    high = write(
        tmp_path / "high.yaml",
        """
        profiles:
          prod:
            tls: {verify: ca}
            options: {connect_timeout: 10}
        """,
    )
    low = write(
        tmp_path / "low.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [db.example.com]
            database: orders
            tls: {verify: full, server_name: db.internal}
            options: {connect_timeout: 5, protocol_version: 4}
        """,
    )
    p = connprof.load_profile("prod", config=[high, low])
    assert p.tls.verify == "ca"
    assert p.tls.server_name == "db.internal"
    assert p.database == "orders"
    assert p.options == {"connect_timeout": 10, "protocol_version": 4}
    assert p.provenance["tls.verify"] == f"{high}:3:11"
    assert p.provenance["tls.server_name"] == f"{low}:6:25"
    assert p.provenance["options.connect_timeout"] == f"{high}:4:15"
    assert p.provenance["options.protocol_version"] == f"{low}:7:35"


def test_lists_replace_instead_of_merging(tmp_path, no_cache) -> None:
    high = write(
        tmp_path / "high.yaml",
        """
        profiles:
          prod:
            tags: [mine]
            hosts: [db3.example.com]
        """,
    )
    low = write(
        tmp_path / "low.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            tags: [prod, team]
            hosts: [db1.example.com, db2.example.com]
        """,
    )
    p = connprof.load_profile("prod", config=[high, low])
    assert p.tags == ("mine",)
    assert p.hosts == ("db3.example.com",)


def test_endpoint_group_a_uri_drops_lower_hosts_and_port(tmp_path, no_cache) -> None:
    high = write(
        tmp_path / "high.yaml",
        """
        profiles:
          prod:
            uri: mongodb://local.example.com/orders
        """,
    )
    low = write(
        tmp_path / "low.yaml",
        """
        profiles:
          prod:
            driver: pymongo
            hosts: [db1.example.com]
            port: 27018
        """,
    )
    p = connprof.load_profile("prod", config=[high, low])
    assert p.uri == "mongodb://local.example.com/orders"
    assert p.hosts is None
    assert p.port is None


def test_endpoint_group_hosts_drop_lower_port(tmp_path, no_cache) -> None:
    high = write(tmp_path / "high.yaml", "profiles:\n  prod:\n    hosts: [new.example.com]\n")
    low = write(
        tmp_path / "low.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [old.example.com]
            port: 19042
        """,
    )
    p = connprof.load_profile("prod", config=[high, low])
    assert p.hosts == ("new.example.com",)
    assert p.port == 9042
    assert p.provenance["port"] == "built-in default for cassandra"


def test_endpoint_group_replacement_applies_to_extends(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          base:
            driver: pymongo
            hosts: [db1.example.com]
            port: 27018
          dev:
            extends: base
            uri: mongodb://localhost/orders
        """,
    )
    p = connprof.load_profile("dev", config=cfg)
    assert (p.uri, p.hosts, p.port) == ("mongodb://localhost/orders", None, None)


def test_two_endpoint_fields_in_one_profile_are_an_error(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          prod:
            driver: pymongo
            uri: mongodb://db.example.com/
            hosts: [db.example.com]
        """,
    )
    with pytest.raises(ProfileValidationError) as info:
        connprof.load_profile("prod", config=cfg)
    assert (info.value.path, info.value.line) == (cfg, 5)


# -- defaults ----------------------------------------------------------------------------------


def test_defaults_have_the_lowest_precedence(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        defaults:
          database: from_defaults
          description: from_defaults
          tls: {min_version: "1.3", server_name: from-defaults.example.com}
        profiles:
          plain:
            driver: cassandra
            hosts: [db.example.com]
          own:
            driver: cassandra
            hosts: [db.example.com]
            database: from_own
            tls: {server_name: own.example.com}
        """,
    )
    plain = connprof.load_profile("plain", config=cfg)
    assert plain.database == "from_defaults"
    assert plain.tls.min_version == "1.3"
    assert plain.provenance["database"] == f"{cfg}:2:3 (defaults)"
    assert plain.provenance["tls.min_version"] == f"{cfg}:4:9 (defaults)"
    own = connprof.load_profile("own", config=cfg)
    assert own.database == "from_own"
    assert own.description == "from_defaults"
    assert own.tls.server_name == "own.example.com"
    assert own.tls.min_version == "1.3"
    assert own.provenance["database"] == f"{cfg}:12:5"


def test_a_tls_block_in_defaults_does_not_turn_tls_on(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        defaults:
          tls: {ca: /etc/ssl/team-ca.pem, min_version: "1.3"}
        profiles:
          plain:
            driver: cassandra
            hosts: [db.example.com]
          secure:
            driver: cassandra
            hosts: [db.example.com]
            tls: {verify: ca}
        """,
    )
    plain = connprof.load_profile("plain", config=cfg)
    assert plain.tls.enabled is False
    assert plain.provenance["tls.enabled"] == "built-in default for cassandra"
    secure = connprof.load_profile("secure", config=cfg)
    assert secure.tls.enabled is True
    assert secure.tls.ca == "/etc/ssl/team-ca.pem"
    assert secure.tls.min_version == "1.3"


def test_defaults_apply_only_to_profiles_of_their_own_file(tmp_path, no_cache) -> None:
    high = write(
        tmp_path / "high.yaml",
        """
        defaults:
          database: high_default
        profiles:
          shared:
            description: high
        """,
    )
    low = write(
        tmp_path / "low.yaml",
        """
        defaults:
          options: {connect_timeout: 7}
        profiles:
          shared:
            driver: cassandra
            hosts: [db.example.com]
          lonely:
            driver: cassandra
            hosts: [db.example.com]
        """,
    )
    # "lonely" is defined only in low.yaml: high.yaml's defaults do not reach it.
    lonely = connprof.load_profile("lonely", config=[high, low])
    assert lonely.database is None
    assert lonely.options == {"connect_timeout": 7}
    # "shared" is defined in both: both files' defaults apply.
    shared = connprof.load_profile("shared", config=[high, low])
    assert shared.database == "high_default"
    assert shared.options == {"connect_timeout": 7}


def test_own_value_in_a_lower_file_beats_defaults_of_a_higher_file(tmp_path, no_cache) -> None:
    high = write(
        tmp_path / "high.yaml",
        """
        defaults:
          database: high_default
        profiles:
          prod:
            description: overlay
        """,
    )
    low = write(
        tmp_path / "low.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [db.example.com]
            database: own_value
        """,
    )
    assert connprof.load_profile("prod", config=[high, low]).database == "own_value"


# -- TLS on or off -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "enabled", "source"),
    [
        ("uri: mongodb://db.example.com/?tls=true", True, "{cfg}:4:5 (the uri)"),
        ("uri: mongodb://db.example.com/?ssl=true", True, "{cfg}:4:5 (the uri)"),
        ("uri: mongodb+srv://cluster.example.com/", True, "{cfg}:4:5 (the uri)"),
        ("uri: mongodb+srv://cluster.example.com/?tls=false", False, "{cfg}:4:5 (the uri)"),
        ("uri: mongodb://db.example.com/", False, "the uri"),
        ("hosts: [db.example.com]", False, "built-in default for pymongo"),
    ],
)
def test_tls_follows_the_uri_when_not_written(tmp_path, no_cache, fields, enabled, source):
    cfg = write(tmp_path / "p.yaml", f"profiles:\n  p:\n    driver: pymongo\n    {fields}\n")
    p = connprof.load_profile("p", config=cfg)
    assert p.tls.enabled is enabled
    assert p.provenance["tls.enabled"] == source.format(cfg=cfg)


def test_tls_driver_default_and_shorthands(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          exa:
            driver: exasol
            dsn: exa1.example.com:8563
          exa_off:
            driver: pyexasol
            dsn: exa1.example.com:8563
            tls: false
          cass_on:
            driver: cassandra
            hosts: [db.example.com]
            tls: true
          cass_block_off:
            driver: cassandra
            hosts: [db.example.com]
            tls: {enabled: false, ca: certs/ca.pem}
        """,
    )
    exa = connprof.load_profile("exa", config=cfg)
    assert (exa.driver, exa.tls.enabled) == ("pyexasol", True)
    assert exa.provenance["tls.enabled"] == "built-in default for pyexasol"
    assert connprof.load_profile("exa_off", config=cfg).tls.enabled is False
    on = connprof.load_profile("cass_on", config=cfg)
    assert on.tls.enabled is True
    assert on.provenance["tls.enabled"] == f"{cfg}:12:5"
    assert connprof.load_profile("cass_block_off", config=cfg).tls.enabled is False


# -- extends -----------------------------------------------------------------------------------


def test_extends_chain_of_three_across_files(tmp_path, no_cache) -> None:
    top = write(
        tmp_path / "top.yaml",
        """
        profiles:
          dev:
            extends: staging
            description: dev box
        """,
    )
    mid = write(
        tmp_path / "mid.yaml",
        """
        profiles:
          staging:
            extends: base
            database: staging_db
            tls: {verify: ca}
        """,
    )
    bottom = write(
        tmp_path / "bottom.yaml",
        """
        profiles:
          base:
            driver: cassandra
            hosts: [db.example.com]
            database: base_db
            description: base
            tls: {ca: certs/ca.pem, server_name: db.internal}
        """,
    )
    p = connprof.load_profile("dev", config=[top, mid, bottom])
    assert p.driver == "cassandra"
    assert p.description == "dev box"
    assert p.database == "staging_db"
    assert p.tls.enabled is True
    assert p.tls.verify == "ca"
    assert p.tls.ca == str(tmp_path / "certs" / "ca.pem")
    assert p.extends == "staging"
    prov = p.provenance
    assert prov["description"] == f"{top}:4:5"
    assert prov["extends"] == f"{top}:3:5"
    assert prov["database"] == f"{mid}:4:5 (extends: staging)"
    assert prov["tls.verify"] == f"{mid}:5:11 (extends: staging)"
    assert prov["driver"] == f"{bottom}:3:5 (extends: base)"
    assert prov["tls.server_name"] == f"{bottom}:7:29 (extends: base)"


def test_own_beats_parent_beats_defaults(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        defaults:
          database: d_default
          description: d_default
          options: {connect_timeout: 1}
        profiles:
          parent:
            driver: cassandra
            hosts: [db.example.com]
            database: d_parent
            description: d_parent
          child:
            extends: parent
            description: d_child
        """,
    )
    child = connprof.load_profile("child", config=cfg)
    assert child.description == "d_child"
    assert child.database == "d_parent"
    assert child.options == {"connect_timeout": 1}
    assert child.provenance["description"] == f"{cfg}:13:5"
    assert child.provenance["database"] == f"{cfg}:9:5 (extends: parent)"


def test_extends_is_applied_after_the_layer_merge(tmp_path, no_cache) -> None:
    # The overlay sets "extends" for a profile whose other fields come from the team file.
    overlay = write(tmp_path / "me.yaml", "profiles:\n  dev:\n    extends: base\n")
    team = write(
        tmp_path / "team.yaml",
        """
        profiles:
          base:
            driver: cassandra
            hosts: [db.example.com]
            database: base_db
          dev:
            database: dev_db
        """,
    )
    p = connprof.load_profile("dev", config=[overlay, team])
    assert (p.driver, p.database, p.hosts) == ("cassandra", "dev_db", ("db.example.com",))


def test_extends_cycle_and_missing_parent_are_errors(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          a: {extends: b, driver: crate, hosts: [x]}
          b: {extends: a}
          orphan: {extends: basee, driver: crate, hosts: [x]}
          base: {driver: crate, hosts: [x]}
        """,
    )
    with pytest.raises(ProfileValidationError, match="cycle") as info:
        connprof.load_profile("a", config=cfg)
    assert (info.value.path, info.value.line) == (cfg, 3)
    with pytest.raises(ProfileValidationError, match="did you mean 'base'") as info:
        connprof.load_profile("orphan", config=cfg)
    assert info.value.line == 4


# -- relative paths ----------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_file_that_wrote_them(tmp_path, no_cache) -> None:
    personal = write(
        tmp_path / "me" / "profiles.yaml",
        """
        profiles:
          prod:
            auth: {user: me, password: "file:secrets/pw.txt"}
            tls: {client_cert: certs/me.pem, client_key: ../me/certs/me.key}
        """,
    )
    team = write(
        tmp_path / "team" / "connprof.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [db.example.com]
            tls: {ca: certs/ca.pem, crl: crl/revoked.pem}
        """,
    )
    p = connprof.load_profile("prod", config=[personal, team])
    assert p.tls.ca == str(tmp_path / "team" / "certs" / "ca.pem")
    assert p.tls.crl == str(tmp_path / "team" / "crl" / "revoked.pem")
    assert p.tls.client_cert == str(tmp_path / "me" / "certs" / "me.pem")
    assert p.tls.client_key == str(tmp_path / "me" / "certs" / "me.key")
    assert p.auth.password == "file:" + str(tmp_path / "me" / "secrets" / "pw.txt")


def test_relative_paths_in_defaults_resolve_against_their_file(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "team" / "connprof.yaml",
        """
        defaults:
          auth: {password: "file:secrets/pw.txt"}
          tls: {ca: certs/ca.pem, crl: crl/revoked.pem}
        profiles:
          prod:
            driver: cassandra
            hosts: [db.example.com]
            tls: true
        """,
    )
    # Run from elsewhere: the paths must not depend on the working directory.
    p = connprof.load_profile("prod", config=cfg)
    assert p.tls.ca == str(tmp_path / "team" / "certs" / "ca.pem")
    assert p.tls.crl == str(tmp_path / "team" / "crl" / "revoked.pem")
    assert p.auth.password == "file:" + str(tmp_path / "team" / "secrets" / "pw.txt")


def test_relative_paths_in_a_parent_resolve_against_the_parent_file(tmp_path, no_cache) -> None:
    child = write(tmp_path / "a" / "p.yaml", "profiles:\n  dev:\n    extends: base\n")
    parent = write(
        tmp_path / "b" / "p.yaml",
        "profiles:\n  base:\n    driver: crate\n    hosts: [x]\n    tls: {ca: ca.pem}\n",
    )
    p = connprof.load_profile("dev", config=[child, parent])
    assert p.tls.ca == str(tmp_path / "b" / "ca.pem")


def test_relative_config_path_resolves_paths_against_its_folder(isolated, no_cache) -> None:
    write(
        isolated.cwd / "team" / "connprof.yaml",
        "profiles:\n  prod:\n    driver: crate\n    hosts: [x]\n    tls: {ca: certs/ca.pem}\n",
    )
    p = connprof.load_profile("prod", config="team/connprof.yaml")
    assert p.tls.ca == str(isolated.cwd / "team" / "certs" / "ca.pem")


def test_tilde_expands_and_absolute_and_system_stay(isolated, tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          home:
            driver: cassandra
            hosts: [db.example.com]
            auth: {password: "file:~/.secrets/pw"}
            tls: {ca: ~/certs/ca.pem, client_cert: /etc/ssl/me.pem}
          system:
            driver: cassandra
            hosts: [db.example.com]
            tls: {ca: system}
        """,
    )
    home = connprof.load_profile("home", config=cfg)
    assert home.tls.ca == str(isolated.home / "certs" / "ca.pem")
    assert home.tls.client_cert == "/etc/ssl/me.pem"
    assert home.auth.password == "file:" + str(isolated.home / ".secrets" / "pw")
    assert connprof.load_profile("system", config=cfg).tls.ca == "system"


# -- the default profile -----------------------------------------------------------------------


def test_default_profile_from_the_file(tmp_path, no_cache) -> None:
    cfg = write(tmp_path / "p.yaml", two_profiles(default="b"))
    assert connprof.load_profile(config=cfg).name == "b"


def test_connprof_profile_beats_default(tmp_path, monkeypatch, no_cache) -> None:
    cfg = write(tmp_path / "p.yaml", two_profiles(default="b"))
    monkeypatch.setenv("CONNPROF_PROFILE", "a")
    assert connprof.load_profile(config=cfg).name == "a"
    # An explicit name beats both.
    assert connprof.load_profile("b", config=cfg).name == "b"


def test_first_files_default_wins(tmp_path, no_cache) -> None:
    high = write(tmp_path / "high.yaml", "default: a\nprofiles: {}\n")
    low = write(tmp_path / "low.yaml", two_profiles(default="b"))
    assert connprof.load_profile(config=[high, low]).name == "a"
    assert connprof.load_profile(config=[low, high]).name == "b"


def test_no_name_and_no_default_says_what_to_do(tmp_path, no_cache) -> None:
    cfg = write(tmp_path / "p.yaml", described("A", "a"))
    with pytest.raises(ProfileNotFound) as info:
        connprof.load_profile(config=cfg)
    message = str(info.value)
    assert "CONNPROF_PROFILE" in message
    assert "default:" in message


def test_unknown_profile_suggests_the_closest_name(tmp_path, no_cache) -> None:
    cfg = write(tmp_path / "p.yaml", described("A", "production"))
    with pytest.raises(ProfileNotFound) as info:
        connprof.load_profile("prodution", config=cfg)
    assert isinstance(info.value, LookupError)
    assert "did you mean 'production'?" in str(info.value)
    assert "prodution" in str(info.value)


def test_unknown_profile_without_any_file_says_where_it_looked(no_cache) -> None:
    with pytest.raises(ProfileNotFound) as info:
        connprof.load_profile("prod")
    message = str(info.value)
    assert "connprof.yaml" in message
    assert "--config" in message


# -- provenance --------------------------------------------------------------------------------


def test_provenance_exact_strings_for_a_small_file(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        default: prod
        defaults:
          database: orders
          tls: {min_version: "1.3"}
        profiles:
          prod:
            driver: cassandra
            hosts: [db1.example.com, "db2.example.com:9142"]
            auth: {user: app, password: "keyring:"}
            tls:
              ca: certs/ca.pem
              verify: ca
            options: {connect_timeout: 5}
        """,
    )
    p = connprof.load_profile(config=cfg)
    assert p.provenance == {
        "driver": f"{cfg}:7:5",
        "tags": "built-in default",
        "hosts": f"{cfg}:8:5",
        "port": "built-in default for cassandra",
        "database": f"{cfg}:3:3 (defaults)",
        "auth.user": f"{cfg}:9:12",
        "auth.password": f"{cfg}:9:23",
        "tls.enabled": f"{cfg}:10:5",
        "tls.verify": f"{cfg}:12:7",
        "tls.ca": f"{cfg}:11:7",
        "tls.min_version": f"{cfg}:4:9 (defaults)",
        "tls.ocsp": "built-in default",
        "options.connect_timeout": f"{cfg}:13:15",
        "allow_insecure": "built-in default",
    }


def test_provenance_of_a_discovered_project_file_is_relative(isolated, no_cache) -> None:
    write(isolated.cwd / "connprof.yaml", described("project"))
    p = connprof.load_profile("prod")
    assert p.provenance["description"] == "connprof.yaml:5:5"


# -- validate only what is asked for -----------------------------------------------------------

_BROKEN = (
    "    driver: cassandra\n    hosts: [h{i}]\n    bogus_key: 1\n",
    "    driver: oracledb\n    hosts: [h{i}]\n",
    "    driver: cassandra\n    hosts: [h{i}]\n    auth: {{password: hunter{i}}}\n",
    "    driver: cassandra\n    hosts: [h{i}]\n    tls: {{verfiy: none}}\n",
)


def test_only_the_requested_profile_is_validated(tmp_path, no_cache) -> None:
    parts = [
        "profiles:\n",
        "  base:\n    driver: pymongo\n    uri: mongodb://db.example.com/app\n",
        "  prod:\n    extends: base\n    description: live\n",
    ]
    first_line: dict[str, int] = {}
    line = 1 + 3 + 3  # "profiles:", base, prod
    for i in range(10_000):
        name = f"p{i:05d}"
        body = _BROKEN[i % len(_BROKEN)].format(i=i)
        first_line[name] = line + 1
        parts.append(f"  {name}:\n{body}")
        line += 1 + body.count("\n")
    cfg = write(tmp_path / "big.yaml", "".join(parts))

    prod = connprof.load_profile("prod", config=cfg)
    assert (prod.driver, prod.uri, prod.description) == (
        "pymongo",
        "mongodb://db.example.com/app",
        "live",
    )
    assert len(connprof.list_profiles(config=cfg)) == 10_002

    with pytest.raises(ProfileValidationError) as info:
        connprof.load_profile("p04000", config=cfg)  # unknown key, on the profile's 3rd line
    assert "bogus_key" in str(info.value)
    assert (info.value.path, info.value.line) == (cfg, first_line["p04000"] + 3)
    with pytest.raises(ProfileValidationError) as info:
        connprof.load_profile("p04002", config=cfg)  # a plaintext password
    assert "hunter" not in str(info.value)


# -- secrets in URIs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://app:s3cret@db1.example.com/orders",
        "mongodb://app:s3cr/et@db1.example.com/orders",  # an unescaped '/' in the password
        "mongodb://app:s3cr%2Fet@db1.example.com/orders",
    ],
)
def test_a_password_in_the_uri_is_refused_without_echoing_it(tmp_path, no_cache, uri) -> None:
    cfg = write(tmp_path / "p.yaml", f"profiles:\n  prod:\n    driver: pymongo\n    uri: {uri}\n")
    with pytest.raises(ProfileValidationError) as info:
        connprof.load_profile("prod", config=cfg)
    assert "s3cr" not in str(info.value)
    assert "s3cr" not in repr(info.value)


# -- the cache ---------------------------------------------------------------------------------

SIMPLE = """
profiles:
  prod:
    driver: cassandra
    hosts: [db.example.com]
    database: {db}
"""


def test_second_resolve_is_served_from_the_cache(tmp_path, cache_dir) -> None:
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="first"))
    first = resolve_profile("prod", cfg)
    files = cache_files(cache_dir)
    assert len(files) == 1
    before = files[0].stat()
    second = resolve_profile("prod", cfg)
    after = files[0].stat()
    # Writes go through a new temporary file and a rename: an untouched inode means a cache hit.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert second == first
    assert connprof.load_profile("prod", config=cfg).provenance == first.provenance


def test_default_cache_location_is_the_user_cache_dir(tmp_path, isolated) -> None:
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="x"))
    connprof.load_profile("prod", config=cfg)
    expected = Path(platformdirs.user_cache_dir("connprof", appauthor=False)) / "profiles"
    assert expected.is_relative_to(isolated.cache_home)
    assert len(cache_files(expected)) == 1


def test_an_edit_that_changes_the_size_is_seen(tmp_path, cache_dir) -> None:
    path = tmp_path / "p.yaml"
    cfg = write(path, SIMPLE.format(db="first"))
    assert connprof.load_profile("prod", config=cfg).database == "first"
    write(path, SIMPLE.format(db="second_longer"))
    assert connprof.load_profile("prod", config=cfg).database == "second_longer"


def test_a_same_size_edit_with_a_new_mtime_is_seen(tmp_path, cache_dir) -> None:
    path = tmp_path / "p.yaml"
    cfg = write(path, SIMPLE.format(db="aaaa"))
    assert connprof.load_profile("prod", config=cfg).database == "aaaa"
    size = path.stat().st_size
    old = path.stat().st_mtime_ns
    write(path, SIMPLE.format(db="bbbb"))
    os.utime(path, ns=(old + 5_000_000_000, old + 5_000_000_000))
    assert path.stat().st_size == size
    assert connprof.load_profile("prod", config=cfg).database == "bbbb"


def test_a_same_size_edit_that_restores_the_mtime_is_seen(tmp_path, cache_dir) -> None:
    # rsync -t, tar and some editors put the old mtime back; the ctime still moves.
    path = tmp_path / "p.yaml"
    cfg = write(path, SIMPLE.format(db="aaaa"))
    assert connprof.load_profile("prod", config=cfg).database == "aaaa"
    st = path.stat()
    # File times tick with the kernel's coarse clock; let one tick pass, as any real edit does.
    time.sleep(0.05)
    write(path, SIMPLE.format(db="cccc"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert connprof.load_profile("prod", config=cfg).database == "cccc"


def test_a_new_discovered_file_is_seen(isolated, cache_dir) -> None:
    write(user_dir() / "profiles.yaml", described("user"))
    assert connprof.load_profile("prod").description == "user"
    write(isolated.cwd / "connprof.yaml", described("project"))
    assert connprof.load_profile("prod").description == "project"
    (isolated.cwd / "connprof.yaml").unlink()
    write(user_dir() / "profiles.d" / "x.yaml", "profiles:\n  prod:\n    database: from_d\n")
    p = connprof.load_profile("prod")
    assert (p.description, p.database) == ("user", "from_d")


def test_cache_depends_on_home(isolated, tmp_path, monkeypatch, cache_dir) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        "profiles:\n  prod:\n    driver: crate\n    hosts: [x]\n    tls: {ca: ~/ca.pem}\n",
    )
    assert connprof.load_profile("prod", config=cfg).tls.ca == str(isolated.home / "ca.pem")
    other = tmp_path / "other-home"
    other.mkdir()
    monkeypatch.setenv("HOME", str(other))
    assert connprof.load_profile("prod", config=cfg).tls.ca == str(other / "ca.pem")


def test_cache_depends_on_the_working_directory(tmp_path, monkeypatch, cache_dir) -> None:
    for which in ("one", "two"):
        write(tmp_path / which / "connprof.yaml", SIMPLE.format(db=which))
        write(tmp_path / which / "rel.yaml", SIMPLE.format(db=which))
    for which in ("one", "two"):
        monkeypatch.chdir(tmp_path / which)
        assert connprof.load_profile("prod").database == which
        assert connprof.load_profile("prod", config="rel.yaml").database == which


def test_cache_depends_on_connprof_profile_when_no_name(tmp_path, monkeypatch, cache_dir) -> None:
    cfg = write(tmp_path / "p.yaml", two_profiles(default="a"))
    assert connprof.load_profile(config=cfg).name == "a"
    monkeypatch.setenv("CONNPROF_PROFILE", "b")
    assert connprof.load_profile(config=cfg).name == "b"
    monkeypatch.setenv("CONNPROF_PROFILE", "a")
    assert connprof.load_profile(config=cfg).name == "a"
    assert connprof.load_profile("b", config=cfg).name == "b"


def test_no_cache_writes_nothing(tmp_path, isolated, monkeypatch, cache_dir) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="x"))
    assert connprof.load_profile("prod", config=cfg).database == "x"
    assert connprof.load_profile("prod", config=cfg).database == "x"
    assert cache_files(cache_dir) == []
    assert cache_files(isolated.cache_home) == []


def test_a_failing_profile_writes_no_cache_file(tmp_path, cache_dir) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        "profiles:\n  prod:\n    driver: cassandra\n    hosts: [x]\n    tls: {verfiy: none}\n",
    )
    for _ in range(2):
        with pytest.raises(ProfileValidationError, match="did you mean 'verify'"):
            connprof.load_profile("prod", config=cfg)
    with pytest.raises(ProfileNotFound):
        connprof.load_profile("nope", config=cfg)
    assert cache_files(cache_dir) == []


def test_cache_files_are_private(tmp_path, cache_dir) -> None:
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="x"))
    connprof.load_profile("prod", config=cfg)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    files = cache_files(cache_dir)
    assert files
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"not a cache file at all", b"\xe3" + bytes(range(256)) * 4],
    ids=["empty", "nul", "text", "binary"],
)
def test_a_corrupted_cache_file_is_ignored_and_replaced(tmp_path, cache_dir, garbage) -> None:
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="good"))
    connprof.load_profile("prod", config=cfg)
    [entry] = cache_files(cache_dir)
    entry.write_bytes(garbage)
    assert connprof.load_profile("prod", config=cfg).database == "good"
    assert entry.read_bytes() != garbage
    assert entry.read_bytes()
    # The rewritten entry is a working one: the next call leaves it alone.
    inode = entry.stat().st_ino
    assert connprof.load_profile("prod", config=cfg).database == "good"
    assert entry.stat().st_ino == inode


def test_a_truncated_cache_file_is_ignored(tmp_path, cache_dir) -> None:
    cfg = write(tmp_path / "p.yaml", SIMPLE.format(db="good"))
    connprof.load_profile("prod", config=cfg)
    [entry] = cache_files(cache_dir)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    assert connprof.load_profile("prod", config=cfg).database == "good"


def test_the_cache_holds_references_never_secret_values(tmp_path, monkeypatch, cache_dir) -> None:
    monkeypatch.setenv("DB_PASS", "pw-from-env-8d1f")
    (tmp_path / "key-pass.txt").write_text("pw-from-file-51c3\n")
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [db.example.com]
            auth: {user: app, password: "env:DB_PASS", token: "keyring:vault/app-token"}
            tls:
              client_cert: client.pem
              client_key_password: "file:key-pass.txt"
        """,
    )
    p = connprof.load_profile("prod", config=cfg)
    assert p.auth.password == "env:DB_PASS"
    blob = b"".join(f.read_bytes() for f in cache_files(cache_dir))
    assert blob
    assert b"env:DB_PASS" in blob
    assert b"keyring:vault/app-token" in blob
    assert b"pw-from-env" not in blob
    assert b"pw-from-file" not in blob


@pytest.mark.parametrize("typed", ["../../escape", "/etc/passwd", "a/../../b", "prod", None])
def test_a_typed_name_never_leads_the_cache_outside_its_folder(
    tmp_path: Path, typed: str | None
) -> None:
    from connprof._config import _cache_file

    cache = tmp_path / "cache"
    path = Path(_cache_file(str(cache), ("key",), typed))
    assert path.parent == cache


def test_the_yaml_wins_over_the_uri_key_by_key(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        profiles:
          p:
            driver: pymongo
            uri: mongodb://app@db.example.com/orders?tlsCAFile=certs/uri-ca.pem&replicaSet=rs0&w=1
            database: reports
            options: {w: majority}
            tls: {ca: certs/yaml-ca.pem}
        """,
    )
    p = connprof.load_profile("p", config=cfg)
    folder = Path(cfg).parent
    assert p.tls.ca == str(folder / "certs" / "yaml-ca.pem")  # the YAML's
    assert p.database == "reports"
    assert p.options == {"replicaSet": "rs0", "w": "majority"}  # merged, YAML wins per key
    assert p.auth.user == "app"  # only the uri says it
    assert p.provenance["auth.user"] == f"{cfg}:4:5 (the uri)"
    assert p.provenance["tls.ca"] == f"{cfg}:7:11"


def test_relative_paths_in_a_uri_are_relative_to_its_file(tmp_path, no_cache) -> None:
    cfg = write(
        tmp_path / "team" / "p.yaml",
        "profiles:\n  p:\n    driver: pymongo\n"
        "    uri: mongodb://db.example.com/?tlsCAFile=certs/ca.pem&tlsCRLFile=~/crl.pem\n",
    )
    p = connprof.load_profile("p", config=os.path.relpath(cfg))
    assert p.tls.ca == str(tmp_path / "team" / "certs" / "ca.pem")
    assert p.tls.crl == os.path.expanduser("~/crl.pem")
    assert p.tls.enabled is True  # a TLS file option turns TLS on, as pymongo decides
