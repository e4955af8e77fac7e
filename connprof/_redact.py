"""The one place that finds credentials in connection strings, so nothing else shows them."""

from __future__ import annotations

import re

__all__ = ["printable", "strip_userinfo", "userinfo"]


def _split(uri: str) -> tuple[str, str | None, str]:
    """``(scheme://, user info or None, the rest)``.

    The user info ends at the last ``@`` before the options: a password may hold an unescaped
    ``/`` or ``@`` that a stricter split would miss.
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "", uri
    before_options, query_sep, query = rest.partition("?")
    if "@" not in before_options:
        return scheme + sep, None, rest
    info, _, hosts = before_options.rpartition("@")
    return scheme + sep, info, hosts + query_sep + query


def userinfo(uri: str) -> str | None:
    """The ``user[:password]`` part of a connection string, or None."""
    return _split(uri)[1]


def strip_userinfo(uri: str) -> str:
    """The connection string without its user info."""
    prefix, _, rest = _split(uri)
    return prefix + rest


# Line breaks PyYAML and str.splitlines() know, every other C0/C1 control character, DEL,
# lone surrogates (unencodable: printing one fails), and the bidirectional overrides.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def printable(text: str) -> str:
    """``text`` on one line, safe to print: control characters, line breaks and lone
    surrogates written as escapes (``\\n``, ``\\x01``, ``\\udcff``)."""
    return _UNPRINTABLE.sub(_escape, text)
