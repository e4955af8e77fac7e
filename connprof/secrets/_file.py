"""The ``file:PATH`` source: a secret file's content less one trailing newline.

The path is absolute by the time it gets here: loading resolves it against the folder of the
profile file that wrote it.

Permissions, in the spirit of ssh and libpq but workable in containers:

- a file **you** own (and you are not root) must not be readable or writable by group or
  others, as ssh and libpq demand of key files: you can fix it with ``chmod 600``;
- a file someone else owns (root, as Docker mounts secrets 0444 and Kubernetes 0644, or any
  file when you run as root) may be readable by others: you cannot chmod it, and whoever can
  decided who reads it;
- a file group or others can **write** is always refused: anyone could swap in their own
  credential, and the client would log in to their account.
"""

from __future__ import annotations

import errno
import os
import stat

from .._errors import SecretError, SecretNotFound
from .._safeio import FileTooLarge, NotRegularFile, open_regular, read_fd
from ._source import where

__all__ = ["SECRET_FILE_LIMIT", "FileSource", "mode_problem"]


def mode_problem(path: str, st: os.stat_result, euid: int) -> str | None:
    """Why a secret file's owner and mode are refused (problem; fix), or None when fine."""
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by group or others (mode {mode:04o}), so anyone could replace "
            f"the secret; chmod go-w {path}"
        )
    if st.st_uid == euid and euid != 0 and mode & 0o077:
        return (
            f"{path} is readable by group or others (mode {mode:04o}); chmod 600 {path}, as "
            "ssh and libpq ask of key files"
        )
    return None


#: A password, token or key passphrase is a line; 64 KiB leaves room for a JWT or a PEM.
SECRET_FILE_LIMIT = 64 * 1024


class FileSource:
    """Reads the file when asked; read-only (connprof never writes secrets to disk)."""

    def get(self, target: str, *, profile: str, field: str) -> str:
        at = where(profile, field, f"file:{target}")
        path = os.path.expanduser(target)
        data = _read_secret_file(path, at)
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None:
            # Raised here, not in the handler: the decode error's .object is the secret's bytes,
            # and an exception raised inside the handler would keep it as __context__.
            raise SecretError(f"{at}: {path} is not UTF-8 text; store the secret as text")
        # One trailing newline is what `echo` and editors add; anything more is the secret's.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise SecretNotFound(f"{at}: {path} is empty; write the secret into it")
        return text


def _read_secret_file(path: str, at: str) -> bytes:
    """The bytes of the secret file, its owner and mode checked on the open descriptor first.

    Opened without blocking (a FIFO cannot hang the open) and checked with ``fstat`` to be a
    regular file before anything is read, and read up to ``SECRET_FILE_LIMIT`` (no
    ``/dev/zero``). The errors carry the path, never content.
    """
    try:
        fd, st = open_regular(path)
    except FileNotFoundError:
        raise SecretNotFound(
            f"{at}: no such file; create it (umask 077; cat > {path}) or fix the path"
        ) from None
    except NotRegularFile as exc:
        if exc.errno == errno.EISDIR:
            raise SecretError(
                f"{at}: {path} is a directory; point file: at the secret file"
            ) from None
        raise SecretError(
            f"{at}: {path} is {exc.strerror}; point file: at a regular file holding the secret"
        ) from None
    except PermissionError:
        raise SecretError(
            f"{at}: permission denied reading {path}; make it readable by this user"
        ) from None
    except OSError as exc:
        raise SecretError(f"{at}: cannot read {path} ({exc.strerror}); check the path") from None
    try:
        # Check the mode before reading, so a refused file's content is never loaded.
        problem = None if os.name == "nt" else mode_problem(path, st, os.geteuid())
        if problem:
            raise SecretError(f"{at}: {problem}")
        return read_fd(fd, path, limit=SECRET_FILE_LIMIT)
    except FileTooLarge:
        raise SecretError(
            f"{at}: {path} is larger than {SECRET_FILE_LIMIT // 1024} KiB, more than any secret; "
            "point file: at the file holding only the secret"
        ) from None
    except OSError as exc:
        raise SecretError(f"{at}: cannot read {path} ({exc.strerror}); check the path") from None
    finally:
        os.close(fd)
