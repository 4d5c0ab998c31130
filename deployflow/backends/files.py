"""Crash-safe file operations: temp file + fsync + rename, atomic symlink switch."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "append_line",
    "atomic_file",
    "atomic_write",
    "copy_tree",
    "escaping_links",
    "fsync_dir",
    "link_outside",
    "open_log",
    "read_json",
    "read_link",
    "replace_with_link",
    "switch_symlink",
]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A file to stream into that appears at `path` whole when the block ends (temp file,
    fsync, rename), and never if the block fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never half of it."""
    with atomic_file(path, mode) as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def append_line(path: Path, line: str) -> None:
    """Append one line durably (history logs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def switch_symlink(link: Path, target: Path | str) -> None:
    """Point `link` at `target` atomically (new temp symlink, then rename over the old one)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)


def replace_with_link(path: Path, target: Path) -> None:
    """`path` (whatever a build copied there: a file, a dir, a link) becomes a link to
    `target`."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def read_link(link: Path) -> str | None:
    """The last path part a symlink points at (a release id for `current`), or None."""
    try:
        return Path(os.readlink(link)).name
    except (FileNotFoundError, OSError):
        return None


def read_json(path: Path) -> Any:
    """The JSON document at `path`; None when there is none or it is not JSON (half written by
    a process killed while it printed, say)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def copy_tree(src: Path, dest: Path, ignore: list[str] | None = None) -> None:
    """Copy a directory tree keeping symlinks as symlinks and file modes."""
    patterns = shutil.ignore_patterns(*(ignore or []))
    shutil.copytree(src, dest, symlinks=True, ignore=patterns, dirs_exist_ok=True)


def escaping_links(tree: Path, ignore: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(path, target) of each symlink under `tree` (not under an ignored dir name) that points
    outside it, followed through the links it passes: copying such a tree would carry a door out
    of the release."""
    base = tree.resolve()
    found = []
    for dirpath, dirnames, filenames in os.walk(tree):  # links to dirs are listed, not entered
        dirnames[:] = sorted(d for d in dirnames if d not in ignore)
        for name in sorted([*dirnames, *filenames]):
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(base):
                found.append((path.relative_to(tree).as_posix(), os.readlink(path)))
    return found


def link_outside(base: Path, rel: str, root: Path) -> str | None:
    """The first directory on the way from `base` to `base/rel` that is a symlink leading out
    of `root` (None when there is none): writing or deleting there would act outside it."""
    inside = root.resolve()
    path = base
    for part in Path(rel).parts[:-1]:
        path = path / part
        if path.is_symlink() and not path.resolve().is_relative_to(inside):
            return path.relative_to(base).as_posix()
    return None


def open_log(path: Path) -> BinaryIO:
    """`path` opened to append, created 0600 (and made 0600 if it was not): logs of services
    and daemons may hold what they printed of a secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")
