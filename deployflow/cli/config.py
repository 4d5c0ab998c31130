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
    """Render every config, show a diff with secrets masked, back up, then write atomically."""
    from dataclasses import asdict

    from deployflow.core.layout import new_release_id
    from deployflow.flows.common import select_apps
    from deployflow.stages.backup import create_backup
    from deployflow.stages.configsync import sync_configs

    ctx = load(stack, root, read_only=dry_run)
    chosen = select_apps(ctx, [a.strip() for a in apps.split(",")] if apps else None)
    preview = sync_configs(ctx, chosen, lambda _m: None, dry_run=True, with_stack=apps is None)
    changed = [c for c in preview if c.status != "unchanged"]
    if changed and not dry_run:
        info = create_backup(ctx, f"config-{new_release_id()}", lambda _m: None)
        typer.echo(f"backup: {info.path}")
        sync_configs(ctx, chosen, lambda _m: None, dry_run=False, with_stack=apps is None)
    if as_json:
        echo_json([asdict(c) for c in preview])
        return
    for change in preview:
        typer.echo(f"{change.status:9} {change.label} -> {change.path} ({change.mode})")
        if change.diff:
            typer.echo(change.diff.rstrip("\n"))
    verb = "would change" if dry_run else "changed"
    typer.echo(f"{len(changed)} of {len(preview)} files {verb}")
