"""`deployflow run full|app NAME` and `deployflow plan`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import JsonOpt as Json
from deployflow.cli.common import PlainOpt as Plain
from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

app = typer.Typer(help="Deploy the stack or one app as a new release.", no_args_is_help=True)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan and config diffs; change nothing.")
]
SkipBackup = Annotated[bool, typer.Option("--skip-backup", help="Do not back up first.")]
SkipBuild = Annotated[bool, typer.Option("--skip-build", help="Reuse the live release's builds.")]
SkipTests = Annotated[bool, typer.Option("--skip-tests", help="Do not run the apps' tests steps.")]
Force = Annotated[bool, typer.Option("--force", help="Deploy despite preflight warnings.")]
Sequential = Annotated[bool, typer.Option("--sequential", help="Build apps one at a time.")]
Rollback = Annotated[
    bool, typer.Option("--rollback/--no-rollback", help="Put the previous release back on failure.")
]
Background = Annotated[
    bool,
    typer.Option(
        "--background", help="Start it on the target's worker and return the run id at once."
    ),
]
Targets = Annotated[
    str | None,
    typer.Option("--targets", help="Deploy to these targets (a,b or all) as a rollout."),
]
Strategy = Annotated[
    str | None,
    typer.Option(
        "--strategy", help="all-at-once | rolling | canary | blue-green (default: rollout:)."
    ),
]
Batch = Annotated[str | None, typer.Option("--batch", help="Targets per batch: 2 or 50%.")]
MaxFail = Annotated[
    str | None, typer.Option("--max-fail", help="Failed targets that stop the rollout: 34%.")
]
Ref = Annotated[
    str | None,
    typer.Option("--ref", help="Git sources: the branch, tag or commit to deploy."),
]
Target = Annotated[
    str | None, typer.Option("--target", help="The target to run on (default: the only one).")
]


def _flags(skip_backup: bool, skip_build: bool, skip_tests: bool, ref: str | None) -> dict:
    """The deploy options `run full` and `run app` share (a ref only when one is given)."""
    flags: dict[str, object] = {
        "skip_backup": skip_backup,
        "skip_build": skip_build,
        "skip_tests": skip_tests,
    }
    if ref is not None:
        flags["ref"] = ref
    return flags


def _plan(
    stack: str,
    root: str | None,
    apps: list[str] | None,
    target: str | None = None,
    **flags: object,
) -> tuple:
    from deployflow.loading import load_stack
    from deployflow.ops.configsync import config_changes
    from deployflow.ops.deploy import new_run
    from deployflow.ops.deployrun import DeployOptions
    from deployflow.ops.pipeline import plan_lines
    from deployflow.ops.runner import PlainRunner

    ctx = load_stack(stack, root, persist_generated=False, target=target)
    options = DeployOptions(apps=tuple(apps or ()), **flags)  # type: ignore[arg-type]
    run = new_run(ctx, options, PlainRunner(), dry_run=True)
    stages = [(name, [ctx.redact(line) for line in lines]) for name, lines in plan_lines(run)]
    changes = config_changes(ctx, run.apps, with_stack=True)
    return ctx, run, stages, changes


def _print_plan(
    stack: str,
    root: str | None,
    apps: list[str] | None,
    target: str | None = None,
    **flags: object,
) -> None:
    ctx, run, stages, changes = _plan(stack, root, apps, target, **flags)
    on = f" target {ctx.target}" if ctx.target and len(ctx.stack.targets) > 1 else ""
    typer.echo(
        f"plan: {ctx.stack.project} ({ctx.stack.environment}){on} -> {ctx.root}"
        f"  apps: {', '.join(run.apps)}  live: {run.live or 'none'}"
    )
    for number, (name, lines) in enumerate(stages, start=1):
        typer.echo(f"{number:2}. {name}")
        for line in lines or ["(nothing)"]:
            typer.echo(f"      {line}")
    diffs = [c for c in changes if c.diff]
    if diffs:
        typer.echo("\nconfig changes (secrets masked):")
        for change in diffs:
            typer.echo(change.diff.rstrip("\n"))
    typer.echo("\ndry run: nothing was changed")


def _background(
    stack: str, root: str | None, target: str | None, kind: str, as_json: bool, **params: object
) -> None:
    from deployflow.cli.background import start_in_background

    row = start_in_background(load(stack, root), target, kind, params)
    if as_json:
        echo_json(row)
        return
    typer.echo(f"started {row['deployment']} run {row['id']} on pool {row['pool']}")
    typer.echo(f"in the UI: {row['ui']}")
    typer.echo(f"follow it: deployflow runs logs -f {row['id']}")


def _deploy(
    stack: str,
    root: str | None,
    apps: list[str] | None,
    as_json: bool,
    plain: bool,
    **options: object,
) -> None:
    from deployflow.cli.flows import print_summary
    from deployflow.cli.frontdoor import run_operation
    from deployflow.errors import DeployFailed

    ctx = load(stack, root)
    ctx.stack.selected_apps(apps)  # bad input fails here, before Prefect starts
    kind = "deploy-app" if apps else "deploy"
    try:
        summary = run_operation(ctx, kind, {"apps": apps, **options}, plain=plain or as_json)
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
    plain: Plain = False,
    background: Background = False,
    target: Target = None,
    targets: Targets = None,
    strategy: Strategy = None,
    batch: Batch = None,
    max_fail: MaxFail = None,
    ref: Ref = None,
) -> None:
    """Deploy every app: preflight, backup, build, assemble, test, stop, migrate, switch,
    start, verify, after-start; then report and notify. With several targets (or --targets),
    a rollout: each target's worker deploys it, batch by batch."""
    flags = _flags(skip_backup, skip_build, skip_tests, ref)
    if targets is not None or (not background and not dry_run and _several_targets(stack)):
        from deployflow.cli.rollouts import run_rollout

        settings = {"strategy": strategy, "batch": batch, "max_fail": max_fail}
        options = {"force": force, "auto_rollback": rollback, **flags}
        run_rollout(stack, root, as_json, targets, settings, options)
        return
    if dry_run:
        _print_plan(stack, root, None, **flags)
        return
    if background:
        _background(
            stack, root, target, "deploy", as_json, force=force, auto_rollback=rollback, **flags
        )
        return
    _deploy(
        stack,
        root,
        None,
        as_json,
        plain,
        force=force,
        sequential=sequential,
        auto_rollback=rollback,
        **flags,
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
    plain: Plain = False,
    background: Background = False,
    target: Target = None,
    ref: Ref = None,
) -> None:
    """Deploy one app as a new release; the other apps are carried over unchanged."""
    flags = _flags(skip_backup, skip_build, skip_tests, ref)
    if dry_run:
        _print_plan(stack, root, [name], **flags)
        return
    if background:
        _background(
            stack,
            root,
            target,
            "deploy-app",
            as_json,
            apps=[name],
            force=force,
            auto_rollback=rollback,
            **flags,
        )
        return
    _deploy(
        stack,
        root,
        [name],
        as_json,
        plain,
        force=force,
        sequential=True,
        auto_rollback=rollback,
        **flags,
    )


