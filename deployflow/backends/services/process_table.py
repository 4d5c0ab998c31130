"""The process table, through psutil: start times that guard against pid reuse (the kernel's
own field, as recorded in pidfiles), the members of a process group, a process's descendants,
environment and command line."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil

__all__ = [
    "SERVICE_MARK",
    "cmdline_of",
    "descendants",
    "environ_of",
    "group_members",
    "is_service",
    "proc_start_time",
    "reap",
]

GONE = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
DEAD = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)

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


def _live() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["ppid", "status"]) if p.info["status"] not in DEAD]


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for proc in _live():
        with contextlib.suppress(OSError):
            if os.getpgid(proc.pid) == pgid:
                members.append(proc.pid)
    return members


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), whatever their group."""
    children: dict[int, list[int]] = {}
    for proc in _live():
        children.setdefault(proc.info["ppid"], []).append(proc.pid)
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def environ_of(pid: int) -> dict[str, str]:
    """The environment `pid` started with ({} when gone or not ours to read)."""
    try:
        return psutil.Process(pid).environ()
    except GONE:
        return {}


def cmdline_of(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except GONE:
        return []


def is_service(pid: int) -> bool:
    """Was `pid` started as a service by the process backend (its environment marked)?"""
    return SERVICE_MARK in environ_of(pid)
