"""`deployflow backup create|list|verify|restore|cleanup`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(
    help="Backups: configs, the live release, databases and shared files; verify and restore.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@app.command("create")
def create(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    no_database: Annotated[
        bool, typer.Option("--no-database", help="Leave the databases out.")
    ] = False,
    files: Annotated[
        bool, typer.Option("--files", help="Add the apps' shared dirs (uploads, storage/).")
    ] = False,
    description: Annotated[str, typer.Option("--description", help="A note to find it by.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Back up now (under the deploy lock): what `backup.include` names, as a Prefect run."""
    from deployflow.cli.flows import run_flow

    ctx = load(stack, root)
    row = run_flow(
        "backup",
        stack=stack,
        root=root,
        database=not no_database,
        files=True if files else None,
        description=description,
        project=ctx.stack.project,
    )
    for warning in row.get("warnings") or []:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        echo_json(row)
        return
    typer.echo(f"backup {row['id']}: {', '.join(row['include'])}, {_size(row['size'])}")


@app.command("list")
def list_(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most N.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Backups, newest first: time, kind, release, size, contents, verification; failed ones too."""
    from deployflow.ops.backups import list_backups

    rows = list_backups(load(stack, root, read_only=True), limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no backups yet; `deployflow backup create` takes one")
        return
    typer.echo(
        f"{'id':16} {'created':26} {'kind':7} {'status':9} {'release':16} {'size':>9}  "
        "includes / verified / description"
    )
    for r in rows:
        verified = (
            "-"
            if not r.get("verified")
            else (f"verified {r['verified']}" if r.get("verified_ok") else "VERIFY FAILED")
        )
        note = r.get("error") or r.get("description") or ""
        typer.echo(
            f"{r['id']:16} {r.get('created') or '-':26} {r.get('kind', '-'):7} {r['status']:9} "
            f"{r.get('release') or '-':16} {_size(r.get('size') or 0):>9}  "
            f"{','.join(r.get('include') or []) or '-'}  {verified}  {note}"
        )


@app.command("verify")
def verify(
    backup_id: Annotated[str, typer.Argument(metavar="ID", help="The backup (see `backup list`).")],
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    restore_test: Annotated[
        bool,
        typer.Option(
            "--restore-test",
            help="Restore each dump into a scratch database and "
            "compare row counts and checksums with those recorded.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a backup: checksums, archives readable to the end (exit 1 when it fails)."""
    from deployflow.cli.flows import run_flow
    from deployflow.ops.backups import backup_dir

    ctx = load(stack, root, read_only=True)
    backup_dir(ctx, backup_id)  # an unknown id fails here, before Prefect starts
    row = run_flow(
        "backup-verify",
        stack=stack,
        root=root,
        backup_id=backup_id,
        restore_test=restore_test,
        project=ctx.stack.project,
    )
    if as_json:
        echo_json(row)
        return
    test = ""
    if restore_test:
        tested = row.get("restore_tested") or []
        test = (
            f"; restore test of {', '.join(tested)}: same tables, rows and checksums"
            if tested
            else "; nothing to restore-test (no database dump in it)"
        )
    typer.echo(f"backup {backup_id}: ok (checksums, archives{test})")


def _confirm(backup_id: str, force: bool) -> None:
    if force:
        return
    if not sys.stdin.isatty():
        from deployflow.errors import UsageError

        raise UsageError("no terminal to confirm the restore on; pass --force (check --dry-run)")
    if not typer.confirm(f"restore backup {backup_id} over the live state?"):
        raise typer.Exit(1)


@app.command("restore")
def restore(
    backup_id: Annotated[str, typer.Argument(metavar="ID", help="The backup (see `backup list`).")],
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Restore one part: configs, database or files.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would change; change nothing.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Restore a backup: integrity checked first, a safety backup taken, each part restored
    aside and swapped in; apps whose configs change are restarted and verified."""
    from deployflow.ops.restore import check_request, plan_lines, restore_plan

    ctx = load(stack, root, read_only=dry_run)
    check_request(ctx, backup_id, only)  # the id and --only checked here, before Prefect
    if dry_run:
        changes = restore_plan(ctx, backup_id, only)
        if as_json:
            echo_json([c.__dict__ for c in changes if c.change != "same"])
            return
        typer.echo(f"restoring {backup_id} would change:")
        for line in plan_lines(changes):
            typer.echo(f"  {line}")
        return
    _confirm(backup_id, force)
    from deployflow.cli.flows import run_flow

    row: dict[str, Any] = run_flow(
        "restore",
        stack=stack,
        root=root,
        backup_id=backup_id,
        only=only,
        project=ctx.stack.project,
    )
    if as_json:
        echo_json(row)
        return
    typer.echo(
        f"restored {backup_id} ({', '.join(row['parts'])}); the state before it is backup "
        f"{row['safety_backup']}"
        + (f"; restarted {', '.join(row['restarted'])}" if row["restarted"] else "")
    )


@app.command("cleanup")
def cleanup(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Age such as 30d (default: the stack's).")
    ] = None,
    keep_minimum: Annotated[
        int | None, typer.Option("--keep-minimum", min=1, help="Always keep the newest N.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List; delete nothing.")] = False,
) -> None:
    """Delete backups past retention (the newest --keep-minimum always stay)."""
    import re

    from deployflow.ops.backups import cleanup_backups

    if older_than is not None and not re.fullmatch(r"\d+[dhm]", older_than):
        raise typer.BadParameter("an age such as 30d, 12h or 90m", param_hint="--older-than")
    ctx = load(stack, root, read_only=dry_run)
    doomed = cleanup_backups(ctx, typer.echo, older_than, keep_minimum, dry_run)
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {len(doomed)} backups" + (f": {', '.join(doomed)}" if doomed else ""))
