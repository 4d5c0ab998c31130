"""What each pipeline stage does and what it would do (`plan`), over one `DeployRun`."""

from __future__ import annotations

from dataclasses import replace

from deployflow.core.configs import RenderedConfig, render_configs
from deployflow.core.servicespec import ServiceSpec
from deployflow.core.snapshot import AppState, Snapshot
from deployflow.errors import BuildError, HealthCheckError
from deployflow.ops.deployrun import DeployRun
from deployflow.ops.releasedata import record_release_data
from deployflow.ops.releasework import drift_checks, release_offline
from deployflow.stages.appsteps import rendered_steps
from deployflow.stages.assemble import (
    app_state,
    config_entries,
    install_shared_configs,
    write_release,
)
from deployflow.stages.backup import create_backup
from deployflow.stages.build import app_build_key, build_app, run_tests
from deployflow.stages.hooks import hook_steps, run_hooks
from deployflow.stages.preflight import run_preflight, say_check, verdict
from deployflow.stages.release import migrate as apply_sql
from deployflow.stages.release import switch_current
from deployflow.stages.releasephase import release_steps
from deployflow.stages.services import start_specs, status_specs, stop_specs
from deployflow.stages.slots import ensure_proxy, retire
from deployflow.stages.verify import verify_checks

__all__ = [
    "after_start",
    "assemble",
    "backup",
    "build",
    "drain",
    "migrate",
    "plan_assemble",
    "plan_backup",
    "plan_build",
    "plan_drain",
    "plan_hooks",
    "plan_migrate",
    "plan_preflight",
    "plan_tests",
    "plan_verify",
    "preflight",
    "start",
    "stop",
    "switch",
    "test",
    "verify",
]


def preflight(run: DeployRun) -> str:
    checks = run_preflight(run.ctx, run.apps, run.say)
    for check in drift_checks(run.ctx, run.live, run.apps):
        say_check(check, run.say)
        checks.append(check)
    return verdict(checks, run.options.force)


def plan_preflight(run: DeployRun) -> list[str]:
    ctx = run.ctx
    lines = [f"ensure running: {name}" for name in ctx.stack.infrastructure_services()]
    if ctx.stack.proxy:
        lines.append(f"ensure running: proxy (nginx under {ctx.layout.proxy})")
    lines.append("check tools, ports, disk space, templates")
    return lines + [f"check database {name}" for name in ctx.stack.databases]


def backup(run: DeployRun) -> str:
    info = create_backup(run.ctx, run.release_id, run.live_snapshot, run.say)
    return f"{info.files} configs, {info.databases} database dumps; live {run.live or 'none'}"


def plan_backup(run: DeployRun) -> list[str]:
    lay, include = run.ctx.layout, run.ctx.stack.backup.include
    lines = [f"write {lay.backups}/<new>/ (include: {', '.join(include)})"]
    if "configs" in include:
        lines.append(f"copy the configs of release {run.live or 'none'}")
    if "database" in include:
        lines += [f"dump database {db}" for db in run.ctx.stack.databases]
    return lines


def _reused_key(run: DeployRun, app: str) -> str:
    live = run.live_snapshot
    if live is None or app not in live.apps:
        raise BuildError(f"apps.{app}: no live release to reuse its build from; build it")
    return live.apps[app].key


def _wants_build(run: DeployRun) -> bool:
    return not run.options.skip_build and run.options.purpose == "deploy"


def build(run: DeployRun) -> str:
    ctx = run.ctx
    if not _wants_build(run):
        run.keys = {app: _reused_key(run, app) for app in run.apps}
        for app, key in run.keys.items():
            if not ctx.layout.build_done(app, key).is_file():
                raise BuildError(f"apps.{app}: build {key[:12]} is gone; deploy with a build")
            run.builds[app] = ctx.layout.build_dir(app, key)
        return f"reused {len(run.keys)} builds"
    run.keys = {app: app_build_key(ctx, app) for app in run.apps}

    def one(item: str) -> bool:
        return build_app(ctx, item, run.keys[item], run.say).reused

    reused = run.runner.each("build", one, run.apps, not run.options.sequential)
    for app in run.apps:
        run.builds[app] = ctx.layout.build_dir(app, run.keys[app])
    return f"built {reused.count(False)}, reused {reused.count(True)}"


