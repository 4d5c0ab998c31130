"""Shared directories as one tar stream: written by `tar` and `zstd` (multi-threaded, the speed
of doing it by hand), sealed and hashed on the way to disk; read back in Python, one pass, each
member checked before it is written, into a staging dir: an archive with a member escaping its
target (`../`, an absolute path, a link pointing outside: tar-slip) is refused as a whole and
the staging dir removed, so nothing of it lands anywhere."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from deployflow.backends.executor import Command, metered, resolve_program, run
from deployflow.backends.sealed import SealedWriter, opened
from deployflow.core.archivetree import MemberTree
from deployflow.errors import BackupError, DeployflowError

__all__ = [
    "archived_files",
    "check_members",
    "pack",
    "read_sealed",
    "read_to_end",
    "unpack",
    "unsafe_member",
]

ZSTD = "zstd -1 -T0"  # shared dirs hold uploads (mostly compressed already): speed over ratio


def pack(
    base: Path,
    names: list[str],
    dest: Path,
    key: bytes | None,
    progress: Callable[[int], None] | None = None,
    exclude: list[str] | None = None,
) -> str:
    """Write `dest` (0600): a zstd tar of `names` (paths under `base`, but not the member
    names in `exclude`); returns its SHA-256. `progress` hears the archive's bytes written
    now and then."""
    if resolve_program("tar") is None or resolve_program("zstd") is None:
        raise BackupError("tar and zstd are needed to archive files; scripts/install installs them")
    present = [n for n in names if (base / n).exists() or (base / n).is_symlink()]
    writer = SealedWriter(dest, key)
    try:
        skip = [f"--exclude={name}" for name in exclude or ()]
        argv = ["tar", "-I", ZSTD, "-cf", "-", "-C", str(base), "--no-wildcards", *skip]
        argv += ["--", *present]
        if not present:  # an empty archive still says "no files" when restored
            argv = ["tar", "-I", ZSTD, "-cf", "-", "-T", "/dev/null"]
        sink = metered(writer.write, progress)
        run(Command.of(argv, timeout=None), sink=sink, error=BackupError)
    finally:
        digest = writer.close()
    return digest


@contextmanager
def _reader(archive: Path, key: bytes | None) -> Iterator[tarfile.TarFile]:
    """The archive as a tar stream (decrypted and decompressed on the way)."""
    with opened(archive, key) as raw:
        if archive.name.endswith(".zst"):
            import zstandard

            stream = zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20)
            with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
                yield tar
        else:
            with tarfile.open(fileobj=raw, mode="r|gz") as tar:
                yield tar


_BROKEN = (tarfile.TarError, OSError, EOFError, zlib.error)


def _broken(archive: Path, exc: BaseException) -> BackupError:
    return BackupError(f"{archive.name}: not a readable archive ({exc})")


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


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    return "dir" if member.isdir() else "file"


class _Guard:
    """Each member checked alone (its text) and against the tree the ones before it made; with
    `limit`, the members' sizes summed as they come (a gzip bomb stops at the limit, unwritten)."""

    def __init__(
        self, archive: Path, error: type[DeployflowError] = BackupError, limit: int | None = None
    ) -> None:
        self._archive = archive
        self._tree = MemberTree()
        self._error = error
        self._left = limit

    def _refuse(self, reason: str) -> DeployflowError:
        return self._error(f"{self._archive.name}: refused, member {reason}")

    def __call__(self, member: tarfile.TarInfo) -> tarfile.TarInfo:
        reason = unsafe_member(member) or self._tree.admit(
            member.name, _kind(member), member.linkname
        )
        if reason:
            raise self._refuse(reason)
        if self._left is not None:
            self._left -= member.size + 512
            if self._left < 0:
                raise self._refuse(f"{member.name!r} makes it larger unpacked than allowed")
        return member

    def finish(self) -> None:
        reason = self._tree.escaping_link()
        if reason:
            raise self._refuse(reason)


def check_members(archive: Path, key: bytes | None = None) -> list[tarfile.TarInfo]:
    """Every member, the archive read to its end; refused whole if one member is unsafe."""
    guard = _Guard(archive)
    try:
        with _reader(archive, key) as tar:
            members = [guard(m) for m in tar]
    except _BROKEN as exc:
        raise _broken(archive, exc) from None
    guard.finish()
    return members


def archived_files(archive: Path, key: bytes | None = None) -> dict[str, tuple[int, int]]:
    """{member name: (size, mtime)} of the archive's regular files."""
    return {m.name: (m.size, int(m.mtime)) for m in check_members(archive, key) if m.isfile()}


def unpack(
    archive: Path,
    staging: Path,
    key: bytes | None = None,
    *,
    error: type[DeployflowError] = BackupError,
    limit: int | None = None,
) -> None:
    """Extract into `staging` (a fresh dir) in one pass, checking each member before writing
    it (and, with `limit`, the bytes it would unpack to); on any refusal or read error
    `staging` is removed and nothing else was touched. Refusals raise `error`."""
    staging.mkdir(parents=True)
    guard = _Guard(archive, error, limit)
    try:
        with _reader(archive, key) as tar:
            for member in tar:
                tar.extract(guard(member), staging, filter="fully_trusted")
        guard.finish()
        _inside(staging, archive, error)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, _BROKEN) and not isinstance(exc, DeployflowError):
            raise error(f"{archive.name}: not a readable archive ({exc})") from None
        raise


def _inside(staging: Path, archive: Path, error: type[DeployflowError]) -> None:
    """What was written, read back from the disk: every link resolves inside `staging`."""
    base = staging.resolve()
    for path in staging.rglob("*"):
        if path.is_symlink() and not path.resolve().is_relative_to(base):
            rel = path.relative_to(staging)
            raise error(f"{archive.name}: refused, member {str(rel)!r} links outside")


def read_to_end(path: Path, key: bytes | None = None) -> None:
    """A gzip file read to its end (a truncated or corrupted one fails here)."""
    try:
        with opened(path, key) as raw, gzip.open(raw, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path.name}: unreadable ({exc})") from None


def read_sealed(path: Path, key: bytes | None = None) -> None:
    """A file stored as it came (a `pg_dump -Fc` archive) read to its end, decrypted when
    sealed: a truncated or tampered seal fails here."""
    try:
        with opened(path, key) as raw:
            while raw.read(1 << 20):
                pass
    except OSError as exc:
        raise BackupError(f"{path.name}: unreadable ({exc})") from None
