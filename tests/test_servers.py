"""The real servers of tests/servers.py, proven with the raw drivers and hand-written arguments.

These say the fixtures are what the connprof tests take them for: the right CA verifies, the
wrong one and 127.0.0.2 do not, the client-certificate users and server want a certificate (also
from an encrypted key), the capped servers stop at TLS 1.2, and a stopped server leaves nothing.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests import servers
from tests.servers import (
    MariaDBServer,
    PostgresServer,
    RedisServer,
    ServerCerts,
    pid_alive,
    running_postgres,
    running_redis,
)

psycopg = pytest.importorskip("psycopg")
redis = pytest.importorskip("redis")
pymysql = pytest.importorskip("pymysql")

# redis-py retries a failed connection 3 times with backoff (seconds each): a failure, once.
NO_RETRY = redis.retry.Retry(redis.backoff.NoBackoff(), 0)


def _children(pid: int) -> list[int]:
    """The PIDs whose parent is ``pid`` (PostgreSQL's backends and helpers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


# -- PostgreSQL ----------------------------------------------------------------------------------


def _pg(server: PostgresServer, host: str | None = None, **kw: Any) -> Any:
    args = {"host": host or server.host, "port": server.port, "dbname": server.dbname,
            "sslmode": "verify-full", "sslrootcert": server.ca, "connect_timeout": 10,
            **kw}  # fmt: skip
    return psycopg.connect(**args)


def test_pg_verifies_the_server_and_runs_a_query(pg_server: PostgresServer) -> None:
    user = {"user": pg_server.password_user, "password": pg_server.password}
    with _pg(pg_server, **user) as conn:
        assert conn.execute("SELECT current_user, 1").fetchone() == (pg_server.password_user, 1)
        assert PostgresServer.ssl_info(conn) == (True, "TLSv1.3", None)
    with _pg(pg_server, pg_server.mismatch_host, sslmode="verify-ca", **user) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        _pg(pg_server, sslrootcert=pg_server.wrong_ca, **user)
    with pytest.raises(psycopg.OperationalError, match=r'does not match host name "127\.0\.0\.2"'):
        _pg(pg_server, pg_server.mismatch_host, **user)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _pg(pg_server, user=pg_server.password_user, password="wrong")


def test_pg_client_certificate_users(pg_server: PostgresServer) -> None:
    cert = pg_server.client(pg_server.cert_user)
    with _pg(pg_server, user=pg_server.cert_user, sslcert=cert.cert, sslkey=cert.key) as conn:
        ok, _version, dn = PostgresServer.ssl_info(conn)
        assert ok and dn is not None and dn.endswith("CN=certuser")
    encrypted = {
        "sslcert": cert.cert,
        "sslkey": cert.key_encrypted,
        "sslpassword": cert.key_password,
    }
    with _pg(pg_server, user=pg_server.cert_user, **encrypted) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (pg_server.cert_user,)
    with pytest.raises(psycopg.OperationalError, match="requires a valid client certificate"):
        _pg(pg_server, user=pg_server.cert_user)
    mtls = pg_server.client(pg_server.mtls_user)
    user = {"user": pg_server.mtls_user, "password": pg_server.mtls_password}
    with _pg(pg_server, sslcert=mtls.cert, sslkey=mtls.key, **user) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (pg_server.mtls_user,)
    with pytest.raises(psycopg.OperationalError, match="requires a valid client certificate"):
        _pg(pg_server, **user)
    assert pg_server.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'certuser'") == "1\n"


def test_pg_capped_at_tls12(pg_server_tls12: PostgresServer) -> None:
    server = pg_server_tls12
    user = {"user": server.password_user, "password": server.password}
    with _pg(server, **user) as conn:
        assert PostgresServer.ssl_info(conn)[1] == "TLSv1.2"
    with pytest.raises(psycopg.OperationalError, match="SSL error"):
        _pg(server, ssl_min_protocol_version="TLSv1.3", **user)


# -- Redis ---------------------------------------------------------------------------------------


def _redis(server: RedisServer, host: str | None = None, **kw: Any) -> Any:
    args = {"host": host or server.host, "port": server.port, "ssl": True,
            "ssl_ca_certs": server.ca, "password": server.password, "socket_timeout": 10,
            "socket_connect_timeout": 10, "retry": NO_RETRY, **kw}  # fmt: skip
    return redis.Redis(**args)


def test_redis_verifies_the_server(redis_server: RedisServer) -> None:
    assert _redis(redis_server).ping() is True
    named = _redis(redis_server, username=redis_server.acl_user, password=redis_server.acl_password)
    assert named.acl_whoami() == redis_server.acl_user
    assert _redis(redis_server, redis_server.mismatch_host, ssl_check_hostname=False).ping()
    with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        _redis(redis_server, ssl_ca_certs=redis_server.wrong_ca).ping()
    with pytest.raises(redis.ConnectionError, match="IP address mismatch"):
        _redis(redis_server, redis_server.mismatch_host).ping()
    with pytest.raises(redis.AuthenticationError):
        _redis(redis_server, password="wrong").ping()


def test_redis_requires_a_client_certificate(redis_server_mtls: RedisServer) -> None:
    cert = redis_server_mtls.client()
    assert _redis(redis_server_mtls, ssl_certfile=cert.cert, ssl_keyfile=cert.key).ping()
    encrypted = {"ssl_certfile": cert.cert, "ssl_keyfile": cert.key_encrypted,
                 "ssl_password": cert.key_password}  # fmt: skip
    assert _redis(redis_server_mtls, **encrypted).ping()
    with pytest.raises(redis.ConnectionError):
        _redis(redis_server_mtls).ping()


def test_redis_capped_at_tls12(redis_server_tls12: RedisServer) -> None:
    assert _redis(redis_server_tls12).ping()
    with pytest.raises(redis.ConnectionError, match=r"(?i)protocol version|TLSV1_ALERT"):
        _redis(redis_server_tls12, ssl_min_version=ssl.TLSVersion.TLSv1_3).ping()


def test_a_stopped_server_leaves_no_process(
    server_root: Path, server_certs: ServerCerts, _pg_template: Path
) -> None:
    with running_redis(server_root, server_certs) as server:
        assert pid_alive(server.pid)
        assert _redis(server).ping()
    assert not pid_alive(server.pid)
    assert not Path(server.log).parent.exists()
    with running_postgres(server_root, server_certs, _pg_template) as pg:
        with _pg(pg, user=pg.password_user, password=pg.password) as conn:
            conn.execute("SELECT 1")
            children = _children(pg.pid)
        assert children  # the checkpointer, the walwriter, ...
    assert not pid_alive(pg.pid)
    assert [pid for pid in children if pid_alive(pid)] == []
    assert not Path(pg.log).parent.exists()


# -- MariaDB -------------------------------------------------------------------------------------


def _context(cafile: str, *, check_hostname: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = check_hostname
    return ctx


def _mysql(server: MariaDBServer, host: str | None = None, **kw: Any) -> Any:
    args = {"host": host or server.host, "port": server.port, "database": server.database,
            "user": server.password_user, "password": server.password,
            "ssl": _context(server.ca), "connect_timeout": 10, **kw}  # fmt: skip
    return pymysql.connect(**args)


def _ssl_version(conn: Any) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        return str(cur.fetchone()[1])


def test_mariadb_verifies_the_server(mariadb_server: MariaDBServer) -> None:
    with _mysql(mariadb_server) as conn:
        assert _ssl_version(conn) == "TLSv1.3"
    loose = _context(mariadb_server.ca, check_hostname=False)
    with _mysql(mariadb_server, mariadb_server.mismatch_host, ssl=loose) as conn:
        assert _ssl_version(conn).startswith("TLS")
    with pytest.raises(pymysql.OperationalError, match="CERTIFICATE_VERIFY_FAILED"):
        _mysql(mariadb_server, ssl=_context(mariadb_server.wrong_ca))
    with pytest.raises(pymysql.OperationalError, match="IP address mismatch"):
        _mysql(mariadb_server, mariadb_server.mismatch_host)
    with pytest.raises(pymysql.OperationalError, match="Access denied"):
        _mysql(mariadb_server, ssl_disabled=True, ssl=None)


def test_mariadb_x509_user(mariadb_server: MariaDBServer) -> None:
    cert = mariadb_server.client(mariadb_server.cert_user)
    user = {"user": mariadb_server.cert_user, "password": mariadb_server.cert_password}
    for key, password in ((cert.key, None), (cert.key_encrypted, cert.key_password)):
        ctx = _context(mariadb_server.ca)
        ctx.load_cert_chain(cert.cert, key, password)
        with _mysql(mariadb_server, ssl=ctx, **user) as conn:
            assert _ssl_version(conn) == "TLSv1.3"
    with pytest.raises(pymysql.OperationalError, match="Access denied"):
        _mysql(mariadb_server, **user)
    grants = mariadb_server.sql("SHOW GRANTS FOR 'certuser'@'127.0.0.%'")
    assert "REQUIRE X509" in grants


def test_mariadb_capped_at_tls12(mariadb_server_tls12: MariaDBServer) -> None:
    with _mysql(mariadb_server_tls12) as conn:
        assert _ssl_version(conn) == "TLSv1.2"
    ctx = _context(mariadb_server_tls12.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(pymysql.OperationalError, match=r"(?i)protocol version|TLSV1_ALERT"):
        _mysql(mariadb_server_tls12, ssl=ctx)


# -- the fixture machinery itself ----------------------------------------------------------------


def test_a_missing_server_skips_unless_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on it (nor in the sbin folders)
    monkeypatch.delenv(servers.REQUIRE_ENV, raising=False)
    reason = r"redis-server is not installed \(apt-get install redis-server\)"
    with pytest.raises(pytest.skip.Exception, match=reason):
        servers._binary("redis-server", "redis-server")
    monkeypatch.setenv(servers.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=reason + ".*CONNPROF_REQUIRE_SERVERS=1"):
        servers._binary("redis-server", "redis-server")


def test_a_failed_start_shows_the_log_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "server.log"
    died = servers._Process(["sh", "-c", "echo 'FATAL: no such thing' >&2; exit 3"], log=log,
                            cwd=tmp_path, user=None, stop_signal=signal.SIGTERM)  # fmt: skip
    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited \(status 3\).*FATAL: no such"):
        died.wait_ready("the test server", lambda: False)
    monkeypatch.setattr(servers, "START_TIMEOUT", 0.3)
    stalled = servers._Process(["sleep", "60"], log=log, cwd=tmp_path, user=None,
                               stop_signal=signal.SIGTERM)  # fmt: skip
    with pytest.raises(pytest.fail.Exception, match="not ready after"):
        stalled.wait_ready("the test server", lambda: False)
    assert not pid_alive(stalled.pid)


_ORPHAN = """
import sys, time
from pathlib import Path
from tests.servers import make_server_certs, running_redis
root = Path(sys.argv[1])
with running_redis(root, make_server_certs(root / "certs")) as server:
    print(server.pid, flush=True)
    time.sleep(60)
"""


def test_a_killed_test_run_takes_its_servers_along(server_root: Path) -> None:
    """pytest killed outright (a CI time-out): its servers get their stop signal from the kernel."""
    root = Path(tempfile.mkdtemp(dir=server_root))
    root.chmod(0o755)
    run = subprocess.Popen([sys.executable, "-c", _ORPHAN, str(root)], cwd=servers.ROOT,
                           stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert run.stdout is not None
        pid = int(run.stdout.readline())
        assert pid_alive(pid)
    finally:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(pid)
