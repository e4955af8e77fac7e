"""Property tests: random TLS blocks across the drivers never weaken TLS without ``allow_insecure``.

Each example writes one profile (a random TLS block: cipher strings with aNULL, eNULL, EXPORT,
``@SECLEVEL=0/1``, TLS 1.3 suite names, versions, verify modes, pins), loads it as a user would
and builds the driver arguments. The outcome is either a ``ConnprofError`` with a one-line
message, or arguments whose TLS is no weaker than the profile acknowledged: verification on,
the host name checked under ``verify: full``, TLS 1.2 or later, and a cipher list at OpenSSL's
default security level or above (at which OpenSSL offers no anonymous, NULL or export suite).
The oracle reads the built objects (contexts, driver options), not connprof's own judgement.

Bounded for CI: a fixed example budget (200 each), no deadline (the first context loads the trust
store). For a longer local run: ``CONNPROF_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q
-p no:cacheprovider tests/fuzz/test_fuzz_tls.py``.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connprof import ConnprofError, load_profile
from connprof._tls import judge_ciphers

# Profiles with min_version 1.0/1.1 (and allow_insecure) set those versions, which ssl deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")

#: ``CONNPROF_FUZZ_EXAMPLES=20000`` runs longer locally, with fresh random examples.
_LONG = os.environ.get("CONNPROF_FUZZ_EXAMPLES")
BUDGET = settings(
    max_examples=int(_LONG) if _LONG else 200,
    deadline=None,
    derandomize=not _LONG,  # CI runs the same examples every time: a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEFAULT_LEVEL = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).security_level
VERSIONS = ("1.0", "1.1", "1.2", "1.3")
ORDER = {v: i for i, v in enumerate(VERSIONS)}
PIN = "AB" * 32

CIPHER_PARTS = (
    "aNULL", "eNULL", "NULL", "EXPORT", "EXP", "LOW", "ADH", "AECDH", "HIGH", "MEDIUM", "DEFAULT",
    "ALL", "COMPLEMENTOFALL", "ECDHE+AESGCM", "ECDHE+CHACHA20", "!aNULL", "!eNULL", "-ALL", "RC4",
    "DES", "3DES", "PSK", "SRP", "kRSA", "aRSA", "SHA1", "@SECLEVEL=0", "@SECLEVEL=1",
    "@SECLEVEL=2", "@SECLEVEL=3", "@STRENGTH", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256", "ADH-AES256-GCM-SHA384", "AECDH-NULL-SHA", "NULL-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384", "NOT-A-CIPHER",
)  # fmt: skip

ENDPOINTS: dict[str, dict[str, Any]] = {
    "cassandra": {"hosts": ["10.0.0.1"]},
    "crate": {"hosts": ["https://crate.example.com:4200"]},
    "hazelcast": {"hosts": ["hz1.example.com"]},
    "pyexasol": {"dsn": "exa1.example.com"},
    "pymongo": {"hosts": ["db1.example.com"]},
}

#: Whole strings seen in the audit and in real configurations, weak and strong.
CIPHER_STRINGS = (
    "aNULL:@SECLEVEL=0", "eNULL:@SECLEVEL=0", "ALL:@SECLEVEL=0", "DEFAULT:@SECLEVEL=1",
    "HIGH:@SECLEVEL=0", "ADH-AES256-GCM-SHA384:@SECLEVEL=0", "AECDH-NULL-SHA:@SECLEVEL=0",
    "COMPLEMENTOFALL:@SECLEVEL=0", "EXPORT", "HIGH", "HIGH:!aNULL:!MD5", "DEFAULT",
    "ECDHE+AESGCM", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384",
)  # fmt: skip
cipher_strings = st.one_of(
    st.sampled_from(CIPHER_STRINGS),
    st.lists(st.sampled_from(CIPHER_PARTS), min_size=1, max_size=4).map(":".join),
    st.text(max_size=24),
)


@st.composite
def tls_blocks(draw: st.DrawFn, ca: str) -> dict[str, Any]:
    block: dict[str, Any] = {"verify": draw(st.sampled_from(["full", "full", "ca", "none"]))}
    block["ca"] = draw(st.sampled_from([ca, ca, "system"]))
    if draw(st.integers(0, 3)):  # three in four blocks set ciphers
        block["ciphers"] = draw(cipher_strings)
    low = draw(st.sampled_from([None, None, None, *VERSIONS]))
    if low is not None:
        block["min_version"] = low
    high = draw(st.sampled_from([None, None, None, *VERSIONS]))
    if high is not None:
        block["max_version"] = high
    fingerprint = draw(st.sampled_from([None, None, None, None, PIN, "nocertcheck"]))
    if fingerprint is not None:
        block["fingerprint"] = fingerprint
    return block


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("fuzz-ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def _context_is_strong(ctx: ssl.SSLContext) -> bool:
    """What OpenSSL will negotiate with: TLS 1.2 or later, at the default security level."""
    return (
        ctx.minimum_version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
        and ctx.security_level >= DEFAULT_LEVEL
    )


def _cipher_list_is_strong(ciphers: str | None) -> bool:
    """A driver's own context (hazelcast, websocket-client) with this cipher list."""
    if ciphers is None:
        return True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(ciphers)  # raises if connprof handed over a list OpenSSL refuses
    return ctx.security_level >= DEFAULT_LEVEL


