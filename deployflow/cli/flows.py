"""Run a flow from the CLI against the local (or configured) Prefect API, heartbeats off."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import typer

from deployflow.cli.common import echo_json

__all__ = ["print_summary", "run_flow"]


class _NoTracebacks(logging.Filter):
    """The terminal gets one line per failure; the API handler (which runs first) keeps them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def run_flow(name: str, **params: Any) -> dict[str, Any]:
    from deployflow.backends.prefect_server import QUIET, ensure_api

    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    ensure_api(say=lambda message: typer.echo(message, err=True))
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    fn = _flow(name)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NoTracebacks())
    params.setdefault("stack", "deployflow.yaml")
    params["stack"] = str(Path(params["stack"]).expanduser().resolve())
    params["stack_name"] = params.pop("project", Path(params["stack"]).parent.name)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return fn(**params)


def _flow(name: str) -> Any:
    if name == "deploy":
        from deployflow.flows.deploy import deploy

        return deploy
    if name == "rollback":
        from deployflow.flows.rollback import rollback

        return rollback
    if name == "rollout":
        from deployflow.flows.rollout import rollout

        return rollout
    from deployflow.flows import backup

    return {"backup": backup.backup, "backup-verify": backup.backup_verify}.get(
        name, backup.restore
    )


def print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(summary)
        return
    if sys.stdout.isatty():  # the live view showed the stages: the outcome, not the markdown
        from deployflow.core.report import render_short

        typer.echo("\n".join(render_short(summary)))
        return
    report = summary.get("report")
    if report and Path(report).is_file():
        typer.echo(Path(report).read_text())
    if summary.get("urls") and summary.get("result") == "success":
        typer.echo("running:")
        for app, url in summary["urls"].items():
            typer.echo(f"  {app:10} {url}")
