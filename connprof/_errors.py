"""Every exception connprof raises, in one tree.

::

    ConnprofError                     (Exception)
    ├── ConfigNotFound                (+ FileNotFoundError)  a --config file is missing
    ├── ProfileNotFound               (+ LookupError)        no profile of that name
    ├── ProfileValidationError        (+ ValueError)         .path .line .column
    ├── UriError                      (+ ValueError)         a bad MongoDB URI
    ├── DsnError                      (+ ValueError)         a bad Exasol DSN
    ├── SecretError                   (+ RuntimeError)       a reference did not resolve
    │   ├── SecretNotFound            (+ LookupError)        nothing behind the reference
    │   └── SecretBackendUnavailable                         no usable or unlocked keyring
    ├── UnsupportedSetting            (+ ValueError)         a driver cannot express a setting
    ├── TLSFileError                  (+ ValueError)         a CA, cert, key or CRL is unusable
    ├── PluginError                   (+ ImportError)        a driver or secret-source plugin failed
    ├── DriverNotInstalled            (+ ImportError)        connect(): no driver package
    └── ConnectArgumentConflict       (+ TypeError)          connect(): an extra names a profile key

No message built here, nor any ``repr``, carries a secret value: callers pass references,
field names and positions, never resolved values.
"""

from __future__ import annotations

from ._redact import printable

__all__ = [
    "ConfigNotFound",
    "ConnectArgumentConflict",
    "ConnprofError",
    "DriverNotInstalled",
    "DsnError",
    "PluginError",
    "ProfileNotFound",
    "ProfileValidationError",
    "SecretBackendUnavailable",
    "SecretError",
    "SecretNotFound",
    "TLSFileError",
    "UnsupportedSetting",
    "UriError",
]


class ConnprofError(Exception):
    """The root of every error connprof raises on purpose.

    ``str()`` is one line: a control character or line break the message echoes (a name, a
    value, a path from a file) is written as an escape (``\\n``, ``\\x01``).
    """

    def __str__(self) -> str:
        return printable(super().__str__())


class ConfigNotFound(ConnprofError, FileNotFoundError):
    """A configuration file named with ``--config`` or ``CONNPROF_CONFIG`` does not exist."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return printable(str(self.args[0]))


class ProfileNotFound(ConnprofError, LookupError):
    """No loaded file defines a profile of that name."""

    def __str__(self) -> str:
        # LookupError (via KeyError-like formatting) would otherwise quote the message.
        return printable(str(self.args[0])) if self.args else ""


class ProfileValidationError(ConnprofError, ValueError):
    """A profile file or a profile is invalid; points at ``path:line:column``.

    ``str()`` is one line: ``path:line:col: what is wrong; what to do``. Several problems found
    at once are kept in ``.problems`` (each a ``ProfileValidationError``) and counted in the text.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        problems: tuple[ProfileValidationError, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.problems: tuple[ProfileValidationError, ...] = problems or (self,)

    @property
    def location(self) -> str:
        """``path:line:col`` (as much of it as is known), or an empty string."""
        if self.path is None:
            return ""
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        text = printable(text)  # one line, whatever the file said
        more = len(self.problems) - 1
        if more > 0:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        return text

    def __repr__(self) -> str:
        return f"ProfileValidationError({str(self)!r})"


class UriError(ConnprofError, ValueError):
    """A MongoDB connection string that the specification rejects."""


class DsnError(ConnprofError, ValueError):
    """An Exasol DSN that cannot be parsed."""


class SecretError(ConnprofError, RuntimeError):
    """A secret reference could not be resolved."""


class SecretNotFound(SecretError, LookupError):
    """The reference points at nothing: no keyring entry, unset variable, missing file."""

    def __str__(self) -> str:
        return printable(str(self.args[0])) if self.args else ""


class SecretBackendUnavailable(SecretError):
    """The secret store cannot be used here: no keyring backend, or it is locked."""


class UnsupportedSetting(ConnprofError, ValueError):
    """The profile's driver cannot express a setting; nothing is dropped or weakened silently.

    ``driver`` names the driver and ``setting`` the dotted profile key (``tls.client_key``),
    so lint can point at the line that holds it.
    """

    def __init__(self, driver: str, setting: str, message: str) -> None:
        super().__init__(f"driver {driver} cannot express {setting}: {message}")
        self.driver = driver
        self.setting = setting


class TLSFileError(ConnprofError, ValueError):
    """A CA bundle, certificate, key or CRL cannot be used (missing, unreadable, wrong password).

    ``profile``, ``field`` (``tls.ca`` ...) and ``path`` say which file, when it is one file.
    """

    def __init__(
        self,
        message: str,
        *,
        profile: str | None = None,
        field: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.profile = profile
        self.field = field
        self.path = path


class PluginError(ConnprofError, ImportError):
    """A plugin (entry point ``connprof.drivers`` or ``connprof.secret_sources``) failed to load.

    A plugin that cannot load is an error, never a log line: the profile that needs it would
    otherwise fail later with a less honest message.
    """


class DriverNotInstalled(ConnprofError, ImportError):
    """``Profile.connect()`` needs the profile's driver package, and it is not installed.

    ``driver`` names the driver and ``extra`` the pip extra that installs it.
    """

    def __init__(self, message: str, *, driver: str, extra: str | None) -> None:
        super().__init__(message)
        self.driver = driver
        self.extra = extra


class ConnectArgumentConflict(ConnprofError, TypeError):
    """A keyword argument given to ``Profile.connect(**extra)`` is one the profile already sets.

    Refused instead of overridden: a silent override could turn verification off. ``names``
    holds the keys.
    """

    def __init__(self, message: str, *, names: tuple[str, ...]) -> None:
        super().__init__(message)
        self.names = names
