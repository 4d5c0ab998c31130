"""Flow runs left RUNNING by a worker that died together with them (a host crash, SIGKILL of the
whole tree). Such a run holds its deployment's concurrency slot until Prefect's zombie automation
(see apply.py) notices its missing heartbeats. A worker starting on this host does not wait: a run
of one of its pools whose process is gone from this host is marked Crashed, which frees the slot
and fires the recover-on-crash automation; so is one a dead worker left pending before it could
start it. Only pools served from this host are checked."""

from __future__ import annotations

import os
from typing import Any

from deployflow.backends.services.process_table import cmdline_of, environ_of

__all__ = ["crash_orphans", "is_run_process", "orphan_ids", "workers_since"]

LIVE = ("PENDING", "RUNNING", "CANCELLING")
CLOCK_SLACK = 1.0  # s: the server's clock against ours (a worker needs longer to import)


def is_run_process(pid: int, run_id: str) -> bool:
    """Is `pid` alive on this host and the process Prefect started for `run_id`? (A reused pid
    belongs to some other process, whose environment does not name the run.) A run forked by
    the warm worker's zygote sets its environment after the fork, which /proc does not show:
    it keeps the zygote's command line and leads its own session (the zygote does not)."""
    if environ_of(pid).get("PREFECT__FLOW_RUN_ID") == run_id:
        return True
    return "deployflow.warm.zygote" in cmdline_of(pid) and _leads_session(pid)


def _leads_session(pid: int) -> bool:
    try:
        return os.getsid(pid) == pid
    except OSError:
        return False


def orphan_ids(runs: list[dict[str, Any]], workers_since: dict[str, float | None]) -> list[str]:
    """The runs (id, state, pid, pool, since rows) that are live in Prefect but dead on this
    host. A run without a pid yet is being submitted: by a dead worker when it went pending
    before the oldest live worker of its pool here started (`workers_since`; None: none runs),
    which is then never going to start it (and holds its deployment's concurrency slot)."""
    orphans = []
    for r in runs:
        if r["state"] not in LIVE:
            continue
        if r["pid"]:
            if not is_run_process(r["pid"], r["id"]):
                orphans.append(r["id"])
        elif r["state"] == "PENDING" and r["since"] is not None:
            started = workers_since.get(r["pool"])
            if started is None or r["since"] < started - CLOCK_SLACK:
                orphans.append(r["id"])
    return orphans


def workers_since(pools: list[str]) -> dict[str, float | None]:
    """When the oldest live deployflow worker of each pool on this host started (epoch s)."""
    import psutil

    starts: dict[str, list[float]] = {pool: [] for pool in pools}
    for proc in psutil.process_iter(["cmdline", "create_time"]):
        argv = proc.info["cmdline"] or []
        if "deployflow.warm.worker" in argv and "--pool" in argv[:-1]:
            starts.get(argv[argv.index("--pool") + 1], []).append(proc.info["create_time"])
    return {pool: min(found) if found else None for pool, found in starts.items()}


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
            {
                "id": str(r.id),
                "state": r.state_type.value,
                "pid": _pid(r.infrastructure_pid),
                "pool": r.work_pool_name,
                "since": r.state.timestamp.timestamp() if r.state else None,
            }
            for r in found
            if r.state_type
        ]
        orphans = orphan_ids(rows, workers_since(pools))
        message = "its process died with its worker (found when a worker started on this host)"
        for run_id in orphans:
            client.set_flow_run_state(run_id, Crashed(message=message), force=True)
    return orphans
