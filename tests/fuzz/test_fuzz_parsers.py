"""The two connection-string parsers on generated and arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from connprof import (
    DsnError,
    UriError,
    format_exasol_dsn,
    format_mongodb_uri,
    parse_exasol_dsn,
    parse_mongodb_uri,
)
from tests.fuzz.checks import CANARY, check_error, check_text
from tests.fuzz.strategies import exasol_dsns, mongodb_uris

anything = st.text(st.characters(codec="utf-8"), max_size=80) | st.text(max_size=40)


@given(mongodb_uris() | anything)
@example(f"mongodb://app:{CANARY}@db:{'9' * 5000}/")
def test_parse_mongodb_uri(text: str) -> None:
    try:
        uri = parse_mongodb_uri(text)
    except Exception as exc:
        check_error(exc)
        return
    check_text(repr(uri), "repr(MongoURI)", lines=10**6)
    for warning in uri.warnings:
        check_text(warning, "a uri warning")
    again = format_mongodb_uri(uri)  # the password masked
    assert CANARY not in again or CANARY in (uri.username or "") + (uri.database or "")


@given(exasol_dsns() | anything)
@example(f"admin:{CANARY}@db:8563")
@example("db1.." + "9" * 5000)
def test_parse_exasol_dsn(text: str) -> None:
    try:
        dsn = parse_exasol_dsn(text)
    except Exception as exc:
        check_error(exc)
        return
    # What parses formats to a DSN that parses to the same nodes.
    assert parse_exasol_dsn(format_exasol_dsn(dsn)).nodes == dsn.nodes


def test_a_lone_surrogate_is_refused_by_both_parsers() -> None:
    # Found by the dev profile: 'mongodb://0?tlsCAFile=\ud800' parsed, then format crashed.
    with pytest.raises(UriError, match="not UTF-8 text"):
        parse_mongodb_uri("mongodb://0?tlsCAFile=\ud800")
    with pytest.raises(DsnError, match="not UTF-8 text"):
        parse_exasol_dsn("db\udcff:8563")
