"""atheris: ``parse_mongodb_uri`` on arbitrary text.

.venv/bin/python fuzz/fuzz_mongodb_uri.py -max_total_time=600
"""

from __future__ import annotations

import _harness  # first: sys.path to the repository, every connprof module instrumented

from connprof import format_mongodb_uri, parse_mongodb_uri
from connprof._redact import strip_userinfo
from tests.fuzz.checks import check_error, check_text


def test(data: bytes) -> None:
    # The bytes as text, seeds intact (a FuzzedDataProvider would eat the first byte).
    text = data.decode("utf-8", "replace")
    try:
        uri = parse_mongodb_uri(text)
    except Exception as exc:
        check_error(exc, secret=None)
        return
    check_text(repr(uri), "repr(MongoURI)", secret=None, lines=10**6)
    for warning in uri.warnings:
        check_text(warning, "a warning", secret=None)
    # The password never shows in the repr, unless the string repeats it outside the user info
    # (an option written with the same text), or it is too short to tell from other text.
    password = uri.password or ""
    elsewhere = strip_userinfo(text) + (uri.username or "")
    if len(password) >= 6 and password not in elsewhere and password in repr(uri):
        raise AssertionError(f"the password is in repr(MongoURI): {uri!r}")
    format_mongodb_uri(uri)


if __name__ == "__main__":
    _harness.isolate()
    _harness.run("mongodb_uri", _harness.string_seeds(r"(mongodb(?:\+srv)?://[^\s\"'`]+)"), test)
