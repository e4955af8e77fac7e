"""The public Python surface: names, the error tree, the Profile object, lazy imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

import connprof
import connprof._errors
from tests.helpers import write_file

PUBLIC = [
    "TLS",
    "Auth",
    "CertificateInfo",
    "Check",
    "Composed",
    "ConfigNotFound",
    "ConnectArgumentConflict",
    "ConnprofError",
    "Diagnostic",
    "DriverKwargs",
    "DriverNotInstalled",
    "DsnError",
    "ExasolDSN",
    "MongoURI",
    "PluginError",
    "Profile",
    "ProfileNotFound",
    "ProfileValidationError",
    "Report",
    "SecretBackendUnavailable",
    "SecretError",
    "SecretNotFound",
    "TLSFileError",
    "UnsupportedSetting",
    "UriError",
    "__version__",
    "compose",
    "doctor",
    "format_exasol_dsn",
    "format_mongodb_uri",
    "lint_paths",
    "list_profiles",
    "load_profile",
    "parse_exasol_dsn",
    "parse_mongodb_uri",
]

# The builtins each error must also be, as the contract (format section 6) names them.
ERROR_BASES = {
    "ConfigNotFound": (connprof.ConnprofError, FileNotFoundError),
    "ProfileNotFound": (connprof.ConnprofError, LookupError),
    "ProfileValidationError": (connprof.ConnprofError, ValueError),
    "UriError": (connprof.ConnprofError, ValueError),
    "DsnError": (connprof.ConnprofError, ValueError),
    "UnsupportedSetting": (connprof.ConnprofError, ValueError),
    "TLSFileError": (connprof.ConnprofError, ValueError),
    "PluginError": (connprof.ConnprofError, ImportError),
    "DriverNotInstalled": (connprof.ConnprofError, ImportError),
    "ConnectArgumentConflict": (connprof.ConnprofError, TypeError),
    "SecretError": (connprof.ConnprofError, RuntimeError),
    "SecretNotFound": (connprof.SecretError, RuntimeError, LookupError),
    "SecretBackendUnavailable": (connprof.SecretError, RuntimeError),
}


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then everything else.
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CONNPROF_NO_CACHE", "1")
    monkeypatch.setenv("API_TOKEN", "token-value-0b7d")
    path = write_file(
        tmp_path / "profiles.yaml",
        """
        profiles:
          prod:
            driver: cassandra
            hosts: [db1.example.com, db2.example.com]
            auth: {user: app, password: "keyring:", token: "env:API_TOKEN"}
            tls: {ca: certs/ca.pem, verify: full}
          staging:
            extends: prod
          alpha:
            driver: crate
            hosts: ["https://crate.example.com:4200"]
        """,
        dedent=True,
    )
    return str(path)


# -- the surface -------------------------------------------------------------------------------


def test_all_is_pinned_and_sorted() -> None:
    assert connprof.__all__ == PUBLIC
    assert connprof.__all__ == sorted(connprof.__all__, key=_isort_key)
    assert len(set(connprof.__all__)) == len(connprof.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from connprof import {name}", namespace)
    assert namespace[name] is getattr(connprof, name)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = connprof.load_profiles  # type: ignore[attr-defined]


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version

    assert connprof.__version__ == version("connprof")


# -- the error tree ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ERROR_BASES))
def test_error_tree(name: str) -> None:
    cls = getattr(connprof, name)
    assert issubclass(cls, connprof.ConnprofError)
    assert issubclass(cls, Exception)
    for base in ERROR_BASES[name]:
        assert issubclass(cls, base), (name, base)


def test_every_error_class_is_public() -> None:
    classes = {
        n
        for n, v in vars(connprof._errors).items()
        if isinstance(v, type)
        and issubclass(v, BaseException)
        and v.__module__ == "connprof._errors"
    }
    assert classes == set(connprof._errors.__all__)
    assert classes <= set(connprof.__all__)
    assert classes == {*ERROR_BASES, "ConnprofError"}


def _drawn_tree(doc: str) -> dict[str, tuple[str | None, str]]:
    """``{class: (parent drawn above it, its line)}`` from the tree in the docstring."""
    names = set(connprof._errors.__all__)
    drawn: dict[str, tuple[str | None, str]] = {}
    stack: list[tuple[int, str]] = []  # (column, name) of the open branches
    for line in doc.splitlines():
        match = re.search(r"[A-Za-z]+", line)
        if not match or match.group() not in names:
            continue
        column, name = match.start(), match.group()
        while stack and stack[-1][0] >= column:
            stack.pop()
        drawn[name] = (stack[-1][1] if stack else None, line)
        stack.append((column, name))
    return drawn


def test_errors_docstring_draws_every_class_with_its_bases() -> None:
    drawn = _drawn_tree(connprof._errors.__doc__ or "")
    for name in connprof._errors.__all__:
        cls = getattr(connprof._errors, name)
        assert name in drawn, f"{name} is not drawn in the connprof._errors docstring"
        parent, line = drawn[name]
        ours = [b.__name__ for b in cls.__bases__ if b.__module__ == "connprof._errors"]
        assert [parent] == (ours or [None]), (name, line)
        for builtin in (b for b in cls.__bases__ if b.__module__ == "builtins"):
            assert re.search(rf"\b{builtin.__name__}\b", line), (name, builtin, line)


def test_profile_validation_error_has_a_position(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("profiles:\n  prod:\n    driver: crate\n    hosts: [x]\n    colour: red\n")
    with pytest.raises(connprof.ProfileValidationError) as info:
        connprof.load_profile("prod", config=str(path))
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), 5, 5)
    assert str(err).startswith(f"{path}:5:5: ")
    assert "colour" in str(err)


# -- Profile -----------------------------------------------------------------------------------


def test_load_profile_returns_a_frozen_profile(cfg: str) -> None:
    p = connprof.load_profile("prod", config=cfg)
    assert isinstance(p, connprof.Profile)
    assert isinstance(p.tls, connprof.TLS)
    assert isinstance(p.auth, connprof.Auth)
    assert (p.name, p.driver, p.hosts, p.port) == (
        "prod",
        "cassandra",
        ("db1.example.com", "db2.example.com"),
        9042,
    )
    with pytest.raises(pydantic.ValidationError):
        p.driver = "crate"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        p.tls.verify = "none"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        p.auth.user = "root"  # type: ignore[misc]
    assert (p.driver, p.tls.verify, p.auth.user) == ("cassandra", "full", "app")


def test_assigning_a_secret_to_a_frozen_profile_does_not_echo_it(cfg: str) -> None:
    p = connprof.load_profile("prod", config=cfg)
    with pytest.raises(pydantic.ValidationError) as info:
        p.auth.password = "hunter2-plaintext"  # type: ignore[misc]
    assert "hunter2" not in str(info.value)
    with pytest.raises(pydantic.ValidationError) as info:
        p.tls.client_key_password = "hunter2-plaintext"  # type: ignore[misc]
    assert "hunter2" not in str(info.value)


def test_redacted_shows_references_not_values(cfg: str) -> None:
    p = connprof.load_profile("prod", config=cfg)
    data = p.redacted()
    assert data["auth"] == {"user": "app", "password": "keyring:", "token": "env:API_TOKEN"}
    assert data["name"] == "prod"
    assert data["tls"]["ca"] == str(Path(cfg).parent / "certs" / "ca.pem")
    assert "token-value" not in repr(data)
    assert "token-value" not in repr(p)
    assert "token-value" not in str(p)
    # It is plain data: a copy, and JSON-ready.
    data["driver"] = "crate"
    assert p.driver == "cassandra"
    import json

    assert json.loads(json.dumps(data))["auth"]["token"] == "env:API_TOKEN"


def test_provenance(cfg: str) -> None:
    p = connprof.load_profile("staging", config=cfg)
    prov = p.provenance
    assert prov["driver"] == f"{cfg}:3:5 (extends: prod)"
    assert prov["extends"] == f"{cfg}:8:5"
    assert prov["tls.verify"] == f"{cfg}:6:29 (extends: prod)"
    assert prov["tls.min_version"] == "built-in default"
    prov["driver"] = "tampered"
    assert p.provenance["driver"] == f"{cfg}:3:5 (extends: prod)"


def test_list_profiles_is_sorted_and_merged(cfg: str, tmp_path: Path) -> None:
    assert connprof.list_profiles(config=cfg) == ["alpha", "prod", "staging"]
    other = tmp_path / "other.yaml"
    other.write_text("profiles:\n  beta: {driver: crate, hosts: [x]}\n  prod: {database: d}\n")
    assert connprof.list_profiles(config=[str(other), cfg]) == ["alpha", "beta", "prod", "staging"]


def test_list_profiles_without_files_is_empty() -> None:
    assert connprof.list_profiles() == []


# -- lazy imports ------------------------------------------------------------------------------


def _modules_after(code: str) -> list[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.split()


def test_import_connprof_does_not_import_pydantic() -> None:
    modules = _modules_after("import connprof\nconnprof.ConnprofError, connprof.__version__")
    assert "connprof" in modules
    assert not [m for m in modules if m.split(".")[0] in ("pydantic", "pydantic_core")]
    assert not [m for m in modules if m.split(".")[0] == "keyring"]


def test_touching_load_profile_imports_pydantic() -> None:
    # The other side of the lazy import: the probe above can see pydantic when it is there.
    modules = _modules_after("import connprof\nconnprof.load_profile")
    assert "pydantic" in modules
