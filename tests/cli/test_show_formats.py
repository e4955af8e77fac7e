"""``connprof show NAME --format uri|env``: the driver's own string, secrets left out and noted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connprof._cli.show import DRIVER_FORMATS
from connprof.drivers import BUILTIN
from tests.helpers import run_cli, write_profiles

PROFILES: dict[str, dict[str, Any]] = {
    "pg": {"driver": "postgres", "hosts": ["pg.example.com"], "database": "orders",
           "auth": {"user": "app", "password": "env:PG_PW"},
           "tls": {"ca": "/etc/ssl/ca.pem", "client_cert": "/etc/c.crt",
                   "client_key": "/etc/c.key", "client_key_password": "env:KEY_PW"}},
    "cache": {"driver": "redis", "hosts": ["cache.example.com"], "auth": {"password": "env:PW"},
              "tls": {"ca": "/etc/ssl/ca.pem"}},
    "shop": {"driver": "mysql", "hosts": ["mysql.example.com"], "auth": {"user": "app"},
             "tls": {"ca": "/etc/ssl/ca.pem"}},
    "mongo": {"driver": "pymongo", "hosts": ["m1.example.com"], "tls": True},
    "cql": {"driver": "cassandra", "hosts": ["c1.example.com"]},
    "pinned": {"driver": "psycopg", "hosts": ["pg.example.com"],
               "tls": {"ciphers": "ECDHE+AESGCM"}},
}  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, isolated: Any) -> str:
    return str(write_profiles(tmp_path / "p.yaml", PROFILES))


def test_the_choices_are_what_the_drivers_write() -> None:
    written = {fmt for spec in BUILTIN.values() for fmt in spec.formats}
    assert set(DRIVER_FORMATS) == written


def test_uri_writes_one_line_and_one_note_per_secret_left_out(config: str) -> None:
    code, out, err = run_cli("--config", config, "show", "pg", "--format", "uri")
    assert code == 0, err
    assert out == (
        "postgresql://app@pg.example.com:5432/orders?sslmode=verify-full&sslrootcert=/etc/ssl/"
        "ca.pem&sslcert=/etc/c.crt&sslkey=/etc/c.key&ssl_min_protocol_version=TLSv1.2\n"
    )
    assert err.splitlines() == [
        "connprof: note: --format uri leaves out auth.password (a secret): psql and libpq read "
        "it from PGPASSWORD or ~/.pgpass, else psql asks",
        "connprof: note: --format uri leaves out tls.client_key_password (a secret): psql asks "
        "for the key's pass phrase; a program passes sslpassword=... itself",
    ]


@pytest.mark.parametrize(
    ("name", "start"),
    [("cache", "rediss://cache.example.com:6379?"), ("shop", "mysql://app@mysql.example.com:3306?"),
     ("mongo", "mongodb://m1.example.com:27017/?tls=true")],
)  # fmt: skip
def test_each_driver_writes_its_own_scheme(config: str, name: str, start: str) -> None:
    code, out, _ = run_cli("--config", config, "show", name, "--format", "uri")
    assert code == 0
    assert out.startswith(start)


def test_a_driver_without_the_format_is_one_error_line(config: str) -> None:
    code, out, err = run_cli("--config", config, "show", "cache", "--format", "env")
    assert (code, out) == (1, "")
    assert err == (
        "connprof: error: driver redis (profile 'cache') has no --format env; the drivers that "
        "have it: psycopg\n"
    )
    code, out, err = run_cli("--config", config, "show", "cql", "--format", "uri")
    assert (code, out) == (1, "")
    assert err == (
        "connprof: error: driver cassandra (profile 'cql') has no --format uri; the drivers "
        "that have it: pymongo, psycopg, redis, pymysql\n"
    )


def test_a_setting_the_driver_refuses_is_the_kwargs_error(config: str) -> None:
    code, out, err = run_cli("--config", config, "show", "pinned", "--format", "uri")
    assert (code, out) == (1, "")
    assert err.startswith("connprof: error: driver psycopg cannot express tls.ciphers: ")
    assert err.count("\n") == 1


def test_a_setting_the_format_cannot_say_is_an_error_not_a_drop(
    tmp_path: Path, isolated: Any
) -> None:
    pg = {"driver": "psycopg", "hosts": ["localhost"], "options": {"keepalives_idle": 30}}
    path = write_profiles(tmp_path / "p.yaml", {"pg": pg})
    code, out, err = run_cli("--config", str(path), "show", "pg", "--format", "env")
    assert (code, out) == (1, "")
    assert err.startswith(
        "connprof: error: driver psycopg cannot express options.keepalives_idle: libpq reads "
        "keepalives_idle from no environment variable"
    )


def test_show_still_imports_no_driver(config: str) -> None:
    # The yaml/kwargs path and even --format uri import no driver package.
    probe = (
        "import sys; from connprof._cli import main; main(sys.argv[1:]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'redis', 'pymysql', 'pymongo')), file=sys.stderr)"
    )
    for fmt in ("yaml", "uri"):
        proc = subprocess.run(
            [sys.executable, "-c", probe, "--config", config, "show", "pg", "--format", fmt],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert proc.stderr.splitlines()[-1] == "[]", proc.stderr


@pytest.mark.parametrize("flag", ["--reveal", "--explain"])
def test_reveal_and_explain_do_not_go_with_the_formats(config: str, flag: str) -> None:
    code, out, err = run_cli("--config", config, "show", "pg", "--format", "uri", flag)
    assert (code, out) == (2, "")
    assert err.startswith(f"connprof: error: {flag} does not go with --format uri")
