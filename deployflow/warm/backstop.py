"""The recover-on-crash automation, backed by the worker. Prefect's automation missed 2 of 10
crashes when tried; so the worker, when it starts and every CHECK_SECONDS, looks at the runs of
its pool: a deploy or rollback run that crashed, with no run of the pool's `recover` deployment
after it, gets one (recover is idempotent: a second one finds nothing to do)."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["CHECK_SECONDS", "RunRow", "needs_recover", "recover_crashed", "watch_crashes"]

CHECK_SECONDS = float(os.environ.get("DEPLOYFLOW_RECOVER_CHECK_SECONDS") or 30)
GRACE = timedelta(seconds=10)  # the automation usually starts one within this
LOOKBACK = timedelta(hours=6)
WATCHED = ("deploy", "rollback")  # the flows whose crash leaves a journal behind


@dataclass(frozen=True)
class RunRow:
    flow: str  # the flow of the run's deployment: deploy, rollback, recover, ...
    state: str
    at: datetime  # a crash: when it crashed; a recover run: when it was created


def needs_recover(rows: list[RunRow], now: datetime) -> bool:
    """True when the newest crash of a watched run (older than GRACE) has no recover after it."""
    crashes = [r.at for r in rows if r.flow in WATCHED and r.state == "CRASHED"]
    if not crashes:
        return False
    crash = max(crashes)
    if now - crash < GRACE:
        return False
    return not any(r.flow == "recover" and r.at >= crash for r in rows)


async def recover_crashed(client: Any, pool: str) -> str | None:
    """Start the pool's recover deployment when a crash went unanswered; its run id."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.sorting import DeploymentSort, FlowRunSort

    deployments = await client.read_deployments(  # this client sends nulls the API refuses
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
        limit=200,
        sort=DeploymentSort.CREATED_DESC,
    )
    if not deployments:
        return None
    # the flow by its entrypoint (`deployflow.flows.deploy:deploy`): no flow lookups
    flow_of = {d.id: (d.entrypoint or "").rpartition(":")[2] for d in deployments}
    recover = next((d for d in deployments if flow_of[d.id] == "recover"), None)
    if recover is None:
        return None
    now = datetime.now(UTC)
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=list(flow_of)),
            expected_start_time=FlowRunFilterExpectedStartTime(after_=now - LOOKBACK),
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=200,
    )
    rows = [
        RunRow(
            flow_of.get(r.deployment_id, ""),
            r.state_type.value if r.state_type else "",
            (r.state.timestamp if r.state_type and r.state_type.value == "CRASHED" else r.created)
            or now,
        )
        for r in runs
    ]
    if not needs_recover(rows, now):
        return None
    run = await client.create_flow_run_from_deployment(recover.id)
    return str(run.id)


async def watch_crashes(client: Any, pool: str, logger: logging.Logger) -> None:
    """Check now and every CHECK_SECONDS, for as long as the worker runs."""
    while True:
        try:
            started = await recover_crashed(client, pool)
            if started:
                logger.warning("a crashed deploy had no recover run; started one: %s", started)
        except Exception as exc:  # the server restarting, say: look again later
            logger.warning("crash backstop: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(CHECK_SECONDS)
