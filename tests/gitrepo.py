"""A local git repository for tests of git sources: commit a VERSION file, get its SHA."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["commit"]

GIT = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]


def commit(repo: Path, version: str) -> str:
    (repo / "VERSION").write_text(version + "\n")
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", f"release {version}"], cwd=repo, check=True)
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()
