"""`deployflow run full|app`: preflight → backup → config sync → build → stop → release → start
→ verify → report → notify, with automatic rollback on any failure after the backup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.core.layout import new_release_id
from deployflow.core.servicespec import services_for
from deployflow.core.summary import Summary
from deployflow.errors import BuildError, DeployFailed, DeployflowError
from deployflow.flows.common import last_good_live, open_stack, recover_interrupted, select_apps
from deployflow.stages.backup import prune_backups
from deployflow.stages.build import BuildResult, adopt_build, app_build_key
from deployflow.stages.preflight import verdict
from deployflow.stages.release import CONFIG_SNAPSHOT, load_history, prune_releases, record
from deployflow.tasks.backup import backup
from deployflow.tasks.build import build, test
from deployflow.tasks.config_sync import config_sync
from deployflow.tasks.logging import stage_log
from deployflow.tasks.notify import notify
from deployflow.tasks.preflight import preflight
from deployflow.tasks.release import release
from deployflow.tasks.report import report
from deployflow.tasks.rollback import rollback
from deployflow.tasks.start import start
from deployflow.tasks.stop import stop
from deployflow.tasks.verify import verify

__all__ = ["deploy"]


@dataclass
class _Run:
    """What one deploy knows as it goes: the release it makes and how to put things back."""

    ctx: StackContext
    apps: list[str]
    full: bool
    release_id: str
    live: str | None
    summary: Summary
    options: dict[str, bool]
    configs_from: str | None = None
    services: list[str] = field(default_factory=list)


def _builds(run: _Run) -> list[BuildResult]:
    """Build the chosen apps (concurrently unless sequential); carry the others over."""
    ctx, lay = run.ctx, run.ctx.layout
    results: list[BuildResult] = []
    to_build = [] if run.options["skip_build"] else run.apps
    for app in ctx.stack.apps:
        if app not in to_build:
            if run.live is None or not lay.app_dir(run.live, app).is_dir():
                raise BuildError(f"apps.{app}: no live release to reuse its build from; build it")
            results.append(BuildResult(app, run.live, str(lay.app_dir(run.live, app)), "", 0.0, 0))
    keys = {app: app_build_key(ctx, app) for app in to_build}
    if run.options["sequential"]:
        fresh = [build(ctx, app, run.release_id, keys[app]) for app in to_build]
    else:
        futures = [build.submit(ctx, app, run.release_id, keys[app]) for app in to_build]
        fresh = [f.result() for f in futures]
    for app, result in zip(to_build, fresh, strict=True):
        if result.release_id != run.release_id and not Path(result.path).is_dir():
            result = build.with_options(refresh_cache=True)(ctx, app, run.release_id, keys[app])
        results.append(result)
    built = []
    for result in results:
        if result.release_id != run.release_id:
            result = adopt_build(ctx, result, run.release_id, stage_log(ctx))
        built.append(result)
    return built


def _versions(ctx: StackContext, release_id: str) -> dict[str, str]:
    versions = {}
    for app in ctx.stack.apps:
        marker = ctx.layout.app_dir(release_id, app) / "VERSION"
        versions[app] = marker.read_text().strip() if marker.is_file() else ""
    return versions


def _stages(run: _Run) -> None:
    """Everything after preflight, in order; any exception leaves the rest undone."""
    ctx, summary, rid = run.ctx, run.summary, run.release_id
    if run.options["skip_backup"]:
        summary.skip("backup", "--skip-backup")
    else:
        with summary.stage("backup") as st:
            info = backup(ctx, rid)
            run.configs_from = str(Path(info.path) / "configs")
            st["detail"] = (
                f"{info.files} configs, {info.databases} database dumps; "
                f"live release {info.previous_release or 'none'}"
            )
    with summary.stage("config") as st:
        changes = config_sync(ctx, run.apps, run.full)
        changed = [c.label for c in changes if c.status != "unchanged"]
        st["detail"] = f"{len(changed)} of {len(changes)} changed"
    with summary.stage("build") as st:
        built = Summary.plain(_builds(run))
        reused = [b["app"] for b in built if b["reused_from"]]
        st["detail"] = f"built {len(built) - len(reused)}, reused {len(reused)}"
        summary["builds"] = built
    if run.options["skip_tests"] or not any(ctx.stack.apps[a].tests for a in run.apps):
        summary.skip("test", "--skip-tests" if run.options["skip_tests"] else "no tests declared")
    else:
        with summary.stage("test"):
            for app in run.apps:
                test(ctx, app, rid)
    with summary.stage("stop") as st:
        stop(ctx, run.services)
        st["detail"] = ", ".join(run.services)
    with summary.stage("release") as st:
        applied = release(ctx, rid, run.apps, _versions(ctx, rid))
        st["detail"] = f"current -> {rid}; {len(applied)} migrations"
    with summary.stage("start") as st:
        start(ctx, run.services)
        st["detail"] = ", ".join(run.services)
    with summary.stage("verify") as st:
        results = verify(ctx, run.apps, rid)
        summary["health"] = Summary.plain(results)
        st["detail"] = f"{len(results)} checks passed"


def _put_back(run: _Run, auto_rollback: bool) -> None:
    """After a failure: the previous release, its configs and services back, verified."""
    if not auto_rollback:
        run.summary.skip("rollback", "--no-rollback")
        return
    with run.summary.stage("rollback") as st:
        try:
            results = rollback(run.ctx, run.live, run.configs_from)
            run.summary["health"] = Summary.plain(results)
            st["detail"] = f"back on {run.live or 'nothing (first deploy)'}"
        except DeployflowError as exc:
            run.summary["live"] = None
            st["detail"] = f"rollback failed: {exc}"


@flow(name="deploy", flow_run_name="deploy-{stack_name}", log_prints=True)
def deploy(
    stack: str,
    root: str | None = None,
    apps: list[str] | None = None,
    stack_name: str = "stack",
    skip_backup: bool = False,
    skip_build: bool = False,
    skip_tests: bool = False,
    force: bool = False,
    sequential: bool = False,
    auto_rollback: bool = True,
) -> dict[str, Any]:
    """Deploy the stack (or some of its apps) as a new release; roll back on failure."""
    ctx = open_stack(stack, root)
    chosen = select_apps(ctx, apps)
    logger = get_run_logger()
    options = {
        "skip_backup": skip_backup,
        "skip_build": skip_build,
        "skip_tests": skip_tests,
        "sequential": sequential,
    }
    with deploy_lock(ctx.layout.lock, f"deploy {','.join(chosen)}", logger.warning):
        recover_interrupted(ctx, lambda message: logger.info(ctx.redact(message)))
        existing = {r.id for r in load_history(ctx)}
        if ctx.layout.releases.is_dir():
            existing |= {p.name for p in ctx.layout.releases.iterdir()}
        rid = new_release_id(existing=existing)
        live = last_good_live(ctx)
        summary = Summary(ctx, "app" if apps else "full", chosen, rid)
        summary["previous"] = summary["live"] = live
        run = _Run(ctx, chosen, not apps, rid, live, summary, options)
        run.services = services_for(ctx, chosen)
        if live:
            run.configs_from = str(ctx.layout.release(live) / CONFIG_SNAPSHOT)
        with summary.stage("preflight") as st:
            st["detail"] = verdict(preflight(ctx, chosen), force)
        record(ctx, rid, "building", f"deploy {', '.join(chosen)}")
        error: BaseException | None = None
        try:
            _stages(run)
            record(ctx, rid, "live", "deployed")
            summary["live"] = rid
            prune_releases(ctx, lambda message: logger.info(ctx.redact(message)))
            prune_backups(ctx, lambda message: logger.info(ctx.redact(message)))
        except BaseException as exc:  # failures, Ctrl-C and termination all put things back
            error = exc
            reason = str(exc) or type(exc).__name__
            record(ctx, rid, "failed", reason)
            _put_back(run, auto_rollback)
        for app in chosen:
            url = ctx.stack.apps[app].url
            if url:
                summary["urls"][app] = ctx.render(url, f"apps.{app}.url")
        outcome = "success" if error is None else ("rolled back" if auto_rollback else "failed")
        data = summary.finish(
            outcome, ctx.redact(str(error) or type(error).__name__) if error else None
        )
        data["report"] = report(ctx, data)
        data["notify"] = notify(ctx, data)
    if error is None:
        return data
    if not isinstance(error, Exception):
        raise error
    raise DeployFailed(
        f"deploy {rid} failed ({data['error']}); {outcome}, live: {data['live'] or 'none'}", data
    ) from error
