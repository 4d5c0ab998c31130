"""Start a stack's flow as a run of its deployment on the target's worker, and return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["start_in_background"]


def start_in_background(
    ctx: StackContext, target: str | None, kind: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Deployments are applied when missing; a local target's worker is started when down."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.ensure import ensure_deployments
    from deployflow.deployments.localworkers import start_local_worker
    from deployflow.deployments.runs import start_run
    from deployflow.deployments.specs import deployment_spec, local_targets

    spec = deployment_spec(ctx, kind, target)
    url = api()
    parameters = spec.run_parameters(params)
    ensure_deployments(ctx, url, say=lambda m: typer.echo(m, err=True))
    row = start_run(spec.full_name, parameters)
    if spec.target in local_targets(ctx):
        start_local_worker(ctx, spec.target, url)  # when it was down (a running one was woken)
    row["ui"] = f"{url.removesuffix('/api')}/runs/flow-run/{row['id']}"
    return row
