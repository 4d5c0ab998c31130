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
    from deployflow.backends.history import current_release, load_history

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
            "commits": _commits(ctx, r.id),
        }
        for r in reversed(records)
    ]
    from deployflow.ops.services import interrupted_note

    note = interrupted_note(ctx)
    if as_json:
        echo_json(rows)
        return
    if note:
        typer.echo(f"warning: {note}", err=True)
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
        for app, commit in row["commits"].items():
            typer.echo(f"    {app}: {commit}")


def rollback(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Release id, or a git SHA (prefix) a release deployed (default: previous good).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")
    ] = False,
    with_database: Annotated[
        bool,
        typer.Option(
            "--with-database",
            help="Restore the databases too (the dump taken before the release being undone).",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Roll code back across a schema change, data kept.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain", help="Log lines instead of the live view (always so off a terminal)."
        ),
    ] = False,
) -> None:
    """Go back to an earlier good release (code + configs), restart services and verify."""
    from deployflow.ops.releasedata import data_for_rollback
    from deployflow.ops.rollback import target_for

    ctx = load(stack, root, read_only=dry_run)
    current, target = target_for(ctx, to)  # a bad id fails here, before Prefect starts
    _backup, data = data_for_rollback(ctx, current, target, with_database, force)  # the guard
    if dry_run:
        typer.echo(
            f"would roll back {current} -> {target}: its own configs, services and checks; {data}"
        )
        return
    from deployflow.cli.flows import print_summary
    from deployflow.cli.frontdoor import run_operation
    from deployflow.errors import DeployFailed

    # the resolved release, on every path (warm or here), never the raw --to
    params = {"to": target, "with_database": with_database, "force": force}
    try:
        summary = run_operation(ctx, "rollback", params, plain=plain or as_json)
    except DeployFailed as exc:
        print_summary(exc.summary, as_json)
        raise
    print_summary(summary, as_json)


def recover(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Put the last good release back after an interrupted deploy or rollback (every command
    that changes the root does this first); also removes a killed run's temp files."""
    from dataclasses import asdict

    from deployflow.ops.putback import recover_root

    ctx = load(stack, root)
    result = recover_root(ctx, typer.echo)
    if as_json:
        echo_json(asdict(result))
        return
    if result.interrupted or result.restored:
        typer.echo(
            f"recovered: release {result.interrupted or '-'} marked interrupted; "
            f"live: {result.restored or 'none'}"
        )
    else:
        typer.echo("nothing to recover: no interrupted run")


def _commits(ctx: object, release: str) -> dict[str, str]:
    """{app: short SHA and subject} of the git sources a release was built from."""
    from deployflow.core.snapshot import Snapshot

    try:
        snap = Snapshot.from_json(ctx.layout.snapshot(release).read_text())  # type: ignore[attr-defined]
    except (OSError, ValueError, KeyError):
        return {}
    return {
        app: f"{a.commit['sha'][:12]} {a.commit['subject'][:50]}"
        for app, a in snap.apps.items()
        if a.commit
    }
