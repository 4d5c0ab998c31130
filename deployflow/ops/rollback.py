"""The rollback operation: an earlier good release back (code, configs, services, checks) from
its own snapshot, under the root's lock, journaled so a kill mid-way is recovered."""

from __future__ import annotations

from typing import Any

from deployflow.backends.history import current_release, history_size, load_history, record
from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.core.history import BAD, ReleaseRecord, previous_good
from deployflow.core.summary import Summary
from deployflow.errors import DeployFailed, DeployflowError, ReleaseError
from deployflow.ops.journal import Journal
from deployflow.ops.outcome import finish
from deployflow.ops.progress import Progress, publish, stage_event
from deployflow.ops.putback import put_back, recover
from deployflow.ops.releasedata import data_for_rollback, take_versions_back
from deployflow.ops.runner import Runner
from deployflow.ops.sources import release_for_commit
from deployflow.stages.assemble import release_complete
from deployflow.stages.image import missing_images

__all__ = ["rollback", "rollback_target", "target_for"]


def rollback_target(
    records: list[ReleaseRecord], current: str | None, to: str | None, usable: set[str]
) -> str:
    """Pick and check the release to go back to; errors say which releases are eligible."""
    status = {r.id: r.status for r in records}
    if to is not None:
        if status.get(to) in BAD:
            raise ReleaseError(f"release {to} is marked {status[to]}; pick a good one")
        if to not in usable:
            raise ReleaseError(
                f"release {to} is not on disk (or was pruned in part); see `deployflow releases`"
            )
        if to == current:
            raise ReleaseError(f"release {to} is already live")
        return to
    candidate = previous_good(records, before=current)
    while candidate and candidate.id not in usable:
        candidate = previous_good(records, before=candidate.id)
    if candidate is None:
        raise ReleaseError("no earlier good release to roll back to; see `deployflow releases`")
    return candidate.id


def target_for(ctx: StackContext, to: str | None) -> tuple[str | None, str]:
    """(current, target) for a rollback, checked without changing anything; `to` is a release
    id or the SHA (4+ characters) of a commit a release deployed."""
    lay = ctx.layout
    usable = (
        {p.name for p in lay.releases.iterdir() if release_complete(ctx, p.name)}
        if lay.releases.is_dir()
        else set()
    )
    current = current_release(ctx)
    records = load_history(ctx)
    if to is not None and to not in {r.id for r in records}:  # a git SHA (prefix) it deployed
        to = release_for_commit(ctx, to, [r.id for r in records]) or to
    return current, rollback_target(records, current, to, usable)


def rollback(
    ctx: StackContext,
    to: str | None,
    runner: Runner,
    with_database: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    """Back to `to` (default: the previous good release); with `with_database` its data too
    (the dump taken before the next release), else refused across a schema change unless
    `force`."""
    lay = ctx.layout
    with deploy_lock(lay.lock, "rollback"):
        recover(ctx, runner.log)
        current, target = target_for(ctx, to)
        missing = missing_images(ctx, target)
        if missing:
            raise ReleaseError(
                f"release {target} cannot start: image {missing[0]} is not on the engine "
                "(removed since); roll back to another release, or deploy again to build it"
            )
        backup, data_note = data_for_rollback(ctx, current, target, with_database, force)
        data = lay.backup(backup) if backup else None
        apps = list(ctx.stack.apps)
        summary = Summary(ctx, "rollback", apps, target, watch=stage_event)
        publish(Progress("plan", stages=("rollback",)))
        summary["previous"] = current
        summary["data"] = data_note
        journal = Journal("rollback", target, current, apps=apps, history_at=history_size(ctx))
        journal.enter(lay, "rollback", True)
        error: DeployflowError | None = None
        try:
            with summary.stage("rollback") as entry:

                def back() -> list:
                    if current and data is None:  # newer code takes its schema back first
                        take_versions_back(ctx, current, target, runner.log)
                    return put_back(ctx, current, target, apps, runner.log, data, None, journal)

                summary["health"] = Summary.plain(runner.call("rollback", back))
                entry["detail"] = f"{current} -> {target}; {data_note}"
            if current:
                record(ctx, current, "rolled_back", f"rolled back to {target}")
            record(ctx, target, "live", f"rollback from {current}")
            summary["live"] = target
        except DeployflowError as exc:
            error = exc
            with summary.stage("restore") as entry:
                put_back(ctx, target, current, apps, runner.log)
                entry["detail"] = f"back on {current}"
            summary["live"] = current_release(ctx)
        Journal.clear(lay)
        data = finish(ctx, summary, runner, "success" if error is None else "failed", error)
    if error is not None:
        raise DeployFailed(f"rollback to {target} failed: {data['error']}", data) from None
    return data
