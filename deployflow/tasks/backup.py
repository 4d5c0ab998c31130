from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.backup import BackupInfo, create_backup
from deployflow.tasks.logging import stage_log


@task(name="backup", cache_policy=NO_CACHE)
def backup(ctx: StackContext, backup_id: str) -> BackupInfo:
    return create_backup(ctx, backup_id, stage_log(ctx))
