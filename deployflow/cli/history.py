"""`deployflow history` and `deployflow summary`: deployments across every target."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json

Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def history(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    target: Annotated[str | None, typer.Option("--target", help="Only this target.")] = None,
    app: Annotated[str | None, typer.Option("--app", help="Only releases that built it.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="live|superseded|rolled_back|failed|completed|..."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest first, at most.")] = 50,
    as_json: Json = False,
    verbose: Annotated[
        bool, typer.Option("--lifecycle", help="Each release's states, with their times.")
    ] = False,
) -> None:
    """Every deployment on every target, newest first."""
    from deployflow.core.deployhistory import history_rows
    from deployflow.core.report import lifecycle_line
    from deployflow.ops.deployhistory import target_states

    rows = history_rows(target_states(stack, root, target), target, app, status)[:limit]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no deployments match")
        return
    typer.echo(f"  {'target':10} {'release':16} {'status':12} {'started':26} apps")
    for r in rows:
        mark = "*" if r["current"] else " "
        typer.echo(
            f"{mark} {r['target']:10} {r['release']:16} {r['status']:12} {r['started']:26} "
            f"{','.join(r['apps']) or '-'}  {r['note'][:40]}"
        )
        for app_name, sha in r.get("commits", {}).items():
            typer.echo(f"    {app_name}@{sha[:12]}")
        if r["lifecycle"] and verbose:
            typer.echo(f"    {lifecycle_line(r['lifecycle'])}")


def summary(
    stack: StackOpt = "deployflow.yaml", root: RootOpt = None, as_json: Json = False
) -> None:
    """Totals (deployments, completed, failed, rolled back) and what is live per target and app."""
    from deployflow.core.deployhistory import summarize
    from deployflow.ops.deployhistory import target_states

    data = summarize(target_states(stack, root))
    if as_json:
        echo_json(data)
        return
    typer.echo(
        f"deployments {data['deployments']}: completed {data['completed']}, failed "
        f"{data['failed']}, rolled back {data['rolled_back']}, running {data['running']}"
    )
    for target, live in data["live"].items():
        typer.echo(f"{target}: live {live or 'nothing'}")
        for app, active in data["active"][target].items():
            version = f" version {active['version']}" if active["version"] else ""
            typer.echo(f"  {app:12} from {active['release']}{version}")
