"""No exception connprof raises keeps a secret anywhere in its chain (issue 15, item 9).

``raise ... from None`` only hides the exception being handled: it stays as ``__context__``
(a non-UTF-8 ``file:`` secret's ``UnicodeDecodeError.object`` is the secret's bytes). Each
case below plants a canary where a source's own exception carries it, and walks the whole
chain: every ``__cause__`` and ``__context__``, each one's args, attributes and text.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connprof import SecretError
from connprof.secrets import resolve_secret, store_secret
from tests.helpers import install_plugin

CANARY = f"cn-{uuid.uuid4().hex[:16]}"


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


def leaks(exc: BaseException) -> list[str]:
    found = []
    for e in chain(exc):
        parts: list[Any] = [str(e), repr(e), *e.args, *vars(e).values()]
        parts += [getattr(e, name, None) for name in ("object", "reason", "strerror")]
        for part in parts:
            text = part.decode("latin-1") if isinstance(part, bytes) else repr(part)
            if CANARY in text:
                found.append(f"{type(e).__name__}: {text[:200]}")
    return found


def raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(SecretError) as caught:
        call()
    return caught.value


def test_a_non_utf8_file_secret_is_not_kept_in_the_context(tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(CANARY.encode() + b"\xff\xfe")
    secret.chmod(0o600)
    exc = raised(lambda: resolve_secret(f"file:{secret}", profile="p", field="password"))
    assert "not UTF-8" in str(exc)
    assert leaks(exc) == []
    assert exc.__context__ is None and exc.__cause__ is None


BACKEND = """
    from keyring.backend import KeyringBackend

    class Leaky(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            if "probe" in username:
                return None  # the unlock probe a write makes first
            raise RuntimeError("backend read failed near CANARY")

        def set_password(self, service, username, password):
            raise RuntimeError(f"cannot store {password!r}")

        def delete_password(self, service, username):
            raise RuntimeError("delete failed near CANARY")
    """


@pytest.fixture
def leaky_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "leaky_backend.py").write_text(textwrap.dedent(BACKEND).replace("CANARY", CANARY))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "leaky_backend", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "leaky_backend.Leaky")


def test_a_keyring_write_that_fails_keeps_no_value(leaky_keyring: None) -> None:
    exc = raised(lambda: store_secret("keyring:", profile="p", field="password", value=CANARY))
    assert "failed to write" in str(exc)
    assert leaks(exc) == []
    assert exc.__context__ is None


def test_a_keyring_read_that_fails_keeps_no_backend_message(leaky_keyring: None) -> None:
    exc = raised(lambda: resolve_secret("keyring:", profile="p", field="password"))
    assert leaks(exc) == []
    assert exc.__context__ is None


def test_a_plugin_source_that_fails_keeps_no_value(tmp_path: Path, monkeypatch) -> None:
    install_plugin(
        tmp_path / "site",
        monkeypatch,
        group="connprof.secret_sources",
        name="vault",
        target="leaky_vault:Source",
        source=f"""
            class Source:
                def get(self, target, *, profile, field):
                    raise ValueError("the value was {CANARY}")
            """,
    )
    exc = raised(lambda: resolve_secret("vault:app/db", profile="p", field="password"))
    assert "secret source failed (ValueError)" in str(exc)
    assert leaks(exc) == []
    assert exc.__context__ is None


def test_a_profile_file_that_is_not_utf8_keeps_no_content_in_the_context(tmp_path: Path) -> None:
    # Found by the fuzz tests: the UnicodeDecodeError behind "not UTF-8 text" held the file.
    from connprof import ProfileValidationError, load_profile

    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xed\xa0\x80profiles:\n  p0: {driver: crate, hosts: ['u:" + CANARY.encode()
                     + b"@db']}\n")  # fmt: skip
    with pytest.raises(ProfileValidationError, match="not UTF-8") as caught:
        load_profile("p0", config=str(path))
    assert leaks(caught.value) == [] and caught.value.__context__ is None


def test_a_uri_password_that_is_not_utf8_keeps_no_bytes_in_the_chain() -> None:
    from connprof import UriError, parse_mongodb_uri

    with pytest.raises(UriError) as caught:
        parse_mongodb_uri(f"mongodb://app:{CANARY}%ff@db/")
    assert leaks(caught.value) == []
