"""A source tree as the detectors see it: the names in it (a few levels deep, vendored and
hidden dirs skipped, links not followed) and the heads of its files, read through the reader
the tree was made with (`backends/sourcetree.py` walks a directory; `Tree.of` takes a dict).
Pure: no detector touches the disk."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["MAX_DEPTH", "MAX_FILES", "MAX_READ", "SKIPPED", "Tree"]

SKIPPED = frozenset(
    {".git", ".hg", "node_modules", ".venv", "venv", "vendor", "__pycache__", "dist", "build"}
)
MAX_FILES = 5000
MAX_DEPTH = 3
MAX_READ = 256 * 1024  # a detector reads the head of a file, never all of a big one


def _nothing(_rel: str) -> str:
    return ""


@dataclass(frozen=True)
class Tree:
    where: str  # the tree in messages: its directory
    files: frozenset[str] = field(default_factory=frozenset)  # relative posix paths
    dirs: frozenset[str] = field(default_factory=frozenset)  # names skipped included, not walked
    read: Callable[[str], str] = _nothing  # the head of one of `files` ("" if unreadable)

    @classmethod
    def of(cls, contents: Mapping[str, str], where: str = "<memory>") -> Tree:
        """A tree held in memory: {relative path: text}."""
        dirs = {rel.rsplit("/", i)[0] for rel in contents for i in range(1, rel.count("/") + 1)}
        return cls(where, frozenset(contents), frozenset(dirs), lambda rel: contents[rel])

    def has(self, rel: str) -> bool:
        return rel in self.files

    def text(self, rel: str) -> str:
        """The head of a file (empty when it is not a regular file of the tree)."""
        return self.read(rel)[:MAX_READ] if rel in self.files else ""

    def glob(self, suffix: str, depth: int = MAX_DEPTH) -> list[str]:
        return sorted(f for f in self.files if f.endswith(suffix) and f.count("/") < depth)
