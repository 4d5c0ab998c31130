from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.backends.services import ServiceStatus
from deployflow.core.context import StackContext
from deployflow.stages.services import start_services
from deployflow.tasks.logging import stage_log


@task(name="start", cache_policy=NO_CACHE)
def start(ctx: StackContext, services: list[str]) -> list[ServiceStatus]:
    return start_services(ctx, services, stage_log(ctx))
