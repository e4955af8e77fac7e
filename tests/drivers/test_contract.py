"""The contract every driver keeps, run against each one in ``connprof.drivers.BUILTIN``.

- Emitting is pure: no file opened, no socket, no subprocess, and neither the driver nor
  ``keyring`` imported (checked with audit hooks in a fresh interpreter).
- Verification on never yields an insecure flag: a setting the driver cannot express is
  refused, never weakened. ``REFUSES`` states which TLS blocks each driver refuses, and with
  which setting; exactly those are refused (by ``emit`` and listed by ``check``), all others
  emit.
- TLS off yields no TLS arguments (only the driver's explicit "off" switch), and no driver
  refuses a TLS block that is off.
- Every profile in ``sample_profiles/*.yaml`` emits for its driver without error.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connprof import UnsupportedSetting, list_profiles, load_profile
from connprof._models import Profile
from connprof.drivers import BUILTIN, Construct, SSLContextSpec, check, emit
from tests.helpers import SAMPLES, write_profiles

SAMPLE_FILES = sorted(SAMPLES.glob("*.yaml"))
# What each driver's own package is called once imported; emitting must import none of these.
DRIVER_PACKAGES = ("pymongo", "bson", "crate", "urllib3", "cassandra", "hazelcast", "pyexasol",
                   "websocket", "keyring", "psycopg", "psycopg_binary", "redis",
                   "pymysql")  # fmt: skip
#: Drivers whose client talks to one server: they refuse several hosts (their own tests say so).
ONE_HOST = {"redis", "pymysql"}


@pytest.fixture(params=sorted(BUILTIN))
def driver(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _profile(driver: str, folder: Path, **fields: Any) -> Profile:
    """A profile as a user writes it: a file, loaded (``tls: false`` is the loader's to read)."""
    hosts = ["db1.example.com"] if driver in ONE_HOST else ["db1.example.com", "db2.example.com"]
    data = {"driver": driver, "hosts": hosts, **fields}
    path = write_profiles(folder / "contract.yaml", {"contract": data})
    return load_profile("contract", config=str(path))


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) in the emitted arguments, into dicts, lists and deferred objects."""
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v, key)
    elif isinstance(value, Construct):
        yield from _walk(dict(value.kwargs), key)
        yield from _walk(list(value.args), key)


# -- every sample profile emits ------------------------------------------------------------------


def _sample_profiles(driver: str) -> list[tuple[Path, str]]:
    found = []
    for path in SAMPLE_FILES:
        for name in list_profiles(config=str(path)):
            if load_profile(name, config=str(path)).driver == driver:
                found.append((path, name))
    return found


def test_every_sample_profile_emits(driver: str) -> None:
    samples = _sample_profiles(driver)
    assert samples, f"sample_profiles/ has no {driver} profile"
    for path, name in samples:
        try:
            emit(load_profile(name, config=str(path)))
        except UnsupportedSetting as exc:
            pytest.fail(f"{path.name}: {name}: {exc}")


# -- emitting is pure ----------------------------------------------------------------------------

_PURITY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from connprof import UnsupportedSetting, load_profile
    from connprof.drivers import emit, get_driver
    from connprof._models import Profile

    driver, samples, extra = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    profiles = [load_profile(name, config=path) for path, name in samples]
    profiles += [Profile.model_validate(data) for data in extra]
    get_driver(driver)

    def emit_all():
        for profile in profiles:
            try:
                emit(profile)
            except UnsupportedSetting:
                pass  # refusing is pure too

    # Once to import what emitting imports (connprof's own modules, read from disk) ...
    emit_all()
    # ... and once more under watch: now any file, socket or process is the emitting's own.
    watched = ("open", "os.listdir", "os.scandir", "socket.", "subprocess.", "os.system",
               "os.exec", "os.posix_spawn", "urllib.Request", "import")
    seen = []
    sys.addaudithook(lambda event, args: seen.append(f"{event} {args!r}"[:200])
                     if event.startswith(watched) else None)
    emit_all()
    print(json.dumps({"events": seen, "all": sorted(sys.modules), "count": len(profiles)}))
    """
)


def _secret_heavy(driver: str) -> list[dict[str, Any]]:
    """Profiles that reference secrets everywhere: emitting must not resolve any of them."""
    base = {"name": "pure", "driver": driver, "hosts": ["db1.example.com"]}
    return [
        base | {"auth": {"user": "u", "password": "env:PW"}, "tls": {"ca": "/nonexistent/ca.pem"}},
        base | {"auth": {"token": "keyring:"}},
        base | {"auth": {"password": "file:/nonexistent/pw"}},
        base
        | {
            "tls": {
                "client_cert": "/nonexistent/c.pem",
                "client_key_password": "keyring:svc/user",
            }
        },
    ]


