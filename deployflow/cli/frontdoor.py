"""The one way a foreground operation starts: on the target's warm worker when it can (over
the REST API), else in this process (with the live view in a terminal); either way one result,
the operation's summary (outcome, release, run id, report), or DeployFailed carrying it.
Afterwards, on deployflow's own local server, the warm worker is started for the next runs.
Background runs, webhooks, schedules and rollouts start the same deployments with the same
parameters (`DeploymentSpec.run_parameters`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["FLOWS", "run_operation"]

FLOWS = {"deploy": "deploy", "deploy-app": "deploy", "rollback": "rollback"}  # kind -> flow


def run_operation(
    ctx: StackContext, kind: str, options: dict[str, Any], plain: bool = False
) -> dict[str, Any]:
    """Run `kind` (deploy, deploy-app, rollback) with `options` (the flow's own), for `ctx`'s
    stack, root and target, where it runs best."""
    from deployflow.cli.flows import run_flow
    from deployflow.cli.warmrun import run_warm, warm_later
    from deployflow.errors import DeployFailed

    warm = run_warm(ctx, kind, options)
    if warm is not None:
        return warm

    def here() -> dict[str, Any]:
        return run_flow(
            FLOWS[kind],
            stack=str(ctx.stack_file),
            root=str(ctx.root),
            project=ctx.stack.project,
            **options,
        )

    try:
        if plain or not sys.stdout.isatty():
            summary = here()
        else:
            from deployflow.cli.deployview import watched

            summary = watched(here)
    except DeployFailed:
        warm_later(ctx)
        raise
    warm_later(ctx)
    return summary
