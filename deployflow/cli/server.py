"""`deployflow server start|stop|status` (the local Prefect server and the workers of the
stack's local targets) and `deployflow worker start --target NAME` (a worker in the
foreground, for a host that is not this one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deployflow.cli.common import RootOpt, load

if TYPE_CHECKING:
    from deployflow.backends.prefect_server import ServerInfo
    from deployflow.backends.workers import WorkerInfo
    from deployflow.core.context import StackContext

app = typer.Typer(
    help="The local Prefect server (SQLite) and its workers, which deployflow uses by default.",
    no_args_is_help=True,
)
worker_app = typer.Typer(help="Run a Prefect worker for one target.", no_args_is_help=True)
MaybeStack = Annotated[
    str | None,
    typer.Option(
        "--stack", "-s", envvar="DEPLOYFLOW_STACK", help="Stack file: start its local workers."
    ),
]


def _show(info: ServerInfo, workers: list[WorkerInfo], polls: dict[str, str] | None = None) -> None:
    if info.external:
        state = "up" if info.running else "not answering"
        typer.echo(f"using PREFECT_API_URL={info.url} ({state})")
    else:
        state = "running" if info.running else "stopped"
        typer.echo(
            f"{state}  {info.url or '-'}  pid {info.pid or '-'}  home {info.home}  log {info.log}"
            f"  database {info.database}"
        )
        if info.url:
            login = f"  (log in with the contents of {info.auth_file})" if info.auth else ""
            typer.echo(f"ui       {info.url.removesuffix('/api')}{login}")
    for w in workers:
        state = "running" if w.running else "stopped"
        poll = (polls or {}).get(w.pool, "-")
        typer.echo(
            f"worker   {w.pool:24} {state:8} pid {w.pid or '-'}  last poll {poll}  log {w.log}"
        )


def _local(stack: str | None, root: str | None) -> tuple[StackContext | None, list[str]]:
    """The stack (given, else ./deployflow.yaml like every command) and its local targets."""
    if not stack and Path("deployflow.yaml").is_file():
        stack = "deployflow.yaml"
    if not stack:
        typer.echo("no stack file (./deployflow.yaml, or --stack): no workers started", err=True)
        return None, []
    from deployflow.deployments.specs import local_targets

    ctx = load(stack, root, read_only=True)
    return ctx, local_targets(ctx)


Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="sqlite | postgresql: the local server's database (default: what it last ran on; "
        "postgresql at first for a stack with 3 or more local targets, where SQLite stalls).",
    ),
]
MANY_TARGETS = 3


@app.command("start")
def start(stack: MaybeStack = None, root: RootOpt = None, database: Database = None) -> None:
    """Start the local server (reused if up), apply the stack's deployments when stale and
    start a worker per local target's work pool; and the Docker engine when the stack runs
    containers (unless DOCKER_HOST names one)."""
    from deployflow.backends.prefect_server import server_status
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.apply import ensure_pools
    from deployflow.deployments.ensure import ensure_deployments
    from deployflow.deployments.localworkers import start_local_worker
    from deployflow.deployments.specs import pool_of

    if database not in (None, "sqlite", "postgresql"):
        from deployflow.errors import UsageError

        raise UsageError(f"--database {database!r}: sqlite or postgresql")
    ctx, targets = _local(stack, root)
    before = server_status()  # asked before api(), which points us at the local one
    remote = before.external
    if database is None and not before.running and len(targets) >= MANY_TARGETS:
        database = "postgresql"
        typer.echo(f"{len(targets)} local targets: the local server runs on PostgreSQL", err=True)
    url = api(database)
    info = server_status(local=not remote)
    if ctx is None:
        _show(info, [])
        return
    if any(s.backend == "docker" for s in ctx.stack.services.values()):
        from deployflow.backends.dockerd import start_engine

        start_engine(lambda m: typer.echo(m, err=True))
    pools = [pool_of(ctx, t) for t in targets]
    ensure_pools(set(pools))
    ensure_deployments(ctx, url, say=lambda m: typer.echo(m, err=True))
    _show(info, [start_local_worker(ctx, t, url) for t in targets])
    _crash_orphans(pools)


def _crash_orphans(pools: list[str]) -> None:
    from deployflow.deployments.orphans import crash_orphans

    for run in crash_orphans(pools):
        typer.echo(f"run {run} marked crashed: its process died with its worker")


@app.command("stop")
def stop(stack: MaybeStack = None) -> None:
    """Stop the workers deployflow started (SIGTERM: they finish or cancel cleanly), then the
    local server."""
    from deployflow.backends.prefect_server import stop_server
    from deployflow.backends.workers import known_pools, stop_worker

    workers = [stop_worker(pool) for pool in known_pools()]
    _show(stop_server(), workers)


@app.command("status")
def status(stack: MaybeStack = None) -> None:
    """Server URL, UI URL, workers and their logs (exit 1 when the server is not running)."""
    from deployflow.backends.prefect_server import API_AUTH, server_status
    from deployflow.backends.workers import known_pools, worker_status

    info = server_status()
    pools = known_pools()
    polls: dict[str, str] = {}
    if info.running and pools:
        import os

        from deployflow.deployments.apply import last_polls

        os.environ.setdefault("PREFECT_API_URL", info.url)
        if info.auth:
            os.environ.setdefault(API_AUTH, info.auth)
        polls = last_polls(pools)
    _show(info, [worker_status(pool) for pool in pools], polls)
    if not info.running:
        raise typer.Exit(1)


@worker_app.command("start")
def worker_start(
    target: Annotated[str, typer.Option("--target", help="The target whose pool to serve.")],
    stack: Annotated[
        str, typer.Option("--stack", "-s", envvar="DEPLOYFLOW_STACK", help="Stack file.")
    ] = "deployflow.yaml",
    root: RootOpt = None,
) -> None:
    """Run the target's worker in the foreground (Ctrl-C stops it): the way to add a host."""
    from deployflow.backends.executor import become
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.apply import ensure_pools
    from deployflow.deployments.localworkers import foreground_worker
    from deployflow.deployments.specs import pick_target, pool_of

    ctx = load(stack, root, read_only=True)
    name = pick_target(ctx, target)
    pool = pool_of(ctx, name)
    url = api()
    ensure_pools({pool})
    _crash_orphans([pool])
    command = foreground_worker(ctx, name, url)
    typer.echo(f"worker for pool {pool} on {url} (Ctrl-C stops it)", err=True)
    become(command)
