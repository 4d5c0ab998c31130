"""A directory packed for upload: ignore rules applied while walking (an ignored dir is never
entered), links kept as links, a fifo left out, the archive 0600."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from deployflow.backends.packdir import pack_dir


def test_pack_applies_the_ignore_files_and_keeps_links(tmp_path: Path) -> None:
    base = tmp_path / "app"
    for rel in ("main.py", "pkg/mod.py", "dist/x.js", "pkg/node_modules/m.js", ".git/HEAD"):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(rel)
    (base / ".gitignore").write_text("dist/\n*.pyc\n")
    (base / ".dockerignore").write_text("notes.txt\n")
    (base / "notes.txt").write_text("mine")
    (base / "cache.pyc").write_bytes(b"\0")
    (base / "link").symlink_to("main.py")
    os.mkfifo(base / "pipe")
    packed = pack_dir(base, tmp_path / "out" / "source.tar.gz")
    assert packed.path.stat().st_mode & 0o777 == 0o600
    with tarfile.open(packed.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == [
        ".dockerignore",
        ".gitignore",
        "link",
        "main.py",
        "pkg",
        "pkg/mod.py",
    ]
    assert members["link"].issym() and members["link"].linkname == "main.py"
    assert packed.files == 4