def plan_build(run: DeployRun) -> list[str]:
    ctx, lines = run.ctx, []
    if not _wants_build(run):
        run.keys = {app: _reused_key(run, app) for app in run.apps}
        return [f"{app}: reuse build {key[:12]}" for app, key in run.keys.items()]
    run.keys = {app: app_build_key(ctx, app) for app in run.apps}
    for app, key in run.keys.items():
        if ctx.layout.build_done(app, key).is_file():
            lines.append(f"{app}: reuse build {key[:12]} (inputs unchanged)")
            continue
        source = ctx.stack.apps[app].source
        shown = source if isinstance(source, str) else f"{source.git} at {run.commits[app].sha}"
        lines.append(f"{app}: copy {shown} -> builds/{app}/{key[:24]}")
        lines += [f"{app}: {' '.join(step)}" for step in rendered_steps(ctx, app)]
    return lines


def _snapshot(run: DeployRun) -> None:
    """The new release's snapshot: changed apps run from it, the others from where they ran."""
    ctx, rid, live = run.ctx, run.release_id, run.live_snapshot
    run.configs = render_configs(ctx, list(ctx.stack.apps), rid, with_stack=True)
    snap = Snapshot(rid)
    mine = {c.dest: c for c in run.configs if c.app is None}
    snap.stack_configs = config_entries(list(mine.values()))
    for app in ctx.stack.apps:
        old: AppState | None = live.apps.get(app) if live else None
        if app not in run.keys:
            if old is None and run.dry_run:
                continue
            if old is None:
                raise BuildError(f"apps.{app}: never deployed; deploy it (or the whole stack)")
            snap.apps[app] = old
            continue
        configs = [c for c in run.configs if c.app == app]
        state = app_state(ctx, app, rid, run.keys[app], configs)
        if old is not None:
            again = render_configs(ctx, [app], old.runs_from, with_stack=False)
            if app_state(ctx, app, old.runs_from, run.keys[app], again).same_as(old):
                state = old
        if app in run.commits:  # what it was built from
            state = replace(state, commit=run.commits[app].as_dict())
        snap.apps[app] = state
    run.snapshot = snap
    run.changed = [a for a, s in snap.apps.items() if s.runs_from == rid]


def assemble(run: DeployRun) -> str:
    _snapshot(run)
    assert run.snapshot is not None
    builds = {app: run.builds[app] for app in run.changed}
    wanted: list[RenderedConfig] = [c for c in run.configs if c.app is None or c.app in builds]
    write_release(run.ctx, run.snapshot, builds, wanted, run.say)
    same = [a for a in run.snapshot.apps if a not in run.changed]
    return f"changed: {', '.join(run.changed) or 'none'}; unchanged: {', '.join(same) or 'none'}"


def plan_assemble(run: DeployRun) -> list[str]:
    _snapshot(run)
    lines = [f"{app}: new, from build {run.keys[app][:12]}" for app in run.changed]
    assert run.snapshot is not None
    lines += [
        f"{app}: unchanged, runs on from {s.runs_from}"
        for app, s in run.snapshot.apps.items()
        if app not in run.changed
    ]
    lines += [f"render {c.label} (mode {c.mode:04o})" for c in run.configs]
    return lines


def test(run: DeployRun) -> str:
    ran = 0
    for app in run.changed:
        if run.ctx.stack.apps[app].tests:
            ran += run_tests(run.ctx, app, run.release_id, run.say)
    return f"{ran} test commands passed"


def plan_tests(run: DeployRun) -> list[str]:
    return [
        f"{app}: test {' '.join(step)}"
        for app in run.changed
        for step in rendered_steps(run.ctx, app, tests=True)
    ]


def plan_verify(run: DeployRun) -> list[str]:
    """Every check of every app: a release is verified whole, whatever changed in it."""
    return [check.name for check in run.snapshot.checks()] if run.snapshot else []


