"""The ``login`` step: connect with the profile's own driver and run its cheapest round trip.

Once per profile, after the endpoints: ``call(**driver_kwargs(), **timeouts)`` (the driver's
``DriverSpec.timeouts`` fill only what the profile does not set), then ``ping`` and ``close``,
in a daemon thread that is abandoned after about twice ``--timeout`` (a driver may ignore its
timeouts). A refused login (``refused_login``: by the driver's class or code) is
``auth_failed``, any other driver error ``login_failed``, both with the driver's own text with
every resolved secret value taken out. Not tried: offline, after a failed check, for a profile
of an untrusted project file that holds a secret reference (the trust rule: doctor sends no
secret of an untrusted file), without the driver package or a driver ``ping``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._errors import ConnprofError, DriverNotInstalled
from .._redact import printable
from .._secretref import SECRET_FIELDS
from ._probe import target_of
from ._problems import checked
from ._report import Check

if TYPE_CHECKING:
    from .._models import Profile
    from ..drivers import DriverSpec

__all__ = ["LOGIN_BOUND", "login", "redact"]

#: The step gives up after ``LOGIN_BOUND * timeout`` seconds, whatever the driver does.
LOGIN_BOUND = 2.0
#: The most of a driver's error text a check repeats.
_MAX_TEXT = 600
_MASK = "<secret>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` on one line with every secret value (also URL-encoded) replaced by ``<secret>``."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in dict.fromkeys((value, quote(value, safe=""), quote(value))):
            text = text.replace(form, _MASK)
    return printable(text)


def _secret_fields(profile: Profile) -> list[str]:
    out = []
    for dotted in SECRET_FIELDS:
        block, leaf = dotted.split(".")
        if getattr(getattr(profile, block), leaf) is not None:
            out.append(dotted)
    return out


@dataclass
class _Attempt:
    """What the login thread found; filled in by the thread, read after it ended."""

    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    secrets: frozenset[str] = frozenset()
    elapsed: float = 0.0


def _run(attempt: _Attempt, profile: Profile, spec: DriverSpec, timeout: float) -> None:
    # deferred: the build step loads with the first login
    from ..drivers import prepare

    try:
        defaults = spec.timeouts(timeout) if spec.timeouts is not None else {}
        call, kwargs = prepare(profile, {}, defaults=defaults)
        attempt.secrets = kwargs._secrets
        assert spec.ping is not None
        start = time.monotonic()
        client = call(**kwargs)
        try:
            spec.ping(client)
        finally:
            attempt.elapsed = time.monotonic() - start
            close = getattr(client, spec.close, None)
            if callable(close):
                # A failing close says nothing about the login.
                with contextlib.suppress(Exception):
                    close()
    except BaseException as exc:  # the driver may raise anything: reported, never raised
        attempt.error = exc
    finally:
        attempt.done.set()


def login(profile: Profile, endpoints: Sequence[tuple[str, int]], timeout: float) -> Check | None:
    """The ``login`` check for ``profile``, or None when the driver has nothing to connect to."""
    # deferred: the registry is loaded by validation already; this names the driver's facts
    from ..drivers import get_driver, load_call

    if not endpoints:
        return None
    target = ",".join(target_of(h, p) for h, p in endpoints)
    driver = profile.driver

    def check(
        ok: bool,
        message: str,
        problem: str | None = None,
        *,
        warning: bool = False,
        caveat: str | None = None,
    ) -> Check:
        return checked(
            target,
            "login",
            ok,
            message,
            problem,
            warning=warning,
            caveat=caveat,
            profile=profile.name,
            driver=driver,
        )

    secret_fields = _secret_fields(profile)
    if profile.untrusted and secret_fields:
        file = profile.untrusted[0]
        return check(
            True,
            f"not tried: {file} is a project file you have not trusted, and doctor sends no "
            f"secret ({', '.join(secret_fields)}) for its profiles; read it, then run "
            f"`connprof trust {file}`",
            warning=True,
            caveat="untrusted_file",
        )
    try:
        spec = get_driver(driver)
    except ConnprofError as exc:  # a plugin that fails to load was reported offline
        return check(True, f"not tried: {exc}", warning=True, caveat="no_ping")
    if spec.ping is None:
        return check(
            True,
            f"not tried: the {driver} driver plugin names no round trip (DriverSpec.ping)",
            warning=True,
            caveat="no_ping",
        )
    try:
        load_call(spec)
    except DriverNotInstalled as exc:
        return check(True, f"not tried: {exc}", warning=True, caveat="no_driver")

    attempt = _Attempt()
    thread = threading.Thread(
        target=_run, args=(attempt, profile, spec, timeout), name="connprof-login", daemon=True
    )
    thread.start()
    bound = LOGIN_BOUND * timeout
    if not attempt.done.wait(bound):
        return check(
            False,
            f"the {driver} driver did not connect and answer within {bound:g}s "
            f"(twice --timeout; it was given {timeout:g}s)",
            "timeout",
        )
    if attempt.error is None:
        who = _who(profile)
        ms = round(attempt.elapsed * 1000)
        return check(True, f"{who} with {driver}, round trip ok ({ms} ms)")
    message, problem = _failed(attempt, spec, profile.auth.user)
    return check(False, message, problem)


def _who(profile: Profile) -> str:
    if profile.auth.user is not None:
        return f"logged in as {profile.auth.user}"
    if profile.auth.token is not None:
        return "logged in with auth.token"
    if profile.tls.enabled and profile.tls.client_cert is not None:
        return "connected with the client certificate"
    return "connected without credentials"


def _failed(attempt: _Attempt, spec: DriverSpec, user: str | None) -> tuple[str, str]:
    """The failed login's message and code: ``auth_failed`` when the server refused it."""
    exc = attempt.error
    assert exc is not None
    if isinstance(exc, ConnprofError):
        # The profile's own problem (the offline checks say it too): connprof's one line.
        return redact(str(exc), attempt.secrets), "login_failed"
    text = redact(f"{type(exc).__name__}: {exc}", attempt.secrets)
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 3] + "..."
    refused = False
    if spec.refused_login is not None:
        try:
            refused = spec.refused_login(exc)
        except Exception:
            refused = False  # a judge that fails cannot say the server refused
    if refused:
        who = "" if user is None else f" as {user}"
        return f"the server refused the login{who}: {text}", "auth_failed"
    return f"the {spec.name} driver failed: {text}", "login_failed"
