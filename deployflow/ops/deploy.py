"""The deploy operation: under the root's lock, recover from any interrupted run, run the
pipeline, and on any failure after something live was touched put the previous release back
from its own snapshot. Report and notify failures are warnings, never the deploy's outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deployflow.backends.executor import kill_running
from deployflow.backends.failpoints import failpoint
from deployflow.backends.history import (
    current_release,
    history_size,
    load_history,
    now,
    record,
)
from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.core.history import GOOD, Status, previous_good
from deployflow.core.layout import new_release_id
from deployflow.core.summary import Summary
from deployflow.errors import DeployFailed, DeployflowError
from deployflow.ops.deployrun import DeployOptions, DeployRun
from deployflow.ops.journal import Journal
from deployflow.ops.outcome import finish
from deployflow.ops.pipeline import STAGES, skip_reason
from deployflow.ops.progress import Progress, publish, stage_event
from deployflow.ops.putback import put_back, recover
from deployflow.ops.releasework import data_line, note_data_start, undo_versions
from deployflow.ops.runner import Runner
from deployflow.ops.sources import prepare_sources
from deployflow.stages.assemble import release_complete
from deployflow.stages.backup import prune_backups
from deployflow.stages.release import prune_releases
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["deploy", "last_good_live", "new_run"]


def last_good_live(ctx: StackContext) -> str | None:
    """The release to return to: `current` when it is good, else the newest good one before it."""
    records = load_history(ctx)
    current = current_release(ctx)
    status = {r.id: r.status for r in records}
    if current and status.get(current) in GOOD and release_complete(ctx, current):
        return current
    candidate = previous_good(records, before=current)
    while candidate and not release_complete(ctx, candidate.id):
        candidate = previous_good(records, before=candidate.id)
    return candidate.id if candidate else None


def new_run(
    ctx: StackContext, options: DeployOptions, runner: Runner, dry_run: bool = False
) -> DeployRun:
    existing = {r.id for r in load_history(ctx)}
    if ctx.layout.releases.is_dir():
        existing |= {p.name for p in ctx.layout.releases.iterdir()}
    live = last_good_live(ctx)
    commits = prepare_sources(ctx, options.ref, options.revision, runner.log)
    return DeployRun(
        ctx=ctx,
        options=options,
        apps=ctx.stack.selected_apps(options.apps),
        release_id="<new>" if dry_run else new_release_id(existing=existing),
        live=live,
        live_snapshot=load_snapshot(ctx, live) if live else None,
        runner=runner,
        dry_run=dry_run,
        commits=commits,
    )


def _lifecycle(
    run: DeployRun, summary: Summary, state: Status, note: str = "", **extra: Any
) -> None:
    """The release enters `state`: in its history, the report and the run's log."""
    record(run.ctx, run.release_id, state, note, **extra)
    summary["lifecycle"].append([state, now()])
    run.say(f"release {run.release_id}: {state}")


def _run_stages(run: DeployRun, summary: Summary, journal: Journal) -> None:
    lay = run.ctx.layout
    for stage in STAGES:
        reason = skip_reason(stage, run)
        if reason:
            summary.skip(stage.name, reason)
            continue
        if stage.enters:
            _lifecycle(run, summary, stage.enters)  # type: ignore[arg-type]
        if stage.live:  # from here a kill is recovered by restarting just these apps
            journal.apps = run.changed
        if stage.data:
            # from here a failure restores the pre-deploy dump; not after an online release
            # phase (the old release kept writing), and with no dump it says what changed
            dump = (lay.backup(run.release_id) / "database").is_dir() and not run.online_ran
            journal.data_backup = run.release_id if dump else None
            note_data_start(run, dump)
        journal.enter(lay, stage.name, stage.live)
        with summary.stage(stage.name) as entry:
            failpoint(stage.name, run.ctx.target)
            with run.stage(stage.io):
                if stage.task:
                    entry["detail"] = run.runner.call(stage.name, stage.execute, run)
                else:
                    entry["detail"] = stage.execute(run)


