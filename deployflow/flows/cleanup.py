"""`cleanup`: old releases, builds, backups and this project's finished flow runs past retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger

from deployflow.flows.runcontext import run_context
from deployflow.ops.cleanup import cleanup as cleanup_op

__all__ = ["cleanup", "delete_old_runs"]


def delete_old_runs(older_than: timedelta, tags: list[str], dry_run: bool = False) -> int:
    """Delete (or with `dry_run` count) finished flow runs older than `older_than` that carry
    all `tags`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    before = datetime.now(UTC) - older_than
    done = [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
    flt = FlowRunFilter(
        start_time=FlowRunFilterStartTime(before_=before),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=done)),
        tags=FlowRunFilterTags(all_=tags),
    )
    count = 0
    with get_client(sync_client=True) as client:
        while True:  # the API returns at most 200 at a time
            page = client.read_flow_runs(
                flow_run_filter=flt,
                limit=200,
                offset=count if dry_run else 0,
                sort=FlowRunSort.START_TIME_ASC,
            )
            if not page:
                return count
            for run in page:
                if not dry_run:
                    client.delete_flow_run(run.id)
            count += len(page)


@flow(name="cleanup", flow_run_name="cleanup-{stack_name}")
def cleanup(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    runs_older_than_days: int = 30,
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Prune releases and builds (keep_releases), backups (backup policy) and old flow runs."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    pruned: dict[str, Any] = cleanup_op(ctx, lambda m: log.info(ctx.redact(m)))
    pruned["flow_runs"] = delete_old_runs(
        timedelta(days=runs_older_than_days), ["deployflow", ctx.stack.project]
    )
    log.info(f"cleanup: {pruned}")
    return pruned
