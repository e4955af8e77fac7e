"""Real PostgreSQL, Redis and MariaDB servers with TLS for the tests: the one home of start-up.

Every server runs from the machine's Debian packages (``.ci/run`` installs them), on a free port
of 127.0.0.1 and of 127.0.0.2, with ``trustme`` certificates: one CA, a server certificate for
``localhost`` and ``127.0.0.1`` only (so connecting as ``127.0.0.2`` is a hostname mismatch), an
unrelated "wrong" CA, and client certificates whose CN is the user name (PostgreSQL's ``cert``
authentication maps it), each key also encrypted with a password. Key files are 0600.

The fixtures are session-scoped and lazy: a server starts the first time a test asks for it, and
stops, by its PID, when the session ends (also after a failed test); its directory is removed.
If the test run is killed outright, the kernel sends each server its stop signal (PDEATHSIG).
As root a server runs as its package's system user (``postgres``, ``redis``, ``mysql``);
otherwise as the current user. Start-up polls with a deadline and fails with the server's log.

Where a server is not installed the test is skipped, saying so; with
``CONNPROF_REQUIRE_SERVERS=1`` (``.ci/run`` sets it) it fails instead.

``conftest.py`` registers this module as a plugin. Fixtures: ``server_certs``, ``pg_server``,
``pg_server_tls12``, ``redis_server``, ``redis_server_mtls``, ``redis_server_tls12``,
``mariadb_server``, ``mariadb_server_tls12``. The ``running_*`` context managers behind them start
and stop one more instance where a test needs its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import getpass
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import trustme

ROOT = Path(__file__).resolve().parent.parent  # the repository
HOST = "127.0.0.1"  # in the server certificate
MISMATCH_HOST = "127.0.0.2"  # bound by every server too, and not in its certificate
REQUIRE_ENV = "CONNPROF_REQUIRE_SERVERS"
START_TIMEOUT = 30.0  # seconds for one server to accept connections
STOP_TIMEOUT = 10.0  # seconds for it to exit after its stop signal (then SIGKILL)
CMD_TIMEOUT = 60.0  # seconds for one set-up command (initdb, install-db, psql, mariadb)
TLS12 = "TLSv1.2"
CERT_USER = "certuser"  # authenticates with its client certificate
MTLS_USER = "mtlsuser"  # PostgreSQL: password and a client certificate (clientcert=verify-full)
PASSWORD_USER = "pwuser"
DATABASE = "appdb"
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")  # mariadbd is here, often not on a user's PATH


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it where ``CONNPROF_REQUIRE_SERVERS=1``."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the servers must run here)", pytrace=False)
    pytest.skip(reason)


# -- certificates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCert:
    """A client certificate (CN = ``user``) and its key, plain and encrypted; absolute paths."""

    user: str
    cert: str
    key: str
    key_encrypted: str  # the same key, encrypted with key_password (PKCS#8)
    key_password: str


@dataclass(frozen=True)
class ServerCerts:
    """The session's PEM files (absolute paths)."""

    ca: str  # signed the server certificate and the clients'
    wrong_ca: str  # unrelated: trusting only it must fail
    server_cert: str  # localhost and 127.0.0.1, not 127.0.0.2
    server_key: str
    clients: Mapping[str, ClientCert]  # by user: certuser, mtlsuser
    wrong_client: ClientCert  # CN certuser, signed by the wrong CA


def _chain(leaf: trustme.LeafCert) -> bytes:
    return b"".join(blob.bytes() for blob in leaf.cert_chain_pems)


