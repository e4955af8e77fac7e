"""What every fuzz target asserts, shared by the hypothesis tests and the atheris harnesses.

- only a ``ConnprofError`` escapes (anything else is a bug: exit 3 on the command line);
- every message is one line;
- the canary secret planted in the input is in no message, no exception chain, no output;
- a profile that loads without ``allow_insecure`` yields driver arguments that verify
  certificates over TLS 1.2 or later (verify mode, hostname checks where asked for, minimum
  version of the resulting ``SSLContext``; the cipher side is tested by the TLS fuzz tests).

No pytest here: the atheris harnesses under ``fuzz/`` import this module too.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connprof import ConnprofError

ROOT = Path(__file__).resolve().parents[2]
CANARY = "cnry-7Hq2xZ9kP4"  # planted as a password in uris, dsns, plaintext and env secrets
CANARY_ENV = "CONNPROF_FUZZ_SECRET"


class Finding(AssertionError):
    """A property failed: what the fuzzer reports."""


def seeds() -> list[tuple[str, str]]:
    """``(name, text)`` of every YAML file of sample_profiles/ and the tests' data."""
    out = []
    for folder in (ROOT / "sample_profiles", ROOT / "tests" / "data", ROOT / "tests" / "lint"):
        for path in sorted(folder.rglob("*.yaml")):
            out.append((str(path.relative_to(ROOT)), path.read_bytes().decode("utf-8", "replace")))
    return out


def plant_env() -> None:
    os.environ[CANARY_ENV] = CANARY


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def check_error(exc: BaseException, *, secret: str | None = CANARY) -> None:
    """``exc`` is a ConnprofError with a one-line message and no secret in its chain."""
    if not isinstance(exc, ConnprofError):
        raise Finding(f"not a ConnprofError: {type(exc).__name__}: {exc!r}"[:2000]) from exc
    message = str(exc)
    check_text(message, "the message", secret=secret)
    for e in chain(exc):
        for part in (str(e), repr(e), *map(repr, e.args)):
            if secret and secret in part:
                raise Finding(f"the canary is in the exception chain ({type(e).__name__})")
        blob = getattr(e, "object", None)
        if secret and isinstance(blob, bytes | str) and secret in str(blob):
            raise Finding(f"the canary is in {type(e).__name__}.object")


def check_text(text: str, where: str, *, secret: str | None = CANARY, lines: int = 1) -> None:
    if text.count("\n") > lines - 1 + text.endswith("\n") or "\r" in text:
        raise Finding(f"{where} is not one line: {text[:500]!r}")
    if secret and secret in text:
        raise Finding(f"the canary is in {where}: {text[:500]!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Finding(f"{where} cannot be printed (a lone surrogate): {text[:200]!r}") from exc


def check_cli(code: int, out: str, err: str, *, secret: str | None = CANARY) -> None:
    """A command-line run: no bug exit, no traceback, stderr one line per message, no canary."""
    if code == 3 or "Traceback" in err:
        raise Finding(f"a bug (exit {code}): {err[-3000:]}")
    if code not in (0, 1, 2):
        raise Finding(f"unexpected exit code {code}: {err[-500:]}")
    for line in err.splitlines():
        if line and not line.startswith(("connprof", "usage:", " ", "stored", "removed")):
            raise Finding(f"a stderr line that is not a message: {line[:300]!r}")
    if secret and (secret in out or secret in err):
        raise Finding(f"the canary is in the output: {(out + err)[:1000]!r}")


# -- no weakening without allow_insecure ----------------------------------------------------------

_INSECURE_FLAGS = (
    "tlsInsecure",
    "tlsAllowInvalidCertificates",
    "tlsDisableCertificateRevocationCheck",
)


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v
            yield from _walk(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v)


def check_kwargs(profile: Any, kwargs: Any) -> None:
    """Driver arguments of a profile loaded without allow_insecure must not weaken TLS."""
    if profile.allow_insecure or not profile.tls.enabled:
        return
    tls = profile.tls
    if tls.verify == "none" or str(tls.fingerprint).lower() == "nocertcheck":
        raise Finding(f"verification off without allow_insecure: {tls!r}")
    pinned = bool(tls.fingerprint)
    for key, value in _walk(dict(kwargs)):
        if isinstance(value, ssl.SSLContext):
            if value.verify_mode != ssl.CERT_REQUIRED and not pinned:
                raise Finding(f"{key}: verify_mode {value.verify_mode!r} without allow_insecure")
            if value.minimum_version < ssl.TLSVersion.TLSv1_2 and value.minimum_version not in (
                ssl.TLSVersion.MINIMUM_SUPPORTED,
            ):
                raise Finding(f"{key}: minimum_version {value.minimum_version!r}")
            if value.minimum_version == ssl.TLSVersion.MINIMUM_SUPPORTED:
                raise Finding(f"{key}: minimum_version MINIMUM_SUPPORTED (TLS below 1.2)")
            if tls.verify == "full" and not pinned and not value.check_hostname:
                # cassandra checks the name itself when ssl_options carries server_hostname
                opts = dict(kwargs).get("ssl_options") or {}
                if not (isinstance(opts, dict) and opts.get("server_hostname")):
                    raise Finding(f"{key}: check_hostname off under verify: full")
        elif key in _INSECURE_FLAGS and value is True:
            raise Finding(f"{key}=True without allow_insecure")
        elif key == "tlsAllowInvalidHostnames" and value is True and tls.verify == "full":
            raise Finding("tlsAllowInvalidHostnames=True under verify: full")
        elif key == "verify_ssl_cert" and value is False:
            raise Finding("verify_ssl_cert=False without allow_insecure")
        elif key == "cert_reqs" and value == ssl.CERT_NONE and not pinned:
            raise Finding("cert_reqs CERT_NONE without allow_insecure")
        elif key == "ssl_check_hostname" and value is False and tls.verify == "full":
            raise Finding("ssl_check_hostname=False under verify: full")
        elif key == "ssl_protocol" and value in ("SSLv2", "SSLv3", "TLSv1", "TLSv1_1"):
            raise Finding(f"ssl_protocol {value} without allow_insecure")


def load_and_emit(path: str, name: str) -> None:
    """Load profile ``name`` of ``path`` and emit its arguments; check every property."""
    import connprof  # deferred: keep this module light for the harnesses' start-up

    try:
        profile = connprof.load_profile(name, config=path)
    except Exception as exc:
        check_error(exc)
        return
    check_text(repr(profile), "repr(profile)", lines=10**6)
    try:
        kwargs = profile.driver_kwargs()
    except Exception as exc:
        check_error(exc)
        return
    check_text(repr(kwargs), "repr(driver_kwargs())", lines=10**6)
    check_kwargs(profile, kwargs)
