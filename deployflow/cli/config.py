"""`deployflow config sync`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(help="Render and sync config files from the master config.", no_args_is_help=True)


@app.command("sync")
def sync(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; write nothing.")
    ] = False,
    apps: Annotated[
        str | None, typer.Option("--apps", help="Comma-separated apps (default all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print changes as JSON.")] = False,
) -> None:
    """Render every config and show a diff with secrets masked; without --dry-run, make the
    changes live as a new config-only release (backed up, verified, rolled back on failure)."""
    from dataclasses import asdict

    from deployflow.ops.configsync import config_changes, config_release
    from deployflow.ops.deploy import select_apps
    from deployflow.ops.runner import PlainRunner

    ctx = load(stack, root, read_only=dry_run)
    chosen = select_apps(ctx, [a.strip() for a in apps.split(",")] if apps else None)
    preview = config_changes(ctx, chosen, with_stack=apps is None)
    changed = [c for c in preview if c.status != "unchanged"]
    if as_json:
        echo_json([asdict(c) for c in preview])
    else:
        for change in preview:
            typer.echo(f"{change.status:9} {change.label} ({change.mode})")
            if change.diff:
                typer.echo(change.diff.rstrip("\n"))
        verb = "would change" if dry_run else "changed"
        typer.echo(f"{len(changed)} of {len(preview)} files {verb}")
    if changed and not dry_run:
        summary = config_release(ctx, chosen, PlainRunner())
        if not as_json:
            typer.echo(f"config release {summary['release']} is live")
