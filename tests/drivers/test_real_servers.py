"""psycopg, redis and pymysql against real PostgreSQL, Redis and MariaDB servers (issue 12).

The servers come from ``tests/servers.py`` (Debian's packages, loopback ports, certificates from
trustme; skipped with a reason where the packages are missing, failing under ``.ci/run``). Each
case is one profile file, loaded as a user would: ``load_profile(...).connect()`` or
``connprof.doctor(...)``, and the CLI's ``show --format uri|env`` read back the driver's own way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import connprof
from connprof import load_profile
from tests import keyring_service as ks
from tests.helpers import write_profiles
from tests.servers import MariaDBServer, PostgresServer, RedisServer, Server

# -- one adapter per driver ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one driver's profiles and round trips look against its server fixtures."""

    driver: str
    server: str  # the fixture of the server with TLS 1.2 and 1.3, client certificates optional
    tls12: str  # the fixture of the server capped at TLS 1.2
    mtls: str  # the fixture of the server that refuses a cert user without a client certificate
    #: (user, password) of the password user, and of the user that needs a client certificate
    password_login: Callable[[Any], tuple[str | None, str]]
    cert_login: Callable[[Any], tuple[str | None, str | None]]
    #: extra profile fields (database ...)
    fields: Callable[[Any], dict[str, Any]]
    #: a round trip on a client connect() returned; returns who the server says we are
    whoami: Callable[[Any], str]


def _pg_whoami(conn: Any) -> str:
    ssl_on, version, _ = PostgresServer.ssl_info(conn)
    assert ssl_on and version is not None
    return str(conn.execute("SELECT current_user").fetchone()[0])


def _redis_whoami(client: Any) -> str:
    assert client.ping() is True
    return str(client.acl_whoami())


def _mysql_whoami(conn: Any) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW STATUS LIKE 'Ssl_version'")
        assert cur.fetchone()[1].startswith("TLSv1.")
        cur.execute("SELECT CURRENT_USER()")
        return str(cur.fetchone()[0]).partition("@")[0]


KINDS = {
    "psycopg": Kind(
        "psycopg",
        "pg_server",
        "pg_server_tls12",
        "pg_server",
        lambda s: (s.password_user, s.password),
        lambda s: (s.cert_user, None),
        lambda s: {"database": s.dbname},
        _pg_whoami,
    ),
    "redis": Kind(
        "redis",
        "redis_server",
        "redis_server_tls12",
        "redis_server_mtls",
        lambda s: (s.acl_user, s.acl_password),
        lambda s: (None, s.password),
        lambda s: {"database": "0"},
        _redis_whoami,
    ),
    "pymysql": Kind(
        "pymysql",
        "mariadb_server",
        "mariadb_server_tls12",
        "mariadb_server",
        lambda s: (s.password_user, s.password),
        lambda s: (s.cert_user, s.cert_password),
        lambda s: {"database": s.database},
        _mysql_whoami,
    ),
}

PASSWORD_VAR = "CONNPROF_TEST_DB_PASSWORD"


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


def _server(request: pytest.FixtureRequest, fixture: str) -> Any:
    return request.getfixturevalue(fixture)


def _profile(
    kind: Kind,
    server: Server,
    *,
    host: str | None = None,
    login: tuple[str | None, str | None] | None = None,
    password: str | None = f"env:{PASSWORD_VAR}",
    **tls: Any,
) -> dict[str, Any]:
    user, _ = login if login is not None else kind.password_login(server)
    doc: dict[str, Any] = {
        "driver": kind.driver,
        "hosts": [f"{host or server.host}:{server.port}"],
        **kind.fields(server),
        "tls": {"ca": server.ca, **tls},
    }
    auth = {k: v for k, v in (("user", user), ("password", password)) if v is not None}
    if auth:
        doc["auth"] = auth
    return doc


def _write(tmp_path: Path, doc: Mapping[str, Any], name: str = "db") -> str:
    return str(write_profiles(tmp_path / "profiles.yaml", {name: doc}))


@pytest.fixture
def connect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Mapping[str, Any], str | None], Any]]:
    """``connect(doc, password)``: the profile written to a file, loaded, ``connect()``-ed."""
    clients: list[Any] = []

    def run(doc: Mapping[str, Any], password: str | None) -> Any:
        if password is not None:
            monkeypatch.setenv(PASSWORD_VAR, password)
        profile = load_profile("db", config=_write(tmp_path, doc))
        client = profile.connect(**_no_retries(profile.driver))
        clients.append(client)
        return client

    yield run
    for client in clients:
        client.close()


