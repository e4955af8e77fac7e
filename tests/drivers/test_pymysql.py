"""The pymysql driver module: scenario rows, and the real PyMySQL taking what is emitted offline.

``pymysql.connect(..., defer_connect=True)`` builds the connection without the network, so its
``ctx`` (the SSLContext it will wrap the socket with) and ``ssl`` flags are the proof.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pymysql
import pytest

from connprof import UnsupportedSetting
from connprof.drivers import get_driver
from connprof.drivers._pymysql import format_uri, refused_login, timeouts
from tests.drivers.scenario import check_row, load_row, load_rows, row_params

ROWS = load_rows("pymysql")


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario_row(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("pymysql", row, tmp_path, monkeypatch)
    assert emitted == expected


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_pymysql_uses_the_context_the_profile_says(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    conn = pymysql.connect(**kw, defer_connect=True)
    tls = profile.tls
    assert (conn.host, conn.port, conn.db) == (
        kw["host"], kw["port"], profile.database
    )  # fmt: skip
    if not tls.enabled:
        # Not PyMySQL's PREFERRED mode (TLS if offered, unverified): no TLS at all.
        assert conn.ssl is False
        assert not hasattr(conn, "ctx") or conn.ctx is None
        return
    assert conn.ssl is True and conn._ssl_required is True
    assert conn.ctx is kw["ssl"]  # used as it is
    assert conn.ctx.verify_mode == (ssl.CERT_NONE if tls.verify == "none" else ssl.CERT_REQUIRED)
    assert conn.ctx.check_hostname == (tls.verify == "full")


def test_timeouts_are_accepted() -> None:
    conn = pymysql.connect(host="localhost", defer_connect=True, ssl_disabled=True, **timeouts(2.5))
    assert (conn.connect_timeout, conn._read_timeout, conn._write_timeout) == (2.5, 2.5, 2.5)


@pytest.mark.parametrize(
    ("case", "query"),
    [
        ("Y1-verify-full-private-ca", "ssl-mode=VERIFY_IDENTITY&ssl-ca={dir}/certs/ca.pem"
         "&tls-version=TLSv1.2,TLSv1.3"),
        ("Y3-verify-ca", "ssl-mode=VERIFY_CA&ssl-ca={dir}/certs/ca.pem&ssl-crl={dir}/certs/crl.pem"
         "&tls-version=TLSv1.2,TLSv1.3"),
        ("Y4-verify-none", "ssl-mode=REQUIRED&tls-version=TLSv1.2,TLSv1.3"),
        ("Y5-encrypted-key", "ssl-mode=VERIFY_IDENTITY&ssl-ca={dir}/certs/ca.pem&ssl-cert="
         "{dir}/certs/client.crt&ssl-key={dir}/certs/client-encrypted.key&tls-version=TLSv1.2"
         "&ssl-cipher=ECDHE+AESGCM"),
    ],
)  # fmt: skip
def test_the_uri_is_mysqls_uri_like_string(
    case: str, query: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == case)
    profile = load_row(row, tmp_path, monkeypatch)
    uri = format_uri(profile)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.hostname, parts.port, parts.password) == (
        "mysql", profile.hosts[0] if profile.hosts else None, 3306, None
    )  # fmt: skip
    assert parts.username == profile.auth.user
    expected = query.replace("{dir}", str(tmp_path))
    assert parse_qsl(parts.query) == parse_qsl(expected.replace("+", "%2B"))


def test_the_uri_of_tls_off_says_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = next(r for r in ROWS if r["id"] == "Y6-tls-off-is-written-out")
    profile = load_row(row, tmp_path, monkeypatch)
    profile = profile.model_copy(update={"options": {}})
    assert format_uri(profile) == "mysql://root@127.0.0.1:3306?ssl-mode=DISABLED"


def test_the_uri_refuses_pymysql_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = next(r for r in ROWS if r["id"] == "Y6-tls-off-is-written-out")
    with pytest.raises(UnsupportedSetting) as caught:
        format_uri(load_row(row, tmp_path, monkeypatch))
    assert caught.value.setting == "options.charset"


def test_refused_login_is_access_denied_by_code() -> None:
    assert refused_login(pymysql.err.OperationalError(1045, "Access denied for user 'app'"))
    assert not refused_login(pymysql.err.OperationalError(2003, "Can't connect"))
    assert not refused_login(ValueError(1045))


def test_the_driver_facts() -> None:
    spec = get_driver("pymysql")
    assert (spec.call, spec.default_port, spec.tls_default, spec.extra, spec.close) == (
        "pymysql.connect",
        3306,
        False,
        "pymysql",
        "close",
    )
    assert sorted(spec.formats) == ["uri"]