def test_emit_is_pure(driver: str) -> None:
    samples = [(str(path), name) for path, name in _sample_profiles(driver)]
    proc = subprocess.run(
        [sys.executable, "-c", _PURITY_SCRIPT, driver, json.dumps(samples),
         json.dumps(_secret_heavy(driver))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["count"] >= len(samples) + 4
    # Neither while emitting nor before: the whole run never imported a driver or keyring.
    leaked = [m for m in result["all"] if m.split(".")[0] in DRIVER_PACKAGES]
    assert {"events": result["events"], "imported": leaked} == {"events": [], "imported": []}


# -- verification on never yields an insecure flag -----------------------------------------------

#: TLS blocks that verify the server, each a setting a driver might not be able to express.
SECURE_TLS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "verify-full": {"verify": "full"},
    "ca": {"verify": "full", "ca": "/abs/ca.pem"},
    "verify-ca": {"verify": "ca", "ca": "/abs/ca.pem"},
    "cert-and-key": {
        "verify": "full",
        "ca": "/abs/ca.pem",
        "client_cert": "/abs/c.pem",
        "client_key": "/abs/c.key",
    },
    "key-password": {
        "verify": "full",
        "client_cert": "/abs/c.pem",
        "client_key_password": "env:KP",
    },
    "min-1.3": {"verify": "full", "min_version": "1.3"},
    "max-1.2": {"verify": "full", "max_version": "1.2"},
    "max-1.3": {"verify": "full", "max_version": "1.3"},
    "ocsp-off": {"verify": "full", "ocsp": False},
    "crl": {"verify": "full", "crl": "/abs/crl.pem"},
    "server-name": {"verify": "full", "server_name": "db.internal"},
    "ciphers": {"verify": "full", "ciphers": "ECDHE+AESGCM"},
    "pin-and-ca": {"verify": "full", "ca": "/abs/ca.pem", "fingerprint": "AB" * 32},
}

#: driver: {SECURE_TLS case: the setting it refuses}. Every other case emits. The reasons are
#: the drivers' own options (design/drivers.md), as each driver module's docstring says.
REFUSES: dict[str, dict[str, str]] = {
    # Everything goes through an SSLContext; server_name is ssl_options' server_hostname.
    "cassandra": {
        "pin-and-ca": "tls.fingerprint",  # no certificate pin
    },
    # urllib3 through five options: verify_ssl_cert, ca_cert, cert_file, key_file and
    # ssl_relax_minimum_version (which only lowers the floor). max 1.3 is its ceiling anyway.
    "crate": {
        "verify-ca": "tls.verify",  # urllib3 checks the name whenever it checks the chain
        "key-password": "tls.client_key_password",  # never passed to urllib3
        "min-1.3": "tls.min_version",
        "max-1.2": "tls.max_version",
        "crl": "tls.crl",
        "server-name": "tls.server_name",
        "ciphers": "tls.ciphers",
        "pin-and-ca": "tls.fingerprint",
    },
    # ssl_* options; it pins exactly one version (min_version), checks the member host string.
    "hazelcast": {
        "max-1.3": "tls.max_version",  # 1.2 to 1.3 is a range, and it pins one version
        "crl": "tls.crl",
        "server-name": "tls.server_name",
        "pin-and-ca": "tls.fingerprint",
    },
    # websocket_sslopt, or a whole SSLContext; the pin goes into the DSN.
    "pyexasol": {
        "server-name": "tls.server_name",  # overwritten with each host's canonical DNS name
    },
    # libpq keywords: no cipher list or pin; it checks `host` and connects to `hostaddr`, which
    # must be an address (the table's hosts are names).
    "psycopg": {
        "server-name": "tls.server_name",
        "ciphers": "tls.ciphers",
        "pin-and-ca": "tls.fingerprint",
    },
    # PyMySQL takes connprof's SSLContext as it is; it checks the host it connects to.
    "pymysql": {
        "server-name": "tls.server_name",
        "pin-and-ca": "tls.fingerprint",
    },
    # redis-py's ssl_* arguments: a minimum version but no maximum, no CRL file, SNI name or pin.
    "redis": {
        "max-1.2": "tls.max_version",
        "crl": "tls.crl",
        "server-name": "tls.server_name",
        "pin-and-ca": "tls.fingerprint",
    },
    # tls* options only; its context allows TLS 1.2 to 1.3, which emits nothing.
    "pymongo": {
        "cert-and-key": "tls.client_key",  # tlsCertificateKeyFile: certificate and key in one
        "min-1.3": "tls.min_version",
        "max-1.2": "tls.max_version",
        "server-name": "tls.server_name",
        "ciphers": "tls.ciphers",
        "pin-and-ca": "tls.fingerprint",
    },
}
_OLD_PROTOCOLS = re.compile(r"^(PROTOCOL_)?(SSLv2|SSLv3|TLSv1|TLSv1_1)$")


def _insecure(key: str, value: Any, verify: str) -> str | None:
    """Why (key, value) weakens a profile that verifies, or None."""
    if isinstance(value, SSLContextSpec):
        tls = value.tls
        if tls.verify != verify or tls.min_version in ("1.0", "1.1"):
            return f"an SSLContext with verify={tls.verify}, min_version={tls.min_version}"
        return None
    flags = {
        ("tlsAllowInvalidCertificates", True), ("tlsInsecure", True),
        ("verify_ssl_cert", False), ("ssl_relax_minimum_version", True),
        ("cert_reqs", ssl.CERT_NONE), ("encryption", False), ("ssl_disabled", True),
    }  # fmt: skip
    if isinstance(value, bool | int) and (key, value) in flags:
        return f"{key}={value}"
    unverified = {("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"),
                  ("sslmode", "require"), ("ssl_cert_reqs", "none")}  # fmt: skip
    if isinstance(value, str) and (key, value) in unverified:
        return f"{key}={value}"
    if verify == "full" and isinstance(value, str) and (key, value) == ("sslmode", "verify-ca"):
        return f"{key}={value} while verify is full"
    if verify == "full" and isinstance(value, bool) and (key, value) in {
        ("tlsAllowInvalidHostnames", True), ("check_hostname", False),
        ("ssl_check_hostname", False),
    }:  # fmt: skip
        return f"{key}={value} while verify is full"
    if isinstance(value, str) and "nocertcheck" in value.lower():
        return f"{key} says nocertcheck"
    if key == "ssl_protocol" and isinstance(value, str | int) and _OLD_PROTOCOLS.match(str(value)):
        return f"ssl_protocol={value}"
    return None


def test_the_table_states_every_builtin_driver_and_only_known_cases() -> None:
    assert sorted(REFUSES) == sorted(BUILTIN)
    assert {case for refused in REFUSES.values() for case in refused} <= set(SECURE_TLS)


@pytest.mark.parametrize("case", SECURE_TLS)
def test_verification_on_is_refused_or_emitted_never_weakened(
    driver: str, case: str, tmp_path: Path
) -> None:
    profile = _profile(driver, tmp_path, tls=SECURE_TLS[case])
    refused = REFUSES[driver].get(case)
    # check() lists what emit() refuses: this one setting, or nothing.
    assert [(p.driver, p.setting) for p in check(profile)] == (
        [(driver, refused)] if refused else []
    )
    if refused is not None:
        with pytest.raises(UnsupportedSetting) as caught:
            emit(profile)
        assert (caught.value.driver, caught.value.setting) == (driver, refused)
    else:
        emitted = emit(profile)
        problems = [
            why
            for key, value in _walk(emitted)
            if (why := _insecure(key, value, profile.tls.verify))
        ]
        assert problems == []


# -- TLS off yields no TLS arguments -------------------------------------------------------------

_TLS_KEY = re.compile(r"tls|ssl|cert|^ca_|key_?file|encryption", re.IGNORECASE)
# The one argument a driver may use to say "off" explicitly (pyexasol encrypts by default;
# libpq and PyMySQL try TLS unless told not to).
_OFF_SWITCHES = {("tls", False), ("ssl", False), ("ssl_enabled", False), ("encryption", False),
                 ("sslmode", "disable"), ("ssl_disabled", True)}  # fmt: skip


@pytest.mark.parametrize(
    "tls",
    [False, {"enabled": False}, {"enabled": False, "ca": "/abs/ca.pem", "verify": "ca"}],
    ids=["tls-false", "enabled-false", "enabled-false-with-settings"],
)
def test_tls_off_yields_no_tls_arguments(driver: str, tls: Any, tmp_path: Path) -> None:
    profile = _profile(driver, tmp_path, tls=tls)
    assert not profile.tls.enabled
    # No driver refuses a TLS block that is off: its settings have nothing to apply to.
    assert check(profile) == []
    emitted = emit(profile)
    tls_args = {
        k: v
        for k, v in emitted.items()
        if _TLS_KEY.search(k) and not (isinstance(v, str | bool) and (k, v) in _OFF_SWITCHES)
    }
    assert tls_args == {}
    deferred = [v for _, v in _walk(emitted) if isinstance(v, SSLContextSpec)]
    assert deferred == []
    urls = [v for _, v in _walk(emitted) if isinstance(v, str) and v.lower().startswith("https://")]
    assert urls == []


def test_check_lists_every_setting_the_driver_refuses(tmp_path: Path) -> None:
    path = tmp_path / "hz.yaml"
    path.write_text(
        "profiles:\n  hz:\n    driver: hazelcast\n    hosts: [hz.example.com]\n"
        "    database: nope\n    allow_insecure: true\n"
        "    tls: {verify: none, crl: /x/crl.pem, server_name: hz.internal}\n"
    )
    profile = load_profile("hz", config=str(path))
    with pytest.raises(UnsupportedSetting):
        emit(profile)  # the driver itself stops at the first
    settings = sorted(p.setting for p in check(profile))
    assert settings == ["database", "tls.crl", "tls.server_name", "tls.verify"]
    assert all(p.driver == "hazelcast" for p in check(profile))


def test_check_is_empty_for_what_the_driver_expresses(tmp_path: Path) -> None:
    path = tmp_path / "hz.yaml"
    path.write_text("profiles:\n  hz:\n    driver: hazelcast\n    hosts: [hz.example.com]\n")
    assert check(load_profile("hz", config=str(path))) == []
