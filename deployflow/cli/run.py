"""`deployflow run full|app NAME` and `deployflow plan`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(help="Deploy the stack or one app as a new release.", no_args_is_help=True)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan and config diffs; change nothing.")
]
SkipBackup = Annotated[bool, typer.Option("--skip-backup", help="Do not back up configs first.")]
SkipBuild = Annotated[bool, typer.Option("--skip-build", help="Reuse the live release's builds.")]
SkipTests = Annotated[bool, typer.Option("--skip-tests", help="Do not run the apps' tests steps.")]
Force = Annotated[bool, typer.Option("--force", help="Deploy despite preflight warnings.")]
Sequential = Annotated[bool, typer.Option("--sequential", help="Build apps one at a time.")]
Rollback = Annotated[
    bool, typer.Option("--rollback/--no-rollback", help="Put the previous release back on failure.")
]
Json = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _print_plan(stack: str, root: str | None, apps: list[str] | None, **flags: bool) -> None:
    from deployflow.core.plan import deploy_plan, format_plan
    from deployflow.flows.common import select_apps
    from deployflow.stages.configsync import sync_configs
    from deployflow.stages.release import current_release

    ctx = load(stack, root, read_only=True)
    chosen = select_apps(ctx, apps)
    full = apps is None
    typer.echo(
        f"plan: {ctx.stack.project} ({ctx.stack.environment}) -> {ctx.root}"
        f"  apps: {', '.join(chosen)}"
    )
    typer.echo(
        format_plan(deploy_plan(ctx, chosen, current_release(ctx), full, **flags), ctx.redact)
    )
    diffs = [
        c
        for c in sync_configs(ctx, chosen, lambda _m: None, dry_run=True, with_stack=full)
        if c.diff
    ]
    if diffs:
        typer.echo("\nconfig changes (secrets masked):")
        for change in diffs:
            typer.echo(change.diff.rstrip("\n"))
    typer.echo("\ndry run: nothing was changed")


def _deploy(
    stack: str, root: str | None, apps: list[str] | None, as_json: bool, **options: bool
) -> None:
    from deployflow.cli.flows import print_summary, run_flow
    from deployflow.errors import DeployFailed
    from deployflow.flows.common import select_apps

    select_apps(load(stack, root), apps)  # bad input fails here, before Prefect starts
    try:
        summary = run_flow("deploy", stack=stack, root=root, apps=apps, **options)
    except DeployFailed as exc:
        if exc.summary:
            print_summary(exc.summary, as_json)
        raise
    print_summary(summary, as_json)


@app.command("full")
def full(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    dry_run: DryRun = False,
    skip_backup: SkipBackup = False,
    skip_build: SkipBuild = False,
    skip_tests: SkipTests = False,
    force: Force = False,
    sequential: Sequential = False,
    rollback: Rollback = True,
    as_json: Json = False,
) -> None:
    """Deploy every app: preflight, backup, config, build, stop, release, start, verify, report."""
    if dry_run:
        _print_plan(
            stack, root, None, skip_backup=skip_backup, skip_build=skip_build, skip_tests=skip_tests
        )
        return
    _deploy(
        stack,
        root,
        None,
        as_json,
        skip_backup=skip_backup,
        skip_build=skip_build,
        skip_tests=skip_tests,
        force=force,
        sequential=sequential,
        auto_rollback=rollback,
    )


@app.command("app")
def app_(
    name: Annotated[str, typer.Argument(help="The app to deploy (e.g. backend).")],
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    dry_run: DryRun = False,
    skip_backup: SkipBackup = False,
    skip_build: SkipBuild = False,
    skip_tests: SkipTests = False,
    force: Force = False,
    rollback: Rollback = True,
    as_json: Json = False,
) -> None:
    """Deploy one app as a new release; the other apps are carried over unchanged."""
    if dry_run:
        _print_plan(
            stack,
            root,
            [name],
            skip_backup=skip_backup,
            skip_build=skip_build,
            skip_tests=skip_tests,
        )
        return
    _deploy(
        stack,
        root,
        [name],
        as_json,
        skip_backup=skip_backup,
        skip_build=skip_build,
        skip_tests=skip_tests,
        force=force,
        sequential=True,
        auto_rollback=rollback,
    )


def plan(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    apps: Annotated[
        str | None, typer.Option("--apps", help="Comma-separated apps (default all).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print what a deploy would do, with resolved commands and config diffs; runs nothing."""
    chosen = [a.strip() for a in apps.split(",")] if apps else None
    if as_json:
        from dataclasses import asdict

        from deployflow.core.plan import deploy_plan
        from deployflow.flows.common import select_apps
        from deployflow.stages.release import current_release

        ctx = load(stack, root, read_only=True)
        stages = deploy_plan(ctx, select_apps(ctx, chosen), current_release(ctx), chosen is None)
        echo_json([{**asdict(s), "lines": [ctx.redact(x) for x in s.lines]} for s in stages])
        return
    _print_plan(stack, root, chosen)
