"""`deployflow deployments apply|list`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(help="Register the stack's flows as Prefect deployments.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


@app.command("apply")
def apply(stack: StackOpt = "deployflow.yaml", root: RootOpt = None, as_json: Json = False) -> None:
    """Register deploy, deploy-app, rollback, health-watch and cleanup per target, on its work
    pool (created when missing), with the stack file's schedules."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.apply import apply_deployments

    ctx = load(stack, root, read_only=True)
    api()
    rows = apply_deployments(ctx)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        schedule = f"  every {row['schedule']}" if row["schedule"] else ""
        typer.echo(f"{row['name']:34} pool {row['pool']}{schedule}")
    typer.echo(f"{len(rows)} deployments applied")


@app.command("list")
def list_(stack: StackOpt = "deployflow.yaml", root: RootOpt = None, as_json: Json = False) -> None:
    """The stack's deployments on the Prefect server."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.apply import list_deployments

    ctx = load(stack, root, read_only=True)
    api()
    rows = list_deployments(ctx.stack.project)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no deployments yet; run `deployflow deployments apply`")
    for row in rows:
        crons = ", ".join(c for c in row["schedules"] if c) or "-"
        typer.echo(f"{row['name']:34} pool {row['pool']:20} schedule {crons}")
