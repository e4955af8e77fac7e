"""``build_ssl_context``: the one SSLContext factory, checked by real handshakes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connprof._errors import TLSFileError
from connprof._models import TLS, FieldProblem
from connprof._tls import build_ssl_context, describe_tls
from tests.helpers import KEY_PASSWORD, SAMPLES, Certs, SayOK


@pytest.fixture
def serve(certs: Certs) -> Iterator[Callable[..., SayOK]]:
    """``serve(mismatch=..., require_client_cert=...)``: a loopback server, stopped at the end."""
    with contextlib.ExitStack() as stack:

        def start(**kwargs: bool) -> SayOK:
            return stack.enter_context(SayOK(certs.server_context(**kwargs)))

        yield start


def connect(ctx: ssl.SSLContext, port: int, name: str = "localhost") -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        return tls.recv(2)


def tls(**kwargs: Any) -> TLS:
    return TLS.model_validate({k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()})


def test_defaults_are_secure() -> None:
    ctx = build_ssl_context(tls())
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.hostname_checks_common_name is False


def test_right_ca_completes_the_handshake(certs: Certs, serve: Any) -> None:
    server = serve()
    assert connect(build_ssl_context(tls(ca=certs.ca)), server.port) == b"ok"


@pytest.mark.parametrize("verify", ["full", "ca"])
def test_an_unrelated_ca_fails(certs: Certs, serve: Any, verify: str) -> None:
    server = serve()
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(build_ssl_context(tls(ca=certs.other_ca, verify=verify)), server.port)


def test_the_system_store_does_not_know_a_private_ca(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    server = serve()
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(build_ssl_context(tls()), server.port)


def test_hostname_mismatch_fails_under_full_and_passes_under_ca(certs: Certs, serve: Any) -> None:
    server = serve(mismatch=True)
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        connect(build_ssl_context(tls(ca=certs.ca)), server.port)
    assert connect(build_ssl_context(tls(ca=certs.ca, verify="ca")), server.port) == b"ok"


def test_verify_none_accepts_an_unknown_server(certs: Certs, serve: Any) -> None:
    server = serve(mismatch=True)
    ctx = build_ssl_context(tls(ca=certs.other_ca, verify="none"))
    assert ctx.verify_mode == ssl.CERT_NONE
    assert connect(ctx, server.port) == b"ok"


def test_server_name_is_what_gets_checked(certs: Certs, serve: Any) -> None:
    server = serve(mismatch=True)
    ctx = build_ssl_context(tls(ca=certs.ca))
    assert connect(ctx, server.port, name="wrong.example.com") == b"ok"


@pytest.mark.parametrize(
    ("cert", "key", "password"),
    [
        ("client_cert", "client_key", None),
        ("client_combined", None, None),
        ("client_cert", "client_key_encrypted", KEY_PASSWORD),
        ("client_combined_encrypted", None, KEY_PASSWORD),
    ],
)
def test_client_certificate_passes_mutual_tls(
    certs: Certs, serve: Any, cert: str, key: str | None, password: str | None
) -> None:
    server = serve(require_client_cert=True)
    block = tls(
        ca=certs.ca,
        client_cert=getattr(certs, cert),
        **({"client_key": getattr(certs, key)} if key else {}),
    )
    assert connect(build_ssl_context(block, key_password=password), server.port) == b"ok"


def test_without_a_client_certificate_mutual_tls_fails(certs: Certs, serve: Any) -> None:
    server = serve(require_client_cert=True)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        # TLS 1.3 reports the server's refusal on the first read.
        connect(build_ssl_context(tls(ca=certs.ca)), server.port)


def test_an_encrypted_key_without_a_password_is_an_error_not_a_prompt(certs: Certs) -> None:
    block = tls(ca=certs.ca, client_cert=certs.client_cert, client_key=certs.client_key_encrypted)
    with pytest.raises(TLSFileError, match=r"encrypted.*client_key_password.*secret set"):
        build_ssl_context(block)


def test_a_wrong_key_password_is_named(certs: Certs) -> None:
    block = tls(ca=certs.ca, client_cert=certs.client_cert, client_key=certs.client_key_encrypted)
    with pytest.raises(TLSFileError, match="password") as info:
        build_ssl_context(block, key_password="not-the-password")
    assert "not-the-password" not in str(info.value)


def test_a_key_that_does_not_belong_to_the_certificate(certs: Certs, tmp_path: Path) -> None:
    import trustme

    other = trustme.CA().issue_cert("client@example.com")
    stray = tmp_path / "stray.key"
    other.private_key_pem.write_to_path(str(stray))
    block = tls(ca=certs.ca, client_cert=certs.client_cert, client_key=stray)
    with pytest.raises(TLSFileError, match="does not belong"):
        build_ssl_context(block)


@pytest.mark.parametrize("field", ["ca", "crl", "client_cert"])
def test_a_missing_file_names_the_field_and_the_path(tmp_path: Path, field: str) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(TLSFileError, match=rf"tls\.{field}: no file .*nope\.pem"):
        build_ssl_context(tls(**{field: missing}))


def test_a_file_that_is_not_pem(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(TLSFileError, match=r"tls\.ca .*PEM"):
        build_ssl_context(tls(ca=junk))


def test_crl_turns_on_leaf_revocation_checks(certs: Certs, tmp_path: Path) -> None:
    crl = SAMPLES / "certs" / "crl.pem"
    ctx = build_ssl_context(tls(ca=certs.ca, crl=crl))
    assert ctx.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF


def test_versions_and_ciphers() -> None:
    ctx = build_ssl_context(tls(min_version="1.3"))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    ctx = build_ssl_context(tls(min_version="1.2", max_version="1.2", ciphers="ECDHE+AESGCM"))
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_2
    assert {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"} <= {
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    }  # fmt: skip


def one_line_problem(**block: Any) -> str:
    """The validation message for a TLS block that must be refused (one line, with its fix)."""
    with pytest.raises(FieldProblem) as refused:
        tls(**block)
    assert refused.value.path == ("tls", "ciphers")
    assert "\n" not in refused.value.message and "; " in refused.value.message
    return refused.value.message


def test_a_cipher_string_openssl_does_not_know_is_refused_when_the_profile_loads() -> None:
    # Every driver: hazelcast and pyexasol, which pass the string on, too.
    assert "selects no cipher OpenSSL knows" in one_line_problem(ciphers="NO-SUCH-CIPHER")
    assert "selects no cipher" in one_line_problem(ciphers="AES\x00")


def test_ciphers_under_min_version_1_3_would_do_nothing_and_are_refused() -> None:
    # Python applies set_ciphers to TLS 1.2 and older only: under a 1.3 floor it was silent.
    message = one_line_problem(min_version="1.3", ciphers="ECDHE+AESGCM")
    assert 'min_version "1.3" allows none of them' in message
    assert "remove ciphers" in message


@pytest.mark.parametrize(
    "ciphers", ["TLS_AES_256_GCM_SHA384", "ECDHE+AESGCM:TLS_AES_128_GCM_SHA256"]
)
def test_a_tls_1_3_suite_name_says_what_it_is(ciphers: str) -> None:
    message = one_line_problem(ciphers=ciphers)
    assert "is a TLS 1.3 suite" in message
    assert "selects no cipher OpenSSL knows" not in message


@pytest.mark.parametrize(
    ("ciphers", "says"),
    [
        ("aNULL:@SECLEVEL=0", "anonymous suites that skip server authentication"),
        ("eNULL:@SECLEVEL=0", "suites without encryption"),
        ("ALL:@SECLEVEL=0", "security level 0"),
        ("DEFAULT:@SECLEVEL=1", "security level 1"),
    ],
)
def test_weak_cipher_strings_are_a_weakening_judged_on_the_context(ciphers: str, says: str) -> None:
    block = tls(ciphers=ciphers)
    weak = block.weakening
    assert weak is not None
    assert weak[0] == ("tls", "ciphers") and says in weak[1]


@pytest.mark.parametrize("ciphers", ["HIGH", "DEFAULT", "ECDHE+AESGCM", "DEFAULT:@SECLEVEL=3"])
def test_strong_cipher_strings_are_no_weakening(ciphers: str) -> None:
    # HIGH's list names anonymous suites, yet at the default security level OpenSSL never
    # offers them: the text alone would be a false alarm.
    assert tls(ciphers=ciphers).weakening is None
    assert any(
        c["auth"] == "auth-null" for c in build_ssl_context(tls(ciphers="HIGH")).get_ciphers()
    )


def test_max_version_is_enforced_in_a_handshake(certs: Certs, serve: Any) -> None:
    server = serve()
    server.context.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError):
        connect(build_ssl_context(tls(ca=certs.ca, max_version="1.2")), server.port)


def test_describe_reads_no_file_and_shows_references() -> None:
    block = tls(ca="/nowhere/ca.pem", client_cert="/nowhere/c.pem", verify="ca")
    shown = describe_tls(block, key_password="keyring:")
    assert shown["ca"] == "/nowhere/ca.pem"
    assert shown["client_key_password"] == "keyring:"
    assert "check_hostname=False" in str(shown["verify"])


def test_profile_ssl_context_resolves_the_key_password_and_passes_mutual_tls(
    certs: Certs, serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connprof

    monkeypatch.setenv("CLIENT_KEY_PASS", KEY_PASSWORD)
    path = tmp_path / "p.yaml"
    path.write_text(
        "profiles:\n  p:\n    driver: cassandra\n    hosts: [127.0.0.1]\n"
        f"    tls: {{ca: {certs.ca}, client_cert: {certs.client_cert},"
        f' client_key: {certs.client_key_encrypted}, client_key_password: "env:CLIENT_KEY_PASS"}}\n'
    )
    ctx = connprof.load_profile("p", config=str(path)).ssl_context()
    server = serve(require_client_cert=True)
    assert connect(ctx, server.port) == b"ok"


def test_profile_ssl_context_with_tls_off_says_so(tmp_path: Path) -> None:
    import connprof
    from connprof._errors import UnsupportedSetting

    path = tmp_path / "p.yaml"
    path.write_text("profiles:\n  p:\n    driver: cassandra\n    hosts: [127.0.0.1]\n")
    with pytest.raises(UnsupportedSetting, match="TLS is off in profile 'p'"):
        connprof.load_profile("p", config=str(path)).ssl_context()


def test_a_huge_cipher_string_is_not_echoed_whole() -> None:
    message = one_line_problem(ciphers="X" * 100_000)
    assert len(message) < 300