def _put_back(run: DeployRun, summary: Summary, journal: Journal) -> bool | None:
    """Put the live release back: True when it is back, False when that failed (the journal
    then stays for `recover`), None when there was nothing to put back or it was not asked."""
    undone = ([], []) if journal.data_backup else undo_versions(run)  # before any restart
    if not journal.touched_live:
        summary.skip("rollback", "nothing live was touched")
        _data(run, summary, None, [], undone)
        return None
    if not run.options.auto_rollback:
        summary.skip("rollback", "--no-rollback")
        return None
    with summary.stage("rollback") as entry:
        try:
            data = run.ctx.layout.backup(journal.data_backup) if journal.data_backup else None
            restored: list[str] = []

            def undo() -> list:
                return put_back(
                    run.ctx,
                    run.release_id,
                    run.live,
                    run.changed,
                    run.say,
                    data,
                    restored,
                    journal,
                )

            results = run.runner.call("rollback", undo)
            summary["health"] = Summary.plain(results)
            summary["live"] = run.live
            entry["detail"] = f"back on {run.live or 'nothing (first deploy)'}"
            if restored:
                entry["detail"] += (
                    f"; database {', '.join(restored)} restored from backup {journal.data_backup}"
                )
            _data(run, summary, journal.data_backup, restored, undone)
        except DeployflowError as exc:
            summary["live"] = None
            entry["detail"] = f"rollback failed: {exc}; `deployflow recover` tries again"
            journal.enter(run.ctx.layout, "rollback failed", True)
            return False
    return True


def _data(
    run: DeployRun,
    summary: Summary,
    backup: str | None,
    restored: list[str],
    undone: tuple[list[str], list[str]],
) -> None:
    found = data_line(run, backup, restored, undone)
    if found is not None:
        summary["data"], summary["data_not_restored"] = found


def deploy(
    ctx: StackContext,
    options: DeployOptions,
    runner: Runner,
    on_release: Callable[[str, list[str]], None] = lambda _rid, _tags: None,
) -> dict[str, Any]:
    """Deploy a new release; returns the summary, or raises `DeployFailed` carrying it."""
    lay = ctx.layout
    purpose = f"{options.purpose} {','.join(options.apps) or 'all apps'}"
    if options.revision:
        purpose += f" at {options.revision[:12]}"
    with deploy_lock(lay.lock, purpose):
        recover(ctx, runner.log)
        run = new_run(ctx, options, runner)
        on_release(run.release_id, [f"{a}@{c.sha[:12]}" for a, c in run.commits.items()])
        flow = "app" if options.apps else "full"
        summary = Summary(ctx, flow, run.apps, run.release_id, watch=stage_event)
        publish(Progress("plan", stages=tuple(s.name for s in STAGES)))
        summary["previous"] = summary["live"] = run.live
        summary["revision"] = options.revision
        summary["commits"] = {a: c.as_dict() for a, c in run.commits.items()}
        journal = Journal("deploy", run.release_id, run.live, history_at=history_size(ctx))
        commits = {a: c.sha for a, c in run.commits.items()}
        extra = {"commits": commits} if commits else {}
        summary["lifecycle"] = []
        _lifecycle(run, summary, "created", purpose, apps=run.apps, **extra)
        journal.save(lay)
        error: BaseException | None = None
        back: bool | None = None
        try:
            _run_stages(run, summary, journal)
            _lifecycle(run, summary, "live", "deployed")
            journal.enter(lay, "recorded live", True)  # a kill from here on: it is done
            failpoint("recorded-live")
            summary["live"] = run.release_id
            summary["health"] = Summary.plain(run.verified)
        except BaseException as exc:  # failures, Ctrl-C and termination all put things back
            error = exc
            kill_running()  # steps still running in other threads (concurrent builds) end now
            # stopped from outside (Ctrl-C, SIGTERM, a cancelled run) or failed on its own
            if isinstance(exc, Exception):
                _lifecycle(run, summary, "failed", str(exc) or type(exc).__name__)
            else:
                why = f"stopped from outside ({type(exc).__name__})"
                _lifecycle(run, summary, "cancelled", why)
            back = _put_back(run, summary, journal)
        if back is not False:  # a failed rollback leaves the journal: recover retries it
            Journal.clear(lay)
        if error is None:
            for prune in (prune_releases, prune_backups):
                try:
                    prune(ctx, runner.log)
                except (OSError, DeployflowError) as exc:
                    summary.warn(f"{prune.__name__}: {exc}")
        for app in run.apps:
            url = ctx.stack.apps[app].url
            if url:
                summary["urls"][app] = ctx.render(url, f"apps.{app}.url", run.release_id)
        outcome = "success"
        if error is not None:
            outcome = {True: "rolled back", False: "failed, rollback failed"}.get(back, "failed")
            if summary.data.get("data_not_restored"):
                outcome += ", data NOT restored"
        data = finish(ctx, summary, runner, outcome, error)
    if error is None:
        return data
    if not isinstance(error, Exception):
        raise error
    raise DeployFailed(
        f"deploy {run.release_id} failed ({data['error']}); {outcome}, "
        f"live: {data['live'] or 'none'}",
        data,
    ) from None
