"""The stack a flow run works on. A run of a deployment works on the stack file and root the
deployment was applied with, whatever its parameters say: whoever can start a run (the UI's
form, a schedule, a webhook) cannot point the worker at another stack's build steps or root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deployflow.core.context import StackContext
from deployflow.errors import UsageError
from deployflow.loading import load_stack

__all__ = ["run_context"]


def _applied_parameters() -> dict[str, Any]:
    """The parameters the running flow's deployment was applied with ({} outside one)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    running = FlowRunContext.get()
    deployment_id = running.flow_run.deployment_id if running else None
    if deployment_id is None:
        return {}
    with get_client(sync_client=True) as client:
        return dict(client.read_deployment(deployment_id).parameters or {})


def _same(given: str, applied: str) -> bool:
    return Path(given).expanduser().resolve() == Path(applied).expanduser().resolve()


def run_context(
    stack: str,
    root: str | None,
    target: str | None = None,
    persist_generated: bool = True,
) -> StackContext:
    applied = _applied_parameters()
    for name, given in (("stack", stack), ("root", root)):
        fixed = applied.get(name)
        if fixed and given and not _same(given, fixed):
            raise UsageError(
                f"this deployment works on {name} {fixed}; a run cannot name another "
                f"({given}); apply deployments for that {name} instead"
            )
    ctx = load_stack(
        applied.get("stack") or stack,
        applied.get("root") or root,
        target=target,
        persist_generated=persist_generated,
    )
    _not_as_root(ctx)
    return ctx


def _not_as_root(ctx: StackContext) -> None:
    """A target that names its user is worked on as that user only: as root, this run stops
    before it touches anything (its worker, started by root, runs as the user)."""
    names = [ctx.target] if ctx.target else list(ctx.stack.targets)
    if os.geteuid() != 0 or len(names) != 1:
        return
    user = ctx.stack.targets[names[0]].user
    if user and user != "root":
        raise UsageError(
            f"target {names[0]!r} runs as {user}, not root: start its worker "
            f"(`deployflow server start`) and the run goes there, or run this as {user}"
        )
