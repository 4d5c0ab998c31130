"""`rollout`: `run full` over several targets. Each target's deploy runs on its own worker as a
subflow of this one; batches, canary watch, failure limit and rollback of the targets done as
`ops/rollout.py` decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

from deployflow.core.rollout import parse_targets
from deployflow.deployments.dispatch import PrefectDispatcher
from deployflow.errors import DeployFailed
from deployflow.flows.runcontext import run_context
from deployflow.flows.settle import operation
from deployflow.ops.rollout import RolloutSettings
from deployflow.ops.rollout import rollout as rollout_op

__all__ = ["APPROVAL_TIMEOUT", "Approval", "rollout"]

APPROVAL_TIMEOUT = 24 * 3600  # a rollout waiting for approval fails after a day


class Approval(RunInput):
    """What resumes a rollout paused for approval (the UI shows it as a form)."""

    approved: bool = True
    note: str = ""


def _await_approval(say: Callable[[str], None]) -> None:
    say(
        f"waiting for approval: deployflow approve {flow_run.id} (or Resume in the Prefect UI); "
        f"deployflow approve {flow_run.id} --reject to refuse"
    )
    answer = pause_flow_run(
        wait_for_input=Approval, timeout=APPROVAL_TIMEOUT, poll_interval=1, key="approval"
    )
    if answer is None or not answer.approved:
        note = answer.note if answer else ""
        raise DeployFailed(f"rollout rejected{': ' + note if note else ''}; nothing was deployed")
    say(f"approved{': ' + answer.note if answer.note else ''}")


@flow(name="rollout", flow_run_name="rollout-{stack_name}")
def rollout(
    stack: str,
    root: str | None = None,
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
    approved: bool = False,
) -> dict[str, Any]:
    """Deploy the stack to its targets (default all) by the stack's `rollout:` settings or
    these; stop and roll back the targets done when more fail than `max_fail` allows. With
    `approval: required` in the stack (and no approved plan behind it) it first pauses until
    approved."""
    ctx = run_context(stack, root, persist_generated=False)
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
    say = lambda m: log.info(ctx.redact(m))  # noqa: E731
    if ctx.stack.approval == "required" and not approved:
        _await_approval(say)
    run = operation(rollout_op, ctx.redact)
    return run(settings, options, PrefectDispatcher(ctx), say)
