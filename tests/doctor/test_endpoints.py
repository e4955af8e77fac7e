"""Every per-endpoint problem code, from a real loopback server built to cause it, per driver.

Each case runs with the TLS settings of each of the five drivers where the driver can express
it (a driver that cannot is listed, and the refusal is checked too). The passing cases pass.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from tests.doctor.conftest import Doctor, problems
from tests.helpers import (
    DRIVERS,
    KEY_PASSWORD,
    BadCerts,
    Certs,
    PlaintextServer,
    SayOK,
    SilentServer,
    closed_port,
    server_context,
    server_fingerprint,
)

TLS13 = ssl.TLSVersion.TLSv1_3
TLS12 = ssl.TLSVersion.TLSv1_2


def failed(report: Any, step: str) -> Any:
    (check,) = [c for c in report.checks if not c.ok]
    assert check.step == step, check
    assert check.hint, check
    return check


# -- passing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_right_ca_passes_every_step(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context()) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    assert report.ok, report.checks
    assert [c.step for c in report.checks if c.target != "files"] == [
        "dns",
        "tcp",
        "tls",
        "certificate",
    ]
    (target,) = report.certificate
    info = report.certificate[target]
    assert info.fingerprint_sha256 == server_fingerprint(str(certs.server_cert))
    assert "localhost" in info.sans
    assert info.tls_version.startswith("TLSv1.")
    assert not any(c.warning for c in report.checks), report.checks


@pytest.mark.parametrize("driver", ["cassandra", "hazelcast", "pyexasol", "pymongo"])
def test_verify_ca_passes_with_a_wrong_host_name(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca), "verify": "ca"})
    assert report.ok, report.checks
    assert any("name is not checked" in c.message for c in report.checks)


def test_crate_cannot_express_verify_ca(certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        report = run_doctor("crate", server.port, {"ca": str(certs.ca), "verify": "ca"})
    assert "unsupported_setting" in problems(report)


@pytest.mark.parametrize(
    ("driver", "key"),
    [
        ("cassandra", {"client_cert": "crt", "client_key": "key"}),
        ("crate", {"client_cert": "crt", "client_key": "key"}),
        ("hazelcast", {"client_cert": "crt", "client_key": "key"}),
        ("pyexasol", {"client_cert": "crt", "client_key": "key"}),
        ("pymongo", {"client_cert": "combined"}),
    ],
)
@pytest.mark.parametrize("version", [TLS12, TLS13])
def test_mutual_tls_with_the_right_client_certificate_passes(
    driver: str, key: dict[str, str], version: ssl.TLSVersion, certs: Certs, run_doctor: Doctor
) -> None:
    files = {"crt": certs.client_cert, "key": certs.client_key, "combined": certs.client_combined}
    tls = {"ca": str(certs.ca), **{k: str(files[v]) for k, v in key.items()}}
    ctx = server_context(certs.server_cert, client_ca=certs.ca, max_version=version)
    with SayOK(ctx) as server:
        report = run_doctor(driver, server.port, tls)
    assert report.ok, report.checks
    assert server.peer_certs and server.peer_certs[0] is not None


@pytest.mark.parametrize("driver", ["cassandra", "hazelcast", "pyexasol", "pymongo"])
def test_mutual_tls_with_an_encrypted_key_passes(
    driver: str, certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", KEY_PASSWORD)
    if driver == "pymongo":
        files = {"client_cert": str(certs.client_combined_encrypted)}
    else:
        files = {
            "client_cert": str(certs.client_cert),
            "client_key": str(certs.client_key_encrypted),
        }
    tls = {"ca": str(certs.ca), **files, "client_key_password": "env:KEY_PASS"}
    with SayOK(server_context(certs.server_cert, client_ca=certs.ca)) as server:
        report = run_doctor(driver, server.port, tls)
    assert report.ok, report.checks
    assert any("decrypts with its password" in c.message for c in report.checks)


def test_crate_refuses_a_key_password(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", KEY_PASSWORD)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:KEY_PASS",
    }
    with SayOK(certs.server_context()) as server:
        report = run_doctor("crate", server.port, tls)
    assert "unsupported_setting" in problems(report)


def test_a_matching_pyexasol_fingerprint_passes(certs: Certs, run_doctor: Doctor) -> None:
    fingerprint = server_fingerprint(str(certs.server_cert))
    with SayOK(certs.server_context()) as server:
        # Lower case in the profile: pyexasol upper-cases it, and so does the comparison.
        report = run_doctor(
            "pyexasol", None, {"fingerprint": fingerprint.lower()}, dsn=f"localhost:{server.port}"
        )
    assert report.ok, report.checks
    assert any("fingerprint matches" in c.message for c in report.checks)


def test_a_wrong_pyexasol_fingerprint_prints_both(certs: Certs, run_doctor: Doctor) -> None:
    wrong = "AB" * 32
    with SayOK(certs.server_context()) as server:
        report = run_doctor("pyexasol", None, True, dsn=f"localhost/{wrong}:{server.port}")
    check = failed(report, "certificate")
    assert check.problem == "fingerprint_mismatch"
    assert wrong in check.message
    assert server_fingerprint(str(certs.server_cert)) in check.message


@pytest.mark.parametrize("driver", ["cassandra", "crate", "pyexasol", "pymongo"])
def test_verify_none_passes_but_is_reported_insecure(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        report = run_doctor(driver, server.port, {"verify": "none"}, allow_insecure=True)
    assert report.ok, report.checks
    (warning,) = [c for c in report.checks if c.warning]
    assert warning.step == "certificate" and "NOT verified" in warning.message
    assert warning.mark == "!"


def test_hazelcast_refuses_verify_none(certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context()) as server:
        report = run_doctor("hazelcast", server.port, {"verify": "none"}, allow_insecure=True)
    assert "unsupported_setting" in problems(report)


# -- failing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_unknown_ca_is_untrusted(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context()) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.other_ca)})
    check = failed(report, "tls")
    assert check.problem == "untrusted_certificate"
    assert "issued by" in check.message  # what the server presents


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_missing_intermediate_is_untrusted(
    driver: str, certs: Certs, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    with SayOK(server_context(bad_certs.no_intermediate)) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    check = failed(report, "tls")
    assert check.problem == "untrusted_certificate"
    assert "intermediate" in check.message
    # The same leaf served with its intermediate verifies against the same root.
    with SayOK(server_context(bad_certs.full_chain)) as server:
        assert run_doctor(driver, server.port, {"ca": str(certs.ca)}).ok


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    ("which", "code"),
    [("expired", "expired_certificate"), ("not_yet_valid", "certificate_not_yet_valid")],
)
def test_server_certificate_dates(
    driver: str, which: str, code: str, certs: Certs, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    with SayOK(server_context(getattr(bad_certs, which))) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    assert failed(report, "tls").problem == code


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_certificate_expiring_soon_is_a_warning(
    driver: str, certs: Certs, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    with SayOK(server_context(bad_certs.expiring_soon)) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    assert report.ok
    (warning,) = [c for c in report.checks if c.warning]
    assert warning.step == "certificate" and "expires in" in warning.message


@pytest.mark.parametrize("driver", DRIVERS)
def test_hostname_mismatch_names_what_the_certificate_holds(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    check = failed(report, "tls")
    assert check.problem == "hostname_mismatch"
    assert "wrong.example.com" in check.message
    if driver == "cassandra":
        assert "127.0.0.1" in check.message  # the driver checks the IP it resolved


def test_cassandra_checks_the_server_name_when_given(certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        tls = {"ca": str(certs.ca), "server_name": "wrong.example.com"}
        assert run_doctor("cassandra", server.port, tls).ok


@pytest.mark.parametrize("driver", DRIVERS)
def test_no_version_in_common(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    # An old server that speaks TLS 1.1 at most; every profile's floor is 1.2.
    ctx = server_context(certs.server_cert, max_version=ssl.TLSVersion.TLSv1_1)
    with SayOK(ctx) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    assert failed(report, "tls").problem == "protocol_version"


@pytest.mark.parametrize("driver", ["cassandra", "hazelcast", "pyexasol"])
def test_max_version_under_the_servers_minimum(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    ctx = server_context(certs.server_cert, min_version=TLS13)
    tls = {"ca": str(certs.ca), "max_version": "1.2"}
    with SayOK(ctx) as server:
        report = run_doctor(driver, server.port, tls)
    assert failed(report, "tls").problem == "protocol_version"


def test_hazelcast_pins_min_version(certs: Certs, run_doctor: Doctor) -> None:
    # hazelcast speaks exactly min_version: a TLS 1.3-only member fails with the default 1.2.
    ctx = server_context(certs.server_cert, min_version=TLS13)
    with SayOK(ctx) as server:
        report = run_doctor("hazelcast", server.port, {"ca": str(certs.ca)})
        assert failed(report, "tls").problem == "protocol_version"
        assert run_doctor("hazelcast", server.port, {"ca": str(certs.ca), "min_version": "1.3"}).ok


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("version", [TLS12, TLS13])
def test_a_client_certificate_required(
    driver: str, version: ssl.TLSVersion, certs: Certs, run_doctor: Doctor
) -> None:
    ctx = server_context(certs.server_cert, client_ca=certs.ca, max_version=version)
    with SayOK(ctx) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    check = failed(report, "tls")
    assert check.problem == "client_certificate_required"
    if version == TLS13 and driver != "hazelcast":  # hazelcast speaks min_version (1.2) only
        assert "after the handshake" in check.message


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("version", [TLS12, TLS13])
def test_a_client_certificate_rejected(
    driver: str,
    version: ssl.TLSVersion,
    certs: Certs,
    bad_certs: BadCerts,
    run_doctor: Doctor,
) -> None:
    if driver == "pymongo":
        files = {"client_cert": str(bad_certs.foreign_client)}
    else:
        files = {
            "client_cert": str(bad_certs.foreign_client_cert),
            "client_key": str(bad_certs.foreign_client_key),
        }
    ctx = server_context(certs.server_cert, client_ca=certs.ca, max_version=version)
    with SayOK(ctx) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca), **files})
    assert failed(report, "tls").problem == "client_certificate_rejected"


@pytest.mark.parametrize("driver", DRIVERS)
def test_plaintext_port_is_not_tls(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    with PlaintextServer() as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    assert failed(report, "tls").problem == "not_tls"


@pytest.mark.parametrize("driver", DRIVERS)
def test_nothing_listening_is_connection_refused(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    report = run_doctor(driver, closed_port(), {"ca": str(certs.ca)})
    assert failed(report, "tcp").problem == "connection_refused"


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_silent_server_times_out(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    with SilentServer() as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)}, timeout=0.3)
    check = failed(report, "tls")
    assert check.problem == "timeout"
    assert "0.3s" in check.message


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_name_that_does_not_resolve(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    hosts = ["https://no-such-host.invalid:4200"] if driver == "crate" else ["no-such-host.invalid"]
    report = run_doctor(driver, None, {"ca": str(certs.ca)}, hosts=hosts, timeout=1.0)
    assert failed(report, "dns").problem == "dns_failed"


def test_every_host_of_a_dsn_range_is_checked(certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context()) as server:
        # 127.0.0.1..2: two nodes; only the first listens.
        report = run_doctor(
            "pyexasol",
            None,
            {"ca": str(certs.ca), "verify": "ca"},
            dsn=f"127.0.0.1..2:{server.port}",
        )
    targets = {c.target for c in report.checks if c.target != "files"}
    assert targets == {f"127.0.0.1:{server.port}", f"127.0.0.2:{server.port}"}
    assert problems(report) == ["connection_refused"]


def test_tls_off_is_a_warning_and_no_handshake(run_doctor: Doctor) -> None:
    with SilentServer() as server:
        report = run_doctor("cassandra", server.port, False)
    assert report.ok
    assert [c.step for c in report.checks if c.target != "files"] == ["dns", "tcp", "tls"]
    assert report.checks[-1].warning


def test_nocertcheck_passes_but_is_reported_insecure(certs: Certs, run_doctor: Doctor) -> None:
    with SayOK(certs.server_context(mismatch=True)) as server:
        report = run_doctor(
            "pyexasol", None, True, dsn=f"localhost/nocertcheck:{server.port}", allow_insecure=True
        )
    assert report.ok, report.checks
    (warning,) = [c for c in report.checks if c.warning]
    assert "nocertcheck" in warning.message


def test_a_pin_with_a_ca_file_checks_both(certs: Certs, run_doctor: Doctor) -> None:
    # pyexasol with websocket_sslopt (connprof always passes it): a CA file keeps the chain
    # check beside the pin, so the right pin with the wrong CA fails.
    fingerprint = server_fingerprint(str(certs.server_cert))
    with SayOK(certs.server_context()) as server:
        dsn = f"localhost/{fingerprint}:{server.port}"
        report = run_doctor("pyexasol", None, {"ca": str(certs.other_ca)}, dsn=dsn)
        assert problems(report) == ["untrusted_certificate"]
        assert run_doctor("pyexasol", None, {"ca": str(certs.ca)}, dsn=dsn).ok


def test_a_pin_alone_replaces_the_chain_check(certs: Certs, run_doctor: Doctor) -> None:
    # ca: system (the default) and a pin: the pin alone, as pyexasol does; the trustme CA is in
    # no system store, so only the pin can make this pass.
    fingerprint = server_fingerprint(str(certs.server_cert))
    with SayOK(certs.server_context()) as server:
        report = run_doctor("pyexasol", None, True, dsn=f"localhost/{fingerprint}:{server.port}")
    assert report.ok, report.checks


def test_timeout_must_be_positive(run_doctor: Doctor) -> None:
    with pytest.raises(ValueError, match="positive"):
        run_doctor("pymongo", closed_port(), True, timeout=0)


class _CloseAtOnce(SayOK):
    def talk(self, tls: ssl.SSLSocket, seen: Any) -> None:
        pass  # hang up right after the handshake, without an alert


def test_a_server_that_hangs_up_after_the_handshake_is_a_warning(
    certs: Certs, run_doctor: Doctor
) -> None:
    with _CloseAtOnce(certs.server_context()) as server:
        report = run_doctor("pymongo", server.port, {"ca": str(certs.ca)})
    assert report.ok, report.checks
    (warning,) = [c for c in report.checks if c.warning]
    assert warning.step == "tls" and "closed the connection" in warning.message


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_self_signed_certificate_is_untrusted(
    driver: str, certs: Certs, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    with SayOK(server_context(bad_certs.self_signed)) as server:
        report = run_doctor(driver, server.port, {"ca": str(certs.ca)})
    check = failed(report, "tls")
    assert check.problem == "untrusted_certificate"
    assert "self-signed" in check.message


@pytest.mark.parametrize("driver", DRIVERS)
def test_ca_system_is_the_store_the_driver_reads(
    driver: str,
    certs: Certs,
    run_doctor: Doctor,
    monkeypatch: pytest.MonkeyPatch,
    no_default_cas: None,
) -> None:
    # ca: system: the OS store, which OpenSSL (and so every driver) reads from SSL_CERT_FILE.
    with SayOK(certs.server_context()) as server:
        assert problems(run_doctor(driver, server.port, True)) == ["untrusted_certificate"]
        monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
        report = run_doctor(driver, server.port, True)
    assert report.ok, report.checks
    assert any("the OS trust store" in c.message for c in report.checks)
