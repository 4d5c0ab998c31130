"""A directory read as the detectors' source tree: a bounded walk (vendored and hidden dirs
skipped, links not followed, a few levels deep, a few thousand names) and the head of a small
file when a detector asks for it. A symlink loop or a 2 GB file cannot hang it."""

from __future__ import annotations

import os
from pathlib import Path

from deployflow.core.detect import Plan, detect
from deployflow.core.detect.files import MAX_DEPTH, MAX_FILES, MAX_READ, SKIPPED, Tree

__all__ = ["detect_in", "read_tree"]


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

    def head(rel: str) -> str:
        try:
            with open(root / rel, "rb") as handle:
                return handle.read(MAX_READ).decode("utf-8", errors="replace")
        except OSError:
            return ""

    return Tree(str(root), frozenset(files), frozenset(dirs), head)


def detect_in(directory: Path) -> Plan:
    """The plan for the app in `directory` (`core.detect.detect` over its tree)."""
    return detect(read_tree(directory))
