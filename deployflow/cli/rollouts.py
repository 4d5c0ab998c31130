"""Rollouts from the CLI: `run full` over several targets, and saved plans: `plan --save`,
`approve PLAN`, `execute PLAN`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from deployflow.cli.common import echo_json, load

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["approve", "checked_settings", "execute", "print_rollout", "run_rollout", "save_plan"]


def checked_settings(settings: dict[str, str | None]) -> dict[str, str]:
    """The given --strategy/--batch/--max-fail, checked as the stack's rollout: would be."""
    from pydantic import ValidationError

    from deployflow.core.stack import Rollout
    from deployflow.errors import UsageError

    given = {k: v for k, v in settings.items() if v is not None}
    try:
        Rollout(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0])
        raise UsageError(f"--{key.replace('_', '-')} {given.get(key)!r}: {first['msg']}") from None
    return given


def run_rollout(
    stack: str,
    root: str | None,
    as_json: bool,
    targets: str | None,
    settings: dict[str, str | None],
    options: dict[str, bool],
) -> None:
    """Check the input (exit 2 before Prefect), run the rollout flow, print its summary."""
    from deployflow.cli.flows import run_flow
    from deployflow.core.rollout import parse_targets
    from deployflow.errors import DeployFailed, UsageError

    ctx = load(stack, root, read_only=True)
    chosen = parse_targets(targets, list(ctx.stack.targets))  # bad input fails before Prefect
    given = checked_settings(settings)
    if given.get("strategy") == "blue-green" and ctx.stack.proxy is None:
        raise UsageError("--strategy blue-green needs a proxy: in the stack routing to a service")
    _deployments_for(ctx)
    try:
        summary = run_flow(
            "rollout",
            stack=stack,
            root=root,
            project=ctx.stack.project,
            targets=chosen,
            **given,
            **options,
        )
    except DeployFailed as exc:
        if exc.summary:
            print_rollout(exc.summary, as_json)
        raise
    print_rollout(summary, as_json)


def _deployments_for(ctx: StackContext) -> None:
    """The targets' deployments as this stack and root make them (applied when stale)."""
    from deployflow.cli.prefect_api import api
    from deployflow.deployments.ensure import ensure_deployments

    ensure_deployments(ctx, api(), say=lambda m: typer.echo(m, err=True))


def print_rollout(summary: dict, as_json: bool) -> None:
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"rollout ({summary['strategy']}): {summary['result']} in {summary['seconds']:.1f}s")
    for row in summary["targets"]:
        typer.echo(
            f"  batch {row['batch']}  {row['target']:12} {row['state']:16} "
            f"{row['seconds']:6.1f}s  {row['detail']}".rstrip()
        )


def save_plan(
    stack: str,
    root: str | None,
    targets: str | None,
    settings: dict[str, str | None],
    as_json: bool,
) -> None:
    from deployflow.ops import plans

    plan = plans.make_plan(stack, root, targets, checked_settings(settings))
    path = plans.save_plan(plan)
    if as_json:
        echo_json(plan)
        return
    typer.echo(f"plan {plan['id']}  {plan['state']}  ({path})")
    typer.echo(f"rollout ({plan['strategy']}, max_fail {plan['max_fail']}): {plan['batches']}")
    for target, detail in plan["per_target"].items():
        typer.echo(f"\n{target}  root {detail['root']}  live {detail['live'] or 'none'}")
        for stage in detail["stages"]:
            typer.echo(f"  {stage['name']}: " + "; ".join(stage["lines"] or ["(nothing)"]))
        for change in detail["changes"]:
            typer.echo(change["diff"].rstrip("\n"))
    typer.echo(f"\nnext: deployflow approve {plan['id']}, then deployflow execute {plan['id']}")


Ref = Annotated[str, typer.Argument(help="A plan id (p-...) or a paused rollout's run id.")]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def approve(
    ref: Ref,
    reject: Annotated[
        bool, typer.Option("--reject", help="Refuse a paused rollout (it ends, nothing deployed).")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="Why, for the run's record.")] = "",
    as_json: Json = False,
) -> None:
    """Approve a saved plan (DRAFT -> APPROVED), or resume a rollout paused for approval."""
    from deployflow.ops import plans

    if not ref.startswith("p-"):
        _resume(ref, not reject, note)
        return
    plan = plans.approve_plan(ref)
    if as_json:
        echo_json(plan)
        return
    typer.echo(f"plan {plan['id']} APPROVED by {plan['approved']['by']}")


def _resume(run: str, approved: bool, note: str) -> None:
    import getpass
    from uuid import UUID

    from deployflow.cli.prefect_api import api
    from deployflow.errors import UsageError

    try:
        run_id = UUID(run)
    except ValueError:
        raise UsageError(f"{run!r} is neither a plan id (p-...) nor a flow run id") from None
    api()
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    if state is None or not state.is_paused():
        raise UsageError(f"run {run} is not waiting for approval ({state.name if state else '?'})")
    who = f"{getpass.getuser()}{': ' + note if note else ''}"
    resume_flow_run(run_id, run_input={"approved": approved, "note": who})
    typer.echo(f"run {run} {'approved' if approved else 'rejected'} by {who}")


def execute(
    plan_id: Annotated[str, typer.Argument(help="An approved plan's id.")],
    as_json: Json = False,
) -> None:
    """Run an approved plan's rollout (APPROVED -> EXECUTING -> COMPLETED or FAILED); a plan
    whose stack, master config or sources changed since it was made is refused."""
    from deployflow.cli.flows import run_flow
    from deployflow.errors import DeployFailed
    from deployflow.ops import plans

    plan = plans.start_plan(plan_id)
    params = {k: plan[k] for k in ("strategy", "batch", "max_fail")}
    params["approved"] = True  # the plan was approved
    try:
        _deployments_for(load(plan["stack"], plan.get("root"), read_only=True))
        summary = run_flow(
            "rollout",
            stack=plan["stack"],
            root=plan.get("root"),
            project=plan["project"],
            targets=plan["targets"],
            **params,
        )
    except DeployFailed as exc:
        plans.finish_plan(plan, exc.summary, ok=False)
        if exc.summary:
            print_rollout(exc.summary, as_json)
        raise
    except BaseException:
        plans.finish_plan(plan, None, ok=False)
        raise
    plans.finish_plan(plan, summary, ok=True)
    print_rollout(summary, as_json)