def _no_retries(driver: str) -> dict[str, Any]:
    """redis-py retries a failed connection three times with backoff: once is enough here."""
    if driver != "redis":
        return {}
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"retry": Retry(NoBackoff(), 0)}


def _doctor(tmp_path: Path, doc: Mapping[str, Any]) -> connprof.Report:
    return connprof.doctor("db", config=_write(tmp_path, doc), timeout=5)


def _problems(report: connprof.Report) -> list[tuple[str, str | None]]:
    return [(c.step, c.problem) for c in report.problems]


def _fails(kind: Kind, run: Callable[[], Any]) -> BaseException:
    """The driver's own error for a connection (and first round trip) that must fail."""
    with pytest.raises(Exception) as caught:
        kind.whoami(run())
    assert not isinstance(caught.value, AssertionError), caught.value
    return caught.value


# -- verify: full, the wrong CA, the wrong name, verify: ca ------------------------------------


def test_verify_full_with_the_right_ca_connects_and_runs_a_query(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.server)
    user, password = kind.password_login(server)
    assert kind.whoami(connect(_profile(kind, server, verify="full"), password)) == user
    # doctor agrees, and its last step logs in with the driver
    os.environ[PASSWORD_VAR] = password
    report = _doctor(tmp_path, _profile(kind, server, verify="full"))
    assert report.ok, report.to_json()
    steps = [c.step for c in report.checks]
    assert steps[-1] == "login", steps
    assert {"tls", "certificate", "login"} <= set(steps)


def test_the_wrong_ca_fails_in_the_driver_and_in_doctor(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.server)
    _, password = kind.password_login(server)
    doc = _profile(kind, server) | {"tls": {"ca": server.wrong_ca}}
    error = _fails(kind, lambda: connect(doc, password))
    assert "certificate verify failed" in str(error).lower(), error
    assert _problems(_doctor(tmp_path, doc)) == [("tls", "untrusted_certificate")]


def test_a_name_the_certificate_lacks_fails_in_the_driver_and_in_doctor(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.server)
    _, password = kind.password_login(server)
    doc = _profile(kind, server, host=server.mismatch_host)
    error = _fails(kind, lambda: connect(doc, password))
    assert "127.0.0.2" in str(error), error
    assert _problems(_doctor(tmp_path, doc)) == [("tls", "hostname_mismatch")]


def test_verify_ca_connects_despite_the_name(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.server)
    user, password = kind.password_login(server)
    doc = _profile(kind, server, host=server.mismatch_host, verify="ca")
    assert kind.whoami(connect(doc, password)) == user
    report = _doctor(tmp_path, doc)
    assert report.ok, report.to_json()


# -- client certificates -----------------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain-key", "encrypted-key"])
def test_a_client_certificate_is_accepted(
    kind: Kind,
    request: pytest.FixtureRequest,
    connect: Any,
    monkeypatch: pytest.MonkeyPatch,
    encrypted: bool,
) -> None:
    server = _server(request, kind.mtls)
    login = kind.cert_login(server)
    cert = server.client()
    tls: dict[str, Any] = {"client_cert": cert.cert, "client_key": cert.key}
    if encrypted:
        monkeypatch.setenv("CONNPROF_TEST_KEY_PASSWORD", cert.key_password)
        tls |= {
            "client_key": cert.key_encrypted,
            "client_key_password": "env:CONNPROF_TEST_KEY_PASSWORD",
        }
    password = None if login[1] is None else f"env:{PASSWORD_VAR}"
    doc = _profile(kind, server, login=login, password=password, **tls)
    who = kind.whoami(connect(doc, login[1]))
    assert who == (login[0] or "default")


def test_no_client_certificate_is_refused(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.mtls)
    login = kind.cert_login(server)
    password = None if login[1] is None else f"env:{PASSWORD_VAR}"
    doc = _profile(kind, server, login=login, password=password)
    _fails(kind, lambda: connect(doc, login[1]))
    report = _doctor(tmp_path, doc)
    # Redis refuses in the TLS handshake; PostgreSQL and MariaDB when the user logs in.
    assert _problems(report) in (
        [("tls", "client_certificate_required")],
        [("login", "auth_failed")],
    ), report.to_json()


# -- passwords: env, a real keyring, a wrong one -------------------------------------------------


def test_a_wrong_password_is_auth_failed_with_the_servers_message(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.server)
    canary = "Canary-pw-7c1e0b"
    _fails(kind, lambda: connect(_profile(kind, server), canary))
    os.environ[PASSWORD_VAR] = canary
    report = _doctor(tmp_path, _profile(kind, server))
    assert _problems(report) == [("login", "auth_failed")]
    (failed,) = report.problems
    assert canary not in report.to_json() and canary not in repr(report)
    assert failed.message.strip(), "the server's message is kept"


