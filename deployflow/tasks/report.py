"""Report: markdown + JSON files and a Prefect markdown artifact."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from deployflow.core.context import StackContext
from deployflow.stages.report import write_report
from deployflow.tasks.logging import stage_log


@task(name="report", cache_policy=NO_CACHE)
def report(ctx: StackContext, summary: dict[str, Any]) -> str:
    path, markdown = write_report(ctx, summary)
    create_markdown_artifact(
        markdown=markdown,
        key=f"{ctx.stack.project}-{summary['flow']}-report".replace("_", "-"),
        description=f"{summary['flow']} {summary['release']}: {summary['result']}",
    )
    stage_log(ctx)(f"report written to {path}")
    return str(path)
