"""Foreground runs through the warm worker: when this host's server and the target's worker
are up and the deployment exists, `run full` (or `run app`) creates the run over the REST API
(no Prefect import here), wakes the worker, streams the run's log lines, prints its report and
exits with its outcome. Ctrl-C cancels the run (which puts the last release back); a second
Ctrl-C stops following. Otherwise (or with DEPLOYFLOW_WARM=0) the caller runs the flow itself."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from deployflow.core.context import StackContext

__all__ = ["run_warm"]

FORWARDED = ("DEPLOYFLOW_FAILPOINTS",)


def _report(ctx: StackContext, since: float) -> dict[str, Any] | None:
    """The report this run wrote (the newest one, written after it started)."""
    reports = ctx.layout.reports
    fresh = [p for p in reports.glob("*.json") if p.stat().st_mtime >= since - 1]
    if not fresh:
        return None
    newest = max(fresh, key=lambda p: p.stat().st_mtime)
    summary = json.loads(newest.read_text())
    summary["report"] = str(newest.with_suffix(".md"))  # written beside it, after it
    return summary


def run_warm(ctx: StackContext, kind: str, params: dict[str, Any], as_json: bool) -> bool:
    """True when the run went through the warm worker (and succeeded: else DeployFailed)."""
    from deployflow.backends.prefect_server import server_status
    from deployflow.backends.workers import wake_worker, worker_status
    from deployflow.deployments.rest import FINAL, ApiUnreachable, PrefectRest
    from deployflow.deployments.runlogs import RunLogs
    from deployflow.deployments.specs import deployment_spec, local_targets
    from deployflow.errors import DeployFailed

    if os.environ.get("DEPLOYFLOW_WARM") == "0":
        return False
    spec = deployment_spec(ctx, kind, None)
    worker = worker_status(spec.pool)
    if spec.target not in local_targets(ctx) or worker.pid is None:
        return False
    server = server_status()
    if not server.running:
        return False
    rest = PrefectRest(server.url, server.auth)
    deployment = rest.deployment(spec.full_name)
    if deployment is None:
        return False
    applied = (deployment.get("parameters") or {}).get("root")
    if applied and Path(applied) != ctx.root:  # its runs work on that root only
        typer.echo(
            f"running here, not on the warm worker: its deployments were applied for root "
            f"{applied}; `deployflow deployments apply --root {ctx.root}` makes them this one's",
            err=True,
        )
        return False
    since = time.time()
    params = {**spec.parameters, "root": str(ctx.root), **params}
    # failpoints set for this command apply to its run, wherever it runs
    env = {k: v for k in FORWARDED if (v := os.environ.get(k))}
    run = rest.create_run(deployment["id"], params, env)
    wake_worker(spec.pool)  # look for it now, not at the next poll
    typer.echo(f"run {run['name']} ({run['id']}) on the warm worker of {spec.pool}", err=True)
    follower = RunLogs(rest, run["id"])

    def gone() -> bool:  # a killed worker takes its runs along: nothing will end this one
        return worker_status(spec.pool).pid is None

    try:
        try:
            _follow(follower, rest, run["id"], gone)
        except ApiUnreachable:
            _outlive_the_api(ctx, follower, since)
        if follower.state.get("type") not in FINAL:
            why = f"the warm worker of {spec.pool} died during the run"
            rest.crash(run["id"], why)
            follower.state = {"type": "CRASHED", "message": why}
            typer.echo(
                f"{why}; run `deployflow recover` (or start the worker: `deployflow server "
                "start --stack ...`) to put the last good release back",
                err=True,
            )
    finally:
        rest.close()
    state = follower.state.get("type")
    summary = _report(ctx, since)
    if summary is not None:
        from deployflow.cli.flows import print_summary

        print_summary(summary, as_json)
    if state != "COMPLETED":
        why = (summary or {}).get("error") or follower.state.get("message") or state
        raise DeployFailed(f"run {run['name']} ended {state}: {why}", summary)
    return True


def _outlive_the_api(ctx: StackContext, follower: Any, since: float) -> None:
    """The API went away: the run goes on on the worker (its stages need no API). Wait until
    it lets go of the root's lock, then take its outcome from the report it wrote."""
    from deployflow.backends.lock import lock_holder

    typer.echo(
        "the Prefect API stopped answering; the run goes on on the worker: waiting for it to "
        "finish (its run is marked in Prefect when the API answers again)",
        err=True,
    )
    time.sleep(0.5)  # a run just created may not hold the lock yet
    while lock_holder(ctx.layout.lock) is not None:
        time.sleep(0.2)
    summary = _report(ctx, since)
    ok = summary is not None and summary.get("result") == "success"
    message = "" if ok else "ended while the Prefect API was down"
    follower.state = {"type": "COMPLETED" if ok else "FAILED", "message": message}


def _follow(follower: Any, rest: Any, run_id: str, gone: Callable[[], bool]) -> None:
    try:
        for line in follower.lines(follow=True, poll=0.1, gone=gone):
            typer.echo(line, err=True)
    except KeyboardInterrupt:
        typer.echo("cancelling the run; it puts the last release back", err=True)
        rest.cancel(run_id)
        for line in follower.lines(follow=True, poll=0.1, gone=gone):
            typer.echo(line, err=True)
