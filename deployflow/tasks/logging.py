"""Stage logs go through Prefect's run logger (UI, `deployflow logs`), secrets masked."""

from __future__ import annotations

from prefect import get_run_logger

from deployflow.core.context import StackContext
from deployflow.stages import Log

__all__ = ["stage_log"]


def stage_log(ctx: StackContext) -> Log:
    logger = get_run_logger()
    redact = ctx.redact
    return lambda message: logger.info(redact(message))
