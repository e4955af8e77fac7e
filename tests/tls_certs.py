"""Certificates for the loopback TLS servers the driver tests start: all made by ``trustme``."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

KEY_PASSWORD = "s3cret-key-pass"


@dataclass(frozen=True)
class Certs:
    """Paths of PEM files, plus the CAs to build server contexts from."""

    ca: Path  # the CA that signed every server and client certificate below
    other_ca: Path  # an unrelated CA: trusting only it must fail
    server_cert: Path  # chain + key for localhost, 127.0.0.1, ::1
    mismatch_cert: Path  # chain + key for wrong.example.com only (same CA)
    client_cert: Path  # client certificate alone
    client_key: Path  # its key, unencrypted
    client_combined: Path  # key + certificate in one file (pymongo's tlsCertificateKeyFile)
    client_key_encrypted: Path  # the same key, encrypted with KEY_PASSWORD
    client_combined_encrypted: Path  # encrypted key + certificate in one file
    _ca: trustme.CA

    def server_context(
        self, *, mismatch: bool = False, require_client_cert: bool = False
    ) -> ssl.SSLContext:
        """A server context with the good (or the mismatching) certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.mismatch_cert if mismatch else self.server_cert)
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca)
        return ctx


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    d = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    other = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1", "::1")
    mismatch = ca.issue_cert("wrong.example.com")
    client = ca.issue_cert("client@example.com")

    def write(name: str, data: bytes) -> Path:
        path = d / name
        path.write_bytes(data)
        path.chmod(0o600)
        return path

    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    other.cert_pem.write_to_path(str(d / "other-ca.pem"))
    server.private_key_and_cert_chain_pem.write_to_path(str(d / "server.pem"))
    mismatch.private_key_and_cert_chain_pem.write_to_path(str(d / "mismatch.pem"))
    cert_pem = b"".join(blob.bytes() for blob in client.cert_chain_pems)
    key_pem = client.private_key_pem.bytes()
    key = serialization.load_pem_private_key(key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
    )
    return Certs(
        ca=d / "ca.pem",
        other_ca=d / "other-ca.pem",
        server_cert=d / "server.pem",
        mismatch_cert=d / "mismatch.pem",
        client_cert=write("client.crt", cert_pem),
        client_key=write("client.key", key_pem),
        client_combined=write("client.pem", key_pem + cert_pem),
        client_key_encrypted=write("client-enc.key", encrypted),
        client_combined_encrypted=write("client-enc.pem", encrypted + cert_pem),
        _ca=ca,
    )
