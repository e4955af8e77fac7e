"""connprof._yaml: YAML text to data that remembers file:line:col, loaded safely, only as asked."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from connprof._errors import ConfigNotFound, ProfileValidationError
from connprof._yaml import Origin, _positioned, read_profile_file
from tests.helpers import CliResult, run_cli, write_file


def write(tmp_path: Path, text: str, name: str = "profiles.yaml") -> str:
    return str(write_file(tmp_path / name, text))


def where(origin: Origin) -> tuple[int, int, int, int]:
    """(key line, key column, value line, value column), all 1-based."""
    return origin.line, origin.column, origin.value_line, origin.value_column


def show(path: str, name: str) -> CliResult:
    """``connprof --config PATH show NAME`` with the cache off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CONNPROF_NO_CACHE", "1")
        return run_cli("--config", path, "show", name)


def billion_laughs(levels: int = 9) -> list[str]:
    """Option lines of nested aliases: ``l{levels-1}`` expands to 10**levels strings."""
    lines = ['      l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"      l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return lines


# -- the loader ---------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
def test_the_c_loader_is_used_when_pyyaml_has_it() -> None:
    assert _positioned.LOADER is yaml.CSafeLoader


def test_the_loader_is_a_safe_one() -> None:
    assert issubclass(_positioned.LOADER, yaml.SafeLoader) or _positioned.LOADER is getattr(
        yaml, "CSafeLoader", None
    )


# -- positions ----------------------------------------------------------------------------------


def test_positions_in_block_style_are_one_based(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  p:\n"
        "    driver: cassandra\n"
        "    hosts:\n"
        "      - db1.example.com\n"
        '      - "db2.example.com:9043"\n'
        "    auth:\n"
        "      user: app\n"
        "    port: 9042\n",
    )

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data == {
        "driver": "cassandra",
        "hosts": ["db1.example.com", "db2.example.com:9043"],
        "auth": {"user": "app"},
        "port": 9042,
    }
    o = fragment.origins
    assert where(o[()]) == (2, 3, 2, 3)
    assert where(o[("driver",)]) == (3, 5, 3, 13)
    assert where(o[("hosts",)]) == (4, 5, 5, 7)
    assert where(o[("hosts", 1)]) == (6, 9, 6, 9)
    assert where(o[("auth", "user")]) == (8, 7, 8, 13)
    assert where(o[("port",)]) == (9, 5, 9, 11)
    assert {origin.file for origin in o.values()} == {path}


def test_positions_in_flow_style_are_one_based(tmp_path: Path) -> None:
    line = "  p: {driver: cassandra, hosts: [db1, 'db2:9043'], tls: {verify: ca, ca: ca.pem}}"
    path = write(tmp_path, f"profiles:\n{line}\n")

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data["tls"] == {"verify": "ca", "ca": "ca.pem"}
    o = fragment.origins
    assert where(o[("driver",)]) == (2, 7, 2, 15)
    assert where(o[("hosts",)]) == (2, 26, 2, 33)
    assert where(o[("hosts", 1)]) == (2, 39, 2, 39)
    assert where(o[("tls", "verify")]) == (2, 58, 2, 66)
    assert where(o[("tls", "ca")]) == (2, 70, 2, 74)
    # The numbers above, spelled as text: each points at the token it names.
    assert line[o[("hosts", 1)].column - 1 :].startswith("'db2:9043'")
    assert line[o[("tls", "ca")].value_column - 1 :].startswith("ca.pem")


def test_positions_survive_a_bom_and_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "windows.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfprofiles:\r\n  p:\r\n    driver: cassandra\r\n    tls: {verify: ca}\r\n"
    )

    fragment = read_profile_file(str(path)).fragment("p")

    assert fragment.data == {"driver": "cassandra", "tls": {"verify": "ca"}}
    assert where(fragment.origins[("tls", "verify")]) == (4, 11, 4, 19)


def test_broken_yaml_points_at_the_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "profiles:\n  p:\n    driver: cassandra\n    hosts: [a\n")

    with pytest.raises(ProfileValidationError) as info:
        read_profile_file(path)

    assert info.value.path == path
    assert (info.value.line, info.value.column) == (5, 1)
    assert "invalid YAML" in info.value.message


# -- YAML features that are kept ----------------------------------------------------------------


def test_merge_keys_fill_in_and_explicit_keys_win(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  base: &base\n"
        "    driver: cassandra\n"
        "    hosts: [db1.example.com]\n"
        "    database: orders\n"
        "  p:\n"
        "    <<: *base\n"
        "    database: reports\n",
    )

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data == {
        "driver": "cassandra",
        "hosts": ["db1.example.com"],
        "database": "reports",
    }
    assert fragment.origins[("database",)].line == 8
    assert fragment.origins[("driver",)].line == 3  # where the merged value was written


