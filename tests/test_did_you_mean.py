"""A misspelt secret reference or a field named as another library names it gets a did-you-mean,
never the misleading "plaintext secret" (and never an echo of the value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connprof import ProfileValidationError, load_profile
from connprof._lint import lint_paths
from tests.helpers import write_profiles


def refused(tmp_path: Path, **fields: object) -> str:
    path = write_profiles(
        tmp_path / "p.yaml", {"p": {"driver": "pymongo", "hosts": ["db1"], **fields}}
    )
    with pytest.raises(ProfileValidationError) as error:
        load_profile("p", config=str(path))
    return str(error.value)


@pytest.mark.parametrize(
    ("reference", "meant"),
    [("evn:DB_PASSWORD", "env"), ("KEYRING:", "keyring"), ("Env:X", "env"),
     ("fiel:/run/pw", "file"), ("keyrng:", "keyring")],
)  # fmt: skip
def test_a_misspelt_reference_kind_gets_a_did_you_mean(
    tmp_path: Path, reference: str, meant: str
) -> None:
    message = refused(tmp_path, auth={"user": "app", "password": reference})
    assert f"did you mean '{meant}:'?" in message
    assert "plaintext" not in message and "holds a reference, not the secret" not in message
    target = reference.partition(":")[2]
    assert not target or target not in message  # what follows the colon is never repeated
    found = lint_paths([tmp_path / "p.yaml"])
    codes = {d.code for d in found}
    assert "CP001" in codes and "CP002" not in codes, [d.format() for d in found]


@pytest.mark.parametrize("text", ["hunter2:x", "s3cr3t:pass:word", "http://x"])
def test_a_plaintext_secret_with_a_colon_is_still_called_one(tmp_path: Path, text: str) -> None:
    message = refused(tmp_path, auth={"user": "app", "password": text})
    assert "holds a reference, not the secret" in message
    assert text not in message


@pytest.mark.parametrize(
    ("block", "key", "meant"),
    [("tls", "ca_file", "ca"), ("tls", "tlsCAFile", "ca"), ("tls", "certfile", "client_cert"),
     ("tls", "check_hostname", "verify"), ("auth", "username", "user"), (None, "host", "hosts")],
)  # fmt: skip
def test_a_field_named_as_another_library_names_it(
    tmp_path: Path, block: str | None, key: str, meant: str
) -> None:
    fields: dict[str, object] = {block: {key: "x"}} if block else {key: "x"}
    if block == "tls":
        fields["tls"] = {"enabled": True, key: "x"}
    message = refused(tmp_path, **fields)
    assert f"unknown key '{key}'" in message
    assert f"did you mean '{meant}'?" in message
