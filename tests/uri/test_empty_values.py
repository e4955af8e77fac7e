"""A uri option with an empty value is ignored with a warning, so it is not counted anywhere
else either: not in the tlsInsecure conflicts, not as the "last one" of a repeated option."""

from __future__ import annotations

from pathlib import Path

import pytest

from connprof import load_profile, parse_mongodb_uri
from tests.helpers import write_profiles


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("tlsDisableOCSPEndpointCheck=&tlsInsecure=true", {"tlsInsecure": True}),
        ("tlsInsecure=&tlsAllowInvalidCertificates=true", {"tlsAllowInvalidCertificates": True}),
        ("tlsAllowInvalidHostnames=&tlsInsecure=false", {"tlsInsecure": False}),
        ("tls=true&ssl=", {"tls": True}),
        ("ssl=&tls=false", {"tls": False}),
        ("w=2&w=", {"w": 2}),
    ],
)
def test_an_empty_value_is_ignored_and_conflicts_with_nothing(
    query: str, options: dict[str, object]
) -> None:
    parsed = parse_mongodb_uri(f"mongodb://db1.example.com/?{query}")
    assert dict(parsed.options) == options
    assert any("it has an empty value" in w for w in parsed.warnings), parsed.warnings


def test_a_real_conflict_is_still_refused() -> None:
    from connprof import UriError

    with pytest.raises(UriError, match="tlsInsecure and tlsDisableOCSPEndpointCheck"):
        parse_mongodb_uri("mongodb://h/?tlsDisableOCSPEndpointCheck=false&tlsInsecure=true")


def test_the_profile_loads_with_the_warning(tmp_path: Path) -> None:
    uri = "mongodb://db1.example.com/?tlsDisableOCSPEndpointCheck=&tlsInsecure=true"
    path = write_profiles(
        tmp_path / "p.yaml", {"p": {"driver": "pymongo", "uri": uri, "allow_insecure": True}}
    )
    with pytest.warns(UserWarning, match="tlsDisableOCSPEndpointCheck"):
        profile = load_profile("p", config=str(path))
    assert profile.tls.verify == "none"
    assert any("empty value" in w for w in profile.warnings)
