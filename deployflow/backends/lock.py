"""One operation at a time per deploy root: a kernel lock (`fcntl.flock`) on `.deployflow/lock`,
released by the kernel when its holder dies, so there is no stale lock to guess about."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from deployflow.errors import LockError

__all__ = ["deploy_lock", "lock_holder"]


def _holder_info(fd: int) -> dict:
    """The holder's record (written right after it took the lock; empty for a moment)."""
    text = os.pread(fd, 4096, 0).decode(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return {"purpose": "an operation that is starting"}


def lock_holder(path: Path) -> dict | None:
    """Who holds the lock (pid, purpose, since), or None when nobody does."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_info(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def deploy_lock(path: Path, purpose: str) -> Iterator[None]:
    """Hold the root's lock for the block, or raise `LockError` naming the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    held = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _holder_info(fd)
            raise LockError(
                f"another operation ({info.get('purpose', '?')}, pid {info.get('pid', '?')}, "
                f"since {info.get('since', '?')}) holds {path}; wait for it to finish"
            ) from None
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "purpose": purpose,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        held = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        if held:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock
