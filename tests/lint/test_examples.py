"""Every lint rule against its own examples: ``tests/lint/examples/CPnnn/{bad,good}/*.yaml``.

A bad example's header lists every finding it must produce, as ``# expect: CODE LINE`` lines,
and nothing else may be reported. A good example must lint clean. Header directives:
``# check-files`` lints with ``--check-files``; ``# chmod: RELPATH MODE`` sets a file's mode
first (git keeps no modes); ``# secret: TEXT`` must appear in no output format.

Each example runs twice: as a small file (composed with positions straight away) and through
the plain-data first pass that large files take, which must find the same things.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from connprof._lint import RULES, engine, lint_paths
from connprof._lint.report import FORMATS

EXAMPLES = Path(__file__).resolve().parent / "examples"
LINT_PAGE = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


@dataclass
class Header:
    expect: set[tuple[str, int]] = field(default_factory=set)
    check_files: bool = False
    chmod: list[tuple[str, int]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def read_header(path: Path) -> Header:
    header = Header()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if m := re.match(r"# expect: (CP\d{3}) (\d+)\s*$", line):
            header.expect.add((m[1], int(m[2])))
        elif line.strip() == "# check-files":
            header.check_files = True
        elif m := re.match(r"# chmod: (\S+) ([0-7]{3})\s*$", line):
            header.chmod.append((m[1], int(m[2], 8)))
        elif m := re.match(r"# secret: (.+)$", line):
            header.secrets.append(m[1].strip())
    return header


def cases() -> list[object]:
    out: list[object] = []
    for code_dir in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        for kind in ("bad", "good"):
            for example in sorted((code_dir / kind).glob("*.yaml")):
                out.append(
                    pytest.param(code_dir.name, kind, example, id=f"{code_dir.name}-{kind}-"
                                 f"{example.stem}")
                )  # fmt: skip
    return out


@pytest.mark.parametrize("first_pass", [False, True], ids=["positioned", "plain-first"])
@pytest.mark.parametrize(("code", "kind", "example"), cases())
def test_example(
    code: str,
    kind: str,
    example: Path,
    first_pass: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    header = read_header(example)
    folder = tmp_path / kind
    shutil.copytree(example.parent, folder)
    for relative, mode in header.chmod:
        os.chmod(folder / relative, mode)
    # 0 sends every file through the plain-data first pass; a huge value sends none.
    monkeypatch.setattr(engine, "FAST_THRESHOLD", 0 if first_pass else 1 << 40)
    monkeypatch.chdir(folder)

    found = lint_paths([example.name], check_files=header.check_files)

    got = {(d.code, d.line) for d in found}
    if kind == "good":
        assert got == set(), [d.format() for d in found]
        return
    assert code in {c for c, _ in header.expect}, "a bad example must expect its own code"
    assert got == header.expect, [d.format() for d in found]
    for d in found:
        assert d.path == example.name
        assert d.severity == RULES[d.code].severity
        assert "; " in d.message, f"{d.code}: the message must end with its fix"
        assert "\n" not in d.message
    for secret in header.secrets:
        for render in FORMATS.values():
            assert secret not in render(found)


def test_every_rule_has_good_and_bad_examples() -> None:
    for code in RULES:
        for kind in ("bad", "good"):
            assert list((EXAMPLES / code / kind).glob("*.yaml")), f"{code}/{kind} has no example"
    assert {p.name for p in EXAMPLES.iterdir() if p.is_dir()} == set(RULES)


def test_codes_are_stable_and_ordered() -> None:
    assert all(re.fullmatch(r"CP\d{3}", code) for code in RULES)
    assert list(RULES) == sorted(RULES)


def test_docs_list_every_rule_with_its_fix() -> None:
    # One contiguous table, in code order, saying what RULES says.
    expected = "".join(
        f"| `{code}` | {rule.severity} | {rule.summary}"
        f"{' (with `--check-files`)' if rule.check_files else ''} | {rule.fix} |\n"
        for code, rule in RULES.items()
    )
    assert expected in LINT_PAGE.read_text(encoding="utf-8")
