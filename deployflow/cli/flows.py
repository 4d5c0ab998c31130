"""Run a flow from the CLI against the local (or configured) Prefect API, heartbeats off."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from deployflow.cli.common import echo_json

if TYPE_CHECKING:
    from deployflow.ops.progress import Progress

__all__ = ["print_summary", "run_flow"]


class _NoTracebacks(logging.Filter):
    """The terminal gets one line per failure; the API handler (which runs first) keeps them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return "_ApiGone" not in record.getMessage()  # ours, said in a line of its own


def run_flow(name: str, **params: Any) -> dict[str, Any]:
    from deployflow.backends.prefect_server import QUIET
    from deployflow.cli.prefect_api import api

    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    api()  # the local server started if it is the default; runs ended offline marked
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    fn = _flow(name)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NoTracebacks())
    params.setdefault("stack", "deployflow.yaml")
    params["stack"] = str(Path(params["stack"]).expanduser().resolve())
    params["stack_name"] = params.pop("project", Path(params["stack"]).parent.name)
    with (
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        _api_gone_cut_short() as ended,
    ):
        try:
            return fn(**params)
        except BaseException:
            if not ended:
                raise
    return _settled_offline(ended[0])


class _ApiGone(BaseException):
    """Raised in this (the main) thread while Prefect's engine retries a dead API."""


GRACE = 2.0  # after an operation settled offline, how long the engine may still try


@contextlib.contextmanager
def _api_gone_cut_short() -> Iterator[list[Progress]]:
    """When the operation ends with the API gone (flows/settle.py), Prefect's engine would retry
    its final state for minutes: after GRACE, SIGALRM cuts it short (every second, until the
    flow call is left), and the outcome the operation settled on is what this process reports."""
    from deployflow.ops.progress import listening

    ended: list[Progress] = []

    def heard(event: Progress) -> None:
        if event.kind == "settled offline" and not ended:
            ended.append(event)
            signal.setitimer(signal.ITIMER_REAL, GRACE, 1.0)

    def cut(_signum: int, _frame: object) -> None:
        raise _ApiGone

    previous = signal.signal(signal.SIGALRM, cut)
    try:
        with listening(heard):
            yield ended
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _settled_offline(event: Progress) -> dict[str, Any]:
    from deployflow.errors import DeployFailed, DeployflowError

    typer.echo(
        "the Prefect API stopped answering during the run; the operation finished on its own "
        "(below); its run is marked in Prefect when the API answers again",
        err=True,
    )
    summary = event.summary
    ok = not event.text and summary is not None
    if ok:
        return summary
    if summary is not None:
        raise DeployFailed(event.text, summary)
    raise DeployflowError(event.text or "the operation ended while the Prefect API was down")


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
    if name == "cert":
        from deployflow.flows.cert import cert

        return cert
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
