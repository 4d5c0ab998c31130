"""`deployflow rollback [--to ID]`: the rollback operation as a Prefect flow."""

from __future__ import annotations

from typing import Any

from prefect import flow

from deployflow.flows.naming import rename_run
from deployflow.flows.runcontext import run_context
from deployflow.flows.settle import operation
from deployflow.ops.rollback import rollback as rollback_op
from deployflow.ops.rollback import target_for
from deployflow.tasks.runner import PrefectRunner

__all__ = ["rollback"]


@flow(name="rollback", flow_run_name="rollback-{stack_name}")
def rollback(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    to: str | None = None,
    with_database: bool = False,
    force: bool = False,
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Switch back to an earlier good release, with its own configs, services and checks;
    `with_database` restores the dump taken before the release being undone."""
    ctx = run_context(stack, root, target=target)
    _current, release = target_for(ctx, to)
    rename_run(f"rollback-{ctx.stack.project}-to-{release}")
    run = operation(rollback_op, ctx.redact)
    return run(ctx, to, PrefectRunner(ctx.redact), with_database, force)
