"""`deployflow services status|start|stop|restart [NAME|all]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

if TYPE_CHECKING:
    from deployflow.backends.services import ServiceStatus

app = typer.Typer(help="Manage the stack's services through their backends.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="A service name, or all.")]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


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
    """Show whether each service runs (and whether a deploy was interrupted)."""
    from deployflow.ops.services import interrupted_note, service_statuses

    ctx = load(stack, root, read_only=True)
    note = interrupted_note(ctx)
    if note:
        typer.echo(f"warning: {note}", err=True)
    _show(service_statuses(ctx, name), as_json)


def _act(action: str, name: str, stack: str, root: str | None) -> None:
    from deployflow.ops.services import service_action

    ctx = load(stack, root)
    service_action(ctx, action, name, typer.echo)


@app.command("start")
def start(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Start services (those already running are left alone)."""
    _act("start", name, stack, root)


@app.command("stop")
def stop(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Stop services: SIGTERM, a grace period, then SIGKILL to the whole process group."""
    _act("stop", name, stack, root)


@app.command("restart")
def restart(name: Name = "all", stack: StackOpt = "deployflow.yaml", root: RootOpt = None) -> None:
    """Stop, then start services."""
    _act("restart", name, stack, root)
