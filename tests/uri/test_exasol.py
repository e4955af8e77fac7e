"""Exasol DSNs: pyexasol 3's grammar, connprof's stricter refusals, and agreement with pyexasol."""

from __future__ import annotations

import string
from collections import Counter

import pyexasol.connection
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyexasol.exceptions import ExaConnectionDsnError

import connprof
from connprof import DsnError, ExasolDSN, format_exasol_dsn, parse_exasol_dsn
from connprof._uri.exasol import MAX_NODES, exasol_profile_fields

FP = "135A1D2DCE102DE866F58267521F4232153545A075DC85F8F7596F57E588A181"


class _OfflineExaConnection(pyexasol.connection.ExaConnection):
    """pyexasol's own DSN parser, with name resolution (its only network access) left out.

    ``_process_dsn`` resolves every name of a range even with ``resolve_hostnames=False``; the
    override returns the name unresolved, exactly as pyexasol does for a single host then.
    """

    def __init__(self) -> None:  # no connection: only the options _process_dsn reads
        self.options = {"encryption": True, "resolve_hostnames": False, "verbose_error": False}

    def _resolve_hostname(
        self, hostname: str, port: int, fingerprint: str | None
    ) -> list[pyexasol.connection.Host]:
        return [pyexasol.connection.Host(hostname, None, port, fingerprint)]


def pyexasol_nodes(dsn: str) -> Counter[tuple[str, int, str | None]]:
    """The nodes pyexasol 3 reads from ``dsn`` (as a multiset: pyexasol shuffles them)."""
    hosts = _OfflineExaConnection()._process_dsn(dsn)
    return Counter((h.hostname, h.port, h.fingerprint) for h in hosts)


def nodes(dsn: str) -> list[tuple[str, int, str | None]]:
    return list(parse_exasol_dsn(dsn).nodes)


# -- the grammar -------------------------------------------------------------------------------


def test_a_single_host_gets_the_default_port() -> None:
    assert nodes("exasol.example.com") == [("exasol.example.com", 8563, None)]
    assert nodes("10.0.0.31:9000") == [("10.0.0.31", 9000, None)]


def test_ranges_expand_inclusively_with_zero_padding() -> None:
    assert [h for h, _, _ in nodes("node08..11")] == ["node08", "node09", "node10", "node11"]
    assert [h for h, _, _ in nodes("exa1..3.example.com,exa5.example.com:8564")] == [
        "exa1.example.com",
        "exa2.example.com",
        "exa3.example.com",
        "exa5.example.com",
    ]
    assert [h for h, _, _ in nodes("10.0.0.1..3")] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert [h for h, _, _ in nodes("n001..002-db")] == ["n001-db", "n002-db"]
    assert nodes("n5..5") == [("n5", 8563, None)]


def test_port_and_fingerprint_carry_leftwards() -> None:
    # The example of the design notes, checked against pyexasol below as well.
    assert nodes("host1/AB,host2:8564,host3/CD:9000") == [
        ("host1", 8564, "AB"),
        ("host2", 8564, "CD"),
        ("host3", 9000, "CD"),
    ]
    # Carrying goes leftwards only: the right part keeps the defaults.
    assert nodes(f"host1/{FP}:1111,host2") == [("host1", 1111, FP), ("host2", 8563, None)]
    assert nodes("a1..2:9000,b/ab") == [("a1", 9000, "AB"), ("a2", 9000, "AB"), ("b", 8563, "AB")]


def test_fingerprints_are_hex_stored_upper_case() -> None:
    assert nodes(f"exa/{FP.lower()}:8563") == [("exa", 8563, FP)]
    # pyexasol compares the full SHA-256; a short one parses (lint warns), as pyexasol allows.
    assert nodes("exa/abc") == [("exa", 8563, "ABC")]


@pytest.mark.parametrize("spelling", ["nocertcheck", "NOCERTCHECK", "NoCertCheck"])
def test_nocertcheck_in_any_case_is_stored_upper_case(spelling: str) -> None:
    dsn = parse_exasol_dsn(f"exa1..2/{spelling}:8564")
    assert dsn.nodes == (("exa1", 8564, "NOCERTCHECK"), ("exa2", 8564, "NOCERTCHECK"))
    assert str(dsn) == "exa1,exa2/nocertcheck:8564"