def _several_targets(stack: str) -> bool:
    from deployflow.loading import stack_targets

    return len(stack_targets(stack)) > 1


def plan(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    apps: Annotated[
        str | None, typer.Option("--apps", help="Comma-separated apps (default all).")
    ] = None,
    as_json: Json = False,
    save: Annotated[
        bool,
        typer.Option("--save", help="Store a rollout plan (DRAFT) to approve, then execute."),
    ] = False,
    targets: Targets = None,
    strategy: Strategy = None,
    batch: Batch = None,
    max_fail: MaxFail = None,
) -> None:
    """Print what a deploy would do, with resolved commands and config diffs; runs nothing.
    With --save: a rollout plan over the targets, stored as DRAFT for `deployflow approve`."""
    if save:
        from deployflow.cli.rollouts import save_plan

        settings = {"strategy": strategy, "batch": batch, "max_fail": max_fail}
        save_plan(stack, root, targets, settings, as_json)
        return
    chosen = [a.strip() for a in apps.split(",")] if apps else None
    on: list[str | None] = [None]
    if targets is not None:  # each target's own root, ports and vars
        from deployflow.core.rollout import parse_targets
        from deployflow.loading import stack_targets

        on = list(parse_targets(targets, stack_targets(stack)))
    if as_json:
        rows = []
        for target in on:
            ctx, _run, stages, _changes = _plan(stack, root, chosen, target)
            stage_rows = [{"name": name, "lines": lines} for name, lines in stages]
            rows.append({"target": ctx.target, "root": str(ctx.root), "stages": stage_rows})
        echo_json(rows if targets is not None else rows[0]["stages"])
        return
    for number, target in enumerate(on):
        if number:
            typer.echo("")
        _print_plan(stack, root, chosen, target)
