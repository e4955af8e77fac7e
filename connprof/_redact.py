"""The one place that finds credentials in connection strings, so nothing else shows them."""

from __future__ import annotations

__all__ = ["strip_userinfo", "userinfo"]


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
