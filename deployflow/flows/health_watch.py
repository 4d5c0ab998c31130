"""`health-watch`: one sweep of every app's checks on a schedule; a table artifact per sweep,
a notification only when the state changes (down, or recovered)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from deployflow.loading import load_stack
from deployflow.ops.health import health_change, sweep
from deployflow.stages.notify import send_notifications

__all__ = ["health_watch"]


@flow(name="health-watch", flow_run_name="health-watch-{stack_name}")
def health_watch(stack: str, root: str | None = None, stack_name: str = "stack") -> dict[str, Any]:
    """Probe every app's health checks once; notify when something goes down or recovers."""
    ctx = load_stack(stack, root)
    log = get_run_logger()
    results = sweep(ctx)
    for r in results:
        log.info(ctx.redact(f"health {'ok' if r.ok else 'FAIL'} {r.name}: {r.detail}"))
    create_table_artifact(
        key=f"{ctx.stack.project}-health",
        table=[
            {"check": r.name, "ok": r.ok, "ms": round(r.ms), "detail": ctx.redact(r.detail)}
            for r in results
        ],
        description=f"{ctx.stack.project} health sweep",
    )
    change = health_change(ctx, results)
    sent: list[str] = []
    if change:
        title = f"{ctx.stack.project} health: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in change.items() if v
        )
        sent = send_notifications(ctx, title, ctx.redact(title), lambda m: log.info(m))
    return {"healthy": all(r.ok for r in results), "change": change, "notify": sent}
