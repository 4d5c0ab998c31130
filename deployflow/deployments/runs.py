"""Flow runs through the Prefect API: start one from a deployment (in the background), list,
read and cancel runs (their logs: runlogs.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from deployflow.backends.prefect_rest import FINAL
from deployflow.errors import DeployflowError

__all__ = ["STATUSES", "cancel_run", "list_runs", "run_status", "start_run"]


def _run_id(run: str) -> UUID:
    try:
        return UUID(run)
    except ValueError:
        raise DeployflowError(f"{run!r} is not a flow run id; see `deployflow runs list`") from None


def start_run(deployment: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Create a run of `deployment` ("flow/name") for its worker to pick up, and wake that
    worker when it runs here; returns at once. Over REST: no Prefect import."""
    from deployflow.backends.prefect_rest import PrefectRest
    from deployflow.backends.workers import wake_worker

    rest = PrefectRest(os.environ["PREFECT_API_URL"])
    try:
        dep = rest.deployment(deployment)
        if dep is None:
            raise DeployflowError(
                f"no deployment {deployment!r}; run `deployflow deployments apply` first"
            )
        run = rest.create_run(dep["id"], parameters)
    finally:
        rest.close()
    wake_worker(dep["work_pool_name"])
    return {
        "id": run["id"],
        "name": run["name"],
        "deployment": deployment,
        "pool": dep["work_pool_name"],
    }


def _row(run: Any) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "name": run.name,
        "state": run.state_type.value if run.state_type else None,
        "state_name": run.state_name,
        "start": run.start_time.isoformat() if run.start_time else None,
        "end": run.end_time.isoformat() if run.end_time else None,
        "seconds": round(run.total_run_time.total_seconds(), 2),
        "parameters": {k: v for k, v in run.parameters.items() if k != "stack_name"},
        "tags": list(run.tags),
    }


STATUSES = ("scheduled", "pending", "running", "completed", "failed", "cancelled", "crashed")


def list_runs(project: str, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    flt = FlowRunFilter(tags=FlowRunFilterTags(all_=["deployflow", project]))
    if status:
        wanted = StateType(status.upper())
        flt.state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[wanted]))
    if status != "scheduled":  # runs that happened or are due; `--status scheduled`: the future
        flt.expected_start_time = FlowRunFilterExpectedStartTime(
            before_=datetime.now(UTC) + timedelta(seconds=5)
        )
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=flt, limit=limit, sort=FlowRunSort.EXPECTED_START_TIME_DESC
        )
    return [_row(r) for r in runs]


def run_status(run: str) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import TaskRunSort
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            found = client.read_flow_run(_run_id(run))
        except ObjectNotFound:
            raise DeployflowError(f"no flow run {run}; see `deployflow runs list`") from None
        row = _row(found)
        tasks = client.read_task_runs(
            flow_run_filter=_by_id(found.id),
            limit=200,
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    row["stages"] = [
        {"name": t.name, "state": t.state_type.value if t.state_type else None} for t in tasks
    ]
    row["message"] = found.state.message if found.state else None
    return row


def _by_id(run_id: UUID) -> Any:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    return FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))


def cancel_run(run: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Ask Prefect to cancel; the worker kills the run's whole process group."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    row = run_status(run)
    if row["state"] in FINAL:
        raise DeployflowError(f"run {run} already ended ({row['state_name']}); nothing to cancel")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(_run_id(run), Cancelling(), force=True)
    say(f"cancelling {row['name']} ({run})")
    return row
