"""A disk that fills during a build: the deploy fails in one line naming the disk, no partial
build is left behind to keep it full, and the live release stays up. Needs mount rights (a
1 MiB tmpfs over builds/); without them the test is skipped."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.conftest import Stack


def test_a_full_disk_during_build_leaves_no_partial_build(stack: Stack) -> None:
    stack.cli("run", "full")
    live = stack.current()
    builds = stack.root / "builds"
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(builds)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"no mount rights here: {mount.stderr.decode().strip()}")
    try:
        (stack.dir / "apps" / "backend" / "blob.bin").write_bytes(os.urandom(3 << 20))
        stack.set_version("backend", "2.0.0")
        proc = stack.cli("run", "full", "--plain", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"no space left on the disk of {builds}" in errors[0]
        assert not [p for p in (builds / "backend").glob("*") if p.is_dir()]  # nothing partial
        assert stack.current() == live and stack.health()["release"] == live
    finally:
        subprocess.run(["umount", str(builds)], check=True)
