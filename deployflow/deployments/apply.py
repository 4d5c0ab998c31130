"""Register the stack's deployments with the Prefect API (work pools created when missing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from deployflow.core.context import StackContext
from deployflow.deployments.specs import (
    RECOVERED,
    DeploymentSpec,
    deployment_specs,
    interval_seconds,
)

__all__ = ["ZOMBIE_SECONDS", "apply_deployments", "ensure_pools", "last_polls", "list_deployments"]

ZOMBIE_SECONDS = 90  # 3 missed heartbeats (workers' flow runs beat every HEARTBEAT_SECONDS)


def ensure_pools(pools: set[str]) -> list[str]:
    """Create each process work pool that does not exist; returns the ones created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    created = []
    with get_client(sync_client=True) as client:
        for pool in sorted(pools):
            try:
                client.read_work_pool(pool)
            except ObjectNotFound:
                client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
                created.append(pool)
    return created


def _schema(flow: Any, spec: DeploymentSpec) -> dict[str, Any]:
    """The flow's parameter schema, with `apps` a choice among the stack's apps (the UI form)."""
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(flow).model_dump_for_openapi()
    apps = schema.get("properties", {}).get("apps")
    if apps is not None and spec.app_names:
        choice = {"type": "array", "items": {"type": "string", "enum": spec.app_names}}
        apps.pop("type", None)
        apps["anyOf"] = [choice, {"type": "null"}]  # none: every app
    return schema


def _apply(client: Any, spec: DeploymentSpec) -> str:
    """Create or update one deployment. The entrypoint is a module path inside the installed
    package, so a worker needs no code download (no storage, no pull steps)."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.objects import ConcurrencyOptions
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
    from prefect.utilities.importtools import import_object

    flow = import_object(spec.entrypoint)
    schedules = []
    if spec.cron:
        seconds = interval_seconds(spec.cron)
        schedule = (
            IntervalSchedule(interval=timedelta(seconds=seconds))
            if seconds
            else CronSchedule(cron=spec.cron)
        )
        schedules.append(DeploymentScheduleCreate(schedule=schedule, active=True))
    deployment_id = client.create_deployment(
        flow_id=client.create_flow_from_name(flow.name),
        name=spec.name,
        work_pool_name=spec.pool,
        entrypoint=spec.entrypoint,
        path=None,
        pull_steps=[],
        # the run imports its flow from the installed package: no deployment read, no pull
        job_variables={"env": {"PREFECT__FLOW_ENTRYPOINT": spec.entrypoint}},
        parameters=spec.parameters,
        parameter_openapi_schema=_schema(flow, spec),
        tags=spec.tags,
        schedules=schedules,
        concurrency_limit=spec.concurrency,
        concurrency_options=ConcurrencyOptions(collision_strategy="ENQUEUE")
        if spec.concurrency
        else None,
        description=spec.description,
        version=spec.fingerprint,
        enforce_parameter_schema=True,
    )
    return str(deployment_id)


def _replace_automation(client: Any, automation: Any) -> None:
    for old in client.read_automations_by_name(automation.name):
        client.delete_automation(old.id)
    client.create_automation(automation)


def _crash_zombies(client: Any, name: str, deployment_ids: list[str]) -> None:
    """A run whose process died with its worker sends no more heartbeats: mark it crashed after
    ZOMBIE_SECONDS, so it frees its deployment's concurrency slot (and `recover` runs)."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    ends = {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed")}
    _replace_automation(
        client,
        AutomationCore(
            name=f"{name}-crash-zombie-runs",
            description="Mark a run crashed when its heartbeats stop (its process died).",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={"prefect.flow-run.heartbeat", *ends},
                match_related={
                    "prefect.resource.id": [f"prefect.deployment.{i}" for i in deployment_ids]
                },
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=timedelta(seconds=ZOMBIE_SECONDS),
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED, message="no heartbeat: its process died"
                )
            ],
        ),
    )


def _recover_on_crash(client: Any, name: str, ids: dict[tuple[str, str], str], target: str) -> None:
    """A Prefect automation: when a deploy, deploy-app or rollback run of this target crashes
    (its process killed), run the target's `recover` deployment. Replaced on every apply."""
    from uuid import UUID

    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    watched = [f"prefect.deployment.{ids[(kind, target)]}" for kind in RECOVERED]
    _replace_automation(
        client,
        AutomationCore(
            name=f"{name}-recover-on-crash",
            description="Put the last good release back when a deploy run crashes.",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Crashed"},
                match_related={"prefect.resource.id": watched},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                RunDeployment(source="selected", deployment_id=UUID(ids[("recover", target)]))
            ],
        ),
    )


def apply_deployments(ctx: StackContext) -> list[dict[str, Any]]:
    """Every flow as a deployment per target; re-applying updates them in place."""
    from prefect.client.orchestration import get_client

    specs = deployment_specs(ctx)
    ensure_pools({s.pool for s in specs})
    with get_client(sync_client=True) as client:
        ids = [_apply(client, s) for s in specs]
        by_spec = {(s.kind, s.target): i for s, i in zip(specs, ids, strict=True)}
        for target in ctx.stack.targets:
            name = f"{ctx.stack.project}-{target}"
            _crash_zombies(client, name, [i for (_k, t), i in by_spec.items() if t == target])
            _recover_on_crash(client, name, by_spec, target)
    return [
        {
            "name": s.full_name,
            "id": deployment_id,
            "pool": s.pool,
            "target": s.target,
            "schedule": s.cron,
            "concurrency": s.concurrency,
        }
        for s, deployment_id in zip(specs, ids, strict=True)
    ]


def list_deployments(project: str) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags
    from prefect.client.schemas.sorting import DeploymentSort

    with get_client(sync_client=True) as client:
        found = client.read_deployments(
            deployment_filter=DeploymentFilter(
                tags=DeploymentFilterTags(all_=["deployflow", project])
            ),
            limit=200,
            sort=DeploymentSort.NAME_ASC,
        )
        flows = {fid: client.read_flow(fid).name for fid in {d.flow_id for d in found}}
    return [
        {
            "name": f"{flows.get(d.flow_id, '?')}/{d.name}",
            "id": str(d.id),
            "pool": d.work_pool_name,
            "schedules": [
                getattr(s.schedule, "cron", None) or f"{int(s.schedule.interval.total_seconds())}s"
                for s in d.schedules
            ],
            "paused": d.paused,
        }
        for d in found
    ]


def last_polls(pools: list[str]) -> dict[str, str]:
    """When each pool's workers last polled the server (newest heartbeat), as ISO time."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    seen: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for pool in pools:
            try:
                workers = client.read_workers_for_work_pool(pool, limit=50, offset=0)
            except ObjectNotFound:
                continue
            beats = [w.last_heartbeat_time for w in workers if w.last_heartbeat_time]
            if beats:
                seen[pool] = max(beats).isoformat(timespec="seconds")
    return seen
