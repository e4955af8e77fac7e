"""Write the certificates and keys the --check-files examples use (run once; the output is kept).

    python tests/lint/examples/make_certs.py

Throw-away material for tests only: every key here is public.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert(
    key: ec.EllipticCurvePrivateKey,
    name: str,
    start: dt.datetime,
    end: dt.datetime,
    dns: list[str] | None = None,
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def write(path: str, data: bytes) -> None:
    target = HERE / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def main() -> None:
    utc = dt.UTC
    past, now_ish, future = (
        dt.datetime(2019, 1, 1, tzinfo=utc),
        dt.datetime(2024, 1, 1, tzinfo=utc),
        dt.datetime(2090, 1, 1, tzinfo=utc),
    )
    far = dt.datetime(2099, 1, 1, tzinfo=utc)
    key, other = _key(), _key()
    write(
        "CP042/bad/certs/expired.pem",
        _cert(key, "expired", past, dt.datetime(2020, 1, 1, tzinfo=utc)),
    )
    write("CP042/bad/certs/future.pem", _cert(key, "future", future, far))
    write("CP042/good/certs/valid.pem", _cert(key, "valid", now_ish, far))
    write("CP043/bad/certs/client.pem", _cert(key, "client", now_ish, far))
    write("CP043/bad/certs/other.key", _pem_key(other))
    write("CP043/good/certs/client.pem", _cert(key, "client", now_ish, far))
    write("CP043/good/certs/client.key", _pem_key(key))
    write("CP044/bad/certs/server.pem", _cert(key, "db", now_ish, far, ["db.example.com"]))
    write("CP044/good/certs/server.pem", _cert(key, "db", now_ish, far, ["*.example.com"]))
    write("CP045/bad/certs/client.pem", _cert(key, "client", now_ish, far))
    write("CP045/bad/certs/client.key", _pem_key(key))
    write("CP045/good/certs/client.pem", _cert(key, "client", now_ish, far))
    write("CP045/good/certs/client.key", _pem_key(key))


if __name__ == "__main__":
    main()
