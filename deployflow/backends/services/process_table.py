"""The kernel's process table (/proc): start times that guard against pid reuse, and the
members of a process group."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["SERVICE_MARK", "descendants", "group_members", "is_service", "proc_start_time", "reap"]

SERVICE_MARK = "DEPLOYFLOW_SERVICE"  # in the environment of every service the process backend runs


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name (field 2) may hold spaces; everything after its ')' is space separated
    return raw[raw.rindex(")") + 2 :].split()


def proc_start_time(pid: int) -> str | None:
    """Kernel start time of a live (non-zombie) pid; guards against pid reuse."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and fields[0] not in ("Z", "X") and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), whatever their group."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[0] not in ("Z", "X"):
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def is_service(pid: int) -> bool:
    """Was `pid` started as a service by the process backend (its environment marked)?"""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return any(v.startswith(f"{SERVICE_MARK}=".encode()) for v in environ.split(b"\0"))
