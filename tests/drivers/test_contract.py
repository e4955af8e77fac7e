"""The contract every driver module keeps, run against each one in the registry (``connprof.drivers.BUILTIN``).

- Emitting is pure: no file opened, no socket, no subprocess, and neither the driver nor
  ``keyring`` imported (checked with audit hooks in a fresh interpreter).
- Verification on never yields an insecure flag: a setting the driver cannot express is
  refused, never weakened.
- TLS off yields no TLS arguments (only the driver's explicit "off" switch).
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
import yaml

from connprof import UnsupportedSetting, list_profiles, load_profile
from connprof._models import Profile
from connprof.drivers import BUILTIN, Construct, SSLContextSpec, emit

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_profiles").glob("*.yaml"))
# What each driver's own package is called once imported; emitting must import none of these.
DRIVER_PACKAGES = ("pymongo", "bson", "crate", "urllib3", "cassandra", "hazelcast", "pyexasol",
                   "websocket", "keyring")  # fmt: skip


@pytest.fixture(params=sorted(BUILTIN))
def driver(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _profile(driver: str, folder: Path, **fields: Any) -> Profile:
    """A profile as a user writes it: a file, loaded (``tls: false`` is the loader's to read)."""
    data = {"driver": driver, "hosts": ["db1.example.com", "db2.example.com"], **fields}
    path = folder / "contract.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"contract": data}}))
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
    for path in SAMPLES:
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

SECURE_TLS = [
    {},
    {"verify": "full"},
    {"verify": "full", "ca": "/abs/ca.pem"},
    {"verify": "ca", "ca": "/abs/ca.pem"},
    {
        "verify": "full",
        "ca": "/abs/ca.pem",
        "client_cert": "/abs/c.pem",
        "client_key": "/abs/c.key",
    },
    {"verify": "full", "client_cert": "/abs/c.pem", "client_key_password": "env:KP"},
    {"verify": "full", "min_version": "1.3"},
    {"verify": "full", "max_version": "1.3"},
    {"verify": "full", "ocsp": False},
    {"verify": "full", "crl": "/abs/crl.pem"},
    {"verify": "full", "server_name": "db.internal"},
    {"verify": "full", "ciphers": "ECDHE+AESGCM"},
]
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
        ("cert_reqs", ssl.CERT_NONE), ("encryption", False),
    }  # fmt: skip
    if isinstance(value, bool | int) and (key, value) in flags:
        return f"{key}={value}"
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


@pytest.mark.parametrize("tls", SECURE_TLS, ids=[json.dumps(t) for t in SECURE_TLS])
def test_verification_on_never_yields_an_insecure_flag(
    driver: str, tls: dict[str, Any], tmp_path: Path
) -> None:
    profile = _profile(driver, tmp_path, tls=tls)
    try:
        emitted = emit(profile)
    except UnsupportedSetting:
        return  # refused, not weakened
    problems = [
        why for key, value in _walk(emitted) if (why := _insecure(key, value, profile.tls.verify))
    ]
    assert problems == []


# -- TLS off yields no TLS arguments -------------------------------------------------------------

_TLS_KEY = re.compile(r"tls|ssl|cert|^ca_|key_?file|encryption", re.IGNORECASE)
# The one argument a driver may use to say "off" explicitly (pyexasol encrypts by default).
_OFF_SWITCHES = {"tls", "ssl", "ssl_enabled", "encryption"}


@pytest.mark.parametrize(
    "tls",
    [False, {"enabled": False}, {"enabled": False, "ca": "/abs/ca.pem", "verify": "ca"}],
    ids=["tls-false", "enabled-false", "enabled-false-with-settings"],
)
def test_tls_off_yields_no_tls_arguments(driver: str, tls: Any, tmp_path: Path) -> None:
    profile = _profile(driver, tmp_path, tls=tls)
    assert not profile.tls.enabled
    try:
        emitted = emit(profile)
    except UnsupportedSetting:
        return  # a driver may refuse TLS settings that have nothing to apply to
    tls_args = {
        k: v
        for k, v in emitted.items()
        if _TLS_KEY.search(k) and not (k in _OFF_SWITCHES and v is False)
    }
    assert tls_args == {}
    deferred = [v for _, v in _walk(emitted) if isinstance(v, SSLContextSpec)]
    assert deferred == []
    urls = [v for _, v in _walk(emitted) if isinstance(v, str) and v.lower().startswith("https://")]
    assert urls == []


def test_check_lists_every_setting_the_driver_refuses(tmp_path: Path) -> None:
    from connprof._errors import UnsupportedSetting
    from connprof.drivers import check, emit

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
    from connprof.drivers import check

    path = tmp_path / "hz.yaml"
    path.write_text("profiles:\n  hz:\n    driver: hazelcast\n    hosts: [hz.example.com]\n")
    assert check(load_profile("hz", config=str(path))) == []