def test_str_names_every_node_and_each_change_once() -> None:
    assert str(parse_exasol_dsn("node08..10")) == "node08,node09,node10:8563"
    assert str(parse_exasol_dsn("a,b/ab:9000")) == "a,b/AB:9000"
    dsn = parse_exasol_dsn("host1/AB,host2:8564,host3/CD:9000")
    assert str(dsn) == format_exasol_dsn(dsn) == "host1/AB,host2:8564,host3/CD:9000"
    assert parse_exasol_dsn(str(dsn)) == dsn


def test_the_value_is_frozen_and_comparable() -> None:
    dsn = parse_exasol_dsn("a,b")
    with pytest.raises(AttributeError):
        dsn.nodes = ()  # type: ignore[misc]
    assert dsn == parse_exasol_dsn("a:8563,b:8563")
    assert hash(dsn) == hash(parse_exasol_dsn("a,b"))


def test_the_public_names() -> None:
    assert connprof.parse_exasol_dsn is parse_exasol_dsn
    assert connprof.format_exasol_dsn is format_exasol_dsn
    assert connprof.ExasolDSN is ExasolDSN


# -- errors: what pyexasol refuses too ---------------------------------------------------------

# (DSN, the message) for every text pyexasol refuses; each names the part and says what to do.
REFUSED_BY_PYEXASOL = [
    ("exa:abc", "DSN part 'exa:abc': the port 'abc' is not a number; write host:8563"),
    ("exa:1:2", "DSN part 'exa:1:2': the port '1:2' is not a number; write host:8563"),
    (
        "exa/",
        "DSN part 'exa/': nothing after '/'; write host/FINGERPRINT (SHA-256 in hex) or "
        "host/nocertcheck",
    ),
    (
        "exa/xyz",
        "DSN part 'exa/xyz': 'xyz' is not a fingerprint: write the SHA-256 in hex digits, or "
        "nocertcheck",
    ),
    ("exa/AB/CD", "DSN part 'exa/AB/CD': one fingerprint per part: write host/FINGERPRINT:port"),
    (
        "exa:8563/AB",
        "DSN part 'exa:8563/AB': the fingerprint goes before the port: write host/FINGERPRINT:port",
    ),
    (
        "exa/AB:CD:EF",
        "DSN part 'exa/AB:CD:EF': a fingerprint in a DSN has no colons (pyexasol reads ':' as "
        "the port); write host/FINGERPRINT:port with the hex digits only",
    ),
    (
        "exa/nocertcheck:x",
        "DSN part 'exa/nocertcheck:x': the port 'x' is not a number; write host/FINGERPRINT:8563",
    ),
    (
        "wss://exa:8563",
        "DSN part 'wss://exa:8563': a DSN has no scheme; "
        "write host[a..b][/FINGERPRINT or /nocertcheck][:port]",
    ),
    (
        "[::1]:8563",
        "DSN part '[::1]:8563': pyexasol cannot connect to IPv6 addresses; use a host name or "
        "an IPv4 address",
    ),
    (
        "::1",
        "DSN part '::1': pyexasol cannot connect to IPv6 addresses; use a host name or an IPv4 "
        "address",
    ),
    (
        "exa1,:8563",
        "DSN part ':8563': no host before ':'; "
        "write host[a..b][/FINGERPRINT or /nocertcheck][:port]",
    ),
    (
        "/AB",
        "DSN part '/AB': no host before '/'; write host[a..b][/FINGERPRINT or /nocertcheck][:port]",
    ),
    (
        "n3..1",
        "DSN part 'n3..1' has a backwards range 3..1; write the lower bound first",
    ),
    (
        "",
        "the DSN is empty; write host[a..b][/FINGERPRINT or /nocertcheck][:port], "
        "e.g. exasol.example.com:8563",
    ),
]

