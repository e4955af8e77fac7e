"""An AWS_SESSION_TOKEN in a uri is never printed, even inside an authMechanismProperties the
parser ignores (malformed, repeated, percent-encoded, misspelt): ``show``, lint's reports,
``parse`` and ``import``, ``repr(MongoURI)``, the warnings and the cache all stay clean.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from connprof import ProfileValidationError, load_profile, parse_mongodb_uri
from connprof._lint import lint_paths
from connprof._lint.report import FORMATS
from tests.helpers import run_cli, write_profiles

TOKEN = "FQoGZXIvYXdzCanaryTok3n"  # what an STS session token looks like, and nothing else does

#: Each uri holds the token where the parser ignores the option, with a warning or silently.
HIDING = {
    "unknown-property": f"authMechanismProperties=AWS_SESSION_TOKEN:{TOKEN},BOGUS:1",
    "equals-not-colon": f"authMechanismProperties=AWS_SESSION_TOKEN={TOKEN[:9]}:{TOKEN[9:]}",
    "bad-percent": f"authMechanismProperties=AWS_SESSION_TOKEN:{TOKEN}%zz",
    "lower-case-name": f"authMechanismProperties=aws_session_token:{TOKEN}",
    "percent-encoded": f"authMechanismProperties=AWS%5FSESSION%5FTOKEN:{TOKEN},X:1",
    "twice-encoded": f"authMechanismProperty=AWS%255FSESSION%255FTOKEN:{TOKEN}",
    "repeated": f"authMechanismProperties=AWS_SESSION_TOKEN:{TOKEN},X:1"
    "&authMechanismProperties=SERVICE_NAME:mongodb",
    "misspelt-option": f"authMechanismProperty=AWS_SESSION_TOKEN:{TOKEN}",
    "valid": f"authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:{TOKEN}",
}
CASES = pytest.mark.parametrize("query", list(HIDING.values()), ids=list(HIDING))


def uri(query: str) -> str:
    return f"mongodb://db1.example.com/orders?{query}"


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert TOKEN[:9] not in text and TOKEN[9:] not in text  # no half of it either


@CASES
def test_the_parser_keeps_the_token_out_of_repr_str_and_warnings(query: str) -> None:
    parsed = parse_mongodb_uri(uri(query))
    assert_clean(repr(parsed), str(parsed), *parsed.warnings)
    assert parsed.names_session_token


@CASES
def test_a_profile_with_the_token_is_refused_and_show_prints_none_of_it(
    query: str, tmp_path: Path, isolated: SimpleNamespace
) -> None:
    path = write_profiles(tmp_path / "p.yaml", {"p": {"driver": "pymongo", "uri": uri(query)}})
    for argv in (
        ("--config", str(path), "show", "p"),
        ("--config", str(path), "show", "p", "--format", "json"),
        ("--config", str(path), "show", "p", "--explain"),
        ("--config", str(path), "list"),
    ):
        code, out, err = run_cli(*argv)
        assert_clean(out, err)
    code, out, err = run_cli("--config", str(path), "show", "p")
    assert code == 1
    assert "the uri carries AWS_SESSION_TOKEN, a secret" in err
    with pytest.raises(ProfileValidationError, match="AWS_SESSION_TOKEN") as refused:
        load_profile("p", config=str(path))
    assert_clean(str(refused.value), repr(refused.value))
    # Whatever show cached, the token is not in it.
    for entry in isolated.cache_home.rglob("*"):
        if entry.is_file():
            assert TOKEN.encode() not in entry.read_bytes(), entry


@CASES
def test_lint_reports_it_in_every_format_without_the_token(query: str, tmp_path: Path) -> None:
    path = write_profiles(tmp_path / "p.yaml", {"p": {"driver": "pymongo", "uri": uri(query)}})
    found = lint_paths([path])
    assert any("AWS_SESSION_TOKEN" in d.message for d in found), [d.format() for d in found]
    for render in FORMATS.values():
        assert_clean(render(found))
    code, out, err = run_cli("lint", "--format", "github", str(path))
    assert code == 1
    assert_clean(out, err)


@CASES
def test_parse_and_import_refuse_it_without_printing_it(query: str) -> None:
    code, out, err = run_cli("parse", uri(query))
    assert code == 1
    assert "the uri carries AWS_SESSION_TOKEN, a secret" in err
    assert_clean(out, err)
    code, out, err = run_cli("import", uri(query), "--name", "orders")
    assert code == 1
    assert_clean(out, err)


def test_a_properties_key_that_is_no_name_is_not_echoed_even_without_a_token() -> None:
    # 'K=v:w' is split at the colon: the "key" holds what was meant as a value.
    parsed = parse_mongodb_uri(uri("authMechanismProperties=SERVICE_NAME=sekrit:x"))
    assert "sekrit" not in " ".join(parsed.warnings)
    # A plain unknown name still gets its did-you-mean.
    parsed = parse_mongodb_uri(uri("authMechanismProperties=SERVICE_NAM:mongodb"))
    assert "'SERVICE_NAM'" in parsed.warnings[0] and "SERVICE_NAME" in parsed.warnings[0]


def test_the_json_report_stays_parseable(tmp_path: Path) -> None:
    path = write_profiles(
        tmp_path / "p.yaml", {"p": {"driver": "pymongo", "uri": uri(HIDING["unknown-property"])}}
    )
    code, out, _ = run_cli("lint", "--format", "json", str(path))
    assert code == 1
    assert_clean(out)
    json.loads(out)
