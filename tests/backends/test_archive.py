"""Shared dirs packed (tar + zstd) and unpacked for real; unsafe members refuse the archive."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
import zstandard

from deployflow.backends.archive import archived_files, check_members, pack, unpack, unsafe_member
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


@pytest.mark.parametrize("key", [None, os.urandom(32)], ids=["plain", "sealed"])
def test_pack_and_unpack_round_trip_keeps_bytes_and_modes(
    tmp_path: Path, key: bytes | None
) -> None:
    shared = tmp_path / "shared"
    src = shared / "backend" / "storage"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "blob.bin").write_bytes(os.urandom(3_000_000))
    (src / "secret").write_text("x")
    (src / "secret").chmod(0o600)
    (src / "link").symlink_to("sub/blob.bin")
    archive = tmp_path / "files.tar.zst"
    digest = pack(shared, ["backend/storage", "missing/dir"], archive, key)
    assert digest == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert archive.stat().st_mode & 0o777 == 0o600
    assert archived_files(archive, key)["backend/storage/sub/blob.bin"][0] == 3_000_000
    out = tmp_path / "out"
    unpack(archive, out, key)
    restored = out / "backend" / "storage"
    assert (restored / "sub" / "blob.bin").read_bytes() == (src / "sub" / "blob.bin").read_bytes()
    assert (restored / "secret").stat().st_mode & 0o777 == 0o600
    assert os.readlink(restored / "link") == "sub/blob.bin"


def _zst(tmp_path: Path, names: list[str]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    archive = tmp_path / "slip.tar.zst"
    archive.write_bytes(zstandard.ZstdCompressor().compress(buf.getvalue()))
    return archive


def test_a_bad_member_refuses_the_archive_and_leaves_nothing(tmp_path: Path) -> None:
    archive = _zst(tmp_path, ["ok.txt", "../evil.txt"])
    with pytest.raises(BackupError, match="escapes"):
        check_members(archive)
    with pytest.raises(BackupError, match="escapes"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_truncated_archives_are_unreadable(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "d").mkdir(parents=True)
    (shared / "d" / "f").write_bytes(os.urandom(300_000))
    archive = tmp_path / "a.tar.zst"
    pack(shared, ["d"], archive, None)
    archive.write_bytes(archive.read_bytes()[:-5000])
    with pytest.raises(BackupError, match="not a readable archive"):
        check_members(archive)
    with pytest.raises(BackupError, match="not a readable archive"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _zst_of(tmp_path: Path, members: list[tuple[str, str]]) -> Path:
    """An archive of (name, link target) members; an empty target makes a one-byte file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
    archive = tmp_path / "chain.tar.zst"
    archive.write_bytes(zstandard.ZstdCompressor().compress(buf.getvalue()))
    return archive


@pytest.mark.parametrize(
    "members",
    [
        # each link alone looks harmless by its text; followed one after the other they climb out
        [("s/a", ".."), ("s/a/b", ".."), ("s/a/b/c", ".."), ("s/a/b/c/d", ".."),
         ("s/a/b/c/d/pwned", "")],
        [("s/a", "."), ("s/a/b", ".."), ("s/a/b/pwned", "")],
        # no member goes through a link, but the finished tree's links lead out
        [("s/x/up", "../.."), ("s/l", "x/up/.."), ("s/x/keep", "")],
        [("s/loop1", "loop2"), ("s/loop2", "loop1")],
        # a second entry replacing a link, or a file written over one
        [("s/f", ""), ("s/f", "../../etc")],
    ],
)  # fmt: skip
def test_symlink_chains_are_refused_whole_and_nothing_lands_outside(
    tmp_path: Path, members: list[tuple[str, str]]
) -> None:
    work = tmp_path / "a" / "b" / "c" / "d" / "e"
    work.mkdir(parents=True)
    archive = _zst_of(work, members)
    with pytest.raises(BackupError, match="refused"):
        check_members(archive)  # `backup verify` says no
    with pytest.raises(BackupError, match="refused"):
        unpack(archive, work / "out")
    assert not (work / "out").exists()
    assert not list(tmp_path.rglob("pwned")) and not list(tmp_path.rglob("keep"))