# Texts pyexasol accepts (or fails on later, at DNS) that cannot be what the user meant.
REFUSED_BY_CONNPROF_ONLY = [
    (
        "  ",
        "the DSN is empty; write host[a..b][/FINGERPRINT or /nocertcheck][:port], "
        "e.g. exasol.example.com:8563",
    ),
    (",", "the DSN has an empty part (part 1 of 2); remove the extra comma"),
    ("a,,b", "the DSN has an empty part (part 2 of 3); remove the extra comma"),
    ("a,", "the DSN has an empty part (part 2 of 2); remove the extra comma"),
    (
        "exa1, exa2",
        "DSN part ' exa2' contains whitespace, which pyexasol would keep in the host name; "
        "remove it",
    ),
    (
        "exa:8563\n",
        "DSN part 'exa:8563\\n' contains whitespace, which pyexasol would keep in the host name; "
        "remove it",
    ),
    ("exa:", "DSN part 'exa:' ends with ':' but no port; write it as host:8563"),
    ("exa:0", "DSN part 'exa:0': the port 0 is not from 1 to 65535"),
    ("exa:65536", "DSN part 'exa:65536': the port 65536 is not from 1 to 65535"),
    ("1..3", "DSN part '1..3': a range needs a host name before it, e.g. exa1..3"),
    (
        "a1..3b1..2",
        "DSN part 'a1..3b1..2': 'a1b1..2' has an empty label ('..' or a leading '.'); "
        "a range is name1..3 with one pair of bounds",
    ),
    (
        "exa1..",
        "DSN part 'exa1..': 'exa1..' has an empty label ('..' or a leading '.'); "
        "a range is name1..3 with one pair of bounds",
    ),
    (
        "exa!",
        "DSN part 'exa!': 'exa!' is not a host name (letters, digits, '-', '_' and '.' only)",
    ),
    ("n1..1001", f"DSN part 'n1..1001' expands to more than {MAX_NODES} nodes"),
    ("n1..600,m1..600", f"the DSN expands to more than {MAX_NODES} nodes; check its ranges"),
]


@pytest.mark.parametrize(("dsn", "message"), REFUSED_BY_PYEXASOL)
def test_what_pyexasol_refuses_is_a_dsn_error(dsn: str, message: str) -> None:
    with pytest.raises(ExaConnectionDsnError):
        pyexasol_nodes(dsn)
    with pytest.raises(DsnError) as info:
        parse_exasol_dsn(dsn)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("dsn", "message"), REFUSED_BY_CONNPROF_ONLY)
def test_nonsense_pyexasol_accepts_is_refused(dsn: str, message: str) -> None:
    with pytest.raises(DsnError) as info:
        parse_exasol_dsn(dsn)
    assert str(info.value) == message


@pytest.mark.parametrize("dsn", [d for d, _ in REFUSED_BY_CONNPROF_ONLY if d.strip()])
def test_pyexasol_does_accept_those(dsn: str) -> None:
    # Keeps the list above honest: each entry is stricter than pyexasol, not the same refusal.
    assert isinstance(pyexasol_nodes(dsn), Counter)


def test_a_range_of_max_nodes_is_fine() -> None:
    assert len(parse_exasol_dsn(f"n1..{MAX_NODES}").nodes) == MAX_NODES


def test_user_info_is_refused_without_echoing_it() -> None:
    with pytest.raises(DsnError) as info:
        parse_exasol_dsn("sys:s3cr3t-Pw@exa1..3:8563")
    assert "s3cr3t" not in str(info.value)
    assert "s3cr3t" not in repr(info.value)
    assert str(info.value).startswith("the DSN carries user info (user@host)")


def test_not_text_is_a_dsn_error() -> None:
    with pytest.raises(DsnError, match="the DSN must be text, not NoneType"):
        parse_exasol_dsn(None)  # type: ignore[arg-type]


def test_a_hand_built_value_must_be_writable() -> None:
    with pytest.raises(DsnError, match="at least one node"):
        ExasolDSN(())
    with pytest.raises(DsnError, match="move the nodes without a fingerprint to the right"):
        ExasolDSN((("a", 8563, None), ("b", 8563, "AB")))
    with pytest.raises(DsnError, match="upper-case hex"):
        ExasolDSN((("a", 8563, "ab"),))
    with pytest.raises(DsnError, match="not from 1 to 65535"):
        ExasolDSN((("a", 0, None),))
    with pytest.raises(DsnError, match="is not a host name"):
        ExasolDSN((("a:1", 8563, None),))
    assert str(ExasolDSN((("a", 9000, "AB"), ("b", 8563, None)))) == "a/AB:9000,b:8563"


# -- what a DSN means for the profile ----------------------------------------------------------


