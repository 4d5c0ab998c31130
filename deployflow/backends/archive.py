"""Shared directories as one tar stream (gzip), read back safely: every member is checked before
anything is extracted, so an archive with a member escaping its target (`../`, an absolute
path, a link pointing outside) is refused as a whole (tar-slip)."""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from deployflow.backends.sealed import opened
from deployflow.errors import BackupError

__all__ = ["archived_files", "check_members", "pack", "read_to_end", "unpack", "unsafe_member"]

LEVEL = 1  # shared dirs hold uploads (mostly compressed already): speed over ratio


def pack(sources: dict[str, Path], dest: Path) -> int:
    """Write `dest` (0600) holding each source dir under its name; returns the member count."""
    count = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=LEVEL) as tar:
            for name, path in sorted(sources.items()):
                if path.exists():
                    tar.add(path, arcname=name)
                    count += sum(1 for _ in path.rglob("*")) + 1
        raw.flush()
        os.fsync(raw.fileno())
    return count


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why `member` may not be extracted (None when it is safe)."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        return f"{member.name!r} escapes the target"
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname)
        base = path.parent if member.issym() else PurePosixPath()
        depth = 0
        for part in (base / link).parts if not link.is_absolute() else ("/",):
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if part == "/" or depth < 0:
                return f"{member.name!r} links outside the target ({member.linkname!r})"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return f"{member.name!r} is a device or fifo"
    return None


def _members(archive: Path, key: bytes | None) -> list[tarfile.TarInfo]:
    """Every member, the stream read to its end (decrypted on the way when sealed)."""
    try:
        with opened(archive, key) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
            return list(tar)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{archive.name}: not a readable archive ({exc})") from None


def archived_files(archive: Path, key: bytes | None = None) -> dict[str, tuple[int, int]]:
    """{member name: (size, mtime)} of the archive's regular files."""
    return {m.name: (m.size, int(m.mtime)) for m in _members(archive, key) if m.isfile()}


def check_members(archive: Path, key: bytes | None = None) -> list[tarfile.TarInfo]:
    """Every member, read to the archive's end; refused whole if one member is unsafe."""
    members = _members(archive, key)
    for member in members:
        reason = unsafe_member(member)
        if reason:
            raise BackupError(f"{archive.name}: refused, member {reason}")
    return members


def unpack(archive: Path, dest: Path, key: bytes | None = None) -> None:
    """Extract into `dest` (a fresh temp dir) after checking every member."""
    check_members(archive, key)
    dest.mkdir(parents=True, exist_ok=True)
    with opened(archive, key) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
        tar.extractall(dest, filter="fully_trusted")  # checked above, modes kept


def read_to_end(path: Path, key: bytes | None = None) -> None:
    """A gzip file read to its end (a truncated or corrupted one fails here)."""
    try:
        with opened(path, key) as raw, gzip.open(raw, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path.name}: unreadable ({exc})") from None
