"""Foreground runs through the warm worker: when this host's server and the target's worker
are up and the deployment exists, `run full` (or `run app`) creates the run over the REST API
(no Prefect import here), wakes the worker, streams the run's log lines, prints its report and
exits with its outcome. Ctrl-C cancels the run (which puts the last release back); a second
Ctrl-C stops following. Otherwise (or with DEPLOYFLOW_WARM=0) the caller runs the flow itself."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from deployflow.core.context import StackContext

__all__ = ["run_warm", "warm_later"]

FORWARDED = ("DEPLOYFLOW_FAILPOINTS",)


def _report(ctx: StackContext, run_id: str) -> dict[str, Any] | None:
    """The report the run wrote, found by its id (stages/report.py links it so)."""
    from deployflow.backends.files import read_json

    link = ctx.layout.reports / "runs" / f"{run_id}.json"
    summary = read_json(link)
    if not isinstance(summary, dict):
        return None
    summary["report"] = str(link.resolve().with_suffix(".md"))  # written beside it
    return summary


def run_warm(ctx: StackContext, kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The summary of the run when it went through the warm worker (DeployFailed carrying it
    when it failed); None when it cannot go warm (the caller runs it here)."""
    from deployflow.backends.prefect_rest import FINAL, ApiUnreachable, PrefectRest
    from deployflow.backends.prefect_server import API_AUTH, server_status
    from deployflow.backends.workers import wake_worker, worker_api, worker_status
    from deployflow.deployments.ensure import ensure_deployments
    from deployflow.deployments.runlogs import RunLogs
    from deployflow.deployments.specs import deployment_spec, local_targets
    from deployflow.errors import DeployFailed

    if os.environ.get("DEPLOYFLOW_WARM") == "0":
        return None
    spec = deployment_spec(ctx, kind, None)
    if spec.target not in local_targets(ctx):
        return None
    server = server_status()
    if not server.running:
        return None  # the local server starts for this run; its worker after it (warm_later)
    if worker_api(spec.pool) != server.url:  # none, or one polling a server gone since
        if server.external:  # deployflow starts workers for its own server only
            typer.echo(
                f"running here, not on a warm worker: none for pool {spec.pool} on this host "
                "(`deployflow server start --stack ...` starts one)",
                err=True,
            )
        return None
    os.environ.setdefault("PREFECT_API_URL", server.url)
    if server.auth:
        os.environ.setdefault(API_AUTH, server.auth)
    ensure_deployments(ctx, server.url, say=lambda m: typer.echo(m, err=True))
    rest = PrefectRest(server.url, server.auth)
    deployment = rest.deployment(spec.full_name)
    if deployment is None:
        return None
    params = spec.run_parameters(params)
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
            _outlive_the_api(ctx, follower, run["id"])
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
    summary = _report(ctx, run["id"])
    if state != "COMPLETED":
        why = (summary or {}).get("error") or follower.state.get("message") or state
        raise DeployFailed(f"run {run['name']} ended {state}: {why}", summary)
    return summary or {"result": "success", "run": run["id"], "report": None}


def warm_later(ctx: StackContext) -> None:
    """After a run in this process on deployflow's own local server: the local targets' warm
    workers started (deployments applied first), so the next runs go through them. Saying so,
    or why not, in one line."""
    from deployflow.backends.prefect_server import server_status
    from deployflow.backends.workers import worker_api
    from deployflow.deployments.ensure import ensure_deployments
    from deployflow.deployments.localworkers import start_local_worker
    from deployflow.deployments.specs import local_targets, pool_of
    from deployflow.errors import DeployflowError

    server = server_status(local=True)  # this process points at it by now, if it is ours
    ours = os.environ.get("PREFECT_API_URL") in (None, server.url)
    if os.environ.get("DEPLOYFLOW_WARM") == "0" or not ours or not server.running:
        return
    down = [t for t in local_targets(ctx) if worker_api(pool_of(ctx, t)) != server.url]
    for target in down:
        try:
            ensure_deployments(ctx, server.url)
            start_local_worker(ctx, target, server.url)
        except DeployflowError as exc:
            typer.echo(f"no warm worker for the next runs: {exc}", err=True)
            return
        typer.echo(
            f"started the warm worker of pool {pool_of(ctx, target)}: the next runs go through "
            "it (`deployflow server stop` stops it)",
            err=True,
        )


def _outlive_the_api(ctx: StackContext, follower: Any, run_id: str) -> None:
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
    summary = _report(ctx, run_id)
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