def test_profile_fields_of_a_pinned_dsn() -> None:
    assert exasol_profile_fields(parse_exasol_dsn(f"exa1..3/{FP.lower()}:8564")) == {
        "port": 8564,
        "tls": {"fingerprint": FP},
    }
    assert exasol_profile_fields(parse_exasol_dsn("exa/nocertcheck")) == {
        "port": 8563,
        "tls": {"fingerprint": "nocertcheck"},
    }
    assert exasol_profile_fields(parse_exasol_dsn("exa")) == {"port": 8563}


def test_profile_fields_without_a_common_port_name_no_port() -> None:
    assert exasol_profile_fields(parse_exasol_dsn("a:9000,b")) == {}


@pytest.mark.parametrize("dsn", ["a/AB,b/CD", "a/AB,b"])
def test_profile_fields_refuse_nodes_with_different_fingerprints(dsn: str) -> None:
    # One tls.fingerprint per profile: choosing one would drop a pin or weaken a node's check.
    with pytest.raises(DsnError, match="split the nodes into one profile per fingerprint"):
        exasol_profile_fields(parse_exasol_dsn(dsn))


# -- agreement with pyexasol -------------------------------------------------------------------

AGREED = [
    "exasol.example.com",
    "exasol.example.com:8563",
    "node08..11",
    "10.0.0.1..3:8564",
    "exa1..3.example.com,exa5.example.com:8563",
    "host1/AB,host2:8564,host3/CD:9000",
    f"host1/{FP}:1111,host2",
    f"exa1..2/{FP.lower()}:8563",
    "a/nocertcheck:1,b/NoCertCheck",
    "a08..12x,b",
]


@pytest.mark.parametrize("dsn", AGREED)
def test_ours_and_pyexasols_parser_agree(dsn: str) -> None:
    parsed = parse_exasol_dsn(dsn)
    assert Counter(parsed.nodes) == pyexasol_nodes(dsn)
    # str() is a DSN pyexasol reads to the same nodes, and so do we.
    assert pyexasol_nodes(str(parsed)) == Counter(parsed.nodes)
    assert parse_exasol_dsn(str(parsed)) == parsed


# Digits in names on purpose: "db2" before a range "1..3" reads as db21..3, backwards.
_LABEL = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=6)
_HOSTNAME = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)


@st.composite
def _parts(draw: st.DrawFn) -> str:
    host = draw(_HOSTNAME)
    if draw(st.booleans()):
        start = draw(st.integers(0, 30))
        end = draw(st.integers(start, start + 4))
        width = draw(st.integers(1, 3))
        suffix = draw(st.sampled_from(["", ".example.com", "-db"]))
        host = f"{host}{str(start).zfill(width)}..{end}{suffix}"
    fingerprint = draw(
        st.one_of(
            st.none(),
            st.just("nocertcheck"),
            st.text("0123456789abcdefABCDEF", min_size=1, max_size=64),
        )
    )
    if fingerprint is not None:
        host += f"/{fingerprint}"
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    if port is not None:
        host += f":{port}"
    return host


_DSNS = st.lists(_parts(), min_size=1, max_size=5).map(",".join)


@settings(max_examples=300, deadline=None)
@given(_DSNS)
def test_generated_dsns_parse_as_pyexasol_parses_them(dsn: str) -> None:
    try:
        theirs = pyexasol_nodes(dsn)
    except ExaConnectionDsnError:
        with pytest.raises(DsnError):
            parse_exasol_dsn(dsn)
        return
    parsed = parse_exasol_dsn(dsn)
    assert Counter(parsed.nodes) == theirs
    assert parse_exasol_dsn(str(parsed)) == parsed
    assert pyexasol_nodes(str(parsed)) == Counter(parsed.nodes)


@settings(max_examples=500, deadline=None)
@given(st.text("ab19.:/,xAF- ", max_size=14))
def test_any_text_ours_never_accepts_what_pyexasol_refuses(text: str) -> None:
    try:
        theirs = pyexasol_nodes(text)
    except ExaConnectionDsnError:
        theirs = None
    try:
        ours = parse_exasol_dsn(text)
    except DsnError:
        return  # stricter than pyexasol is allowed; looser is not
    assert theirs == Counter(ours.nodes)
