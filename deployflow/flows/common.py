"""What every flow does first: load the stack, pick apps, recover from an interrupted run."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.history import GOOD, previous_good
from deployflow.errors import StackError
from deployflow.loading import load_stack
from deployflow.stages import Log
from deployflow.stages.release import current_release, load_history, record

__all__ = ["last_good_live", "open_stack", "recover_interrupted", "select_apps"]


def open_stack(stack: str, root: str | None) -> StackContext:
    return load_stack(stack, root)


def select_apps(ctx: StackContext, apps: list[str] | None) -> list[str]:
    if not apps:
        return list(ctx.stack.apps)
    unknown = [a for a in apps if a not in ctx.stack.apps]
    if unknown:
        known = ", ".join(ctx.stack.apps)
        raise StackError(f"unknown app {unknown[0]!r}; the stack has: {known}")
    return apps


def recover_interrupted(ctx: StackContext, log: Log) -> list[str]:
    """Mark releases a killed run left half-done as interrupted (never chosen by rollback)."""
    stuck = [r.id for r in load_history(ctx) if r.status == "building"]
    for rid in stuck:
        record(ctx, rid, "interrupted", "the run deploying it died; recovered by the next run")
        log(f"release {rid} was left half-done by a killed run; marked interrupted")
    return stuck


def last_good_live(ctx: StackContext) -> str | None:
    """The release to return to: `current` when it is good, else the newest good one before it."""
    records = load_history(ctx)
    current = current_release(ctx)
    status = {r.id: r.status for r in records}
    if current and status.get(current) in GOOD and ctx.layout.release(current).is_dir():
        return current
    candidate = previous_good(records, before=current)
    while candidate and not ctx.layout.release(candidate.id).is_dir():
        candidate = previous_good(records, before=candidate.id)
    return candidate.id if candidate else None
