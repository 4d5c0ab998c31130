"""Heartbeats for a forked run, sent by the warm worker. Prefect's flow engine beats from a
thread that sleeps in whole seconds and is joined when the run ends: up to a second added to
every run's end. A forked run lives exactly as long as the worker watches it (it dies with the
zygote, which dies with the worker), so the worker beats for it instead (the zygote turns the
engine's off): the same `prefect.flow-run.heartbeat` event, with the same resources, every
`seconds` while the process lives and the run is not final. The zombie automation
(deployments/apply.py) sees no difference; a cold-started run beats itself, as usual."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prefect import __version__
from prefect.client.schemas.objects import FlowRun
from prefect.events import emit_event
from prefect.events.related import tags_as_related_resources
from prefect.events.schemas.events import RelatedResource

__all__ = ["beat"]


async def _template(client: Any, flow_run: FlowRun) -> tuple[dict[str, str], list]:
    """The engine's heartbeat resource and related resources for this run."""
    flow_run = await client.read_flow_run(flow_run.id)  # all fields, not the pickup's few
    resource = {
        "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
        "prefect.resource.name": flow_run.name or "",
        "prefect.version": __version__,
    }
    flow = await client.read_flow(flow_run.flow_id)
    related = [
        RelatedResource.model_validate(
            {
                "prefect.resource.id": f"prefect.flow.{flow_run.flow_id}",
                "prefect.resource.role": "flow",
                "prefect.resource.name": flow.name,
            }
        )
    ]
    if flow_run.deployment_id:
        related.append(
            RelatedResource.model_validate(
                {
                    "prefect.resource.id": f"prefect.deployment.{flow_run.deployment_id}",
                    "prefect.resource.role": "deployment",
                }
            )
        )
    related += tags_as_related_resources(set(flow_run.tags or []))
    # what Prefect's events worker adds from a run's context: its work queue and pool
    for kind, key, name in (
        ("work-queue", flow_run.work_queue_id, flow_run.work_queue_name),
        ("work-pool", flow_run.work_pool_id, flow_run.work_pool_name),
    ):
        if key:
            related.append(
                RelatedResource.model_validate(
                    {
                        "prefect.resource.id": f"prefect.{kind}.{key}",
                        "prefect.resource.role": kind,
                        "prefect.resource.name": name or "",
                    }
                )
            )
    return resource, related


async def beat(client: Any, flow_run: FlowRun, seconds: int, logger: logging.Logger) -> None:
    """Beat until cancelled (the run's process ended) or the run is final. A beat the API
    does not take is skipped, as the engine skips it (the next may go through)."""
    template: tuple[dict[str, str], list] | None = None
    while True:
        try:
            template = template or await _template(client, flow_run)
            state = (await client.read_flow_run(flow_run.id)).state
            if state is not None and state.is_final():
                return
            resource, related = template
            emit_event(event="prefect.flow-run.heartbeat", resource=resource, related=related)
        except Exception as exc:
            logger.debug("warm runner: no heartbeat for %s: %s", flow_run.id, exc)
        await asyncio.sleep(seconds)
