"""Background processes deployflow keeps (the local Prefect server, its workers): started in
their own session, recorded in a state file (pid + kernel start time, so a stale file or a
reused pid is never mistaken for a live daemon), stopped with SIGTERM, then SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from deployflow.backends.executor import Command, kill_group, spawn
from deployflow.backends.files import atomic_write
from deployflow.backends.services.process_table import (
    descendants,
    group_members,
    is_service,
    proc_start_time,
)

__all__ = ["read_state", "start_daemon", "stop_daemon"]


def read_state(state_file: Path) -> tuple[dict[str, Any], int | None]:
    """The daemon's recorded state, and its pid when that very process still runs."""
    try:
        state = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}, None
    pid = int(state.get("pid") or 0)
    alive = pid > 0 and proc_start_time(pid) == state.get("start_time")
    return state, pid if alive else None


def start_daemon(command: Command, state_file: Path, log: Path, **extra: object) -> int:
    """Spawn it and record it (with `extra` facts such as its URL or pool); returns its pid."""
    proc = spawn(command, log)
    state = {"pid": proc.pid, "start_time": proc_start_time(proc.pid), "log": str(log), **extra}
    atomic_write(state_file, json.dumps(state))
    return proc.pid


def stop_daemon(state_file: Path, grace: float = 10.0) -> None:
    """Stop it and everything it started (a worker's flow-run processes live in groups of their
    own): SIGTERM to every group, the grace period, then SIGKILL; then forget it. Services a
    run started are spared: a run still exiting when its worker stops has them as children."""
    _state, pid = read_state(state_file)
    if pid is not None:
        groups = {pid} | {_group_of(p) for p in descendants(pid)} - {0}
        groups = {g for g in groups if not is_service(g)}
        for group in groups:
            kill_group(group, signal.SIGTERM)
        ends = time.monotonic() + grace
        while time.monotonic() < ends and any(group_members(g) for g in groups):
            time.sleep(0.1)
        for group in groups:
            kill_group(group)
    state_file.unlink(missing_ok=True)


def _group_of(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return 0
