"""`recover`: put the last good release back after an interrupted run. A Prefect automation
runs it when a deploy or rollback run on the same target crashes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger

from deployflow.flows.runcontext import run_context
from deployflow.ops.putback import recover_root

__all__ = ["recover"]


@flow(name="recover", flow_run_name="recover-{stack_name}")
def recover(
    stack: str, root: str | None = None, target: str | None = None, stack_name: str = "stack"
) -> dict[str, Any]:
    """Put the last good release back (configs, `current`, services, checks) if a run died."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    result = recover_root(ctx, lambda m: log.info(ctx.redact(m)))
    return {k: v for k, v in asdict(result).items() if k != "health"}
