"""The deploy plan as data: each stage with the resolved commands it would run (for --dry-run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from deployflow.backends.services import get_backend
from deployflow.core.configs import render_configs
from deployflow.core.context import StackContext
from deployflow.core.healthplan import describe_check
from deployflow.core.recipes import rendered_steps
from deployflow.core.servicespec import service_spec, services_for

__all__ = ["PlanStage", "deploy_plan", "format_plan"]


@dataclass
class PlanStage:
    name: str
    lines: list[str] = field(default_factory=list)


def _argv(argv: list[str]) -> str:
    return " ".join(argv)


def deploy_plan(
    ctx: StackContext,
    apps: list[str],
    live: str | None,
    full: bool,
    skip_backup: bool = False,
    skip_build: bool = False,
    skip_tests: bool = False,
) -> list[PlanStage]:
    lay = ctx.layout
    rel = "releases/<new>"
    services = services_for(ctx, apps)
    infra = ctx.stack.infrastructure_services()
    stages = [PlanStage("preflight", [f"ensure running: {name}" for name in infra])]
    stages[0].lines += ["check tools, ports, disk space, templates"]
    stages[0].lines += [f"check database {name}" for name in ctx.stack.databases]
    backup = PlanStage("backup")
    if skip_backup:
        backup.lines.append("skipped (--skip-backup)")
    else:
        backup.lines.append(f"copy {lay.shared / 'configs'} -> {lay.backups}/<new>/configs")
        backup.lines.append(f"record live release: {live or 'none'}")
        if "database" in ctx.stack.backup.include:
            backup.lines += [f"dump database {db} (mysqldump | gzip)" for db in ctx.stack.databases]
    stages.append(backup)
    stages.append(
        PlanStage(
            "config",
            [
                f"render {c.label} -> {c.path} (mode {c.mode:04o})"
                for c in render_configs(ctx, apps, full)
            ],
        )
    )
    build = PlanStage("build")
    for app in apps:
        if skip_build:
            build.lines.append(f"{app}: reuse build from {live}")
            continue
        build.lines.append(f"{app}: copy {ctx.stack.apps[app].source} -> {rel}/{app}")
        build.lines += [f"{app}: {_argv(step)}" for step in rendered_steps(ctx, app)]
        if not skip_tests:
            build.lines += [f"{app}: test {_argv(t)}" for t in rendered_steps(ctx, app, tests=True)]
    for app in ctx.stack.apps:
        if app not in apps:
            build.lines.append(f"{app}: carried over from {live}")
    stages.append(build)
    stop = PlanStage("stop")
    start = PlanStage("start")
    for name in services:
        spec = service_spec(ctx, name)
        backend = get_backend(ctx.stack.services[name].backend)
        stop.lines += [f"{name}: {_argv(a)}" for a in backend.stop_argv(spec)]
        start.lines += [f"{name}: {_argv(a)}  (cwd {spec.cwd})" for a in backend.start_argv(spec)]
    stages.append(stop)
    release = PlanStage("release")
    for app in apps:
        for entry in ctx.stack.apps[app].shared:
            release.lines.append(f"{app}: link {rel}/{app}/{entry} -> shared/{app}/{entry}")
        spec = ctx.stack.apps[app].migrations
        if spec:
            release.lines.append(f"{app}: apply migrations {spec.dir}/*.sql to {spec.database}")
    release.lines.append(f"switch {lay.current} -> {rel}")
    stages.append(release)
    stages.append(start)
    stages.append(
        PlanStage(
            "verify",
            [
                f"{app}: {describe_check(ctx, app, i, '<new>')}"
                for app in apps
                for i in range(len(ctx.stack.apps[app].health))
            ],
        )
    )
    stages.append(PlanStage("report", [f"write {lay.reports}/<new>-*.md|json"]))
    targets = len(ctx.stack.notifications)
    stages.append(
        PlanStage("notify", [f"{targets} targets" if targets else "no targets configured"])
    )
    return stages


def format_plan(stages: list[PlanStage], redact: Callable[[str], str]) -> str:
    out = []
    for number, stage in enumerate(stages, start=1):
        out.append(f"{number:2}. {stage.name}")
        out += [f"      {redact(line)}" for line in stage.lines] or ["      (nothing)"]
    return "\n".join(out)
