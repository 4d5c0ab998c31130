"""Content hashes: a source tree's fingerprint (build cache keys) and backup checksum lists."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["IGNORED", "build_key", "file_sha256", "stream_sha256", "tree_hash"]

IGNORED = frozenset({".git", "__pycache__", "node_modules", ".venv", "dist", ".pytest_cache"})


def stream_sha256(handle: BinaryIO) -> str:
    """SHA-256 of what `handle` reads to its end (a file, or a sealed file decrypting)."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 16), b""):
        digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return stream_sha256(handle)


def tree_hash(root: Path, ignore: frozenset[str] = IGNORED) -> str:
    """SHA-256 over every file's relative path, mode and content, in a stable order."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):  # a link to a dir is listed, not entered
        dirnames[:] = sorted(d for d in dirnames if d not in ignore)
        for name in sorted(
            [*filenames, *(d for d in dirnames if (Path(dirpath) / d).is_symlink())]
        ):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                digest.update(f"L {rel} {os.readlink(path)}\n".encode())
                continue
            mode = path.stat().st_mode & 0o777
            digest.update(f"F {rel} {mode:o} {file_sha256(path)}\n".encode())
    return digest.hexdigest()


def build_key(source_hash: str, steps: list[list[str]], configs: dict[str, str]) -> str:
    """The build cache key: same source, same steps, same rendered config -> same build."""
    payload = json.dumps({"src": source_hash, "steps": steps, "configs": configs}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