def test_a_merge_key_with_a_list_takes_the_first_mapping_that_has_the_key(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  a: &a {driver: cassandra, port: 9042}\n"
        "  b: &b {driver: pymongo, database: orders}\n"
        "  p:\n"
        "    <<: [*a, *b]\n"
        "    hosts: [db1.example.com]\n",
    )

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data == {
        "hosts": ["db1.example.com"],
        "driver": "cassandra",
        "port": 9042,
        "database": "orders",
    }


def test_merge_keys_nest(tmp_path: Path) -> None:
    # A common layout: base <- mid <- p, each adding to the one before.
    path = write(
        tmp_path,
        "profiles:\n"
        "  base: &base\n"
        "    driver: cassandra\n"
        "    hosts: [db1.example.com]\n"
        "  mid: &mid\n"
        "    <<: *base\n"
        "    database: orders\n"
        "  p:\n"
        "    <<: *mid\n"
        "    description: reports\n",
    )

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data == {
        "description": "reports",
        "database": "orders",
        "driver": "cassandra",
        "hosts": ["db1.example.com"],
    }


def test_anchors_and_aliases_within_a_profile(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  p:\n"
        "    driver: cassandra\n"
        "    hosts: &seeds [db1.example.com, db2.example.com]\n"
        "    options:\n"
        "      contact_points: *seeds\n",
    )

    fragment = read_profile_file(path).fragment("p")

    assert fragment.data["options"]["contact_points"] == ["db1.example.com", "db2.example.com"]
    assert fragment.data["hosts"] == ["db1.example.com", "db2.example.com"]


def test_yaml_1_1_booleans_and_null_as_keys_keep_their_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  on:\n"
        "    driver: cassandra\n"
        "    options: {on: 1, off: 2, yes: 3, no: 4, true: 5, null: 6, ~: 7}\n",
    )

    loaded = read_profile_file(path)

    assert loaded.names() == ["on"]
    options = loaded.fragment("on").data["options"]
    assert options == {"on": 1, "off": 2, "yes": 3, "no": 4, "true": 5, "null": 6, "~": 7}


def test_number_like_keys_keep_their_text(tmp_path: Path) -> None:
    # "1.10" and "010" are valid profile names; YAML would read them as 1.1 and 8.
    path = write(
        tmp_path,
        "profiles:\n"
        "  1.10:\n"
        "    driver: cassandra\n"
        "    options: {0x1F: a, 1e3: b}\n"
        "  010:\n"
        "    driver: cassandra\n",
    )

    loaded = read_profile_file(path)

    assert loaded.names() == ["1.10", "010"]
    assert loaded.fragment("1.10").data["options"] == {"0x1F": "a", "1e3": "b"}


def test_values_that_look_like_timestamps_stay_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  p:\n"
        "    driver: cassandra\n"
        "    description: 2024-01-31\n"
        "    tags: [2001-12-14t21:59:43.10-05:00, 2024-05-06 07:08:09]\n"
        "    options: {2024-01-31: x}\n",
    )

    data = read_profile_file(path).fragment("p").data

    assert data["description"] == "2024-01-31"
    assert data["tags"] == ["2001-12-14t21:59:43.10-05:00", "2024-05-06 07:08:09"]
    assert data["options"] == {"2024-01-31": "x"}


def test_plain_scalars_get_their_yaml_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  p:\n"
        "    port: 9042\n"
        "    allow_insecure: false\n"
        "    description: ~\n"
        "    tls: {min_version: 1.2}\n",
    )

    data = read_profile_file(path).fragment("p").data

    assert data == {"port": 9042, "allow_insecure": False, "description": None,
                    "tls": {"min_version": 1.2}}  # fmt: skip


# -- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_are_refused_and_never_run(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    path = write(
        tmp_path,
        f"profiles:\n  p:\n    driver: cassandra\n    description: {tag} [touch {marker}]\n",
    )

    with pytest.raises(ProfileValidationError) as info:
        read_profile_file(path).fragment("p")

    assert (info.value.line, info.value.column) == (4, 18)
    assert "not allowed" in info.value.message
    assert not marker.exists()


def test_a_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  p:\n"
        "    driver: cassandra\n"
        "    tls:\n"
        "      verify: full\n"
        "      ca: system\n"
        "      verify: none\n",
    )

    with pytest.raises(ProfileValidationError) as info:
        read_profile_file(path).fragment("p")

    assert (info.value.line, info.value.column) == (7, 7)
    assert "duplicate key 'verify' (first at line 5)" in info.value.message


