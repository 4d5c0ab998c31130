"""`deployflow services status|start|stop|restart [NAME|all]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load
from deployflow.errors import StackError

if TYPE_CHECKING:
    from deployflow.backends.services import ServiceStatus
    from deployflow.core.context import StackContext

app = typer.Typer(help="Manage the stack's services through their backends.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="A service name, or all.")]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _names(ctx: StackContext, name: str) -> list[str]:
    if name == "all":
        return list(ctx.stack.services)
    if name not in ctx.stack.services:
        raise StackError(
            f"unknown service {name!r}; the stack has: {', '.join(ctx.stack.services)}"
        )
    return [name]


def _show(statuses: list[ServiceStatus], as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        echo_json([asdict(s) for s in statuses])
        return
    for s in statuses:
        typer.echo(
            f"{s.name:16} {s.backend:10} {'running' if s.running else 'stopped':8} {s.detail}"
        )


@app.command("status")
def status(
    name: Name = "all",
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    as_json: Json = False,
) -> None:
    """Show whether each service runs."""
    from deployflow.stages.services import service_status

    ctx = load(stack, root, read_only=True)
    _show(service_status(ctx, _names(ctx, name)), as_json)


@app.command("start")
def start(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Start services (those already running are left alone)."""
    from deployflow.stages.services import start_services

    ctx = load(stack, root)
    start_services(ctx, _names(ctx, name), typer.echo)


@app.command("stop")
def stop(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Stop services: SIGTERM, a grace period, then SIGKILL to the whole process group."""
    from deployflow.stages.services import stop_services

    ctx = load(stack, root)
    stop_services(ctx, _names(ctx, name), typer.echo)


@app.command("restart")
def restart(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Stop, then start services."""
    from deployflow.stages.services import start_services, stop_services

    ctx = load(stack, root)
    names = _names(ctx, name)
    stop_services(ctx, names, typer.echo)
    start_services(ctx, names, typer.echo)
