"""The on-disk cache can never change what ``load_profile`` returns (issue 15, item 2).

An entry is used only from a folder this user owns and nobody else can write, only if the entry
is a regular file (not a symlink) this user owns, nobody else can write, of bounded size and of
this code's shape. Anything else is a miss: composed again, never a crash or a hang.
"""

from __future__ import annotations

import marshal
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import connprof
from connprof import _config
from tests.helpers import write_file

PROFILE = "profiles:\n  prod:\n    driver: pymongo\n    hosts: [db.example.com]\n    tls: true\n"
OTHER_UID = 65534  # nobody


@pytest.fixture
def cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "cache" / "profiles"
    monkeypatch.setenv("CONNPROF_CACHE_DIR", str(directory))
    return directory


def entries(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def warm(tmp_path: Path, cache_dir: Path) -> tuple[str, Path]:
    """A profile file and the one cache entry a first load wrote for it."""
    cfg = str(write_file(tmp_path / "p.yaml", PROFILE))
    assert connprof.load_profile("prod", config=cfg).hosts == ("db.example.com",)
    [entry] = entries(cache_dir)
    return cfg, entry


def poisoned(entry: Path) -> bytes:
    """The entry with the victim's profile pointed at the attacker, certificates unchecked."""
    key, payload = marshal.loads(entry.read_bytes())
    name, data, *rest = payload
    data = {**data, "hosts": ["attacker.example.net"], "allow_insecure": True,
            "tls": {**data["tls"], "verify": "none"}}  # fmt: skip
    return marshal.dumps((key, (name, data, *rest)))


def loads_the_real_profile(cfg: str) -> None:
    p = connprof.load_profile("prod", config=cfg)
    assert p.hosts == ("db.example.com",)
    assert p.tls.verify == "full"
    kwargs = p.driver_kwargs()
    assert "attacker" not in repr(kwargs) and not kwargs.get("tlsAllowInvalidCertificates")


def in_time(call, seconds: float = 10) -> None:
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the cache read blocked"


def test_a_valid_entry_is_used(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    # Planted by the user themself into their own private folder: a hit, and it is used.
    entry.write_bytes(poisoned(entry))
    assert connprof.load_profile("prod", config=cfg).hosts == ("attacker.example.net",)


def test_folders_are_made_0700_whatever_the_umask(tmp_path, cache_dir) -> None:
    old = os.umask(0)
    try:
        cfg = str(write_file(tmp_path / "p.yaml", PROFILE))
        connprof.load_profile("prod", config=cfg)
    finally:
        os.umask(old)
    for folder in (cache_dir, cache_dir.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    [entry] = entries(cache_dir)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_the_default_folder_is_made_0700_whatever_the_umask(tmp_path, isolated) -> None:
    old = os.umask(0)
    try:
        cfg = str(write_file(tmp_path / "p.yaml", PROFILE))
        connprof.load_profile("prod", config=cfg)
    finally:
        os.umask(old)
    made = isolated.cache_home / "connprof"
    for folder in (made, made / "profiles"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o1777])
def test_an_entry_in_a_folder_others_can_write_is_never_read(tmp_path, cache_dir, mode) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    cache_dir.chmod(mode)  # umask 000 under an older connprof, or a shared folder
    entry.write_bytes(poisoned(entry))
    loads_the_real_profile(cfg)


def test_a_folder_of_ours_that_others_can_write_is_closed_when_written(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    cache_dir.chmod(0o777)
    entry.unlink()
    connprof.load_profile("prod", config=cfg)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert len(entries(cache_dir)) == 1


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_an_entry_others_can_write_is_never_read(tmp_path, cache_dir, mode) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    entry.write_bytes(poisoned(entry))
    entry.chmod(mode)
    loads_the_real_profile(cfg)


def test_a_symlinked_entry_is_never_followed(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    elsewhere = tmp_path / "planted.bin"
    elsewhere.write_bytes(poisoned(entry))
    elsewhere.chmod(0o600)
    entry.unlink()
    entry.symlink_to(elsewhere)
    loads_the_real_profile(cfg)


def test_a_symlinked_cache_folder_is_never_followed(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o700)
    (planted / entry.name).write_bytes(poisoned(entry))
    for e in entries(cache_dir):
        e.unlink()
    cache_dir.rmdir()
    cache_dir.symlink_to(planted)
    loads_the_real_profile(cfg)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_entry_linked_to_dev_zero_is_a_miss(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    entry.unlink()
    entry.symlink_to("/dev/zero")
    in_time(lambda: loads_the_real_profile(cfg))
    loads_the_real_profile(cfg)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_entry_does_not_hang_show(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    entry.unlink()
    os.mkfifo(entry, 0o600)
    done = subprocess.run(
        [sys.executable, "-m", "connprof", "--config", cfg, "show", "prod"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "db.example.com" in done.stdout


def test_an_entry_too_large_is_a_miss(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    blob = poisoned(entry)
    entry.write_bytes(blob + b"\0" * (_config.CACHE_ENTRY_LIMIT + 1 - len(blob)))
    loads_the_real_profile(cfg)


@pytest.mark.parametrize(
    "shape",
    ["not a tuple", "wrong arity", "data not a dict", "files not strings", "provenance ints",
     "code object", "nested too deep"],
)  # fmt: skip
def test_a_malformed_entry_is_a_miss_never_a_crash(tmp_path, cache_dir, shape) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    key, payload = marshal.loads(entry.read_bytes())
    name, data, provenance, files, *rest = payload
    value = {
        "not a tuple": 42,
        "wrong arity": (key, payload[:3]),
        "data not a dict": (key, (name, ["x"], provenance, files, *rest)),
        "files not strings": (key, (name, data, provenance, [1, 2], *rest)),
        "provenance ints": (key, (name, data, {1: 2}, files, *rest)),
        "code object": (key, (compile("1", "x", "eval"), data, provenance, files, *rest)),
    }.get(shape)
    blob = marshal.dumps(value) if shape != "nested too deep" else b"[\x01\x00\x00\x00" * 5000
    entry.write_bytes(blob)
    loads_the_real_profile(cfg)


def test_a_truncated_marshal_is_a_miss(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    blob = poisoned(entry)
    for cut in (1, 5, len(blob) // 2, len(blob) - 1):
        entry.write_bytes(blob[:cut])
        loads_the_real_profile(cfg)


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="giving a file to another user (chown) needs root; run the suite as root to test it",
)


@needs_root
def test_an_entry_another_user_owns_is_never_read(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    entry.write_bytes(poisoned(entry))
    os.chown(entry, OTHER_UID, OTHER_UID)
    entry.chmod(0o600)
    loads_the_real_profile(cfg)


@needs_root
def test_a_cache_dir_another_user_owns_is_neither_read_nor_written(tmp_path, cache_dir) -> None:
    cfg, entry = warm(tmp_path, cache_dir)
    entry.write_bytes(poisoned(entry))
    # CONNPROF_CACHE_DIR pointing at a folder someone else made and owns, 0755 and all.
    for path in (entry, cache_dir):
        os.chown(path, OTHER_UID, OTHER_UID)
    cache_dir.chmod(0o755)
    loads_the_real_profile(cfg)
    other = tmp_path / "theirs"
    other.mkdir(mode=0o755)
    os.chown(other, OTHER_UID, OTHER_UID)
    os.environ["CONNPROF_CACHE_DIR"] = str(other)  # restored by the cache_dir fixture
    loads_the_real_profile(cfg)
    assert entries(other) == []
