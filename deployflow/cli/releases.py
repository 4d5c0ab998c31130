"""`deployflow releases` and `deployflow rollback`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load


def releases(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List releases: id, time, status (live, superseded, rolled_back, failed, interrupted)."""
    from deployflow.stages.release import current_release, load_history

    ctx = load(stack, root, read_only=True)
    current = current_release(ctx)
    records = load_history(ctx)
    rows = [
        {
            "id": r.id,
            "started": r.started,
            "status": "superseded" if r.status == "live" and r.id != current else r.status,
            "current": r.id == current,
            "on_disk": ctx.layout.release(r.id).is_dir(),
            "note": r.note,
        }
        for r in reversed(records)
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo(f"no releases under {ctx.root} yet; deploy with `deployflow run full`")
        return
    typer.echo(f"  {'release':18} {'started':26} {'status':12} note")
    for row in rows:
        mark = "*" if row["current"] else " "
        gone = "" if row["on_disk"] else " (pruned)"
        typer.echo(
            f"{mark} {row['id']:18} {row['started']:26} {row['status']:12} {row['note'][:60]}{gone}"
        )


def rollback(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Release id (default: previous good).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Go back to an earlier good release (code + configs), restart services and verify."""
    if dry_run:
        from deployflow.flows.rollback import rollback_target
        from deployflow.stages.release import current_release, load_history

        ctx = load(stack, root, read_only=True)
        on_disk = (
            {p.name for p in ctx.layout.releases.iterdir()}
            if ctx.layout.releases.is_dir()
            else set()
        )
        current = current_release(ctx)
        target = rollback_target(load_history(ctx), current, to, on_disk)
        typer.echo(f"would roll back {current} -> {target}: restore its configs, restart, verify")
        return
    from deployflow.cli.flows import print_summary, run_flow
    from deployflow.errors import DeployFailed

    load(stack, root)  # bad input fails here, before Prefect starts
    try:
        summary = run_flow("rollback", stack=stack, root=root, to=to)
    except DeployFailed as exc:
        print_summary(exc.summary, as_json)
        raise
    print_summary(summary, as_json)
