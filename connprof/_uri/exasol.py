"""Exasol DSNs as pyexasol 3 reads them: parse to nodes, format back, and say what they mean.

The grammar is pyexasol 3's (``ExaConnection._process_dsn``)::

    dsn  := part *("," part)
    part := host [start ".." end suffix] ["/" (HEX | "nocertcheck")] [":" port]

Parts are read right to left and the port (default 8563) and fingerprint carry leftwards, so in
``a,b/AB:9000`` both hosts get port 9000 and fingerprint ``AB``. Parsing is pure: ranges are
expanded here, nothing is resolved and nothing is shuffled (pyexasol does both at connect time).

Everything pyexasol rejects is a ``DsnError`` naming the part. Where pyexasol silently accepts
nonsense, this parser refuses it too, each with a one-line fix: an empty DSN or part, whitespace,
user info, ``host:`` without a port, a port outside 1-65535, a host name with characters or
empty labels no host has, and ranges that are backwards or expand to more than ``MAX_NODES``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .._errors import DsnError

__all__ = [
    "DEFAULT_PORT",
    "MAX_NODES",
    "NOCERTCHECK",
    "ExasolDSN",
    "exasol_profile_fields",
    "format_exasol_dsn",
    "parse_exasol_dsn",
]

DEFAULT_PORT = 8563
NOCERTCHECK = "NOCERTCHECK"
#: A DSN expands to at most this many nodes. Exasol clusters have tens of nodes; a typo such as
#: ``exa1..100000`` would otherwise build (and make pyexasol resolve) a hundred thousand names.
MAX_NODES = 1000

Node = tuple[str, int, str | None]

FORM = "host[a..b][/FINGERPRINT or /nocertcheck][:port]"

# pyexasol 3.0.1's own pattern, kept verbatim so that what it accepts is decided the same way:
# a lazy host prefix, then an optional range with a suffix, fingerprint, port. Only the anchors
# differ: fullmatch() instead of search("^...$"), whose "$" also matches before a trailing
# newline (whitespace is refused before this pattern runs, so the results agree).
_PART = re.compile(
    r"(?P<hostname_prefix>[^:/]+?)"
    r"(?:(?P<range_start>\d+)\.\.(?P<range_end>\d+)(?P<hostname_suffix>[^:/]*?))?"
    r"(?:/(?P<fingerprint>[0-9A-Fa-f]+|nocertcheck))?"
    r"(?::(?P<port>\d+)?)?",
    re.IGNORECASE,
)
# Letters and digits of any script (IDNA names), "-", "_" and ".": what a host name can hold.
_HOST_CHAR = re.compile(r"[\w.-]")
_FINGERPRINT = re.compile(r"[0-9A-F]+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ExasolDSN:
    """A parsed DSN: ``nodes`` in DSN order, ranges expanded.

    Each node is ``(host, port, fingerprint)``; the fingerprint is upper-case hex, ``NOCERTCHECK``
    or None. ``str()`` gives a DSN that pyexasol 3 reads to the same nodes.
    """

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        # Checked here too, so that a hand-built value is one str() can write for pyexasol.
        if not self.nodes:
            raise DsnError("an Exasol DSN has at least one node")
        carried: str | None = None
        for host, port, fingerprint in reversed(self.nodes):
            _check_host(host, host)
            _check_port(port, host)
            if fingerprint is not None and not (
                fingerprint == NOCERTCHECK or _FINGERPRINT.match(fingerprint)
            ):
                raise DsnError(
                    f"node {host!r}: the fingerprint must be upper-case hex or {NOCERTCHECK!r}"
                )
            if fingerprint is None and carried is not None:
                # pyexasol carries a fingerprint leftwards and has no way to drop it again.
                raise DsnError(
                    f"node {host!r} has no fingerprint but a node to its right has one, which no "
                    "DSN can say; move the nodes without a fingerprint to the right"
                )
            carried = fingerprint

    def __str__(self) -> str:
        return format_exasol_dsn(self)


def parse_exasol_dsn(dsn: str) -> ExasolDSN:
    """Parse an Exasol DSN the way pyexasol 3 does, without DNS or shuffling.

    Raises ``DsnError`` with a one-line message naming the part and how to fix it.
    """
    if not isinstance(dsn, str):
        raise DsnError(f"the DSN must be text, not {type(dsn).__name__}")
    bad = _SURROGATE.search(dsn)
    if bad is not None:  # bytes that were not UTF-8: no host name holds one
        raise DsnError(f"the DSN is not UTF-8 text (an undecodable character at {bad.start() + 1})")
    if not dsn.strip():
        raise DsnError(f"the DSN is empty; write {FORM}, e.g. exasol.example.com:8563")
    if "@" in dsn:
        # Never echoed: the text before "@" may be user:password.
        raise DsnError(
            "the DSN carries user info (user@host); a DSN names hosts only: put the user in "
            'auth.user and the password in a secret reference (auth.password: "keyring:")'
        )
    texts = dsn.split(",")
    for i, text in enumerate(texts, 1):
        if not text:
            raise DsnError(
                f"the DSN has an empty part (part {i} of {len(texts)}); remove the extra comma"
            )
        if any(c.isspace() for c in text):
            raise DsnError(
                f"DSN part {text!r} contains whitespace, which pyexasol would keep in the host "
                "name; remove it"
            )
    parts = [_parse_part(text) for text in texts]
    if sum(len(hosts) for hosts, _, _ in parts) > MAX_NODES:
        raise DsnError(f"the DSN expands to more than {MAX_NODES} nodes; check its ranges")
    # Right to left, as pyexasol reads it: a part's port and fingerprint hold for every part to
    # its left until another part names its own.
    port, fingerprint = DEFAULT_PORT, None
    groups: list[list[Node]] = []
    for hosts, part_fingerprint, part_port in reversed(parts):
        port = part_port if part_port is not None else port
        fingerprint = part_fingerprint if part_fingerprint is not None else fingerprint
        groups.append([(host, port, fingerprint) for host in hosts])
    return ExasolDSN(tuple(node for group in reversed(groups) for node in group))


def format_exasol_dsn(dsn: ExasolDSN) -> str:
    """The DSN text for ``dsn``: every node by name, ports and fingerprints where they change.

    The last node always shows its port, so the text says which port it means even to a reader
    who does not know pyexasol's default.
    """
    parts: list[str] = []
    port, fingerprint = -1, None
    for host, node_port, node_fingerprint in reversed(dsn.nodes):
        text = host
        if node_fingerprint != fingerprint:
            # pyexasol matches "nocertcheck" in any case; the lower case is the documented one.
            shown = "nocertcheck" if node_fingerprint == NOCERTCHECK else node_fingerprint
            text += f"/{shown}"
            fingerprint = node_fingerprint
        if node_port != port:
            text += f":{node_port}"
            port = node_port
        parts.append(text)
    return ",".join(reversed(parts))


def exasol_profile_fields(dsn: ExasolDSN) -> dict[str, Any]:
    """The canonical profile fields a DSN says, to merge under the profile's own.

    ``port`` when every node uses the same port (otherwise each node keeps its own and no
    profile-wide port exists), and ``tls.fingerprint`` (``nocertcheck`` in the canonical
    spelling) when the nodes are pinned. The canonical model holds one fingerprint per profile,
    so nodes with different fingerprints, or some pinned and some not, are a ``DsnError``:
    picking one would silently drop a pin or weaken a node's check.
    """
    fields: dict[str, Any] = {}
    ports = {port for _, port, _ in dsn.nodes}
    if len(ports) == 1:
        fields["port"] = ports.pop()
    fingerprints = {fingerprint for _, _, fingerprint in dsn.nodes}
    if len(fingerprints) > 1:
        pinned = sorted(host for host, _, fp in dsn.nodes if fp is not None)
        raise DsnError(
            f"the DSN gives its nodes different fingerprints (or pins only {', '.join(pinned)}); "
            "a profile has one tls.fingerprint: pin every node to the same certificate, or "
            "split the nodes into one profile per fingerprint"
        )
    fingerprint = fingerprints.pop()
    if fingerprint is not None:
        canonical = "nocertcheck" if fingerprint == NOCERTCHECK else fingerprint
        fields["tls"] = {"fingerprint": canonical}
    return fields


# -- one part ----------------------------------------------------------------------------------


def _parse_part(text: str) -> tuple[list[str], str | None, int | None]:
    """``(hosts, fingerprint, port)`` of one comma-separated part; None where it says nothing."""
    match = _PART.fullmatch(text)
    if match is None:
        raise DsnError(f"DSN part {text!r}: {_why_unparsable(text)}")
    if text.endswith(":"):
        # pyexasol reads "host:" as "no port here"; it is almost always a port left out.
        raise DsnError(f"DSN part {text!r} ends with ':' but no port; write it as host:8563")
    port = None
    for number in ("port", "range_start", "range_end"):
        # int() refuses more than 4300 digits; a port has 5, a node number a few.
        if match[number] is not None and len(match[number]) > 9:
            raise DsnError(f"DSN part {_short(text)}: the {number.replace('_', ' ')} is too long")
    if match["port"] is not None:
        port = int(match["port"])
        _check_port(port, text)
    fingerprint = match["fingerprint"].upper() if match["fingerprint"] else None
    prefix = match["hostname_prefix"]
    if match["range_start"] is None:
        hosts = [prefix]
    else:
        start, end = int(match["range_start"]), int(match["range_end"])
        if start > end:
            raise DsnError(
                f"DSN part {text!r} has a backwards range {match['range_start']}.."
                f"{match['range_end']}; write the lower bound first"
            )
        if end - start >= MAX_NODES:
            raise DsnError(f"DSN part {text!r} expands to more than {MAX_NODES} nodes")
        # Zero-padded to the width of the lower bound, as pyexasol does: node08..11 -> node08.
        width = len(match["range_start"])
        suffix = match["hostname_suffix"]
        hosts = [f"{prefix}{str(i).zfill(width)}{suffix}" for i in range(start, end + 1)]
    for host in hosts:
        _check_host(host, text)
    return hosts, fingerprint, port


def _short(text: str) -> str:
    """``text`` quoted for a message, cut to a readable length."""
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _check_port(port: int, where: str) -> None:
    # pyexasol takes any digits; port 0 or 70000 can only be a typo.
    if not 1 <= port <= 65535:
        raise DsnError(f"DSN part {where!r}: the port {port} is not from 1 to 65535")


def _check_host(host: str, where: str) -> None:
    bad = next((c for c in host if not _HOST_CHAR.fullmatch(c)), None)
    if bad is not None or not host:
        raise DsnError(
            f"DSN part {where!r}: {host!r} is not a host name (letters, digits, '-', '_' and "
            "'.' only)"
        )
    if ".." in host or host.startswith("."):
        if re.match(r"\d+\.\.\d+", host):
            raise DsnError(f"DSN part {where!r}: a range needs a host name before it, e.g. exa1..3")
        raise DsnError(
            f"DSN part {where!r}: {host!r} has an empty label ('..' or a leading '.'); a range "
            "is name1..3 with one pair of bounds"
        )


def _why_unparsable(text: str) -> str:
    """Why pyexasol's pattern rejects ``text``: the fault a user most likely made, and the fix."""
    if "://" in text:
        return f"a DSN has no scheme; write {FORM}"
    if text.startswith("[") or _is_ipv6(text):
        return "pyexasol cannot connect to IPv6 addresses; use a host name or an IPv4 address"
    cut = min((i for i in (text.find(":"), text.find("/")) if i >= 0), default=len(text))
    host, rest = text[:cut], text[cut:]
    if not host:
        return f"no host before {rest[0]!r}; write {FORM}"
    if rest.startswith(":"):
        port = rest[1:]
        if "/" in port:
            return "the fingerprint goes before the port: write host/FINGERPRINT:port"
        return f"the port {port!r} is not a number; write host:8563"
    fingerprint, _, port = rest[1:].partition(":")
    if not fingerprint:
        return "nothing after '/'; write host/FINGERPRINT (SHA-256 in hex) or host/nocertcheck"
    if ":" in port or (port and not port.isdigit() and _FINGERPRINT.match(port.upper())):
        return (
            "a fingerprint in a DSN has no colons (pyexasol reads ':' as the port); "
            "write host/FINGERPRINT:port with the hex digits only"
        )
    if "/" in fingerprint:
        return "one fingerprint per part: write host/FINGERPRINT:port"
    if not (_FINGERPRINT.match(fingerprint.upper()) or fingerprint.upper() == NOCERTCHECK):
        return (
            f"{fingerprint!r} is not a fingerprint: write the SHA-256 in hex digits, or nocertcheck"
        )
    return f"the port {port!r} is not a number; write host/FINGERPRINT:8563"


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.partition("/")[0])
    except ValueError:
        return False
    return True
