"""`deployflow rollback [--to ID]`: the previous good release (code + configs) back in seconds."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from deployflow.backends.lock import deploy_lock
from deployflow.core.history import previous_good
from deployflow.core.summary import Summary
from deployflow.errors import DeployFailed, DeployflowError, ReleaseError
from deployflow.flows.common import open_stack, recover_interrupted
from deployflow.stages.release import CONFIG_SNAPSHOT, current_release, load_history, record
from deployflow.tasks.notify import notify
from deployflow.tasks.report import report
from deployflow.tasks.rollback import rollback as rollback_task

__all__ = ["rollback", "rollback_target"]


def rollback_target(records: list, current: str | None, to: str | None, on_disk: set[str]) -> str:
    """Pick and check the release to go back to; errors say which releases are eligible."""
    status = {r.id: r.status for r in records}
    if to is not None:
        if status.get(to) in ("failed", "interrupted"):
            raise ReleaseError(f"release {to} is marked {status[to]}; pick a good one")
        if to not in on_disk:
            raise ReleaseError(f"release {to} is not on disk; see `deployflow releases`")
        if to == current:
            raise ReleaseError(f"release {to} is already live")
        return to
    candidate = previous_good(records, before=current)
    while candidate and candidate.id not in on_disk:
        candidate = previous_good(records, before=candidate.id)
    if candidate is None:
        raise ReleaseError("no earlier good release to roll back to; see `deployflow releases`")
    return candidate.id


@flow(name="rollback", log_prints=True)
def rollback(stack: str, root: str | None = None, to: str | None = None) -> dict[str, Any]:
    """Switch back to an earlier good release, restore its configs, restart and verify."""
    ctx = open_stack(stack, root)
    logger = get_run_logger()
    log = lambda message: logger.info(ctx.redact(message))  # noqa: E731
    with deploy_lock(ctx.layout.lock, "rollback", logger.warning):
        recover_interrupted(ctx, log)
        current = current_release(ctx)
        on_disk = (
            {p.name for p in ctx.layout.releases.iterdir()}
            if ctx.layout.releases.is_dir()
            else set()
        )
        target = rollback_target(load_history(ctx), current, to, on_disk)
        summary = Summary(ctx, "rollback", list(ctx.stack.apps), target)
        summary["previous"] = current
        error = None
        try:
            with summary.stage("rollback") as st:
                results = rollback_task(
                    ctx, target, str(ctx.layout.release(target) / CONFIG_SNAPSHOT)
                )
                summary["health"] = Summary.plain(results)
                st["detail"] = f"{current} -> {target}"
            if current:
                record(ctx, current, "rolled_back", f"rolled back to {target}")
            record(ctx, target, "live", f"rollback from {current}")
            summary["live"] = target
        except DeployflowError as exc:
            error = exc
            summary["live"] = current_release(ctx)
        data = summary.finish(
            "success" if error is None else "failed", str(error) if error else None
        )
        data["report"] = report(ctx, data)
        data["notify"] = notify(ctx, data)
    if error is not None:
        raise DeployFailed(f"rollback to {target} failed: {error}", data) from error
    return data
