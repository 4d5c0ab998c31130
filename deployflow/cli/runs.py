"""`deployflow runs list|status|logs|cancel|cleanup`: flow runs on the Prefect server."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(
    help="Background runs: list, status, logs, cancel, cleanup.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
Run = Annotated[str, typer.Argument(help="A flow run id (see `deployflow runs list`).")]
MaybeStack = Annotated[
    str | None,
    typer.Option(
        "--stack", "-s", envvar="DEPLOYFLOW_STACK", help="Stack file: the run must be one of its."
    ),
]


def _checked(run: str, stack: str | None) -> dict:
    """The run's status; with a stack, refuse a run that is not one of that stack's."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.runs import run_status
    from deployflow.errors import StackError

    project = load(stack, None, read_only=True).stack.project if stack else None
    api()
    row = run_status(run)
    if project and project not in row["tags"]:
        raise StackError(f"run {run} is not a run of project {project}; see `deployflow runs list`")
    return row


@app.command("list")
def list_(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.", min=1)] = 20,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="scheduled|pending|running|completed|failed|cancelled|crashed"
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """The stack's recent runs (from the CLI, the UI, schedules and webhooks)."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.runs import STATUSES, list_runs
    from deployflow.errors import StackError

    if status is not None and status not in STATUSES:
        raise StackError(f"--status {status!r}: use one of {', '.join(STATUSES)}")
    ctx = load(stack, root, read_only=True)
    api()
    rows = list_runs(ctx.stack.project, limit, status)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['state_name'] or '-':10} {row['start'] or '-':32} {row['name']}"
        )


@app.command("status")
def status(run: Run, stack: MaybeStack = None, as_json: Json = False) -> None:
    """State, timings, parameters and stage results of one run."""
    row = _checked(run, stack)
    if as_json:
        echo_json(row)
        return
    typer.echo(f"{row['name']}: {row['state_name']} ({row['seconds']} s)")
    for stage in row["stages"]:
        typer.echo(f"  {stage['name']:24} {stage['state']}")
    if row["message"]:
        typer.echo(f"  {row['message']}")


@app.command("logs")
def logs(
    run: Run,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Until the run ends.")] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="Only the last N lines.")] = None,
    stack: MaybeStack = None,
) -> None:
    """The run's log lines in order; with -f, follow until it ends (exit 1 if it failed)."""
    import os

    from deployflow.backends.prefect_rest import PrefectRest
    from deployflow.deployments.runlogs import RunLogs
    from deployflow.deployments.runs import run_status

    _checked(run, stack)  # an unknown run fails here with one clear line
    for line in RunLogs(PrefectRest(os.environ["PREFECT_API_URL"]), run).lines(follow, tail):
        typer.echo(line)
    if follow and run_status(run)["state"] != "COMPLETED":
        raise typer.Exit(1)


@app.command("cancel")
def cancel(run: Run, stack: MaybeStack = None) -> None:
    """Cancel a run: its whole process tree dies; a deploy puts the previous release back."""
    from deployflow.deployments.runs import cancel_run

    _checked(run, stack)
    cancel_run(run, typer.echo)


@app.command("cleanup")
def cleanup(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age such as 30d, 12h or 15m.")
    ] = "30d",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; delete nothing.")] = False,
) -> None:
    """Delete the stack's finished runs older than the given age."""
    import re

    from deployflow.cli.prefect_api import api
    from deployflow.core.retention import parse_age
    from deployflow.errors import StackError
    from deployflow.flows.cleanup import delete_old_runs

    if not re.fullmatch(r"\d+[dhm]", older_than):
        raise StackError(f"--older-than {older_than!r}: give an age such as 30d, 12h or 15m")
    ctx = load(stack, root, read_only=True)
    api()
    count = delete_old_runs(parse_age(older_than), ["deployflow", ctx.stack.project], dry_run)
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {count} finished runs older than {older_than}")
