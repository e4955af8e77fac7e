"""Reading files a neighbour may have planted: FIFOs, devices, symlinks, huge files."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from connprof._safeio import FileTooLarge, NotRegularFile, read_regular


def test_reads_a_regular_file(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert read_regular(str(path), limit=1024) == b"-----BEGIN CERTIFICATE-----\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result: list[BaseException] = []

    def attempt() -> None:
        try:
            read_regular(str(fifo), limit=1024)
        except BaseException as exc:
            result.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO blocked"
    assert isinstance(result[0], NotRegularFile)
    assert "FIFO" in result[0].strerror


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_refused(tmp_path):
    link = tmp_path / "ca.pem"
    link.symlink_to("/dev/zero")
    with pytest.raises(NotRegularFile, match="device"):
        read_regular(str(link), limit=1024)


def test_a_directory_is_refused_as_a_directory(tmp_path):
    with pytest.raises(NotRegularFile, match="a directory") as info:
        read_regular(str(tmp_path), limit=1024)
    assert info.value.errno == errno.EISDIR


def test_a_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(FileTooLarge, match="larger than 1024 bytes"):
        read_regular(str(path), limit=1024)
    assert read_regular(str(path), limit=2048) == b"x" * 2048


def test_symlinks_refused_when_asked(tmp_path):
    target = tmp_path / "real"
    target.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert read_regular(str(link), limit=16) == b"data"
    with pytest.raises(OSError) as info:
        read_regular(str(link), limit=16, follow_symlinks=False)
    assert info.value.errno == errno.ELOOP
