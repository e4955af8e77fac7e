"""Each bad profile file gives one error line with path:line:col, from the CLI and the API.

The cases are the files in ``tests/data/bad``. Each opens with a comment header:

    # expect: LINE:COL FRAGMENT     where the error points and text its message contains
                                    (``FIRST-LAST:*`` when any line in that range is right)
    # also: FRAGMENT                more text the message must contain (repeatable)
    # secret: VALUE                 a planted secret that no output may repeat
    # show: NAME                    the profile to ask for
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import connprof
from connprof import ConfigNotFound, ProfileValidationError
from tests.helpers import run_cli

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
_HEADER = re.compile(r"#\s*(expect|also|secret|show):\s?(.*)\Z")
_WHERE = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?:(?P<column>\d+|\*)\Z")


@dataclass(frozen=True)
class Case:
    file: Path
    name: str
    first_line: int
    last_line: int
    column: int | None  # None: any column
    fragments: tuple[str, ...]
    secret: str | None

    def expected(self) -> str:
        lines = (
            str(self.first_line)
            if self.first_line == self.last_line
            else f"{self.first_line}-{self.last_line}"
        )
        return f"{lines}:{self.column or '*'}"

    def matches(self, line: int | None, column: int | None) -> bool:
        if line is None or not self.first_line <= line <= self.last_line:
            return False
        return self.column is None or column == self.column


def read_case(file: Path) -> Case:
    headers: dict[str, list[str]] = {}
    for text in file.read_bytes().decode("utf-8", "replace").splitlines():
        match = _HEADER.match(text)
        if match is None:
            break
        headers.setdefault(match[1], []).append(match[2].rstrip())
    where, _, fragment = headers["expect"][0].partition(" ")
    loc = _WHERE.match(where)
    assert loc is not None, f"{file.name}: bad '# expect:' location {where!r}"
    first = int(loc["first"])
    secret = headers.get("secret", [None])[0]
    if secret is not None:
        assert secret.encode() in file.read_bytes(), f"{file.name}: the secret is not planted"
    return Case(
        file=file,
        name=headers["show"][0],
        first_line=first,
        last_line=int(loc["last"] or first),
        column=None if loc["column"] == "*" else int(loc["column"]),
        fragments=(fragment, *headers.get("also", [])),
        secret=secret,
    )


CASES = [read_case(f) for f in sorted(BAD.glob("*.yaml"))]


each_case = pytest.mark.parametrize("case", CASES, ids=[c.file.stem for c in CASES])


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("CONNPROF_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)


def test_the_bad_inputs_of_the_issue_are_covered() -> None:
    stems = {c.file.stem for c in CASES}
    for prefix in ("yaml_", "type_", "unknown_key_", "secret_plaintext_", "secret_ref_",
                   "duplicate_", "tag_", "alias_bomb_", "tls_", "options_", "extends_",
                   "endpoints_", "host_"):  # fmt: skip
        assert any(s.startswith(prefix) for s in stems), prefix
    assert len(CASES) >= 50


@each_case
def test_cli_prints_one_error_line_with_the_position(case: Case, tmp_path: Path) -> None:
    path = tmp_path / case.file.name
    shutil.copyfile(case.file, path)

    result = run_cli("--config", str(path), "show", case.name)

    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    prefix = f"connprof: error: {path}:"
    assert result.stderr.startswith(prefix), result.stderr
    where = re.match(r"(\d+):(\d+): ", result.stderr[len(prefix) :])
    assert where is not None, result.stderr
    line, column = int(where[1]), int(where[2])
    assert case.matches(line, column), f"at {line}:{column}, expected {case.expected()}"
    # Only the message: the file name must not satisfy a fragment by accident.
    message = result.stderr[len(prefix) + len(where[0]) :]
    for fragment in case.fragments:
        assert fragment in message
    if case.secret:
        assert case.secret not in result.stdout
        assert case.secret not in result.stderr


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
        todo += list(getattr(item, "problems", ()))
    return seen


@each_case
def test_api_raises_with_path_line_and_column(case: Case, tmp_path: Path) -> None:
    path = tmp_path / case.file.name
    shutil.copyfile(case.file, path)

    with pytest.raises(ProfileValidationError) as info:
        connprof.load_profile(case.name, config=str(path))

    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.path == str(path)
    assert case.matches(exc.line, exc.column), (
        f"at {exc.line}:{exc.column}, expected {case.expected()}"
    )
    text = str(exc)
    assert "\n" not in text
    prefix = f"{path}:{exc.line}:{exc.column}: "
    assert text.startswith(prefix)
    for fragment in case.fragments:
        assert fragment in text[len(prefix) :]
    if case.secret:
        for item in _chain(exc):
            assert case.secret not in str(item), type(item).__name__
            assert case.secret not in repr(item), type(item).__name__


def test_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "profiles.yaml"

    result = run_cli("--config", str(path), "show", "p")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"connprof: error: {path}: no such profile file")
    assert "--config" in result.stderr
    with pytest.raises(ConfigNotFound) as info:
        connprof.load_profile("p", config=str(path))
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.path == str(path)


def test_empty_config_path_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("--config", "", "show", "p")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("connprof: error: ")
    assert "--config" in result.stderr
    # The user must see that the path given was empty, not a message about a nameless file.
    assert "''" in result.stderr or "empty" in result.stderr, result.stderr


def test_empty_profile_file_names_the_file_and_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")

    result = run_cli("--config", str(path), "show", "p")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "no profile 'p'" in result.stderr
    assert str(path) in result.stderr
