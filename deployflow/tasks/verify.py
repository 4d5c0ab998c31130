from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.probes import ProbeResult
from deployflow.stages.verify import verify_apps
from deployflow.tasks.logging import stage_log


@task(name="verify", cache_policy=NO_CACHE)
def verify(ctx: StackContext, apps: list[str], release_id: str) -> list[ProbeResult]:
    return verify_apps(ctx, apps, release_id, stage_log(ctx))
