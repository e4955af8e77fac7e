"""The psycopg driver module: scenario rows, and the real libpq reading what is emitted offline.

libpq itself is the judge here: ``make_conninfo`` rejects an unknown keyword, a connection
attempt to a closed port runs every value check libpq makes before the network, and
``PGconn.connect_start(...).info`` is what libpq will use once the ``PG*`` environment has
filled the gaps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from connprof import Profile, UnsupportedSetting
from connprof.drivers import emit, get_driver
from connprof.drivers._psycopg import format_env, format_uri, refused_login, timeouts
from tests.drivers.scenario import check_row, load_row, load_rows, profile_name, row_params
from tests.drivers.scenario import write_profile as write_row
from tests.helpers import ROOT, closed_port, run_cli, run_connprof_process

ROWS = load_rows("psycopg")
SECRETS = ("password", "sslpassword")


@pytest.mark.parametrize("row", row_params(ROWS))
def test_scenario_row(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted, expected = check_row("psycopg", row, tmp_path, monkeypatch)
    assert emitted == expected


def _built(row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    profile = load_row(row, tmp_path, monkeypatch)
    return profile, profile.driver_kwargs()


def _local(kw: dict[str, Any], port: int) -> dict[str, Any]:
    """The same keywords aimed at a closed loopback port (every host, every address)."""
    count = len(str(kw["host"]).split(","))
    local = dict(kw, port=",".join([str(port)] * count), connect_timeout=2)
    if "hostaddr" in kw:
        local["hostaddr"] = ",".join(["127.0.0.1"] * count)
    else:
        local["host"] = ",".join(["127.0.0.1"] * count)
    return local


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_libpq_accepts_every_keyword_and_value(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kw = _built(row, tmp_path, monkeypatch)
    make_conninfo(**kw)  # an unknown keyword is a ProgrammingError here
    # libpq checks every value (sslmode, versions, require_auth, the sslrootcert=system rule)
    # before it opens a socket: reaching "Connection refused" means it accepted them all.
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(**_local(kw, closed_port()))
    assert "Connection refused" in str(caught.value), str(caught.value)


# -- the environment cannot change what the profile says --------------------------------------

HOSTILE_ENV = {
    "PGSSLMODE": "disable",
    "PGSSLROOTCERT": "/nonexistent/attacker-ca.pem",
    "PGSSLCERT": "/nonexistent/someone-else.crt",
    "PGSSLKEY": "/nonexistent/someone-else.key",
    "PGSSLMINPROTOCOLVERSION": "TLSv1",
    "PGSSLCERTMODE": "allow",
}


def _effective(kw: dict[str, Any]) -> dict[str, str]:
    """What libpq will use: the keywords given plus what the environment fills in."""
    pgconn = psycopg.pq.PGconn.connect_start(make_conninfo(**kw).encode())
    try:
        return {
            o.keyword.decode(): o.val.decode()
            for o in pgconn.info
            if o.val is not None and o.keyword.decode().startswith("ssl")
        }
    finally:
        pgconn.finish()


@pytest.mark.parametrize(
    "case", ["P1-verify-full-private-ca", "P6-encrypted-key", "P2-system-store"]
)
def test_pgssl_variables_change_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == case)
    _, kw = _built(row, tmp_path, monkeypatch)
    kw = _local(kw, closed_port())
    quiet = _effective(kw)
    for name, value in HOSTILE_ENV.items():
        monkeypatch.setenv(name, value)
    hostile = _effective(kw)
    if "sslcert" not in kw:
        # libpq now knows of PGSSLCERT's file, but sslcertmode=disable means it sends none.
        assert hostile["sslcertmode"] == "disable"
        assert hostile.pop("sslcert") == HOSTILE_ENV["PGSSLCERT"]
        assert hostile.pop("sslkey") == HOSTILE_ENV["PGSSLKEY"]
    assert hostile == quiet
    assert hostile["sslmode"] == row["emits"]["sslmode"]
    assert hostile["ssl_min_protocol_version"] == "TLSv1.2"


def test_a_profile_without_tls_stays_plaintext_under_pgsslmode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == "P9-tls-off-is-written-out")
    _, kw = _built(row, tmp_path, monkeypatch)
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert _effective(_local(kw, closed_port()))["sslmode"] == "disable"


# -- what needs libpq 16 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "setting"),
    [
        ("P2-system-store", "tls.ca"),
        ("P12-require-auth", "auth.mechanism"),
    ],
)
def test_an_older_libpq_is_refused_when_arguments_are_built(
    case: str, setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == case)
    profile = load_row(row, tmp_path, monkeypatch)
    emit(profile)  # emitting never asks which libpq is installed
    monkeypatch.setattr(psycopg.pq, "version", lambda: 150012)
    with pytest.raises(UnsupportedSetting) as caught:
        profile.driver_kwargs()
    assert caught.value.setting == setting
    assert "needs libpq 16 or newer and psycopg uses libpq 15" in str(caught.value)


def test_an_older_libpq_sends_no_certificate_unless_it_finds_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq 15 has no sslcertmode: with no certificate of its own to send, nothing is lost; with
    ~/.postgresql/postgresql.crt (or $PGSSLCERT) there, it would send it, so that is refused."""
    row = next(r for r in ROWS if r["id"] == "P1-verify-full-private-ca")
    profile = load_row(row, tmp_path, monkeypatch)
    monkeypatch.setattr(psycopg.pq, "version", lambda: 150012)
    monkeypatch.delenv("PGSSLCERT", raising=False)
    kw = profile.driver_kwargs()
    assert kw["sslcertmode"] is None and kw["sslmode"] == "verify-full"
    assert "sslcertmode" not in conninfo_to_dict(make_conninfo(**kw))
    own = Path(os.environ["HOME"]) / ".postgresql" / "postgresql.crt"
    own.parent.mkdir()
    own.write_text("a certificate libpq would send")
    with pytest.raises(UnsupportedSetting) as caught:
        profile.driver_kwargs()
    assert caught.value.setting == "tls.client_cert"
    assert f"libpq 15 sends {own}" in str(caught.value)
    own.unlink()
    monkeypatch.setenv("PGSSLCERT", str(own.with_name("env.crt")))
    assert profile.driver_kwargs()["sslcertmode"] is None
    own.with_name("env.crt").write_text("named by PGSSLCERT")
    with pytest.raises(UnsupportedSetting, match=r"env\.crt"):
        profile.driver_kwargs()
    monkeypatch.setattr(psycopg.pq, "version", lambda: 180006)
    assert profile.driver_kwargs()["sslcertmode"] == "disable"


