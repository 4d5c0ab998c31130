"""Write the report as markdown and JSON under .deployflow/reports/ (secrets masked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deployflow.backends.files import atomic_write, switch_symlink
from deployflow.core.context import StackContext
from deployflow.core.report import render_markdown

__all__ = ["write_report"]


def write_report(ctx: StackContext, summary: dict[str, Any]) -> tuple[Path, str]:
    """The report as files under .deployflow/reports/; returns the markdown's path and text."""
    markdown = ctx.redact(render_markdown(summary))
    name = f"{summary['release']}-{summary['flow']}"
    reports = ctx.layout.reports
    atomic_write(reports / f"{name}.json", ctx.redact(json.dumps(summary, indent=2, default=str)))
    atomic_write(reports / f"{name}.md", markdown)
    if summary.get("run"):  # found by the run's id (the CLI that followed it over the API)
        switch_symlink(reports / "runs" / f"{summary['run']}.json", f"../{name}.json")
    return reports / f"{name}.md", markdown