def assert_no_weakening(driver: str, block: dict[str, Any], kw: dict[str, Any]) -> None:
    """The built arguments verify as ``block`` says (the profile did not say allow_insecure)."""
    verify = block["verify"]
    assert verify != "none" and block.get("fingerprint") != "nocertcheck"
    assert ORDER[block.get("min_version", "1.2")] >= ORDER["1.2"]
    if driver == "cassandra":
        ctx = kw["ssl_context"]
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.check_hostname is (verify == "full")
        assert _context_is_strong(ctx)
    elif driver == "hazelcast":
        assert kw["ssl_check_hostname"] is (verify == "full")
        assert kw["ssl_protocol"] in ("TLSv1_2", "TLSv1_3")
        assert _cipher_list_is_strong(kw.get("ssl_ciphers"))
    elif driver == "pyexasol":
        sslopt = kw["websocket_sslopt"]
        pinned = "fingerprint" in block
        if "context" in sslopt:
            ctx = sslopt["context"]
            assert _context_is_strong(ctx)
            if not pinned or block["ca"] != "system":
                assert ctx.verify_mode == ssl.CERT_REQUIRED
                assert ctx.check_hostname is (verify == "full")
        else:
            if not pinned or block["ca"] != "system":
                assert sslopt["cert_reqs"] == ssl.CERT_REQUIRED
                assert sslopt.get("check_hostname", True) is (verify == "full")
            assert _cipher_list_is_strong(sslopt.get("ciphers"))
        if pinned:
            assert f"/{PIN}" in kw["dsn"]  # the pin replaces or follows the chain check
    elif driver == "pymongo":
        assert "tlsAllowInvalidCertificates" not in kw and "tlsInsecure" not in kw
        assert ("tlsAllowInvalidHostnames" in kw) is (verify == "ca")
    else:
        assert driver == "crate"
        assert kw["verify_ssl_cert"] is True
        assert "ssl_relax_minimum_version" not in kw


@BUDGET
@given(
    driver=st.sampled_from(sorted(ENDPOINTS)),
    block=st.data(),
    allow_insecure=st.booleans(),
)
def test_random_tls_blocks_never_weaken_tls_unacknowledged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ca_file: str,
    driver: str,
    block: st.DataObject,
    allow_insecure: bool,
) -> None:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")  # every example rewrites the same file
    tls = block.draw(tls_blocks(ca_file), label="tls")
    profile: dict[str, Any] = {"driver": driver, **ENDPOINTS[driver], "tls": tls}
    if allow_insecure:
        profile["allow_insecure"] = True
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"p": profile}}), encoding="utf-8")
    try:
        kw = load_profile("p", config=str(path)).driver_kwargs()
    except ConnprofError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        assert "Traceback" not in message
        return
    if not allow_insecure:
        assert_no_weakening(driver, tls, kw)


@BUDGET
@given(
    ciphers=cipher_strings.filter(bool),  # the model refuses an empty string (min_length 1)
    low=st.sampled_from(VERSIONS),
    high=st.sampled_from([None, *VERSIONS]),
)
def test_the_cipher_judgement_matches_the_context_openssl_builds(
    ciphers: str, low: str, high: str | None
) -> None:
    if high is not None and ORDER[high] < ORDER[low]:
        high = None
    verdict = judge_ciphers(ciphers, low, high)
    for text in (verdict.problem, verdict.weakness):
        assert text is None or (text and "\n" not in text)
    if verdict.problem is not None:
        assert verdict.weakness is None
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(ciphers)  # a usable string compiles
    if ctx.security_level < DEFAULT_LEVEL:
        assert verdict.weakness is not None and "security level" in verdict.weakness
    if verdict.weakness is None:
        # At the default level OpenSSL itself keeps anonymous, NULL and export suites out.
        assert ctx.security_level >= DEFAULT_LEVEL
