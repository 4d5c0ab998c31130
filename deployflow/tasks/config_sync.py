from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.configsync import ConfigChange, sync_configs
from deployflow.tasks.logging import stage_log


@task(name="config-sync", cache_policy=NO_CACHE)
def config_sync(ctx: StackContext, apps: list[str], with_stack: bool) -> list[ConfigChange]:
    return sync_configs(ctx, apps, stage_log(ctx), with_stack=with_stack)
