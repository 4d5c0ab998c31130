"""A bounded look at a source tree: names up to a few levels deep, vendored and hidden dirs
skipped, links not followed, small files readable. A symlink loop or a 2 GB file cannot hang
it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SKIPPED", "Tree", "read_tree"]

SKIPPED = frozenset(
    {".git", ".hg", "node_modules", ".venv", "venv", "vendor", "__pycache__", "dist", "build"}
)
MAX_FILES = 5000
MAX_DEPTH = 3
MAX_READ = 256 * 1024  # a detector reads the head of a file, never all of a big one


@dataclass(frozen=True)
class Tree:
    root: Path
    files: frozenset[str] = field(default_factory=frozenset)  # relative posix paths
    dirs: frozenset[str] = field(default_factory=frozenset)  # names skipped included, not walked

    def has(self, rel: str) -> bool:
        return rel in self.files

    def text(self, rel: str) -> str:
        """The head of a file (empty when it is not a regular file of the tree)."""
        if rel not in self.files:
            return ""
        try:
            with open(self.root / rel, "rb") as handle:
                return handle.read(MAX_READ).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def glob(self, suffix: str, depth: int = MAX_DEPTH) -> list[str]:
        return sorted(f for f in self.files if f.endswith(suffix) and f.count("/") < depth)


def read_tree(root: Path) -> Tree:
    files: set[str] = set()
    dirs: set[str] = set()
    stack = [(root, "", 0)]
    while stack and len(files) < MAX_FILES:
        path, prefix, depth = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                dirs.add(rel)
                if entry.name not in SKIPPED and depth + 1 < MAX_DEPTH:
                    stack.append((Path(entry.path), rel + "/", depth + 1))
            elif entry.is_file(follow_symlinks=False):
                files.add(rel)
    return Tree(root, frozenset(files), frozenset(dirs))