def test_a_merge_key_cannot_stand_for_profiles(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n  <<: {p: {driver: cassandra}}\n",
    )

    with pytest.raises(ProfileValidationError) as info:
        read_profile_file(path)

    assert (info.value.line, info.value.column) == (2, 3)
    assert "extends" in info.value.message


def test_an_alias_bomb_fails_fast_without_eating_memory(tmp_path: Path) -> None:
    lines = ["profiles:", "  p:", "    driver: cassandra", "    options:", *billion_laughs()]
    path = write(tmp_path, "\n".join(lines) + "\n")

    tracemalloc.start()
    try:
        with pytest.raises(ProfileValidationError) as info:
            read_profile_file(path).fragment("p")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # 10**9 strings would be tens of gigabytes; refusing them must stay small.
    assert peak < 100 * 2**20
    assert "too many values" in info.value.message
    assert info.value.path == path
    assert info.value.line is not None and 5 <= info.value.line <= len(lines)


@pytest.mark.slow
def test_the_node_budget_is_per_profile_not_per_file(tmp_path: Path) -> None:
    # Ten thousand ordinary profiles (the 4 MB file connprof._yaml's docstring speaks of) of about
    # 20 values each: no aliases, nothing to refuse. `connprof list` and lint convert them all.
    lines = ["profiles:"]
    for i in range(10_000):
        lines += [
            f"  p{i}:",
            "    driver: cassandra",
            "    hosts: [db1.example.com, db2.example.com, db3.example.com]",
            "    tls: {ca: ca.pem, verify: full, min_version: '1.2', server_name: db}",
            "    auth: {user: app, password: 'keyring:'}",
            "    options: {connect_timeout: 5, protocol_version: 4, compression: true}",
            "    tags: [prod, eu, orders]",
        ]
    loaded = read_profile_file(write(tmp_path, "\n".join(lines) + "\n"))

    failed = []
    for name in loaded.names():
        try:
            loaded.fragment(name)
        except ProfileValidationError as exc:
            failed.append(f"{name}: {exc.message}")

    assert failed == [], f"{len(failed)} profiles refused, first: {failed[:1]}"


# -- only what is asked for ---------------------------------------------------------------------


def test_only_the_profile_asked_for_is_converted(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = write(
        tmp_path,
        "profiles:\n"
        "  tagged:\n"
        f"    description: !!python/object/apply:os.system [touch {marker}]\n"
        "  duplicated:\n"
        "    driver: cassandra\n"
        "    driver: pymongo\n"
        "  _badly named:\n"
        "    driver: cassandra\n"
        "  bomb:\n"
        "    options:\n" + "\n".join(billion_laughs()) + "\n"
        "  p:\n"
        "    driver: cassandra\n"
        "    hosts: [db1.example.com]\n",
    )

    loaded = read_profile_file(path)
    assert loaded.fragment("p").data == {"driver": "cassandra", "hosts": ["db1.example.com"]}
    for other in ("tagged", "duplicated", "_badly named", "bomb"):
        with pytest.raises(ProfileValidationError):
            loaded.fragment(other)

    result = show(path, "p")
    assert result.returncode == 0, result.stderr
    assert "db1.example.com" in result.stdout
    refused = show(path, "tagged")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"connprof: error: {path}:3:18: ")
    assert not marker.exists()


def test_a_duplicate_profile_only_matters_when_asked_for(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "profiles:\n"
        "  q:\n    driver: cassandra\n"
        "  p:\n    driver: cassandra\n    hosts: [db1.example.com]\n"
        "  q:\n    driver: pymongo\n",
    )

    loaded = read_profile_file(path)

    assert loaded.fragment("p").data["driver"] == "cassandra"
    with pytest.raises(ProfileValidationError) as info:
        loaded.fragment("q")
    assert (info.value.line, info.value.column) == (7, 3)
    assert "duplicate profile 'q' (first at line 2)" in info.value.message


# -- files --------------------------------------------------------------------------------------


def test_an_empty_file_has_no_profiles(tmp_path: Path) -> None:
    loaded = read_profile_file(write(tmp_path, "# nothing yet\n"))

    assert loaded.names() == []
    assert loaded.defaults is None
    assert loaded.default is None


def test_a_missing_file_is_config_not_found(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.yaml")

    with pytest.raises(ConfigNotFound) as info:
        read_profile_file(path)

    assert info.value.path == path
    assert "--config" in str(info.value)


def test_bytes_that_are_not_utf8_point_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"profiles:\n  p:\n    description: caf\xe9\n")

    with pytest.raises(ProfileValidationError) as info:
        read_profile_file(str(path))

    assert info.value.line == 3
    assert "UTF-8" in info.value.message
