"""Shared dirs packed and unpacked for real; unsafe members refuse the whole archive."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from deployflow.backends.archive import check_members, pack, read_to_end, unpack, unsafe_member
from deployflow.errors import BackupError


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_unsafe_members() -> None:
    assert unsafe_member(_member("app/storage/a.txt")) is None
    assert unsafe_member(_member("app/storage/l", tarfile.SYMTYPE, "../storage/a.txt")) is None
    assert "escapes" in unsafe_member(_member("../evil"))
    assert "escapes" in unsafe_member(_member("/etc/passwd"))
    assert "escapes" in unsafe_member(_member("app/../../evil"))
    assert "links outside" in unsafe_member(_member("app/l", tarfile.SYMTYPE, "/etc/passwd"))
    assert "links outside" in unsafe_member(_member("app/l", tarfile.SYMTYPE, "../../x"))
    assert "links outside" in unsafe_member(_member("app/h", tarfile.LNKTYPE, "../x"))
    assert "device" in unsafe_member(_member("app/dev", tarfile.CHRTYPE))


def test_pack_and_unpack_round_trip_keeps_bytes_and_modes(tmp_path: Path) -> None:
    src = tmp_path / "storage"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "blob.bin").write_bytes(os.urandom(5000))
    (src / "secret").write_text("x")
    (src / "secret").chmod(0o600)
    archive = tmp_path / "files.tar.gz"
    pack({"backend/storage": src, "missing/dir": tmp_path / "nope"}, archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    out = tmp_path / "out"
    unpack(archive, out)
    restored = out / "backend" / "storage"
    assert (restored / "sub" / "blob.bin").read_bytes() == (src / "sub" / "blob.bin").read_bytes()
    assert (restored / "secret").stat().st_mode & 0o777 == 0o600
    read_to_end(archive)


def test_a_bad_member_refuses_the_archive_and_writes_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "slip.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("ok.txt", "../evil.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="escapes"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_truncated_archives_are_unreadable(tmp_path: Path) -> None:
    src = tmp_path / "d"
    src.mkdir()
    (src / "f").write_bytes(os.urandom(100_000))
    archive = tmp_path / "a.tar.gz"
    pack({"d": src}, archive)
    archive.write_bytes(archive.read_bytes()[:-5000])
    with pytest.raises(BackupError, match="not a readable archive"):
        check_members(archive)
    with pytest.raises(BackupError, match="unreadable"):
        read_to_end(archive)
