"""`deployflow config sync` and `deployflow config edit`."""

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
    from deployflow.ops.runner import PlainRunner

    ctx = load(stack, root, read_only=dry_run)
    chosen = ctx.stack.selected_apps([a.strip() for a in apps.split(",")] if apps else None)
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


@app.command("edit")
def edit(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    field: Annotated[
        str | None, typer.Option("--field", help="Open with this field focused (e.g. APP_IP).")
    ] = None,
    wizard: Annotated[
        bool, typer.Option("--wizard", help="One field at a time: Enter for the next.")
    ] = False,
) -> None:
    """Edit the master config (deployment.config.env) in a form: values checked as you type
    by the loader's rules, secrets masked, a diff before saving; Save backs the old file up
    (see `backup list`) and writes it whole. Then offers `config sync --dry-run` and `config
    sync`, the config-only release (live configs are never written directly)."""
    import sys
    from pathlib import Path

    from deployflow.errors import UsageError
    from deployflow.ops.configedit import open_master, save_master, stack_facts

    stack_file = Path(stack).expanduser().resolve()
    env_file, environment, secrets = stack_facts(stack_file)
    session = open_master(env_file, stack_file.parent, environment, secrets)
    if field is not None and field not in session.values:
        known = ", ".join(session.values) or "none"
        raise UsageError(f"--field {field}: not in {session.path.name} (it has: {known})")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("config edit needs a terminal; edit the file and run `config sync`")
    from deployflow.tui.configeditor import ConfigEditor

    def save(values: dict[str, str]) -> str:
        from deployflow.loading import load_stack  # checked now, not before the form opens

        ctx = load_stack(stack, root, check_vars=False)
        return save_master(ctx, session, values, lambda _line: None)

    backup = ConfigEditor(session, save, field, wizard).run()
    if backup is None:
        typer.echo(f"not saved; {session.path} is as it was")
        return
    typer.echo(f"saved {session.path}; the old one is in backup {backup}")
    if typer.confirm("preview the config release (config sync --dry-run)?", default=True):
        sync(stack=stack, root=root, dry_run=True, apps=None, as_json=False)
        if typer.confirm("make it live now (config sync)?", default=False):
            sync(stack=stack, root=root, dry_run=False, apps=None, as_json=False)
