"""The redis driver module: scenario rows, and the real redis-py reading what is emitted offline.

``redis.Redis(**kw)`` validates nothing until it connects, so the tests go one step further:
the connection object the pool makes, and the ``SSLContext`` that connection builds for its
socket (caught at ``wrap_socket``, before any network).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import redis

from connprof import UnsupportedSetting
from connprof.drivers import get_driver
from connprof.drivers._redis import format_uri, refused_login, timeouts
from tests.drivers.scenario import check_row, load_row, load_rows, row_params

ROWS = load_rows("redis")
_PLAIN = (str, int, float, bool, type(None))


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario_row(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("redis", row, tmp_path, monkeypatch)
    assert emitted == expected


def _settings(client: redis.Redis) -> dict[str, Any]:
    """Every plain setting of the connection the client's pool makes (no socket opened)."""
    conn = client.connection_pool.make_connection()
    found = {k: v for k, v in vars(conn).items() if isinstance(v, _PLAIN) and k != "pid"}
    found["class"] = type(conn).__name__
    return found


class _Caught(Exception):
    pass


def _context(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The SSLContext redis-py builds for a connection, taken at wrap_socket."""
    seen: list[ssl.SSLContext] = []

    def wrap(self: ssl.SSLContext, sock: Any, **kwargs: Any) -> Any:
        seen.append(self)
        raise _Caught

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap)
    conn = client.connection_pool.make_connection()
    with pytest.raises(_Caught):
        conn._wrap_socket_with_ssl(None)
    return seen[0]


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_redis_builds_the_context_the_profile_says(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    client = redis.Redis(**kw)
    settings = _settings(client)
    tls = profile.tls
    assert settings["class"] == ("SSLConnection" if tls.enabled else "Connection")
    assert (settings["_host"], settings["port"]) == (kw["host"], kw["port"])
    assert settings["db"] == int(profile.database or 0)
    assert settings["username"] == profile.auth.user
    if not tls.enabled:
        return
    ctx = _context(client, monkeypatch)
    assert ctx.verify_mode == (ssl.CERT_NONE if tls.verify == "none" else ssl.CERT_REQUIRED)
    assert ctx.check_hostname == (tls.verify == "full")
    assert ctx.minimum_version.name == f"TLSv{tls.min_version}".replace(".", "_").replace(
        "TLSv1_0", "TLSv1"
    )
    if tls.verify != "none":
        # A CA file, or the OS store that create_default_context loads for ca: system.
        assert ctx.cert_store_stats()["x509_ca"] >= 1 or tls.ca == "system"


def test_ca_system_is_the_os_store_as_ssl_cert_file_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certs: Any
) -> None:
    # SSL_CERT_FILE replaces OpenSSL's default store for redis-py as for connprof's context.
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "empty"))
    row = next(r for r in ROWS if r["id"] == "R2-system-store-sets-no-ca")
    profile = load_row(row, tmp_path, monkeypatch)
    ctx = _context(redis.Redis(**profile.driver_kwargs()), monkeypatch)
    ours = profile.ssl_context()
    assert ctx.get_ca_certs() == ours.get_ca_certs() != []


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_from_url_of_the_uri_gives_the_same_connection(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_row(row, tmp_path, monkeypatch)
    kw = profile.driver_kwargs()
    uri = format_uri(profile)
    assert uri.startswith("rediss://" if profile.tls.enabled else "redis://")
    without = {k: v for k, v in kw.items() if k not in ("password", "ssl_password")}
    assert _settings(redis.Redis.from_url(uri)) == _settings(redis.Redis(**without))
    assert "env:" not in uri and ":s3cr" not in uri


def test_the_uri_refuses_an_option_from_url_would_read_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # decode_responses=false would come back as the string "false", which is true.
    row = {"id": "d", "profile": {"driver": "redis", "hosts": ["localhost"],
                                  "options": {"decode_responses": False}}}  # fmt: skip
    profile = load_row(row, tmp_path, monkeypatch)
    with pytest.raises(UnsupportedSetting) as caught:
        format_uri(profile)
    assert caught.value.setting == "options.decode_responses"
    options = {"socket_keepalive": False, "max_connections": 8}
    typed = {"id": "t", "profile": {"driver": "redis", "hosts": ["localhost"], "options": options}}
    profile = load_row(typed, tmp_path, monkeypatch)
    uri = format_uri(profile)
    settings = _settings(redis.Redis.from_url(uri))
    assert settings["socket_keepalive"] is False
    assert redis.Redis.from_url(uri).connection_pool.max_connections == 8


def test_timeouts_bound_connect_and_reads() -> None:
    client = redis.Redis(host="localhost", **timeouts(1.5))
    settings = _settings(client)
    assert (settings["_socket_connect_timeout"], settings["_socket_timeout"]) == (1.5, 1.5)


def test_refused_login_is_redis_authentication_error() -> None:
    assert refused_login(redis.exceptions.AuthenticationError("WRONGPASS invalid password"))
    assert not refused_login(redis.exceptions.ConnectionError("Error 111 connecting"))
    assert not refused_login(redis.exceptions.ResponseError("WRONGPASS in a value"))


def test_the_driver_facts() -> None:
    spec = get_driver("redis")
    assert (spec.call, spec.default_port, spec.tls_default, spec.extra, spec.close) == (
        "redis.Redis",
        6379,
        False,
        "redis",
        "close",
    )
    assert sorted(spec.formats) == ["uri"]
