"""Read a file someone else may have written, without hanging on a FIFO or reading a device.

Every file connprof reads for a user (profiles, ``file:`` secrets, TLS files, cache entries)
comes through here: opened ``O_NONBLOCK`` so a FIFO cannot block the ``open()``, checked with
``fstat`` on the open descriptor (not a path a neighbour can swap afterwards) to be a regular
file, and read up to a limit so ``/dev/zero`` or a huge file cannot exhaust memory.

The errors are ``OSError`` subclasses with a ``strerror`` a user can act on, so callers keep
their ``except OSError as exc: ... exc.strerror`` handlers and add the context (profile, field).
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = [
    "PROFILE_FILE_LIMIT",
    "TLS_FILE_LIMIT",
    "FileTooLarge",
    "NotRegularFile",
    "open_regular",
    "read_fd",
    "read_regular",
]

#: A profile file holds a few thousand profiles at most; 64 MiB is far above any real one.
PROFILE_FILE_LIMIT = 64 * 1024 * 1024
#: A CA bundle is a few hundred KiB (certifi's is ~300 KiB); 16 MiB leaves room for any chain.
TLS_FILE_LIMIT = 16 * 1024 * 1024


class NotRegularFile(OSError):
    """The path is a FIFO, a socket, a device or a directory, not a file to read."""


class FileTooLarge(OSError):
    """The file is larger than what connprof reads for its purpose."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_regular(
    path: str, *, follow_symlinks: bool = True, dir_fd: int | None = None
) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading and return ``(fd, fstat)``; the caller closes ``fd``.

    Raises ``NotRegularFile`` for anything but a regular file (``errno`` ``EISDIR`` for a
    directory, ``EINVAL`` otherwise, and a ``strerror`` naming the kind), and with
    ``follow_symlinks=False`` a symlink is refused (``ELOOP``) instead of followed. With
    ``dir_fd``, a relative ``path`` is looked up in that open directory (``openat``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        code = errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL
        raise NotRegularFile(code, f"{_kind(st.st_mode)}, not a regular file", path)
    return fd, st


def read_fd(fd: int, path: str, *, limit: int) -> bytes:
    """Read an open descriptor to its end, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
            raise FileTooLarge(errno.EFBIG, f"larger than {size}", path)


def read_regular(path: str, *, limit: int, follow_symlinks: bool = True) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes."""
    fd, _ = open_regular(path, follow_symlinks=follow_symlinks)
    try:
        return read_fd(fd, path, limit=limit)
    finally:
        os.close(fd)
