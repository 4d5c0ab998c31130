from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.probes import ProbeResult
from deployflow.stages.rollback import rollback_to
from deployflow.tasks.logging import stage_log


@task(name="rollback", cache_policy=NO_CACHE)
def rollback(ctx: StackContext, target: str | None, configs_from: str | None) -> list[ProbeResult]:
    return rollback_to(ctx, target, Path(configs_from) if configs_from else None, stage_log(ctx))
