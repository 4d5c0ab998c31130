"""The release stage: link, migrate, freeze configs, switch `current`."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.release import (
    link_app,
    migrate,
    snapshot_configs,
    switch_current,
    write_revision,
)
from deployflow.tasks.logging import stage_log


@task(name="release", cache_policy=NO_CACHE)
def release(
    ctx: StackContext, release_id: str, apps: list[str], versions: dict[str, str]
) -> list[str]:
    log = stage_log(ctx)
    for app in ctx.stack.apps:
        link_app(ctx, app, release_id, log)
    write_revision(ctx, release_id, versions)
    applied = migrate(ctx, apps, release_id, log)
    snapshot_configs(ctx, release_id)
    switch_current(ctx, release_id, log)
    return applied
