"""The ``keyring:`` source: the OS keyring through the ``keyring`` package.

``keyring:`` alone means service ``connprof``, user ``PROFILE/LEAF`` (``prod/password``);
``keyring:SERVICE/USERNAME`` names an entry, split at the first ``/``. ``keyring`` is imported
only here, and only when a reference is resolved, stored or deleted: ``show`` and ``lint`` never
load it and never touch a backend.

The backend is chosen the way ``keyring`` chooses it (``PYTHON_KEYRING_BACKEND``, then
``keyringrc.cfg``, then the best viable backend), but at every call rather than once per
process, so a change of environment takes effect at once. keyring's ``fail`` and ``null``
backends, and a chainer with nothing behind it, mean "no keyring here".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import SecretBackendUnavailable, SecretError, SecretNotFound
from ._source import leaf, where

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["DEFAULT_SERVICE", "KeyringSource", "entry"]

DEFAULT_SERVICE = "connprof"

_NO_KEYRING = "use env:NAME or file:PATH references on CI machines and in containers"


def entry(target: str, *, profile: str, field: str) -> tuple[str, str]:
    """``(service, username)`` of the keyring entry a reference's target names."""
    if not target:
        return DEFAULT_SERVICE, f"{profile}/{leaf(field)}"
    service, _, username = target.partition("/")
    return service, username


def _describe(target: str, profile: str, field: str) -> str:
    service, username = entry(target, profile=profile, field=field)
    return f"service {service}, user {username}"


def _backend(at: str) -> KeyringBackend:
    # deferred: keyring is slow to import, and show and lint must never load it
    import keyring.backend
    import keyring.core
    from keyring.backends import chainer, fail, null

    try:
        chosen = (
            keyring.core.load_env()
            or keyring.core.load_config()
            or max(keyring.backend.get_all_keyring(), key=keyring.backend.by_priority, default=None)
        )
    except (ImportError, AttributeError):
        # keyring imports the class PYTHON_KEYRING_BACKEND names; a typo there is an import error.
        raise SecretBackendUnavailable(
            f"{at}: the keyring backend named by PYTHON_KEYRING_BACKEND or keyringrc.cfg cannot "
            f"be loaded; fix or unset it, or {_NO_KEYRING}"
        ) from None
    except RuntimeError as exc:
        # A named backend that is not viable here, e.g. SecretService without a D-Bus session.
        raise SecretBackendUnavailable(
            f"{at}: the configured keyring backend is not usable here ({exc}); {_NO_KEYRING}"
        ) from None

    def usable(b: Any) -> bool:
        if isinstance(b, chainer.ChainerBackend):
            return any(usable(inner) for inner in b.backends)
        return not isinstance(b, fail.Keyring | null.Keyring)

    if chosen is None or not usable(chosen):
        name = "none" if chosen is None else f"{type(chosen).__module__}.{type(chosen).__name__}"
        raise SecretBackendUnavailable(
            f"{at}: no keyring is available here (keyring's backend: {name}); {_NO_KEYRING}, "
            "or run inside a desktop session with a Secret Service"
        )
    return chosen


class KeyringSource:
    """Reads, stores and deletes keyring entries; nothing is cached between calls."""

    def get(self, target: str, *, profile: str, field: str) -> str:
        at = where(profile, field, f"keyring:{target}")
        service, username = entry(target, profile=profile, field=field)
        value = self._call(at, "read", lambda b: b.get_password(service, username))
        if not value:
            raise SecretNotFound(
                f"{at}: no keyring entry ({_describe(target, profile, field)}); store it with "
                f"`connprof secret set {profile} {leaf(field)}`"
            )
        return str(value)

    def ready(self, target: str, *, profile: str, field: str) -> None:
        at = where(profile, field, f"keyring:{target}")
        # Looking up an entry nobody has opens (and, if need be, unlocks) the collection, so a
        # locked or unusable keyring is reported before anyone types a secret; no value is read.
        self._call(
            at, "open", lambda b: b.get_password(DEFAULT_SERVICE, "(connprof probe, never stored)")
        )

    def exists(self, target: str, *, profile: str, field: str) -> bool:
        at = where(profile, field, f"keyring:{target}")
        service, username = entry(target, profile=profile, field=field)
        return bool(self._call(at, "read", lambda b: b.get_password(service, username)))

    def set(self, target: str, *, profile: str, field: str, value: str) -> None:
        at = where(profile, field, f"keyring:{target}")
        service, username = entry(target, profile=profile, field=field)
        self._call(at, "write", lambda b: b.set_password(service, username, value))

    def delete(self, target: str, *, profile: str, field: str) -> None:
        import keyring.errors  # deferred: keyring loads only when an entry is used

        at = where(profile, field, f"keyring:{target}")
        service, username = entry(target, profile=profile, field=field)
        backend = _backend(at)
        # Look first: backends disagree on what deleting a missing entry raises.
        if not self._call(at, "read", lambda b: b.get_password(service, username), backend):
            raise SecretNotFound(
                f"{at}: no keyring entry ({_describe(target, profile, field)}); nothing to remove"
            )
        try:
            self._call(at, "delete", lambda b: b.delete_password(service, username), backend)
            return
        except keyring.errors.PasswordDeleteError:
            pass  # raised below, outside the handler: no backend exception as its context
        raise SecretNotFound(
            f"{at}: no keyring entry ({_describe(target, profile, field)}); nothing to remove"
        )

    @staticmethod
    def _call(at: str, verb: str, op: Any, backend: KeyringBackend | None = None) -> Any:
        import keyring.errors  # deferred: keyring loads only when an entry is used

        backend = backend or _backend(at)
        # Each failure is raised after the handler, not inside it: raised inside, it would keep
        # the backend's exception as __context__ (``from None`` only hides it), and on a write
        # that exception may hold the value being stored.
        failure: SecretError
        try:
            return op(backend)
        except keyring.errors.PasswordDeleteError:
            raise
        except keyring.errors.KeyringLocked:
            failure = SecretBackendUnavailable(
                f"{at}: the keyring is locked and no unlock prompt could be shown; unlock it "
                "(log in to the desktop, or `gnome-keyring-daemon --unlock` on a headless "
                "machine) and try again"
            )
        except keyring.errors.NoKeyringError:
            failure = SecretBackendUnavailable(f"{at}: no keyring is available here; {_NO_KEYRING}")
        except keyring.errors.InitError:
            # e.g. gnome-keyring started without --unlock: it wants a prompt nobody can answer.
            failure = SecretBackendUnavailable(
                f"{at}: the keyring could not be opened (it needs an unlock or setup prompt "
                f"that cannot be shown here); unlock it, or {_NO_KEYRING}"
            )
        except keyring.errors.KeyringError as exc:
            # The class name only: on a write, the backend's message might quote its input.
            failure = SecretError(
                f"{at}: the keyring refused to {verb} the entry ({type(exc).__name__}); check "
                "the keyring with `keyring diagnose`"
            )
        except Exception as exc:
            # D-Bus and backend-specific errors that keyring lets through.
            failure = SecretBackendUnavailable(
                f"{at}: the keyring backend failed to {verb} the entry ({type(exc).__name__}); "
                f"check it with `keyring diagnose`, or {_NO_KEYRING}"
            )
        raise failure
