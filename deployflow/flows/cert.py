"""`cert`: renew the stack's certificates that expire soon, reload the proxy serving them and
notify on a renewal or a failure (a daily schedule: `schedules.cert_renew`)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from deployflow.flows.runcontext import run_context
from deployflow.flows.settle import operation
from deployflow.ops.certs import renew_and_notify

__all__ = ["cert"]


@flow(name="cert", flow_run_name="cert-{stack_name}")
def cert(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    days: int = 30,
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Renew each certificate expiring within `days` (or unreadable); reload the proxy; notify."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    return operation(renew_and_notify, ctx.redact)(ctx, days, lambda m: log.info(ctx.redact(m)))