@pytest.mark.keyring
def test_the_password_from_a_real_keyring(
    kind: Kind,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ks.use_secret_service(monkeypatch)
    server = _server(request, kind.server)
    user, password = kind.password_login(server)
    name = ks.unique_profile()
    ks.store("connprof", f"{name}/password", password)
    try:
        doc = _profile(kind, server, password="keyring:")
        path = str(write_profiles(tmp_path / "profiles.yaml", {name: doc}))
        profile = load_profile(name, config=path)
        client = profile.connect(**_no_retries(profile.driver))
        try:
            assert kind.whoami(client) == user
        finally:
            client.close()
        assert connprof.doctor(name, config=path, timeout=5).ok
    finally:
        ks.clear("connprof", f"{name}/password")


# -- TLS versions --------------------------------------------------------------------------------


def test_min_version_1_3_against_a_server_capped_at_1_2_is_protocol_version(
    kind: Kind, request: pytest.FixtureRequest, connect: Any, tmp_path: Path
) -> None:
    server = _server(request, kind.tls12)
    user, password = kind.password_login(server)
    assert kind.whoami(connect(_profile(kind, server), password)) == user  # 1.2 is fine
    doc = _profile(kind, server, min_version="1.3")
    _fails(kind, lambda: connect(doc, password))
    assert _problems(_doctor(tmp_path, doc)) == [("tls", "protocol_version")]


# -- show --format uri / env, read back the driver's own way ----------------------------------


def _show(path: str, fmt: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "connprof", "--config", path, "show", "db", "--format", fmt],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_psycopg_uri_connects_with_psycopg_connect(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    import psycopg

    kind = KINDS["psycopg"]
    uri = _show(_write(tmp_path, _profile(kind, pg_server)), "uri")
    assert uri.startswith("postgresql://") and pg_server.password not in uri
    with psycopg.connect(uri, password=pg_server.password) as conn:
        assert _pg_whoami(conn) == pg_server.password_user


def test_psycopg_env_connects_psql_and_libpq(pg_server: PostgresServer, tmp_path: Path) -> None:
    kind = KINDS["psycopg"]
    env_text = _show(_write(tmp_path, _profile(kind, pg_server)), "env")
    assert "PGSSLMODE=" in env_text and pg_server.password not in env_text
    query = "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    script = f'eval "$1"; exec "{pg_server.bindir}/psql" -X -qAt -c "{query}"'
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    done = subprocess.run(
        ["bash", "-c", script, "bash", env_text],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=clean | {"PGPASSWORD": pg_server.password},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{pg_server.password_user}|t"


def test_redis_uri_connects_with_from_url(redis_server: RedisServer, tmp_path: Path) -> None:
    import redis

    kind = KINDS["redis"]
    uri = _show(_write(tmp_path, _profile(kind, redis_server)), "uri")
    assert uri.startswith("rediss://") and redis_server.acl_password not in uri
    client = redis.Redis.from_url(uri, password=redis_server.acl_password)
    try:
        assert _redis_whoami(client) == redis_server.acl_user
    finally:
        client.close()


def test_pymysql_uri_says_the_same_settings(mariadb_server: MariaDBServer, tmp_path: Path) -> None:
    """PyMySQL has no URL parser: the uri is MySQL's URI-like string, read back field by field
    and connected with the settings it says (docs/connection-strings.md)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    import pymysql

    kind = KINDS["pymysql"]
    uri = _show(_write(tmp_path, _profile(kind, mariadb_server)), "uri")
    parts = urlsplit(uri)
    assert parts.scheme == "mysql" and mariadb_server.password not in uri
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["ssl-mode"] == "VERIFY_IDENTITY"
    conn = pymysql.connect(
        host=parts.hostname,
        port=parts.port,
        user=unquote(parts.username or ""),
        password=mariadb_server.password,
        database=parts.path.lstrip("/"),
        ssl_ca=query["ssl-ca"],
        ssl_verify_cert=True,
        ssl_verify_identity=True,
    )
    try:
        assert _mysql_whoami(conn) == mariadb_server.password_user
    finally:
        conn.close()


def test_connect_returns_the_drivers_own_client(
    kind: Kind, request: pytest.FixtureRequest, connect: Any
) -> None:
    server = _server(request, kind.server)
    _, password = kind.password_login(server)
    client = connect(_profile(kind, server), password)
    expected = {"psycopg": "Connection", "redis": "Redis", "pymysql": "Connection"}
    assert type(client).__module__.split(".")[0] == kind.driver
    assert type(client).__name__ == expected[kind.driver]
