"""``connprof._edit``: a profile spliced into a file's text, every other byte kept."""

from __future__ import annotations

import pytest
import yaml

from connprof._edit import EditRefused, render_entry, splice_profile

BODY = {"driver": "crate", "hosts": ["c1"], "auth": {"user": "app", "password": "keyring:"}}
ENTRY = "  new:\n    driver: crate\n    hosts: [c1]\n    auth:\n      user: app\n      password: 'keyring:'\n"  # noqa: E501


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "version: 1\nprofiles:\n" + ENTRY),
        ("# only a comment", "# only a comment\nversion: 1\nprofiles:\n" + ENTRY),
        ("version: 1\ndefault: x", "version: 1\ndefault: x\nprofiles:\n" + ENTRY),
        ("profiles:\n# none yet\n", "profiles:\n" + ENTRY + "# none yet\n"),
        (
            "profiles:\n  a: {driver: crate, hosts: [c0]}",
            "profiles:\n  a: {driver: crate, hosts: [c0]}\n" + ENTRY,
        ),
    ],
)
def test_the_new_entry_is_added_and_nothing_else_changes(before: str, after: str) -> None:
    assert splice_profile(before, "new", BODY, path="p.yaml") == after


def test_values_yaml_would_misread_are_quoted() -> None:
    body = {
        "driver": "pymongo",
        "hosts": ["yes", "1.2", "db:27017", "a #b"],
        "tls": {"min_version": "1.3"},
    }
    text = render_entry("n", body)
    assert yaml.safe_load(text) == {"n": body}


def test_the_result_is_checked_before_it_is_returned() -> None:
    # A top level that is not a block mapping cannot take an entry without a rewrite.
    for text in ("- a\n- b\n", "{profiles: {}}\n", "profiles: null\n"):
        with pytest.raises(EditRefused):
            splice_profile(text, "new", BODY, path="p.yaml")
