"""Cleanup: releases, builds and backups past retention, under the root's lock."""

from __future__ import annotations

from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.ops.putback import recover
from deployflow.stages import Log
from deployflow.stages.backup import prune_backups
from deployflow.stages.release import prune_releases

__all__ = ["cleanup"]


def cleanup(ctx: StackContext, log: Log) -> dict[str, list[str]]:
    with deploy_lock(ctx.layout.lock, "cleanup"):
        recover(ctx, log)
        return {"releases": prune_releases(ctx, log), "backups": prune_backups(ctx, log)}
