"""Real TLS handshakes, the same cases for every driver: a profile, a loopback server, the client.

Each case states what the server saw (it is the same for every driver: OpenSSL's verdict) and
what the client reported (its own words, per driver, from ``design/drivers.md``). What a driver
cannot express is refused when its arguments are built, before any connection; ``REFUSED`` says
which driver refuses which case. Driver-only cases (pyexasol's fingerprints, hazelcast's pinned
version, cassandra's server name, credentials on the wire) are in each driver's own tests.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from connprof import TLSFileError, UnsupportedSetting
from tests.helpers import DRIVERS, KEY_PASSWORD, Certs, Handshake, HandshakeRunner

#: case: {driver: the setting it refuses}. Everything not listed connects.
REFUSED: dict[str, dict[str, str]] = {
    "verify-ca": {"crate": "tls.verify"},  # urllib3 checks the name whenever it checks the chain
    "verify-none": {"hazelcast": "tls.verify"},  # hazelcast always verifies the chain
    "client-key": {"pymongo": "tls.client_key"},  # tlsCertificateKeyFile: one combined file
    "client-key-password": {"crate": "tls.client_key_password"},  # crate takes no key password
    "min-version-1.3": {"crate": "tls.min_version", "pymongo": "tls.min_version"},  # no option
}

#: What the client reports once the handshake passed and the fake server answered or hung up.
AFTER_PASS: dict[str, tuple[str, ...]] = {
    # cassandra-driver times out; scylla-driver says the server closed the connection.
    "cassandra": ("Timed out creating connection", "was closed by server"),
    "crate": ("ok",),  # server_infos() got its answer
    "hazelcast": ("Connection closed by server",),  # in its log
    "pyexasol": ("Connection to remote host was lost",),  # ExaCommunicationError
    "pymongo": ("ok",),  # ping got its answer
}

#: What the client reports when the certificate does not name the host it checks.
HOST_MISMATCH = {
    "cassandra": "IP address mismatch",  # it checks the resolved IP (section 2)
    "crate": "Hostname mismatch",
    "hazelcast": "mismatch, certificate is not valid for '127.0.0.1'",  # the member host
    "pyexasol": "Hostname mismatch",
    "pymongo": "Hostname mismatch",
}

#: What the client reports when the server wants a client certificate it did not get: the
#: alert, or the end of the connection when the server hangs up first; never a timeout.
NO_CLIENT_CERT = {
    "cassandra": ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "EOF occurred in violation of protocol"),
    "crate": ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "EOF occurred in violation of protocol"),
    "hazelcast": ("SSLV3_ALERT_HANDSHAKE_FAILURE", "EOF occurred in violation of protocol"),
    "pyexasol": ("Could not connect to Exasol",),  # ExaConnectionFailedError, not a lost link
    "pymongo": ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "EOF occurred in violation of protocol"),
}

_WARNINGS = {
    "crate": pytest.mark.filterwarnings(
        "ignore::urllib3.exceptions.InsecureRequestWarning"  # verify: none, on every request
    ),
    "hazelcast": pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # its own ssl calls
}


def drivers(case: str | None = None) -> list[Any]:
    """A param per driver that connects in ``case`` (every driver without a case)."""
    refusing = REFUSED.get(case or "", {})
    return [
        pytest.param(d, marks=[_WARNINGS[d]] if d in _WARNINGS else [])
        for d in DRIVERS
        if d not in refusing
    ]


def assert_failed_handshake(h: Handshake, server_says: str, client_says: str) -> None:
    """No TLS session; the server saw why (OpenSSL's alert), and so does the client's report."""
    assert not h.server.handshakes
    assert not h.passed
    assert h.server.handshake_errors
    assert all(server_says in str(e) for e in h.server.handshake_errors), h.server.handshake_errors
    assert client_says in h.text, h.text


# -- the server's certificate ------------------------------------------------------------------


@pytest.mark.parametrize("driver", drivers())
def test_right_ca_passes(handshake: HandshakeRunner, certs: Certs, driver: str) -> None:
    h = handshake(driver, {"ca": str(certs.ca)})
    assert h.passed
    assert any(said in h.text for said in AFTER_PASS[driver]), h.text
    if driver == "pyexasol":
        from pyexasol.exceptions import ExaCommunicationError

        assert isinstance(h.error, ExaCommunicationError)  # hung up after the login frame


@pytest.mark.usefixtures("no_default_cas")
@pytest.mark.parametrize("driver", drivers())
def test_wrong_ca_fails(handshake: HandshakeRunner, certs: Certs, driver: str) -> None:
    h = handshake(driver, {"ca": str(certs.other_ca)})
    assert_failed_handshake(h, "TLSV1_ALERT_UNKNOWN_CA", "CERTIFICATE_VERIFY_FAILED")
    assert "unable to get local issuer certificate" in h.text


@pytest.mark.usefixtures("no_default_cas")
@pytest.mark.parametrize("driver", drivers())
def test_no_ca_fails_against_the_os_store(handshake: HandshakeRunner, driver: str) -> None:
    try:
        h = handshake(driver, True)
    except TLSFileError as exc:
        # crate's ca: system is OpenSSL's CA file; without one it is refused before connecting.
        assert driver == "crate" and "tls.ca: system" in str(exc)
        return
    assert_failed_handshake(h, "TLSV1_ALERT_UNKNOWN_CA", "unable to get local issuer certificate")


@pytest.mark.usefixtures("no_default_cas")
@pytest.mark.parametrize("driver", drivers())
def test_hostname_mismatch_fails_under_verify_full(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.ca)}, mismatch=True)
    assert_failed_handshake(h, "SSLV3_ALERT_BAD_CERTIFICATE", HOST_MISMATCH[driver])


@pytest.mark.parametrize("driver", drivers("verify-ca"))
def test_verify_ca_passes_the_mismatch(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.ca), "verify": "ca"}, mismatch=True)
    assert h.passed


@pytest.mark.usefixtures("no_default_cas")
@pytest.mark.parametrize("driver", drivers("verify-ca"))
def test_verify_ca_still_checks_the_chain(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.other_ca), "verify": "ca"}, mismatch=True)
    assert_failed_handshake(h, "TLSV1_ALERT_UNKNOWN_CA", "CERTIFICATE_VERIFY_FAILED")


@pytest.mark.parametrize("driver", drivers("verify-none"))
def test_verify_none_passes_an_unknown_ca_and_a_wrong_name(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    tls = {"ca": str(certs.other_ca), "verify": "none"}
    h = handshake(driver, tls, mismatch=True, allow_insecure=True)
    assert h.passed


# -- the client's certificate ------------------------------------------------------------------


def client_tls(certs: Certs, form: str, *, encrypted: bool = False) -> dict[str, str]:
    """The TLS block with a client certificate: ``cert-and-key`` (two files) or ``combined``."""
    if form == "combined":
        combined = certs.client_combined_encrypted if encrypted else certs.client_combined
        return {"ca": str(certs.ca), "client_cert": str(combined)}
    key = certs.client_key_encrypted if encrypted else certs.client_key
    return {"ca": str(certs.ca), "client_cert": str(certs.client_cert), "client_key": str(key)}


def forms(case: str | None = None) -> list[Any]:
    """(driver, form) params: cert-and-key where a separate key is taken, combined for all."""
    return [
        pytest.param(*p.values, form, marks=p.marks, id=f"{p.values[0]}-{form}")
        for form in ("cert-and-key", "combined")
        for p in drivers(case)
        if form == "combined" or p.values[0] not in REFUSED["client-key"]
    ]


@pytest.mark.parametrize("driver", drivers())
def test_client_certificate_required_and_missing_fails(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.ca)}, require_client_cert=True)
    assert not h.passed
    assert h.server.handshake_errors
    assert all("PEER_DID_NOT_RETURN_A_CERTIFICATE" in str(e) for e in h.server.handshake_errors)
    assert any(said in h.text for said in NO_CLIENT_CERT[driver]), h.text


@pytest.mark.parametrize(("driver", "form"), forms())
def test_client_certificate_and_key_pass(
    handshake: HandshakeRunner, certs: Certs, driver: str, form: str
) -> None:
    h = handshake(driver, client_tls(certs, form), require_client_cert=True)
    assert h.passed
    # The server saw the client's own certificate, on every connection.
    assert all("client@example.com" in str(c and c.get("subjectAltName")) for c in
               h.server.peer_certs)  # fmt: skip


@pytest.mark.parametrize(("driver", "form"), forms("client-key-password"))
def test_encrypted_client_key_with_its_password_passes(
    handshake: HandshakeRunner,
    certs: Certs,
    monkeypatch: pytest.MonkeyPatch,
    driver: str,
    form: str,
) -> None:
    monkeypatch.setenv("KEY_PASSWORD", KEY_PASSWORD)
    tls = client_tls(certs, form, encrypted=True) | {"client_key_password": "env:KEY_PASSWORD"}
    h = handshake(driver, tls, require_client_cert=True)
    assert h.passed
    assert h.server.peer_certs and all(h.server.peer_certs)


@pytest.mark.parametrize(("driver", "form"), forms())
def test_encrypted_client_key_without_password_is_an_error_not_a_prompt(
    handshake: HandshakeRunner, certs: Certs, driver: str, form: str
) -> None:
    # The arguments are never built, so the driver never gets to ask OpenSSL (which would prompt).
    with pytest.raises(TLSFileError, match="encrypted and the profile gives no password"):
        handshake(driver, client_tls(certs, form, encrypted=True), require_client_cert=True)


# -- protocol versions ---------------------------------------------------------------------------


@pytest.mark.parametrize("driver", drivers("min-version-1.3"))
def test_min_version_above_the_server_fails(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    tls = {"ca": str(certs.ca), "min_version": "1.3"}
    h = handshake(driver, tls, server_max=ssl.TLSVersion.TLSv1_2)
    assert not h.server.handshakes
    assert all("UNSUPPORTED_PROTOCOL" in str(e) for e in h.server.handshake_errors)
    assert "PROTOCOL_VERSION" in h.text.upper()


@pytest.mark.parametrize("driver", drivers("min-version-1.3"))
def test_min_version_the_server_speaks_passes(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.ca), "min_version": "1.3"})
    assert h.passed
    assert {seen.version for seen in h.server.handshakes} == {"TLSv1.3"}


# -- what a driver cannot express ------------------------------------------------------------------


def _refused_cases() -> list[Any]:
    return [
        pytest.param(case, driver, setting, id=f"{case}-{driver}")
        for case, refusing in REFUSED.items()
        for driver, setting in refusing.items()
    ]


def _tls_for(case: str, certs: Certs) -> dict[str, Any]:
    return {
        "verify-ca": {"ca": str(certs.ca), "verify": "ca"},
        "verify-none": {"verify": "none"},
        "client-key": client_tls(certs, "cert-and-key"),
        "client-key-password": client_tls(certs, "combined", encrypted=True)
        | {"client_key_password": "env:KEY_PASSWORD"},
        "min-version-1.3": {"ca": str(certs.ca), "min_version": "1.3"},
    }[case]


@pytest.mark.parametrize(("case", "driver", "setting"), _refused_cases())
def test_what_the_driver_cannot_express_is_refused_before_connecting(
    handshake: HandshakeRunner, certs: Certs, case: str, driver: str, setting: str
) -> None:
    with pytest.raises(UnsupportedSetting) as refused:
        handshake(driver, _tls_for(case, certs), allow_insecure=True)
    assert (refused.value.driver, refused.value.setting) == (driver, setting)
