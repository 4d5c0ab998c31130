"""Notify: the run summary to the stack's targets; retried, never fatal."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.notify import send_notifications
from deployflow.tasks.logging import stage_log


@task(
    name="notify", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2, retry_jitter_factor=0.5
)
def notify(ctx: StackContext, summary: dict[str, Any]) -> list[str]:
    title = f"{ctx.stack.project} {summary['flow']} {summary['release']}: {summary['result']}"
    body = ctx.redact(
        f"{title}\napps: {', '.join(summary['apps'])}\nlive: {summary.get('live') or 'none'}\n"
        + (f"error: {summary['error']}\n" if summary.get("error") else "")
    )
    return send_notifications(ctx, title, body, stage_log(ctx))
