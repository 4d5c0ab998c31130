"""The release phase in a deploy, and what a failed deploy says about its data.

Online release commands run before the stop stage while the old release serves (so a failure
restores no dump: it would lose the old release's writes since); offline ones run after it, in
the migrate stage. When a failed deploy moved an app's schema version, the app's `down:` runs
from the new release before anything restarts. The report's Data line then says what happened:
restored (from the dump, or by `down:`), unchanged, or changed and NOT restored."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.errors import DeployflowError
from deployflow.ops.deployrun import DeployRun
from deployflow.ops.releasedata import data_after_failure, live_fingerprints, read_release_data
from deployflow.stages.preflight import Check
from deployflow.stages.releasephase import read_version, release_steps, run_down, run_release

__all__ = [
    "data_line",
    "drift_checks",
    "no_online_release",
    "note_data_start",
    "plan_release_online",
    "release_offline",
    "release_online",
    "undo_versions",
]


def _releasing(run: DeployRun, mode: str) -> list[str]:
    stack = run.ctx.stack
    return [a for a in run.changed if stack.apps[a].release and stack.migrate_mode(a) == mode]


def no_online_release(run: DeployRun) -> str | None:
    return None if _releasing(run, "online") else "no changed app runs release commands online"


def plan_release_online(run: DeployRun) -> list[str]:
    return [
        f"{app}: {' '.join(step)} (online: the live release serves on)"
        for app in _releasing(run, "online")
        for step in release_steps(run.ctx, app, run.release_id)
    ]


def _live_versions(ctx: StackContext, live: str | None) -> dict[str, str | None]:
    """The schema version of each versioned app as the live release recorded it (or, when it
    recorded none, as its `version:` command prints it now)."""
    versioned = [a for a, spec in ctx.stack.apps.items() if spec.version is not None]
    if not versioned or live is None:
        return {}
    recorded = (read_release_data(ctx, live) or {}).get("versions") or {}
    return {a: recorded[a] if a in recorded else read_version(ctx, a, live) for a in versioned}


def note_data_start(run: DeployRun, dump: bool) -> None:
    """Before the first command that may change data: the versions (and, with no dump to go
    back to, the schemas) it starts from."""
    if run.versions_before is None:
        run.versions_before = _live_versions(run.ctx, run.live)
    if not dump and run.schemas_before is None and run.ctx.stack.databases:
        run.schemas_before = live_fingerprints(run.ctx)


def release_online(run: DeployRun) -> str:
    note_data_start(run, dump=False)  # the old release writes on: its dump cannot go back
    run.online_ran = True
    apps = _releasing(run, "online")
    ran = sum(run_release(run.ctx, app, run.release_id, run.say) for app in apps)
    return f"{ran} release commands ({', '.join(apps)}), the live release serving"


def release_offline(run: DeployRun) -> int:
    return sum(run_release(run.ctx, a, run.release_id, run.say) for a in _releasing(run, "offline"))


def undo_versions(run: DeployRun) -> tuple[list[str], list[str]]:
    """Each app whose schema version the failed deploy moved, taken back by its `down:` from
    the new release: (apps taken back, problems: a `down:` that failed, or a version moved
    with no `down:` to take it back)."""
    done: list[str] = []
    problems: list[str] = []
    for app, before in (run.versions_before or {}).items():
        if before is None or app not in run.changed:
            continue
        try:
            now = read_version(run.ctx, app, run.release_id)
            if now == before:
                continue
            if not run.ctx.stack.apps[app].down:
                problems.append(f"apps.{app} moved from version {before} to {now}, no down:")
                continue
            run_down(run.ctx, app, run.release_id, before, run.say)
            after = read_version(run.ctx, app, run.release_id)
        except DeployflowError as exc:
            problems.append(str(exc))
            continue
        if after != before:
            problems.append(f"apps.{app} down: left version {after}, not {before}")
        else:
            done.append(f"{app} back to version {before}")
    return done, problems


def data_line(
    run: DeployRun,
    backup: str | None,
    restored: list[str],
    undone: tuple[list[str], list[str]],
) -> tuple[str, bool] | None:
    """(the Data line, whether data changed and was NOT restored), or None when the stack
    keeps no data deployflow knows of."""
    done, problems = undone
    if not run.ctx.stack.databases and not done and not problems:
        return None
    if problems:
        line = f"changed and NOT restored: {'; '.join(problems)}"
    else:
        line, lost = data_after_failure(run.ctx, backup, restored, run.schemas_before)
        if not lost:
            return (f"restored by down: {', '.join(done)}", False) if done else (line, False)
    if run.online_ran and (run.ctx.layout.backup(run.release_id) / "database").is_dir():
        line += (
            f"; `deployflow backup restore {run.release_id} --only database` puts the "
            "pre-deploy dump back (losing the writes made since)"
        )
    return line, True


def drift_checks(ctx: StackContext, live: str | None, apps: list[str]) -> list[Check]:
    """A warning per app whose database is at a schema version the live release did not
    record (migrated by hand, or by a release since removed): rollbacks and `down:` would
    start from a version they do not know."""
    recorded = (read_release_data(ctx, live) or {}).get("versions") or {} if live else {}
    checks = []
    for app in apps:
        if app not in recorded or recorded[app] is None:
            continue
        try:
            now = read_version(ctx, app, live)  # type: ignore[arg-type]
        except DeployflowError as exc:
            checks.append(Check(f"schema version {app}", False, True, str(exc)))
            continue
        ok = now == recorded[app]
        detail = (
            f"{now}, as release {live} recorded"
            if ok
            else f"the database is at {now}, but release {live} recorded {recorded[app]} "
            "(migrated outside deployflow?); deploy with --force to go on from there"
        )
        checks.append(Check(f"schema version {app}", ok, False, detail))
    return checks
