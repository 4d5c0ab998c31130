"""A directory packed for upload: a gzipped tar (0600) of what its ignore rules let through,
walked top-down so an ignored directory is never entered; links kept as links, sockets and
devices left out."""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.files import atomic_file
from deployflow.core.ignorefile import Rule, ignored, parse_rules

__all__ = ["Packed", "pack_dir"]

IGNORE_FILES = (".gitignore", ".dockerignore")


@dataclass(frozen=True)
class Packed:
    path: Path
    files: int
    size: int  # of the archive, bytes


def _rules(base: Path) -> list[Rule]:
    text = ""
    for name in IGNORE_FILES:
        if (base / name).is_file():
            text += (base / name).read_text(errors="replace") + "\n"
    return parse_rules(text)


def pack_dir(base: Path, dest: Path) -> Packed:
    rules, files = _rules(base), 0
    with atomic_file(dest, 0o600) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for top, dirs, names in os.walk(base):
            here = Path(top)
            rel_top = here.relative_to(base).as_posix()
            prefix = "" if rel_top == "." else rel_top + "/"
            dirs[:] = sorted(
                d for d in dirs if not ignored(prefix + d, not (here / d).is_symlink(), rules)
            )
            for name in [*dirs, *sorted(names)]:
                path, rel = here / name, prefix + name
                mode = path.lstat().st_mode
                if name in names and ignored(rel, False, rules):
                    continue
                if stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode):
                    tar.add(path, arcname=rel, recursive=False)
                    files += stat.S_ISREG(mode)
    return Packed(dest, files, dest.stat().st_size)
