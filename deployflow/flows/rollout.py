"""`rollout`: `run full` over several targets. Each target's deploy runs on its own worker as a
subflow of this one; batches, canary watch, failure limit and rollback of the targets done as
`ops/rollout.py` decides."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from deployflow.core.rollout import parse_targets
from deployflow.deployments.dispatch import PrefectDispatcher
from deployflow.loading import load_stack
from deployflow.ops.rollout import RolloutSettings
from deployflow.ops.rollout import rollout as rollout_op
from deployflow.tasks.runner import redacted

__all__ = ["rollout"]


@flow(name="rollout", flow_run_name="rollout-{stack_name}")
def rollout(
    stack: str,
    stack_name: str = "stack",
    targets: list[str] | None = None,
    strategy: str | None = None,
    batch: str | None = None,
    max_fail: str | None = None,
    watch: float | None = None,
    skip_backup: bool = False,
    skip_build: bool = False,
    skip_tests: bool = False,
    force: bool = False,
    auto_rollback: bool = True,
) -> dict[str, Any]:
    """Deploy the stack to its targets (default all) by the stack's `rollout:` settings or
    these; stop and roll back the targets done when more fail than `max_fail` allows."""
    ctx = load_stack(stack, persist_generated=False)
    known = list(ctx.stack.targets)
    defaults = ctx.stack.rollout
    settings = RolloutSettings(
        targets=parse_targets(",".join(targets) if targets else None, known),
        strategy=strategy or defaults.strategy,
        batch=batch or defaults.batch,
        max_fail=max_fail or defaults.max_fail,
        watch=defaults.watch if watch is None else watch,
        start_timeout=defaults.start_timeout,
    )
    log = get_run_logger()
    options = {
        "skip_backup": skip_backup,
        "skip_build": skip_build,
        "skip_tests": skip_tests,
        "force": force,
        "auto_rollback": auto_rollback,
    }
    run = redacted(rollout_op, ctx.redact)
    return run(settings, options, PrefectDispatcher(ctx), lambda m: log.info(ctx.redact(m)))