def make_server_certs(
    directory: Path, users: Sequence[str] = (CERT_USER, MTLS_USER)
) -> ServerCerts:
    """Write the CAs, the server certificate and a client certificate per user to ``directory``."""
    from cryptography.hazmat.primitives import serialization  # deferred: only where servers run

    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    ca, wrong = trustme.CA(), trustme.CA()

    def write(name: str, data: bytes, mode: int = 0o600) -> str:
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return str(path)

    def client(issuer: trustme.CA, user: str, prefix: str) -> ClientCert:
        leaf = issuer.issue_cert(user, common_name=user)
        key_pem = leaf.private_key_pem.bytes()
        password = "key-" + secrets.token_hex(6)
        key = serialization.load_pem_private_key(key_pem, password=None)
        encrypted = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
        return ClientCert(
            user=user,
            cert=write(f"{prefix}{user}.crt", _chain(leaf), 0o644),
            key=write(f"{prefix}{user}.key", key_pem),
            key_encrypted=write(f"{prefix}{user}-encrypted.key", encrypted),
            key_password=password,
        )

    server = ca.issue_cert("localhost", HOST)
    return ServerCerts(
        ca=write("ca.pem", ca.cert_pem.bytes(), 0o644),
        wrong_ca=write("wrong-ca.pem", wrong.cert_pem.bytes(), 0o644),
        server_cert=write("server.crt", _chain(server), 0o644),
        server_key=write("server.key", server.private_key_pem.bytes()),
        clients={user: client(ca, user, "client-") for user in users},
        wrong_client=client(wrong, CERT_USER, "wrong-client-"),
    )


# -- processes -----------------------------------------------------------------------------------


def _service_user(name: str) -> pwd.struct_passwd | None:
    """As root, the package's system user a server runs as; otherwise None (the current user)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        unavailable(f"the system user {name!r} is missing (its server package creates it)")


def _as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """``subprocess`` arguments that run a child as ``user`` (no supplementary groups)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _dies_with(parent: int, sig: signal.Signals) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets ``sig`` when this process dies, even by SIGKILL (Linux).

    It runs in the child after the switch to the server's user (which would clear it).
    """

    def arm() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # died before the line above
            os._exit(1)

    return arm


def _env(home: Path) -> dict[str, str]:
    """A small, fixed environment for the servers and their tools (not the test's HOME or PG*)."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    return {"PATH": path + ":" + ":".join(_SBIN), "HOME": str(home), "LANG": "C.UTF-8", "TZ": "UTC"}


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _run(
    argv: Sequence[object], *, what: str, cwd: Path, user: pwd.struct_passwd | None = None
) -> str:
    """Run one set-up command to its end (bounded); its output, or a failure that shows it."""
    try:
        done = subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=_env(cwd),
            timeout=CMD_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
            **_as(user),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what}: no end after {CMD_TIMEOUT:.0f} s", pytrace=False)
    if done.returncode != 0:
        out = (done.stdout + done.stderr).strip()[-3000:]
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{out}", pytrace=False)
    output: str = done.stdout
    return output


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class _Process:
    """One server process, ours: started in its own session, logging to ``log``, stopped by PID."""

    def __init__(
        self,
        argv: Sequence[object],
        *,
        log: Path,
        cwd: Path,
        user: pwd.struct_passwd | None,
        stop_signal: signal.Signals,
    ) -> None:
        self.log = log
        self.stop_signal = stop_signal
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                [str(a) for a in argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=_env(cwd),
                start_new_session=True,  # a Ctrl-C reaches pytest, which stops it in order
                # pytest killed (a CI time-out): the server goes too, not left on its port.
                preexec_fn=_dies_with(os.getpid(), stop_signal),  # noqa: PLW1509 (prctl only)
                **_as(user),
            )
        self.pid = self.popen.pid

    def wait_ready(self, what: str, ready: Callable[[], bool]) -> None:
        """Poll ``ready`` until it holds; fail with the log tail if the server exits or stalls."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.popen.poll() is not None:
                pytest.fail(
                    f"{what} exited (status {self.popen.returncode}) while starting; "
                    f"its log ends:\n{_tail(self.log)}",
                    pytrace=False,
                )
            with contextlib.suppress(OSError):
                if ready():
                    return
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"{what} was not ready after {START_TIMEOUT:.0f} s; its log ends:\n"
                    f"{_tail(self.log)}",
                    pytrace=False,
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Signal the PID, wait for its exit (bounded), and SIGKILL it if it does not go."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, self.stop_signal)
        try:
            self.popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def _directory(root: Path, prefix: str, user: pwd.struct_passwd | None) -> Iterator[Path]:
    """A fresh directory under ``root`` owned by the server's user; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        path.chmod(0o700)
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _install(src: str, dst: Path, user: pwd.struct_passwd | None) -> str:
    """Copy a PEM file to where the server's user reads it: 0600, owned by that user."""
    shutil.copyfile(src, dst)
    dst.chmod(0o600)
    if user is not None:
        os.chown(dst, user.pw_uid, user.pw_gid)
    return str(dst)