def _live_specs(run: DeployRun) -> list:
    """What the stop stage stops: the changed apps' running services, except those that run
    beside their successor of the same kind (`reuse_port` to `reuse_port`, blue-green slots to
    slots), which the start stage replaces. A service turning blue-green stops here: its single
    process holds the port the proxy takes."""
    if run.live_snapshot is None:
        return []
    new = {s.name: s for s in run.snapshot.services(run.changed)} if run.snapshot else {}

    def beside(old: ServiceSpec) -> bool:
        successor = new.get(old.name)
        if successor is None:
            return False
        return bool(old.slots and successor.slots) or (old.reuse_port and successor.reuse_port)

    return [s for s in run.live_snapshot.services(run.changed) if not beside(s)]


def stop(run: DeployRun) -> str:
    specs = _live_specs(run)
    stop_specs(specs, run.say)
    return ", ".join(s.name for s in specs) or "nothing to stop"


def migrate(run: DeployRun) -> str:
    applied = apply_sql(run.ctx, run.changed, run.release_id, run.say)
    released = release_offline(run)
    hooks = sum(
        run_hooks(run.ctx, app, "before_start", run.release_id, run.say) for app in run.changed
    )
    record_release_data(run.ctx, run.release_id)
    return f"{len(applied)} SQL migrations, {released} release commands, {hooks} before_start hooks"


def plan_migrate(run: DeployRun) -> list[str]:
    lines = []
    for app in run.changed or run.apps:
        spec = run.ctx.stack.apps[app].migrations
        if spec:
            lines.append(f"{app}: apply {spec.dir}/*.sql to database {spec.database}")
    for app in run.changed or run.apps:
        if run.ctx.stack.migrate_mode(app) == "offline":
            lines += [
                f"{app}: {' '.join(step)}" for step in release_steps(run.ctx, app, run.release_id)
            ]
    return lines + plan_hooks(run, "before_start")


def plan_hooks(run: DeployRun, when: str) -> list[str]:
    return [
        f"{app}: {' '.join(step)}"
        for app in run.changed or run.apps
        for step in hook_steps(run.ctx, app, when, run.release_id)
    ]


def switch(run: DeployRun) -> str:
    previous = switch_current(run.ctx, run.release_id, run.say)
    installed = install_shared_configs(run.ctx, run.release_id, run.say)
    shared = f"; {len(installed)} shared configs" if installed else ""
    return f"current -> {run.release_id} (was {previous or 'none'}){shared}"


def start(run: DeployRun) -> str:
    assert run.snapshot is not None
    specs = run.snapshot.services(run.changed)
    if any(s.slots for s in specs):  # the proxy up first (its port was freed by `stop`)
        ensure_proxy(run.ctx, run.say)
    start_specs(specs, run.say, replace=True, retiring=run.retiring)
    return ", ".join(s.name for s in specs) or "nothing to start"


def verify(run: DeployRun) -> str:
    assert run.snapshot is not None
    try:
        results = verify_checks(run.ctx, run.snapshot.checks(), run.say)  # concurrently, all
    except HealthCheckError as exc:  # say which of its services is down, and why
        specs = run.snapshot.services(run.changed)
        down = [
            f"{s.name}: {s.detail}"
            for s in status_specs(specs)
            if not s.running or "OOM-killed" in s.detail
        ]
        if not down:
            raise
        raise HealthCheckError(f"{exc}; service {'; '.join(down)}") from None
    run.verified = results
    return f"{len(results)} checks passed"


def drain(run: DeployRun) -> str:
    """Blue-green: the slots traffic left finish their requests and stop."""
    for spec in run.retiring:
        retire(spec, run.say)
    return ", ".join(f"{s.name} {s.slot}" for s in run.retiring)


def plan_drain(run: DeployRun) -> list[str]:
    specs = run.snapshot.services(run.changed) if run.snapshot else []
    return [
        f"{s.name}: stop the slot traffic left, after at most {s.drain:.0f}s of draining"
        for s in specs
        if s.slots
    ]


def after_start(run: DeployRun) -> str:
    hooks = sum(
        run_hooks(run.ctx, app, "after_start", run.release_id, run.say) for app in run.changed
    )
    return f"{hooks} after_start hooks"
