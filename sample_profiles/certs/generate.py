"""Regenerate the throw-away certificates the sample profiles point at.

Run from anywhere: ``python sample_profiles/certs/generate.py`` (needs ``trustme`` and
``cryptography``: ``pip install trustme``). Every file in this folder except this script and
README.md is overwritten. The material is for examples and tests only; never use it for real.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

HERE = Path(__file__).resolve().parent
KEY_PASSWORD = b"sample-only"
# Names the sample profiles use, plus loopback for local test servers.
SERVER_NAMES = ("localhost", "127.0.0.1", "::1", "*.example.com", "*.example.internal",
                "cassandra.internal")  # fmt: skip


def write(name: str, data: bytes, *, private: bool = False) -> None:
    path = HERE / name
    path.write_bytes(data)
    # Keys readable by the owner only, as a key file should be (git keeps only the x bit).
    os.chmod(path, 0o600 if private else 0o644)


def main() -> None:
    ca = trustme.CA(organization_name="connprof sample CA (throw-away)")
    write("ca.pem", ca.cert_pem.bytes())

    server = ca.issue_cert(*SERVER_NAMES)
    write("server.pem", b"".join(blob.bytes() for blob in server.cert_chain_pems))
    write("server.key", server.private_key_pem.bytes(), private=True)

    client = ca.issue_cert("client@example.com")
    cert = b"".join(blob.bytes() for blob in client.cert_chain_pems)
    key = client.private_key_pem.bytes()
    write("client.crt", cert)
    write("client.key", key, private=True)
    # pymongo wants certificate and key in one file (tlsCertificateKeyFile).
    write("client.pem", key + cert, private=True)

    private_key = serialization.load_pem_private_key(key, password=None)
    encrypted = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD),
    )
    write("client-encrypted.key", encrypted, private=True)
    write("client-encrypted.pem", encrypted + cert, private=True)
    # The passphrase itself, for the file: secret reference examples.
    write("client-key-password.txt", KEY_PASSWORD + b"\n", private=True)

    # An empty CRL signed by the CA: nothing revoked, valid for ten years.
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    now = datetime.datetime.now(datetime.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + datetime.timedelta(days=3650))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    write("crl.pem", crl.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main()
