"""Write the report as markdown and JSON under .deployflow/reports/ (secrets masked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deployflow.backends.files import atomic_write
from deployflow.core.context import StackContext
from deployflow.core.report import render_markdown

__all__ = ["write_report"]


def write_report(ctx: StackContext, summary: dict[str, Any]) -> Path:
    """Files under .deployflow/reports/, and a Prefect markdown artifact when run as a task."""
    markdown = ctx.redact(render_markdown(summary))
    name = f"{summary['release']}-{summary['flow']}"
    reports = ctx.layout.reports
    atomic_write(reports / f"{name}.json", ctx.redact(json.dumps(summary, indent=2, default=str)))
    atomic_write(reports / f"{name}.md", markdown)
    _artifact(ctx, summary, markdown)
    return reports / f"{name}.md"


def _artifact(ctx: StackContext, summary: dict[str, Any], markdown: str) -> None:
    import sys

    if "prefect" not in sys.modules:  # a plain run (config sync, tests): no Prefect to tell
        return
    from prefect.artifacts import create_markdown_artifact
    from prefect.context import TaskRunContext

    if TaskRunContext.get() is None:
        return
    create_markdown_artifact(
        markdown=markdown,
        key=f"{ctx.stack.project}-{summary['flow']}-report".replace("_", "-"),
        description=f"{summary['flow']} {summary['release']}: {summary['result']}",
    )
