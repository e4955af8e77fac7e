"""Real handshakes against a server with no certificate: a cipher string must not get past it.

The server offers only anonymous suites (no certificate to verify) over TLS 1.2. A context that
still says ``CERT_REQUIRED`` would complete that handshake if its cipher list let OpenSSL use
those suites, so such a profile is refused unless it says ``allow_insecure`` (and then the
handshake really completes: the refusal is not theoretical).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from connprof import ProfileValidationError, load_profile
from tests.helpers import Certs, HandshakeRunner, write_profiles

#: The drivers that take a cipher list (pymongo and crate refuse ``tls.ciphers``).
WITH_CIPHERS = ["cassandra", "hazelcast", "pyexasol"]
WEAK = [
    "aNULL:@SECLEVEL=0",
    "ALL:@SECLEVEL=0",
    "ADH-AES256-GCM-SHA384:AECDH-AES256-SHA:@SECLEVEL=0",
]


def anonymous_server() -> ssl.SSLContext:
    """TLS 1.2 with anonymous suites only, and no certificate at all."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("aNULL:@SECLEVEL=0")
    return ctx


def _hazelcast_quiet(driver: str) -> list[Any]:
    return (
        [pytest.mark.filterwarnings("ignore::DeprecationWarning")] if driver == "hazelcast" else []
    )


def drivers() -> list[Any]:
    return [pytest.param(d, marks=_hazelcast_quiet(d)) for d in WITH_CIPHERS]


@pytest.mark.parametrize("ciphers", WEAK)
@pytest.mark.parametrize("driver", drivers())
def test_weak_ciphers_are_refused_before_any_connection(
    handshake: HandshakeRunner, driver: str, ciphers: str
) -> None:
    with pytest.raises(ProfileValidationError, match="allow_insecure") as refused:
        handshake(driver, {"ciphers": ciphers}, server_context=anonymous_server())
    message = str(refused.value)
    assert "tls.ciphers" in message and "\n" not in message
    assert "anonymous suites that skip server authentication" in message


@pytest.mark.parametrize("driver", drivers())
def test_acknowledged_weak_ciphers_really_reach_a_server_without_a_certificate(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    # What the refusal prevents: with allow_insecure, CERT_REQUIRED and all, the handshake
    # completes and the client goes on to speak its protocol to a server that proved nothing.
    h = handshake(
        driver,
        {"ca": str(certs.ca), "ciphers": "aNULL:@SECLEVEL=0"},
        server_context=anonymous_server(),
        allow_insecure=True,
    )
    assert h.server.handshakes, h.server.handshake_errors
    assert h.passed, h.text


@pytest.mark.parametrize("driver", drivers())
def test_default_ciphers_do_not_reach_a_server_without_a_certificate(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    h = handshake(driver, {"ca": str(certs.ca)}, server_context=anonymous_server())
    assert not h.server.handshakes
    assert not h.passed
    assert all("NO_SHARED_CIPHER" in str(e) for e in h.server.handshake_errors), (
        h.server.handshake_errors
    )


@pytest.mark.parametrize("driver", drivers())
def test_strong_cipher_string_does_not_reach_it_either(
    handshake: HandshakeRunner, certs: Certs, driver: str
) -> None:
    # HIGH lists anonymous suites; OpenSSL's default security level keeps them out of the
    # handshake, which is why the judgement is on the context, not on the text.
    h = handshake(
        driver, {"ca": str(certs.ca), "ciphers": "HIGH"}, server_context=anonymous_server()
    )
    assert not h.server.handshakes
    assert not h.passed


@pytest.mark.parametrize("driver", WITH_CIPHERS)
def test_a_cipher_string_openssl_does_not_know_fails_for_every_driver(
    tmp_path: Path, driver: str
) -> None:
    # hazelcast and pyexasol pass the string on to the driver, which used to find out late.
    endpoint = {"dsn": "exa1.example.com"} if driver == "pyexasol" else {"hosts": ["db1"]}
    path = write_profiles(
        tmp_path / "p.yaml",
        {"p": {"driver": driver, **endpoint, "tls": {"ciphers": "NOT-A-CIPHER"}}},
    )
    with pytest.raises(ProfileValidationError) as refused:
        load_profile("p", config=str(path)).driver_kwargs()
    assert str(refused.value).startswith(f"{path}:")
    assert "tls.ciphers: 'NOT-A-CIPHER' selects no cipher OpenSSL knows" in str(refused.value)
