"""``driver_kwargs()`` hands a driver only TLS files that are there: a readable regular file,
else ``TLSFileError`` naming the profile, the field and the path (the driver's own error was a
bare ``FileNotFoundError``, or a hang on a FIFO). An encrypted key without a password gets the
fix that works for its driver, with the real profile name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connprof import TLSFileError, load_profile
from tests.helpers import DRIVERS, Certs, write_profiles

ENDPOINTS: dict[str, dict[str, Any]] = {
    "cassandra": {"hosts": ["10.0.0.1"]},
    "crate": {"hosts": ["https://crate.example.com:4200"]},
    "hazelcast": {"hosts": ["hz1.example.com"]},
    "pyexasol": {"dsn": "exa1.example.com"},
    "pymongo": {"hosts": ["db1.example.com"]},
}


def kwargs_of(folder: Path, driver: str, tls: dict[str, Any], name: str = "orders-db") -> Any:
    path = write_profiles(
        folder / "p.yaml", {name: {"driver": driver, **ENDPOINTS[driver], "tls": tls}}
    )
    return load_profile(name, config=str(path)).driver_kwargs()


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_missing_ca_is_a_tls_file_error_not_the_drivers_file_not_found(
    tmp_path: Path, driver: str
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    with pytest.raises(TLSFileError) as refused:
        kwargs_of(tmp_path, driver, {"ca": missing})
    error = refused.value
    assert (error.profile, error.field, error.path) == ("orders-db", "tls.ca", missing)
    assert str(error) == (
        f"profile 'orders-db': tls.ca: no file {missing}; fix the path in the profile"
    )
    assert not isinstance(error, FileNotFoundError)


@pytest.mark.parametrize("field", ["crl", "client_cert"])
def test_every_file_handed_over_is_checked(tmp_path: Path, certs: Certs, field: str) -> None:
    # pymongo opens tlsCRLFile and tlsCertificateKeyFile itself.
    missing = str(tmp_path / "gone.pem")
    tls = {"ca": str(certs.ca), field: missing}
    if field == "client_cert":
        tls["client_key_password"] = "env:NOT_NEEDED"  # with a password the key is not read
    with pytest.raises(TLSFileError) as refused:
        kwargs_of(tmp_path, "pymongo", tls)
    assert (refused.value.field, refused.value.path) == (f"tls.{field}", missing)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_fifo_as_ca_is_refused_at_once_instead_of_hanging(tmp_path: Path, driver: str) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    # In a child process with a deadline: a regression would block in open() forever.
    code = (
        "import sys\n"
        "from connprof import TLSFileError, load_profile\n"
        "try:\n"
        f"    load_profile('orders-db', config={str(tmp_path / 'p.yaml')!r}).driver_kwargs()\n"
        "except TLSFileError as e:\n"
        "    print(e)\n"
    )
    write_profiles(
        tmp_path / "p.yaml",
        {"orders-db": {"driver": driver, **ENDPOINTS[driver], "tls": {"ca": str(fifo)}}},
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == (
        f"profile 'orders-db': tls.ca: cannot read {fifo} (a FIFO (named pipe), not a regular "
        "file); give the path of a PEM file\n"
    )


def test_a_directory_as_ca_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TLSFileError, match="a directory, not a regular file"):
        kwargs_of(tmp_path, "hazelcast", {"ca": str(tmp_path)})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_ca_says_so(tmp_path: Path, certs: Certs) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(certs.ca.read_bytes())
    ca.chmod(0)
    with pytest.raises(TLSFileError, match="not readable by this user"):
        kwargs_of(tmp_path, "pyexasol", {"ca": str(ca)})


@pytest.mark.parametrize("driver", ["cassandra", "hazelcast", "pyexasol"])
def test_an_encrypted_key_without_password_names_the_profile_in_the_fix(
    tmp_path: Path, certs: Certs, driver: str
) -> None:
    tls = {"ca": str(certs.ca), "client_cert": str(certs.client_cert),
           "client_key": str(certs.client_key_encrypted)}  # fmt: skip
    with pytest.raises(TLSFileError) as refused:
        kwargs_of(tmp_path, driver, tls)
    message = str(refused.value)
    assert "`connprof secret set orders-db client_key_password`" in message
    assert "PROFILE" not in message
    assert refused.value.field == "tls.client_key"


@pytest.mark.parametrize("form", ["cert-and-key", "combined"])
def test_crate_with_an_encrypted_key_says_to_decrypt_it(
    tmp_path: Path, certs: Certs, form: str
) -> None:
    # crate has no key-password option: client_key_password would be refused (CP030).
    if form == "combined":
        tls = {"client_cert": str(certs.client_combined_encrypted)}
        field, path = "tls.client_cert", str(certs.client_combined_encrypted)
    else:
        tls = {"client_cert": str(certs.client_cert), "client_key": str(certs.client_key_encrypted)}
        field, path = "tls.client_key", str(certs.client_key_encrypted)
    with pytest.raises(TLSFileError) as refused:
        kwargs_of(tmp_path, "crate", {"ca": str(certs.ca), **tls})
    message = str(refused.value)
    assert message.startswith(f"profile 'orders-db': {field}: the private key is encrypted")
    assert "this driver takes no key password" in message
    assert f"openssl pkey -in {path} -out client.key" in message
    assert "client_key_password" not in message and "secret set" not in message
    assert "\n" not in message
