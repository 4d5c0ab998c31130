"""`deployflow run full|app`: preflight → backup → config sync → build → stop → release → start
→ verify → report → notify, with automatic rollback on any failure after the backup."""

from __future__ import annotations

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


def _builds(
    ctx: StackContext, apps: list[str], release_id: str, opts: dict[str, Any], live: str | None
) -> list[BuildResult]:
    """Build the chosen apps (concurrently unless sequential); carry the others over."""
    lay = ctx.layout
    results: list[BuildResult] = []
    to_build = [] if opts["skip_build"] else apps
    for app in ctx.stack.apps:
        if app not in to_build:
            if live is None or not lay.app_dir(live, app).is_dir():
                raise BuildError(f"apps.{app}: no live release to reuse its build from; build it")
            results.append(BuildResult(app, live, str(lay.app_dir(live, app)), "", 0.0, 0))
    keys = {app: app_build_key(ctx, app) for app in to_build}
    if opts["sequential"]:
        fresh = [build(ctx, app, release_id, keys[app]) for app in to_build]
    else:
        futures = [build.submit(ctx, app, release_id, keys[app]) for app in to_build]
        fresh = [f.result() for f in futures]
    for app, result in zip(to_build, fresh, strict=True):
        if result.release_id != release_id and not Path(result.path).is_dir():
            result = build.with_options(refresh_cache=True)(ctx, app, release_id, keys[app])
        results.append(result)
    return results


def _adopt(ctx: StackContext, results: list[BuildResult], release_id: str) -> list[dict[str, Any]]:
    out = []
    for result in results:
        if result.release_id != release_id:
            result = adopt_build(ctx, result, release_id, stage_log(ctx))
        out.append(Summary.plain([result])[0])
    return out


def _versions(ctx: StackContext, release_id: str) -> dict[str, str]:
    versions = {}
    for app in ctx.stack.apps:
        marker = ctx.layout.app_dir(release_id, app) / "VERSION"
        versions[app] = marker.read_text().strip() if marker.is_file() else ""
    return versions


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
    log = lambda message: logger.info(ctx.redact(message))  # noqa: E731
    opts = {"skip_build": skip_build, "sequential": sequential}
    with deploy_lock(ctx.layout.lock, f"deploy {','.join(chosen)}", logger.warning):
        recover_interrupted(ctx, log)
        existing = {r.id for r in load_history(ctx)}
        if ctx.layout.releases.is_dir():
            existing |= {p.name for p in ctx.layout.releases.iterdir()}
        release_id = new_release_id(existing=existing)
        live = last_good_live(ctx)
        summary = Summary(ctx, "full" if apps is None else "app", chosen, release_id)
        summary["previous"] = live
        summary["live"] = live
        with summary.stage("preflight") as st:
            st["detail"] = verdict(preflight(ctx, chosen), force)
        record(ctx, release_id, "building", f"deploy {', '.join(chosen)}")
        configs_from: str | None = None
        if live:
            configs_from = str(ctx.layout.release(live) / CONFIG_SNAPSHOT)
        services = services_for(ctx, chosen)
        error: DeployflowError | None = None
        try:
            if skip_backup:
                summary.skip("backup", "--skip-backup")
            else:
                with summary.stage("backup") as st:
                    info = backup(ctx, release_id)
                    configs_from = str(Path(info.path) / "configs")
                    st["detail"] = (
                        f"{info.files} config files, live release {info.previous_release or 'none'}"
                    )
            with summary.stage("config") as st:
                changes = config_sync(ctx, chosen, apps is None)
                changed = [c.label for c in changes if c.status != "unchanged"]
                st["detail"] = f"{len(changed)} of {len(changes)} changed"
            with summary.stage("build") as st:
                built = _adopt(ctx, _builds(ctx, chosen, release_id, opts, live), release_id)
                reused = [b["app"] for b in built if b["reused_from"]]
                st["detail"] = f"built {len(built) - len(reused)}, reused {len(reused)}"
                summary["builds"] = built
            if skip_tests or not any(ctx.stack.apps[a].tests for a in chosen):
                summary.skip("test", "--skip-tests" if skip_tests else "no tests declared")
            else:
                with summary.stage("test"):
                    for app in chosen:
                        test(ctx, app, release_id)
            with summary.stage("stop") as st:
                stop(ctx, services)
                st["detail"] = ", ".join(services)
            with summary.stage("release") as st:
                applied = release(ctx, release_id, chosen, _versions(ctx, release_id))
                st["detail"] = f"current -> {release_id}; {len(applied)} migrations"
            with summary.stage("start") as st:
                start(ctx, services)
                st["detail"] = ", ".join(services)
            with summary.stage("verify") as st:
                results = verify(ctx, chosen, release_id)
                summary["health"] = Summary.plain(results)
                st["detail"] = f"{len(results)} checks passed"
            record(ctx, release_id, "live", "deployed")
            summary["live"] = release_id
            prune_releases(ctx, log)
        except Exception as exc:  # any failure after the backup puts the previous release back
            error = (
                exc
                if isinstance(exc, DeployflowError)
                else DeployflowError(f"{type(exc).__name__}: {exc}")
            )
            record(ctx, release_id, "failed", str(error))
            if auto_rollback:
                with summary.stage("rollback") as st:
                    try:
                        results = rollback(ctx, live, configs_from)
                        summary["health"] = Summary.plain(results)
                        st["detail"] = f"back on {live or 'nothing (first deploy)'}"
                    except DeployflowError as rb_exc:
                        summary["live"] = None
                        st["detail"] = f"rollback failed: {rb_exc}"
            else:
                summary.skip("rollback", "--no-rollback")
        result = "success" if error is None else ("rolled back" if auto_rollback else "failed")
        for app in chosen:
            url = ctx.stack.apps[app].url
            if url:
                summary["urls"][app] = ctx.render(url, f"apps.{app}.url")
        data = summary.finish(result, ctx.redact(str(error)) if error else None)
        data["report"] = report(ctx, data)
        data["notify"] = notify(ctx, data)
    if error is not None:
        raise DeployFailed(
            f"deploy {release_id} failed ({error}); {result}, live: {data['live'] or 'none'}",
            data,
        ) from error
    return data