# -- --format uri and env -----------------------------------------------------------------------


def _without_secrets(kw: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in kw.items() if k not in SECRETS}


@pytest.mark.parametrize("row", row_params(ROWS, "emits"))
def test_the_uri_says_what_the_keywords_say(
    row: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, kw = _built(row, tmp_path, monkeypatch)
    uri = format_uri(profile)
    assert uri.startswith("postgresql://")
    expected = _without_secrets(kw)
    hosts = expected["host"].count(",") + 1
    if "," not in expected["port"]:
        # A uri names each host's port; libpq uses one port for every host, the same thing.
        expected["port"] = ",".join([expected["port"]] * hosts)
    assert conninfo_to_dict(uri) == expected


def test_the_uri_percent_encodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = {
        "id": "odd",
        "profile": {
            "driver": "psycopg",
            "hosts": ["[::1]:5433"],
            "database": "my db/1",
            "auth": {"user": "a@b:c"},
            "options": {"application_name": "x&y=z"},
        },
    }
    profile, kw = _built(row, tmp_path, monkeypatch)
    uri = format_uri(profile)
    assert uri.startswith("postgresql://a%40b%3Ac@[::1]:5433/my%20db%2F1?")
    assert conninfo_to_dict(uri) == _without_secrets(kw)


def _env_seen_by_libpq(profile_file: Path, name: str) -> dict[str, str]:
    """``eval "$(connprof show NAME --format env)"`` in a real shell, then libpq's defaults."""
    probe = (
        "import psycopg; print('\\n'.join(f'{o.keyword.decode()}={o.val.decode()}' "
        "for o in psycopg.pq.Conninfo.get_defaults() if o.val is not None))"
    )
    script = (
        f'eval "$({sys.executable} -m connprof --config "$1" show "$2" --format env)" '
        f'&& exec {sys.executable} -c "$3"'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["CONNPROF_NO_CACHE"] = "1"
    # What a shell may hold already: a service would outrank every variable, an address would
    # send the connection elsewhere.
    env.update(PGSERVICE="elsewhere", PGHOSTADDR="192.0.2.99")
    proc = subprocess.run(
        ["bash", "-c", script, "bash", str(profile_file), name, probe],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    return dict(line.split("=", 1) for line in proc.stdout.splitlines())


@pytest.mark.parametrize(
    "case", ["P1-verify-full-private-ca", "P6-encrypted-key", "P8-several-hosts-are-lists"]
)
def test_eval_of_the_env_format_gives_libpq_the_same_settings(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == case)
    _, kw = _built(row, tmp_path, monkeypatch)
    seen = _env_seen_by_libpq(tmp_path / "profiles.yaml", profile_name(row))
    assert {k: seen.get(k) for k in _without_secrets(kw)} == _without_secrets(kw)
    assert "password" not in seen and "sslpassword" not in seen
    assert "service" not in seen
    assert "hostaddr" not in seen


def test_env_refuses_a_keyword_libpq_reads_from_no_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {"id": "k", "profile": {"driver": "psycopg", "hosts": ["localhost"],
                                  "options": {"keepalives_idle": 30}}}  # fmt: skip
    profile = load_row(row, tmp_path, monkeypatch)
    with pytest.raises(UnsupportedSetting) as caught:
        format_env(profile)
    assert caught.value.setting == "options.keepalives_idle"
    assert "no environment variable" in str(caught.value)
    assert "keepalives_idle=30" in format_uri(profile)  # the uri can say it


def test_formats_refuse_a_psycopg_argument_that_is_no_libpq_keyword(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {"id": "a", "profile": {"driver": "psycopg", "hosts": ["localhost"],
                                  "options": {"autocommit": True}}}  # fmt: skip
    profile = load_row(row, tmp_path, monkeypatch)
    assert emit(profile)["autocommit"] is True  # psycopg.connect takes it
    for fmt in (format_uri, format_env):
        with pytest.raises(UnsupportedSetting, match="not a libpq keyword"):
            fmt(profile)


def test_show_format_env_notes_the_password_it_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = next(r for r in ROWS if r["id"] == "P1-verify-full-private-ca")
    path = write_row(row, tmp_path)
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    code, out, err = run_cli("--config", str(path), "show", profile_name(row), "--format", "env")
    assert code == 0, err
    assert "export PGSSLMODE=verify-full\n" in out
    assert "PGPASSWORD" not in out
    assert err == (
        "connprof: note: --format env leaves out auth.password (a secret): psql and libpq "
        "read it from PGPASSWORD or ~/.pgpass, else psql asks\n"
    )


# -- the client facts ---------------------------------------------------------------------------


def test_timeouts_are_whole_seconds_of_at_least_two() -> None:
    assert [timeouts(s)["connect_timeout"] for s in (0.3, 2, 5, 5.2)] == [2, 2, 5, 6]
    make_conninfo(**timeouts(0.5))


def test_refused_login_by_sqlstate_and_by_the_servers_words() -> None:
    assert refused_login(psycopg.errors.lookup("28P01")("wrong"))
    assert refused_login(psycopg.errors.lookup("28000")("no pg_hba.conf entry"))
    failed = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        'password authentication failed for user "app"'
    )
    assert refused_login(failed)
    assert refused_login(psycopg.OperationalError('... failed: FATAL:  role "app" does not exist'))
    assert not refused_login(psycopg.OperationalError("connection failed: Connection refused"))
    assert not refused_login(psycopg.errors.lookup("42P01")("no such table"))
    assert not refused_login(ValueError("password authentication failed"))


def test_the_driver_facts() -> None:
    spec = get_driver("psycopg")
    assert (spec.call, spec.default_port, spec.tls_default, spec.extra, spec.close) == (
        "psycopg.connect",
        5432,
        False,
        "psycopg",
        "close",
    )
    assert sorted(spec.formats) == ["env", "uri"]
    assert (
        Profile.model_validate({"name": "a", "driver": "postgres", "hosts": ["h"]}).driver
        == "psycopg"
    )


def test_ocsp_is_refused_only_where_the_profile_asks_for_it(tmp_path: Path) -> None:
    """Left at its default, ocsp means "where the driver checks": libpq never does, so only an
    ``ocsp: true`` written in the file is refused, on a cold run and from the cache alike."""
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "profiles:\n"
        "  asks: {driver: psycopg, hosts: [pg.example.com], tls: {ocsp: true}}\n"
        "  leaves: {driver: psycopg, hosts: [pg.example.com], tls: {}}\n"
    )
    for _ in ("cold", "cached"):
        refused = run_connprof_process("--config", str(path), "show", "asks", "--format", "kwargs")
        assert refused.returncode == 1
        assert "tls.ocsp: libpq has no OCSP check" in refused.stderr
        shown = run_connprof_process("--config", str(path), "show", "leaves", "--format", "kwargs")
        assert shown.returncode == 0, shown.stderr
    assert [
        p.setting
        for p in get_driver("psycopg").check(
            Profile(name="p", driver="psycopg", hosts=["h"], tls={"enabled": True, "ocsp": True})
        )
    ] == ["tls.ocsp"]
    assert (
        get_driver("psycopg").check(
            Profile(name="p", driver="psycopg", hosts=["h"], tls={"enabled": True})
        )
        == []
    )
