"""Hostile profile files: every reading (positioned, plain, lint) ends in one ConnprofError line.

The files of ``tests/data/bad`` are shown by ``tests/cli/test_errors.py``; here each is also
read plainly and linted, and the inputs of issue 15 item 4, 5 and 10 are checked on their own.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

import connprof
from connprof import ConnprofError, ProfileValidationError
from connprof._yaml import read_profile_file
from tests.helpers import run_cli, write_file

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
FILES = sorted(BAD.glob("*.yaml"))


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")


def every_profile(path: str, *, positions: bool) -> None:
    f = read_profile_file(path, positions=positions)
    for name in f.names():
        f.fragment(name)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@pytest.mark.parametrize("positions", [True, False], ids=["positioned", "plain"])
def test_both_readings_raise_only_a_one_line_validation_error(path: Path, positions) -> None:
    try:
        every_profile(str(path), positions=positions)
    except ProfileValidationError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lint_reports_every_bad_file_in_one_line_diagnostics(path: Path) -> None:
    found = connprof.lint_paths([path])
    assert found, path.name
    for d in found:
        assert "\n" not in d.format() and "\r" not in d.format()
    result = run_cli("lint", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_a_file_holding_only_an_open_brace_is_a_yaml_error(tmp_path: Path) -> None:
    path = write_file(tmp_path / "p.yaml", "{")
    with pytest.raises(ProfileValidationError, match="invalid YAML"):
        connprof.load_profile("p", config=str(path))
    result = run_cli("lint", str(path))
    assert (result.returncode, result.stdout.count("\n")) == (1, 1), result
    assert "CP001 error invalid YAML" in result.stdout


@pytest.mark.parametrize("control", ["\x01", "\x1b", "\x7f", "\x9b", "\ufffe"])
def test_a_control_character_is_named_with_its_position_on_one_line(
    tmp_path: Path, control: str
) -> None:
    text = f'profiles:\n  p:\n    driver: cassandra\n    description: "é{control}"\n'
    path = write_file(tmp_path / "p.yaml", text)
    with pytest.raises(ProfileValidationError) as caught:
        connprof.load_profile("p", config=str(path))
    assert f"U+{ord(control):04X}" in str(caught.value)
    # The line and column of the character, counted in characters even after an 'é'.
    assert (caught.value.line, caught.value.column) == (4, 20)
    result = run_cli("--config", str(path), "show", "p")
    assert result.stderr.count("\n") == 1 and result.returncode == 1


def test_an_echoed_name_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    path = write_file(tmp_path / "p.yaml", 'profiles:\n  "a\\nb\\u2028c":\n    driver: crate\n')
    for argv in (("lint", str(path)), ("--config", str(path), "list")):
        result = run_cli(*argv)
        assert result.returncode == 1
        assert "a\\nb\\u2028c" in result.stdout, result
        assert result.stdout.count("\n") == (1 if argv[0] == "lint" else 2), result
    result = run_cli("--config", str(path), "show", "x\ny")
    assert result.stderr.count("\n") == 1 and "x\\ny" in result.stderr, result


@pytest.mark.parametrize("where", ["asked", "another profile", "defaults"])
def test_chained_merge_keys_stop_in_milliseconds(tmp_path: Path, where: str) -> None:
    # A kilobyte: each level merges the one below twice, 2**29 pairs if nothing stops it.
    chain = ["l0: &l0 {a: 1, b: 2}"] + [
        f"l{i}: &l{i} {{<<: [*l{i - 1}, *l{i - 1}]}}" for i in range(1, 30)
    ]
    bomb = "".join(f"\n      {line}" for line in chain)
    if where == "asked":
        text = f"profiles:\n  p:\n    driver: cassandra\n    options:{bomb}\n"
    elif where == "another profile":
        text = f"profiles:\n  p: {{driver: crate, hosts: [x]}}\n  q:\n    options:{bomb}\n"
    else:
        text = f"defaults:\n  options:{bomb}\nprofiles:\n  p: {{driver: crate, hosts: [x]}}\n"
    path = write_file(tmp_path / "p.yaml", text)
    assert len(text) < 1200
    start = time.perf_counter()
    if where == "another profile":
        assert connprof.load_profile("p", config=str(path)).driver == "crate"
    else:
        with pytest.raises(ProfileValidationError, match="too many values"):
            connprof.load_profile("p", config=str(path))
    found = connprof.lint_paths([path])
    assert any("too many values" in d.message for d in found)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "field",
    ["port: {d}", 'dsn: "db:{d}"', 'uri: "mongodb://db:{d}/"', "hosts: [db]\n    port: -{d}",
     'dsn: "db1..{d}"', 'uri: "mongodb://db/?connectTimeoutMS={d}"'],
)  # fmt: skip
def test_a_number_of_5000_digits_is_an_error_or_a_warning_never_a_crash(
    tmp_path: Path, field: str
) -> None:
    driver = "pymongo" if "uri" in field else "pyexasol" if "dsn" in field else "cassandra"
    body = field.format(d="9" * 5000)
    path = write_file(tmp_path / "p.yaml", f"profiles:\n  p:\n    driver: {driver}\n    {body}\n")
    try:
        connprof.load_profile("p", config=str(path))
    except ConnprofError as exc:
        assert len(str(exc)) < 400 and "\n" not in str(exc)
    for reading in (True, False):
        with contextlib.suppress(ProfileValidationError):
            every_profile(str(path), positions=reading)
    connprof.lint_paths([path])
    for argv in (("show", "p"), ("list",)):
        result = run_cli("--config", str(path), *argv)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "body",
    ["p: {driver: {a: 1}, hosts: [x]}", "p: {driver: {a: 1}, uri: 'mongodb://h/'}",
     "p: {driver: [a], dsn: 'h:1'}", "q: {driver: pymongo}\n  p: {driver: {a: 1}, extends: q}"],
)  # fmt: skip
def test_a_driver_that_is_a_mapping_or_a_list_is_a_validation_error(
    tmp_path: Path, body: str
) -> None:
    path = write_file(tmp_path / "p.yaml", f"profiles:\n  {body}\n")
    for call in (lambda: connprof.load_profile("p", config=str(path)),
                 lambda: connprof.compose("p", config=str(path))):  # fmt: skip
        try:
            call()
        except ConnprofError as exc:
            assert "\n" not in str(exc)
    assert connprof.lint_paths([path])
    for argv in (("show", "p"), ("list",), ("show", "p", "--explain")):
        result = run_cli("--config", str(path), *argv)
        # list composes without validating: it shows the driver as "?"
        assert result.returncode == (0 if argv == ("list",) else 1), result
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "call",
    [lambda: connprof.parse_mongodb_uri("mongodb://[::\r\r1]/"),
     lambda: connprof.parse_exasol_dsn("[::\r1]:1"),
     lambda: connprof.parse_mongodb_uri("mongodb://h\x1b[31m/"),
     lambda: connprof.load_profile("a\nb", config=str(BAD / "missing_driver.yaml")),
     lambda: connprof.load_profile("p", config="/nowhere/a\nb.yaml")],
    ids=["uri", "dsn", "escape", "profile-name", "config-path"],
)  # fmt: skip
def test_every_library_error_is_one_line(call) -> None:
    # Found by fuzz/fuzz_mongodb_uri.py: the message echoed a carriage return.
    with pytest.raises(ConnprofError) as caught:
        call()
    text = str(caught.value)
    assert not any(c in text for c in "\n\r\x1b"), repr(text)
