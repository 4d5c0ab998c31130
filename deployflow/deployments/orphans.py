"""Flow runs left RUNNING by a worker that died together with them (a host crash, SIGKILL of the
whole tree). Such a run holds its deployment's concurrency slot until Prefect's zombie automation
(see apply.py) notices its missing heartbeats. A worker starting on this host does not wait: a run
of one of its pools whose process is gone from this host is marked Crashed, which frees the slot
and fires the recover-on-crash automation. Only pools served from this host are checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["crash_orphans", "is_run_process", "orphan_ids"]

LIVE = ("PENDING", "RUNNING", "CANCELLING")


def is_run_process(pid: int, run_id: str) -> bool:
    """Is `pid` alive on this host and the process Prefect started for `run_id`? (A reused pid
    belongs to some other process, whose environment does not name the run.) A run forked by
    the warm worker's zygote sets its environment after the fork, which /proc does not show:
    it keeps the zygote's command line and leads its own session (the zygote does not)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    if f"PREFECT__FLOW_RUN_ID={run_id}".encode() in environ.split(b"\0"):
        return True
    return b"deployflow.warm.zygote" in cmdline.split(b"\0") and _leads_session(pid)


def _leads_session(pid: int) -> bool:
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False


def orphan_ids(runs: list[dict[str, Any]]) -> list[str]:
    """The runs (id, state, pid rows) that are live in Prefect but dead on this host. A run
    without a pid yet is being submitted, not orphaned."""
    return [
        r["id"]
        for r in runs
        if r["state"] in LIVE and r["pid"] and not is_run_process(r["pid"], r["id"])
    ]


def _pid(infrastructure_pid: str | None) -> int | None:
    text = (infrastructure_pid or "").rsplit(":", 1)[-1]
    return int(text) if text.isdigit() else None


def crash_orphans(pools: list[str]) -> list[str]:
    """Mark each orphaned run of `pools` Crashed; returns their ids."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.states import Crashed

    if not pools:
        return []
    live = FlowRunFilterStateType(any_=[StateType(s) for s in LIVE])
    with get_client(sync_client=True) as client:
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=live)),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=pools)),
            limit=200,
            sort=FlowRunSort.START_TIME_DESC,  # this client sends null otherwise, refused
        )
        rows = [
            {"id": str(r.id), "state": r.state_type.value, "pid": _pid(r.infrastructure_pid)}
            for r in found
            if r.state_type
        ]
        orphans = orphan_ids(rows)
        message = "its process died with its worker (found when a worker started on this host)"
        for run_id in orphans:
            client.set_flow_run_state(run_id, Crashed(message=message), force=True)
    return orphans
