"""The tree operations stages and ops perform on the deploy root: remove, make, copy, hard-link
and move files and dirs. The one place they touch the file system, so a stage reads as what it
decides (crash-safe single-file writes and links are in files.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = [
    "copy_dir",
    "copy_file",
    "fresh_dir",
    "hard_link",
    "link_tree",
    "make_dir",
    "make_link",
    "move",
    "remove",
    "top_names",
]


def remove(path: Path) -> None:
    """A file, a link (not what it points at) or a whole dir; gone already is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def make_dir(path: Path, mode: int = 0o777) -> Path:
    """`path` and its parents (the umask applies to `mode`), there already is fine."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path


def make_link(link: Path, target: Path | str) -> None:
    """A new symlink at `link` pointing at `target` (relative targets stay relative)."""
    os.symlink(target, link)


def fresh_dir(path: Path, mode: int = 0o777) -> Path:
    """An empty `path`: whatever a killed run left there is removed first."""
    remove(path)
    path.mkdir(parents=True, mode=mode)
    return path


def copy_file(src: Path, dest: Path) -> None:
    """One file with its mode and times, its parent dirs made."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def copy_dir(src: Path, dest: Path) -> None:
    """A new dir tree at `dest`, symlinks kept as symlinks."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest, symlinks=True)


def hard_link(src: Path, dest: Path) -> None:
    """`dest` as a second name of `src`'s file (what was at `dest` goes), its parents made."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    os.link(src, dest)


def link_tree(src: Path, dest: Path) -> None:
    """`dest` as hard links to `src`'s files (no copying, no extra disk), symlinks kept."""
    shutil.copytree(src, dest, symlinks=True, copy_function=os.link)


def move(src: Path, dest: Path) -> None:
    """`src` renamed to `dest` (same file system: atomic), its parent dirs made."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def top_names(folder: Path) -> set[str]:
    """The names directly in `folder` (none when it is not a dir)."""
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()
