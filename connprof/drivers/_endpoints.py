"""Split a profile's ``hosts`` entries into ``(host, port)`` pairs, the one way drivers read them.

The model accepts ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` and a bare IPv6 address
(checked in ``connprof._models``); this turns each into a host without brackets and a port, the
profile's ``port`` filling in where the entry names none.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from .._errors import UnsupportedSetting

if TYPE_CHECKING:
    from .._models import Profile

__all__ = ["is_ip", "one_host", "split_host"]


def split_host(entry: str, default_port: int) -> tuple[str, int]:
    """``("db1", 9042)`` for ``db1``; ``("::1", 9043)`` for ``[::1]:9043``."""
    if entry.startswith("["):
        close = entry.index("]")
        rest = entry[close + 1 :]
        return entry[1:close], int(rest[1:]) if rest else default_port
    if entry.count(":") > 1:  # a bare IPv6 address carries no port
        return entry, default_port
    host, colon, port = entry.rpartition(":")
    if colon:
        return host, int(port)
    return entry, default_port


def is_ip(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 literal rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def one_host(profile: Profile, driver: str, default_port: int, instead: str) -> tuple[str, int]:
    """``(host, port)`` for a driver that talks to one server; several hosts are refused,
    ``instead`` saying what to do."""
    hosts = profile.hosts or ()
    if len(hosts) > 1:
        raise UnsupportedSetting(driver, "hosts", instead)
    # A profile always has hosts; none is check()'s copy with the refused hosts taken out.
    return split_host(hosts[0] if hosts else "localhost", profile.port or default_port)
