"""The checks that need no connection, each code from a file or reference built to cause it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connprof import ProfileNotFound, ProfileValidationError
from tests.doctor.conftest import Doctor, problems
from tests.helpers import KEY_PASSWORD, BadCerts, Certs, closed_port, write_file

# Drivers that take a separate key file and a key password (crate takes no password, pymongo
# one combined file): the key checks run for each.
KEY_DRIVERS = ["cassandra", "hazelcast", "pyexasol"]


def offline(run_doctor: Doctor, driver: str, tls: object, **fields: object) -> object:
    # A port nothing listens on: offline, nothing may connect anyway.
    return run_doctor(driver, closed_port(), tls, offline=True, **fields)


def only(report: object, code: str) -> object:
    failing = [c for c in report.checks if not c.ok]  # type: ignore[attr-defined]
    assert [c.problem for c in failing] == [code], failing
    (check,) = failing
    assert check.target == "files" and check.hint
    return check


@pytest.mark.parametrize("driver", ["cassandra", "crate", "hazelcast", "pyexasol", "pymongo"])
def test_a_good_profile_passes_offline_without_connecting(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    report = offline(run_doctor, driver, {"ca": str(certs.ca)})
    assert report.ok, report.checks
    assert report.offline
    assert {c.target for c in report.checks} == {"files"}  # no endpoint was tried
    assert report.checks[0].message.startswith("profile p loads")


@pytest.mark.parametrize("driver", ["cassandra", "crate", "hazelcast", "pyexasol", "pymongo"])
def test_missing_ca_file(driver: str, tmp_path: Path, run_doctor: Doctor) -> None:
    check = only(offline(run_doctor, driver, {"ca": str(tmp_path / "nope.pem")}), "missing_file")
    assert "nope.pem" in check.message


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"not a certificate\n", "not a PEM file"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "OpenSSL"),
    ],
)
def test_a_ca_file_that_is_not_pem(
    content: bytes, what: str, tmp_path: Path, run_doctor: Doctor
) -> None:
    ca = write_file(tmp_path / "ca.pem", content)
    check = only(offline(run_doctor, "cassandra", {"ca": str(ca)}), "bad_file")
    assert what in check.message


def test_a_ca_path_that_is_a_folder_or_fifo(tmp_path: Path, run_doctor: Doctor) -> None:
    import os

    fifo = tmp_path / "ca.fifo"
    os.mkfifo(fifo)
    for path in (tmp_path, fifo):  # neither may hang nor be read
        check = only(offline(run_doctor, "pymongo", {"ca": str(path)}), "bad_file")
        assert "not a regular file" in check.message


def test_an_unreadable_key(certs: Certs, tmp_path: Path, run_doctor: Doctor) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    key = write_file(tmp_path / "client.key", certs.client_key.read_bytes())
    key.chmod(0)
    tls = {"ca": str(certs.ca), "client_cert": str(certs.client_cert), "client_key": str(key)}
    check = only(offline(run_doctor, "cassandra", tls), "bad_file")
    assert "not readable" in check.message


@pytest.mark.parametrize("driver", ["cassandra", "crate", "hazelcast", "pyexasol"])
def test_a_key_of_another_certificate(
    driver: str, certs: Certs, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(bad_certs.foreign_client_key),
    }
    check = only(offline(run_doctor, driver, tls), "key_mismatch")
    assert "does not belong" in check.message


def test_a_combined_file_with_a_key_of_another_certificate(
    certs: Certs, bad_certs: BadCerts, tmp_path: Path, run_doctor: Doctor
) -> None:
    combined = write_file(
        tmp_path / "client.pem",
        bad_certs.foreign_client_key.read_bytes() + certs.client_cert.read_bytes(),
    )
    only(
        offline(run_doctor, "pymongo", {"ca": str(certs.ca), "client_cert": str(combined)}),
        "key_mismatch",
    )


@pytest.mark.parametrize("driver", KEY_DRIVERS)
def test_a_wrong_key_password(
    driver: str, certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", "not-the-password")
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:KEY_PASS",
    }
    report = offline(run_doctor, driver, tls)
    check = only(report, "bad_key_password")
    assert "does not decrypt" in check.message
    assert "not-the-password" not in repr(report) + report.to_json()


def test_a_wrong_password_for_a_combined_file(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", "not-the-password")
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_combined_encrypted),
        "client_key_password": "env:KEY_PASS",
    }
    only(offline(run_doctor, "pymongo", tls), "bad_key_password")


@pytest.mark.parametrize("driver", KEY_DRIVERS)
def test_an_encrypted_key_without_a_password(driver: str, certs: Certs, run_doctor: Doctor) -> None:
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
    }
    check = only(offline(run_doctor, driver, tls), "bad_key_password")
    assert "gives no tls.client_key_password" in check.message


def test_a_damaged_encrypted_key_is_a_bad_file_not_a_bad_password(
    certs: Certs, tmp_path: Path, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", KEY_PASSWORD)
    text = certs.client_key_encrypted.read_text()
    lines = text.splitlines()
    damaged = "\n".join([lines[0], *lines[1:-2], lines[-1]]) + "\n"  # a line of the body lost
    key = write_file(tmp_path / "damaged.key", damaged)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(key),
        "client_key_password": "env:KEY_PASS",
    }
    only(offline(run_doctor, "cassandra", tls), "bad_file")


def test_the_right_key_password_passes(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASS", KEY_PASSWORD)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:KEY_PASS",
    }
    report = offline(run_doctor, "cassandra", tls)
    assert report.ok, report.checks


@pytest.mark.parametrize("driver", ["cassandra", "crate", "hazelcast", "pyexasol", "pymongo"])
def test_an_unset_variable_is_secret_unresolved(
    driver: str, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    auth = {"user": "app", "password": "env:NO_SUCH_PASSWORD"}
    report = offline(run_doctor, driver, True, auth=auth)
    check = only(report, "secret_unresolved")
    assert check.step == "secrets" and "NO_SUCH_PASSWORD" in check.message
    assert "\n" not in check.message


def test_an_unresolved_key_password_stops_before_the_handshake(
    certs: Certs, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_PASS", raising=False)
    tls = {
        "ca": str(certs.ca),
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key_encrypted),
        "client_key_password": "env:NO_SUCH_PASS",
    }
    report = run_doctor("cassandra", closed_port(), tls)
    assert problems(report) == ["secret_unresolved", "connection_refused"]


@pytest.mark.parametrize(
    ("which", "code"),
    [("expired_ca", "expired_certificate")],
)
def test_a_ca_file_out_of_its_dates(
    which: str, code: str, bad_certs: BadCerts, run_doctor: Doctor
) -> None:
    only(offline(run_doctor, "pymongo", {"ca": str(getattr(bad_certs, which))}), code)


def test_client_certificate_dates(bad_certs: BadCerts, certs: Certs, run_doctor: Doctor) -> None:
    # The server chain files hold a key and a certificate: as a client certificate they do too.
    for path, code in (
        (bad_certs.expired, "expired_certificate"),
        (bad_certs.not_yet_valid, "certificate_not_yet_valid"),
    ):
        tls = {"ca": str(certs.ca), "client_cert": str(path)}
        only(offline(run_doctor, "pymongo", tls), code)


def test_a_client_certificate_expiring_soon_is_a_warning(
    bad_certs: BadCerts, certs: Certs, run_doctor: Doctor
) -> None:
    report = offline(
        run_doctor, "pymongo", {"ca": str(certs.ca), "client_cert": str(bad_certs.expiring_soon)}
    )
    assert report.ok
    (warning,) = [c for c in report.checks if c.warning]
    assert "expires in" in warning.message and warning.mark == "!" and warning.hint


@pytest.mark.parametrize("driver", ["cassandra", "hazelcast", "pyexasol"])
def test_a_cipher_string_that_selects_nothing(
    driver: str, certs: Certs, run_doctor: Doctor
) -> None:
    # Refused when the profile loads, as driver_kwargs() refuses it: doctor stops there.
    with pytest.raises(ProfileValidationError, match=r"NOPE-NOTHING' selects no cipher"):
        offline(run_doctor, driver, {"ca": str(certs.ca), "ciphers": "NOPE-NOTHING"})


def test_a_cipher_string_that_selects_ciphers(certs: Certs, run_doctor: Doctor) -> None:
    report = offline(run_doctor, "cassandra", {"ca": str(certs.ca), "ciphers": "ECDHE+AESGCM"})
    assert report.ok
    assert any("selects" in c.message for c in report.checks)


@pytest.mark.parametrize(
    ("driver", "tls"),
    [
        ("pymongo", {"ciphers": "ECDHE+AESGCM"}),
        ("crate", {"verify": "ca"}),
        ("hazelcast", {"fingerprint": "AB" * 32}),
        ("cassandra", {"fingerprint": "AB" * 32}),
        ("pyexasol", {"server_name": "db.example.com"}),
    ],
)
def test_what_the_driver_refuses(driver: str, tls: dict[str, str], run_doctor: Doctor) -> None:
    check = only(offline(run_doctor, driver, tls), "unsupported_setting")
    assert f"driver {driver} cannot express" in check.message


def test_a_profile_that_does_not_load_raises(tmp_path: Path, run_doctor: Doctor) -> None:
    with pytest.raises(ProfileValidationError, match="verfiy"):
        offline(run_doctor, "pymongo", {"verfiy": "none"})
    with pytest.raises(ProfileNotFound):
        import connprof

        connprof.doctor("nope", config=str(write_file(tmp_path / "x.yaml", "profiles: {}\n")))


def test_exec_references_are_not_run_offline_and_are_run_online(
    tmp_path: Path, run_doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("EXEC_VALUE", "pw-from-exec")  # the value is not in the reference
    auth = {"user": "app", "password": f"exec:sh -c 'touch {marker}; echo $EXEC_VALUE'"}
    report = offline(run_doctor, "pymongo", True, auth=auth)
    assert report.ok
    (check,) = [c for c in report.checks if c.step == "secrets"]
    assert check.warning and "not run offline" in check.message
    assert not marker.exists()
    report = run_doctor("pymongo", closed_port(), True, auth=auth)
    (check,) = [c for c in report.checks if c.step == "secrets"]
    assert check.ok and not check.warning and "resolves" in check.message
    assert marker.exists()
    assert "pw-from-exec" not in report.to_json()
