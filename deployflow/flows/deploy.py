"""`deployflow run full|app`: the deploy operation as a Prefect flow, each stage a task."""

from __future__ import annotations

from typing import Any

from prefect import flow

from deployflow.flows.naming import rename_run
from deployflow.flows.runcontext import run_context
from deployflow.flows.settle import operation
from deployflow.ops.deploy import deploy as deploy_op
from deployflow.ops.deploy import new_run
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.pipeline import plan_lines
from deployflow.tasks.runner import PrefectRunner

__all__ = ["deploy"]


@flow(name="deploy", flow_run_name="deploy-{stack_name}", log_prints=False)
def deploy(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    apps: list[str] | None = None,
    stack_name: str = "stack",
    skip_backup: bool = False,
    skip_build: bool = False,
    skip_tests: bool = False,
    force: bool = False,
    sequential: bool = False,
    auto_rollback: bool = True,
    revision: str | None = None,
    ref: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Deploy the stack (or some of its apps) as a new release; roll back on failure. With
    `dry_run`, return the plan (every stage with what it would do) and change nothing."""
    ctx = run_context(stack, root, target=target)
    options = DeployOptions(
        apps=tuple(apps or ()),
        skip_backup=skip_backup,
        skip_build=skip_build,
        skip_tests=skip_tests,
        force=force,
        sequential=sequential,
        auto_rollback=auto_rollback,
        revision=revision,
        ref=ref,
    )
    runner = PrefectRunner(ctx.redact)
    if dry_run:
        plan = plan_lines(new_run(ctx, options, runner, dry_run=True))
        for name, lines in plan:
            runner.log(f"plan {name}: " + "; ".join(lines or ["(nothing)"]))
        return {"dry_run": True, "plan": [{"name": n, "lines": lines} for n, lines in plan]}

    def named(release_id: str, tags: list[str]) -> None:  # tags: the git commits it builds
        rename_run(f"deploy-{ctx.stack.project}-{release_id}", tags)

    return operation(deploy_op, ctx.redact)(ctx, options, runner, named)