def _mkdir(path: Path, user: pwd.struct_passwd | None) -> Path:
    path.mkdir(mode=0o700)
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


def free_port() -> int:
    """A TCP port free on both 127.0.0.1 and 127.0.0.2 right now."""
    for _ in range(100):
        with socket.socket() as first, socket.socket() as second:
            first.bind((HOST, 0))
            port: int = first.getsockname()[1]
            try:
                second.bind((MISMATCH_HOST, port))
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:  # not Linux: 127.0.0.2 is not loopback
                    unavailable(f"{MISMATCH_HOST} cannot be bound here (the mismatch host)")
                continue
            return port
    raise OSError("no TCP port free on both 127.0.0.1 and 127.0.0.2")


def _greets(port: int) -> bool:
    """Both addresses accept a TCP connection and the server speaks first (the MySQL greeting)."""
    for host in (HOST, MISMATCH_HOST):
        with socket.create_connection((host, port), timeout=1) as sock:
            if not sock.recv(1):
                return False
    return True


def _binary(name: str, package: str, candidates: Sequence[str] = ()) -> str:
    for path in (*candidates, shutil.which(name), shutil.which(name, path=":".join(_SBIN))):
        if path and os.access(path, os.X_OK):
            return str(path)
    unavailable(f"{name} is not installed (apt-get install {package})")


@dataclass(frozen=True)
class Server:
    """What every server fixture has. Paths are absolute strings."""

    host: str  # 127.0.0.1: in the server certificate
    mismatch_host: str  # 127.0.0.2: bound too, not in the certificate
    port: int
    ca: str
    wrong_ca: str
    clients: Mapping[str, ClientCert]  # client certificates by user (CN = user)
    wrong_client: ClientCert  # CN certuser, from the wrong CA
    tls_max: str | None  # "TLSv1.2" for the capped servers, else None (TLS 1.3 offered)
    pid: int
    log: str  # the server's log file (removed at teardown)

    def client(self, user: str = CERT_USER) -> ClientCert:
        return self.clients[user]


