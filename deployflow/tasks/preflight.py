from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.preflight import Check, run_preflight
from deployflow.tasks.logging import stage_log


@task(name="preflight", cache_policy=NO_CACHE)
def preflight(ctx: StackContext, apps: list[str]) -> list[Check]:
    return run_preflight(ctx, apps, stage_log(ctx))
