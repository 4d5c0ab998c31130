"""`health-watch`: on a schedule, the same report `deployflow health` shows (services, checks,
host, graded by `health.thresholds`); a table artifact per sweep, a notification only when a row
crosses (down, degraded, or recovered), never on every sweep."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from deployflow.errors import HealthCheckError
from deployflow.flows.runcontext import run_context
from deployflow.ops.health import health_change
from deployflow.ops.healthview import health_report, report_rows
from deployflow.stages.notify import send_notifications

__all__ = ["health_watch"]


@flow(name="health-watch", flow_run_name="health-watch-{stack_name}")
def health_watch(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    stack_name: str = "stack",
    fail_when_down: bool = False,
) -> dict[str, Any]:
    """Sweep services, health checks and the host once; notify when a row crosses a threshold,
    goes down or recovers. With `fail_when_down` (a canary's watch) a down row fails the run."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    report = health_report(ctx)
    rows = report_rows(report)
    for row in rows:
        log.info(ctx.redact(f"health {row['grade']} {row['row']}: {row['detail']}"))
    create_table_artifact(
        key=f"{ctx.stack.project}-health",
        table=[{**row, "detail": ctx.redact(row["detail"])} for row in rows],
        description=f"{ctx.stack.project} health sweep: {report['verdict']}",
    )
    change = health_change(ctx, {row["row"]: row["grade"] for row in rows})
    sent: list[str] = []
    if change:
        title = f"{ctx.stack.project} health: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in change.items() if v
        )
        sent = send_notifications(ctx, title, ctx.redact(title), lambda m: log.info(m))
    if fail_when_down and report["verdict"] == "down":
        down = [row["row"] for row in rows if row["grade"] == "down"]
        raise HealthCheckError(f"{ctx.stack.project} down on {target or 'its host'}: {down}")
    return {"verdict": report["verdict"], "change": change, "notify": sent}
