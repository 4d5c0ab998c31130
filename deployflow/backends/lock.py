"""One deploy per deploy root: an O_EXCL lock file holding the owner's pid; stale locks recover."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.services.process import proc_start_time
from deployflow.errors import LockError

__all__ = ["deploy_lock", "read_lock"]


def read_lock(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        return {"pid": 0, "note": "unreadable lock file"}


def _owner_alive(info: dict) -> bool:
    pid = int(info.get("pid") or 0)
    if pid <= 0 or info.get("host") not in (None, socket.gethostname()):
        return pid > 0
    started = proc_start_time(pid)
    return started is not None and started == info.get("start_time", started)


@contextlib.contextmanager
def deploy_lock(path: Path, purpose: str, warn: Callable[[str], None]) -> Iterator[dict | None]:
    """Hold the lock for the block; yields the stale lock recovered, if any."""
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {
        "pid": os.getpid(),
        "start_time": proc_start_time(os.getpid()),
        "host": socket.gethostname(),
        "purpose": purpose,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    stale = None
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = read_lock(path) or {}
            if _owner_alive(info):
                raise LockError(
                    f"another deploy ({info.get('purpose', '?')}, pid {info.get('pid')}, since "
                    f"{info.get('since', '?')}) holds {path}; wait for it to finish"
                ) from None
            stale = info
            warn(
                f"recovered a stale lock from pid {info.get('pid')} ({info.get('purpose', '?')}, "
                f"since {info.get('since', '?')}); that run died without cleaning up"
            )
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(me, handle)
            handle.flush()
            os.fsync(handle.fileno())
        break
    else:
        raise LockError(f"could not take {path}; remove it if no deploy is running")
    try:
        yield stale
    finally:
        with contextlib.suppress(FileNotFoundError):
            if (read_lock(path) or {}).get("pid") == me["pid"]:
                path.unlink()