# -- PostgreSQL ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer(Server):
    """PostgreSQL, hostssl only (pg_hba for 127.0.0.0/8), database ``appdb``.

    Users: ``password_user`` (scram-sha-256), ``cert_user`` (``cert`` auth: the client cert's CN,
    no password), ``mtls_user`` (scram-sha-256 with ``clientcert=verify-full``).
    """

    dbname: str
    password_user: str
    password: str
    cert_user: str
    mtls_user: str
    mtls_password: str
    socket_dir: str  # the superuser's way in (trust, unix socket, 0700)
    bindir: str

    def psql(self, sql: str) -> str:
        """Run ``sql`` as the superuser ``postgres``; psql's unaligned, tuples-only output."""
        return _run(
            [f"{self.bindir}/psql", "-X", "-h", self.socket_dir, "-p", str(self.port), "-U",
             "postgres", "-d", self.dbname, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            what="psql",
            cwd=Path(self.socket_dir).parent,
        )  # fmt: skip

    @staticmethod
    def ssl_info(conn: Any) -> tuple[bool, str | None, str | None]:
        """``pg_stat_ssl`` for ``conn``'s own session: (ssl, TLS version, client cert DN)."""
        row = conn.execute(
            "SELECT ssl, version, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        return bool(row[0]), row[1], row[2]


def _pg_bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(v) if (v := Path(p).parts[-3]).isdigit() else 0,
    )
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        unavailable("PostgreSQL is not installed (no initdb; apt-get install postgresql)")
    bindir = Path(os.path.realpath(initdb)).parent
    if not (bindir / "postgres").exists():
        unavailable(f"PostgreSQL is incomplete: no postgres beside {initdb}")
    return bindir


_PG_CONF = """
listen_addresses = '127.0.0.1,127.0.0.2'
unix_socket_permissions = 0700
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 20
shared_buffers = 16MB
log_connections = on
"""

_PG_HBA = f"""
local     all  postgres                  trust
hostssl   all  {CERT_USER}  127.0.0.0/8  cert
hostssl   all  {MTLS_USER}  127.0.0.0/8  scram-sha-256 clientcert=verify-full
hostssl   all  {PASSWORD_USER}    127.0.0.0/8  scram-sha-256
hostnossl all  all       127.0.0.0/8  reject
"""


@contextlib.contextmanager
def pg_template(root: Path, certs: ServerCerts) -> Iterator[Path]:
    """One initdb'ed data directory with the TLS files and configuration; instances copy it."""
    bindir = _pg_bindir()
    user = _service_user("postgres")
    with _directory(root, "pg-template-", user) as base:
        data = _mkdir(base / "data", user)
        _run(
            [bindir / "initdb", "-D", data, "-U", "postgres", "--auth-local=trust",
             "--auth-host=reject", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
             "--wal-segsize=1"],
            what="initdb",
            cwd=base,
            user=user,
        )  # fmt: skip
        _install(certs.server_cert, data / "server.crt", user)
        _install(certs.server_key, data / "server.key", user)
        _install(certs.ca, data / "root.crt", user)
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(_PG_CONF)
        (data / "pg_hba.conf").write_text(_PG_HBA, encoding="utf-8")
        yield data


def _pg_ready(data: Path) -> bool:
    """The postmaster says "ready" in line 8 of postmaster.pid (what ``pg_ctl -w`` reads)."""
    lines = (data / "postmaster.pid").read_text(encoding="ascii").splitlines()
    return len(lines) >= 8 and lines[7].strip() == "ready"


@contextlib.contextmanager
def running_postgres(
    root: Path, certs: ServerCerts, template: Path, *, tls_max: str | None = None
) -> Iterator[PostgresServer]:
    """A PostgreSQL server from a copy of ``template``, its roles and ``appdb`` made."""
    bindir = _pg_bindir()
    user = _service_user("postgres")
    with _directory(root, "pg-", user) as base:
        data = base / "data"
        _run(["cp", "-a", template, data], what="copying the PostgreSQL template", cwd=base)
        sock = _mkdir(base / "sock", user)
        port = free_port()
        argv = [bindir / "postgres", "-D", data, "-p", port, "-k", sock]
        if tls_max:
            argv += ["-c", f"ssl_max_protocol_version={tls_max}"]
        log = base / "server.log"
        proc = _Process(argv, log=log, cwd=base, user=user, stop_signal=signal.SIGINT)  # fast
        try:
            proc.wait_ready(f"PostgreSQL on port {port}", lambda: _pg_ready(data))
            pw, mtls_pw = "pg-pw-" + secrets.token_hex(8), "pg-mtls-" + secrets.token_hex(8)
            server = PostgresServer(
                host=HOST, mismatch_host=MISMATCH_HOST, port=port, ca=certs.ca,
                wrong_ca=certs.wrong_ca, clients=certs.clients, wrong_client=certs.wrong_client,
                tls_max=tls_max, pid=proc.pid, log=str(log), dbname="postgres",
                password_user=PASSWORD_USER, password=pw, cert_user=CERT_USER,
                mtls_user=MTLS_USER, mtls_password=mtls_pw, socket_dir=str(sock),
                bindir=str(bindir),
            )  # fmt: skip
            server.psql(
                f"CREATE ROLE {CERT_USER} LOGIN; "
                f"CREATE ROLE {MTLS_USER} LOGIN PASSWORD '{mtls_pw}'; "
                f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{pw}'"
            )
            server.psql(f"CREATE DATABASE {DATABASE} OWNER {PASSWORD_USER}")
            yield dataclasses.replace(server, dbname=DATABASE)
        finally:
            proc.stop()


# -- Redis ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisServer(Server):
    """Redis, TLS port only. ``password`` is the default user's (requirepass); ``acl_user`` with
    ``acl_password`` is a named ACL user (all commands). ``client_cert_required``: started with
    ``--tls-auth-clients yes`` (else ``optional``); any client cert from the CA passes then."""

    password: str
    acl_user: str
    acl_password: str
    client_cert_required: bool


def _redis_pong(port: int, certs: ServerCerts) -> bool:
    """A TLS handshake (with a client certificate) and a PING on both addresses get an answer."""
    ctx = ssl.create_default_context(cafile=certs.ca)
    ctx.check_hostname = False
    client = certs.clients[CERT_USER]
    ctx.load_cert_chain(client.cert, client.key)
    for host in (HOST, MISMATCH_HOST):
        with (
            socket.create_connection((host, port), timeout=1) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            tls.sendall(b"PING\r\n")
            if not tls.recv(64).startswith((b"+", b"-")):  # -NOAUTH is an answer too
                return False
    return True


@contextlib.contextmanager
def running_redis(
    root: Path,
    certs: ServerCerts,
    *,
    client_cert_required: bool = False,
    tls_max: str | None = None,
) -> Iterator[RedisServer]:
    """A Redis server on its TLS port only, with a password and an ACL user."""
    binary = _binary("redis-server", "redis-server")
    user = _service_user("redis")
    with _directory(root, "redis-", user) as base:
        port = free_port()
        password = "redis-pw-" + secrets.token_hex(8)
        acl_password = "app-pw-" + secrets.token_hex(8)
        argv = [
            binary, "--bind", f"{HOST} {MISMATCH_HOST}", "--port", "0", "--tls-port", port,
            "--tls-cert-file", _install(certs.server_cert, base / "server.crt", user),
            "--tls-key-file", _install(certs.server_key, base / "server.key", user),
            "--tls-ca-cert-file", _install(certs.ca, base / "ca.pem", user),
            "--tls-auth-clients", "yes" if client_cert_required else "optional",
            "--requirepass", password,
            "--user", "app", "on", f">{acl_password}", "~*", "&*", "+@all",
            "--dir", base, "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", "",
        ]  # fmt: skip
        if tls_max:
            argv += ["--tls-protocols", tls_max]
        log = base / "server.log"
        proc = _Process(argv, log=log, cwd=base, user=user, stop_signal=signal.SIGTERM)
        try:
            proc.wait_ready(f"Redis on port {port}", lambda: _redis_pong(port, certs))
            yield RedisServer(
                host=HOST, mismatch_host=MISMATCH_HOST, port=port, ca=certs.ca,
                wrong_ca=certs.wrong_ca, clients=certs.clients, wrong_client=certs.wrong_client,
                tls_max=tls_max, pid=proc.pid, log=str(log), password=password, acl_user="app",
                acl_password=acl_password, client_cert_required=client_cert_required,
            )  # fmt: skip
        finally:
            proc.stop()


# -- MariaDB -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MariaDBServer(Server):
    """MariaDB with ``--require-secure-transport=ON``, database ``appdb``. Users (host
    ``127.0.0.%``, all privileges on appdb): ``password_user`` REQUIRE SSL; ``cert_user`` with
    ``cert_password`` REQUIRE X509 (a client certificate from the CA, and the password)."""

    database: str
    password_user: str
    password: str
    cert_user: str
    cert_password: str
    socket: str  # the admin's way in (unix_socket auth as the OS user)
    admin: str
    client_binary: str

    def sql(self, statement: str) -> str:
        """Run ``statement`` as the admin over the socket; tab-separated rows, no headers."""
        return _run(
            [self.client_binary, "--no-defaults", "-u", self.admin, "-S", self.socket, "-N", "-B",
             "-e", statement],
            what="mariadb",
            cwd=Path(self.socket).parent,
        )  # fmt: skip


_MARIADB_OPTIONS = ("--skip-log-bin", "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
                    "--innodb-log-file-size=8M", "--performance-schema=OFF",
                    "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite")  # fmt: skip


def _mariadb_binaries() -> tuple[str, str, str]:
    return (
        _binary("mariadbd", "mariadb-server"),
        _binary("mariadb-install-db", "mariadb-server"),
        _binary("mariadb", "mariadb-client"),
    )


@contextlib.contextmanager
def mariadb_template(root: Path) -> Iterator[Path]:
    """One ``mariadb-install-db`` data directory; instances copy it."""
    _server, install_db, _client = _mariadb_binaries()
    user = _service_user("mysql")
    with _directory(root, "mariadb-template-", user) as base:
        data = base / "data"
        as_user = [f"--user={user.pw_name}"] if user else []
        _run(
            [install_db, "--no-defaults", *as_user, f"--datadir={data}",
             "--auth-root-authentication-method=socket", "--skip-test-db", *_MARIADB_OPTIONS],
            what="mariadb-install-db",
            cwd=base,
        )  # fmt: skip
        yield data


@contextlib.contextmanager
def running_mariadb(
    root: Path, certs: ServerCerts, template: Path, *, tls_max: str | None = None
) -> Iterator[MariaDBServer]:
    """A MariaDB server from a copy of ``template``, its users and ``appdb`` made."""
    server_binary, _install_db, client_binary = _mariadb_binaries()
    user = _service_user("mysql")
    with _directory(root, "mariadb-", user) as base:
        data = base / "data"
        _run(["cp", "-a", template, data], what="copying the MariaDB template", cwd=base)
        port = free_port()
        sock = base / "mysqld.sock"
        argv = [
            server_binary, "--no-defaults",
            f"--datadir={data}", f"--bind-address={HOST},{MISMATCH_HOST}", f"--port={port}",
            f"--socket={sock}", f"--pid-file={base / 'mysqld.pid'}", f"--tmpdir={base}",
            *_MARIADB_OPTIONS,
            f"--ssl-ca={_install(certs.ca, base / 'ca.pem', user)}",
            f"--ssl-cert={_install(certs.server_cert, base / 'server.crt', user)}",
            f"--ssl-key={_install(certs.server_key, base / 'server.key', user)}",
            "--require-secure-transport=ON",
        ]  # fmt: skip
        if tls_max:
            argv.append(f"--tls-version={tls_max}")
        log = base / "server.log"
        proc = _Process(argv, log=log, cwd=base, user=user, stop_signal=signal.SIGTERM)
        try:
            proc.wait_ready(f"MariaDB on port {port}", lambda: sock.exists() and _greets(port))
            pw, cert_pw = "my-pw-" + secrets.token_hex(8), "my-cert-" + secrets.token_hex(8)
            server = MariaDBServer(
                host=HOST, mismatch_host=MISMATCH_HOST, port=port, ca=certs.ca,
                wrong_ca=certs.wrong_ca, clients=certs.clients, wrong_client=certs.wrong_client,
                tls_max=tls_max, pid=proc.pid, log=str(log), database=DATABASE,
                password_user=PASSWORD_USER, password=pw, cert_user=CERT_USER,
                cert_password=cert_pw, socket=str(sock),
                admin="root" if user else getpass.getuser(), client_binary=client_binary,
            )  # fmt: skip
            hosts = "'127.0.0.%'"
            server.sql(
                f"CREATE USER '{PASSWORD_USER}'@{hosts} IDENTIFIED BY '{pw}' REQUIRE SSL; "
                f"CREATE USER '{CERT_USER}'@{hosts} IDENTIFIED BY '{cert_pw}' REQUIRE X509; "
                f"CREATE DATABASE {DATABASE}; "
                f"GRANT ALL ON {DATABASE}.* TO '{PASSWORD_USER}'@{hosts}, '{CERT_USER}'@{hosts}"
            )
            yield server
        finally:
            proc.stop()


# -- the fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server_root() -> Iterator[Path]:
    """The session's directory for server certificates and data (removed at the end)."""
    parent = Path(tempfile.gettempdir())
    if not all(os.stat(p).st_mode & 0o001 for p in (parent, *parent.parents)):
        parent = Path("/tmp")  # a private TMPDIR: the servers' users could not pass through it
    root = Path(tempfile.mkdtemp(prefix="connprof-servers-", dir=parent))
    root.chmod(0o755)  # the servers' users pass through it to their own 0700 directories
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def server_certs(server_root: Path) -> ServerCerts:
    """The CA, wrong CA, server and client certificates every server fixture uses."""
    return make_server_certs(server_root / "certs")


@pytest.fixture(scope="session")
def _pg_template(server_root: Path, server_certs: ServerCerts) -> Iterator[Path]:
    with pg_template(server_root, server_certs) as data:
        yield data


@pytest.fixture(scope="session")
def pg_server(
    server_root: Path, server_certs: ServerCerts, _pg_template: Path
) -> Iterator[PostgresServer]:
    """PostgreSQL 15 with TLS 1.2 and 1.3."""
    with running_postgres(server_root, server_certs, _pg_template) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server_tls12(
    server_root: Path, server_certs: ServerCerts, _pg_template: Path
) -> Iterator[PostgresServer]:
    """PostgreSQL with ``ssl_max_protocol_version = TLSv1.2``."""
    with running_postgres(server_root, server_certs, _pg_template, tls_max=TLS12) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(server_root: Path, server_certs: ServerCerts) -> Iterator[RedisServer]:
    """Redis 7, client certificates optional."""
    with running_redis(server_root, server_certs) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server_mtls(server_root: Path, server_certs: ServerCerts) -> Iterator[RedisServer]:
    """Redis with ``--tls-auth-clients yes``: no client certificate, no connection."""
    with running_redis(server_root, server_certs, client_cert_required=True) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server_tls12(server_root: Path, server_certs: ServerCerts) -> Iterator[RedisServer]:
    """Redis with ``--tls-protocols TLSv1.2``."""
    with running_redis(server_root, server_certs, tls_max=TLS12) as server:
        yield server


@pytest.fixture(scope="session")
def _mariadb_template(server_root: Path) -> Iterator[Path]:
    with mariadb_template(server_root) as data:
        yield data


@pytest.fixture(scope="session")
def mariadb_server(
    server_root: Path, server_certs: ServerCerts, _mariadb_template: Path
) -> Iterator[MariaDBServer]:
    """MariaDB 10.11 with TLS 1.2 and 1.3."""
    with running_mariadb(server_root, server_certs, _mariadb_template) as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_server_tls12(
    server_root: Path, server_certs: ServerCerts, _mariadb_template: Path
) -> Iterator[MariaDBServer]:
    """MariaDB with ``--tls-version=TLSv1.2``."""
    with running_mariadb(server_root, server_certs, _mariadb_template, tls_max=TLS12) as server:
        yield server
