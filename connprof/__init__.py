"""connprof: declarative database connection profiles, one TLS model, secrets by reference.

The public API is re-exported here. Names that need pydantic are imported on first use, so
``connprof show`` and ``connprof lint`` start without paying for what they do not touch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    ConfigNotFound,
    ConnectArgumentConflict,
    ConnprofError,
    DriverNotInstalled,
    DsnError,
    PluginError,
    ProfileNotFound,
    ProfileValidationError,
    SecretBackendUnavailable,
    SecretError,
    SecretNotFound,
    TLSFileError,
    UnsupportedSetting,
    UriError,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._api import list_profiles, load_profile
    from ._compose import Composed, compose
    from ._doctor import CertificateInfo, Check, Report, doctor
    from ._lint import Diagnostic, lint_paths
    from ._models import TLS, Auth, Profile
    from ._uri.exasol import ExasolDSN, format_exasol_dsn, parse_exasol_dsn
    from ._uri.mongodb import MongoURI, format_mongodb_uri, parse_mongodb_uri
    from .drivers import DriverKwargs


__all__ = [
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

_LAZY = {
    "compose": "_compose",
    "Composed": "_compose",
    "doctor": "_doctor",
    "Report": "_doctor",
    "Check": "_doctor",
    "CertificateInfo": "_doctor",
    "Diagnostic": "_lint",
    "DriverKwargs": "drivers",
    "load_profile": "_api",
    "list_profiles": "_api",
    "lint_paths": "_lint",
    "Profile": "_models",
    "TLS": "_models",
    "Auth": "_models",
    "ExasolDSN": "_uri.exasol",
    "format_exasol_dsn": "_uri.exasol",
    "parse_exasol_dsn": "_uri.exasol",
    "MongoURI": "_uri.mongodb",
    "format_mongodb_uri": "_uri.mongodb",
    "parse_mongodb_uri": "_uri.mongodb",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'connprof' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
