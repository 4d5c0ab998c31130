"""Saved rollout plans: made (every target's stages and config diffs, secrets masked, and a
fingerprint of what it was made from), approved, executed; a plan whose stack file, master
config or app sources changed since it was made is refused. Stored 0600 under
DEPLOYFLOW_HOME/plans/."""

from __future__ import annotations

import getpass
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.files import atomic_write
from deployflow.backends.prefect_server import data_dir
from deployflow.core.plans import advance, fingerprint
from deployflow.core.rollout import batches, parse_targets
from deployflow.core.variables import ENV_FILE_KEY
from deployflow.errors import UsageError
from deployflow.loading import load_stack
from deployflow.ops.configsync import config_changes
from deployflow.ops.deploy import new_run
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.pipeline import plan_lines
from deployflow.ops.runner import PlainRunner
from deployflow.stages.build import app_build_key

__all__ = [
    "approve_plan",
    "finish_plan",
    "make_plan",
    "plans_dir",
    "read_plan",
    "save_plan",
    "start_plan",
]


def plans_dir() -> Path:
    return data_dir() / "plans"


def _fingerprint(stack: str) -> str:
    ctx = load_stack(stack, persist_generated=False)
    env_file = ctx.stack.vars.get(ENV_FILE_KEY)
    env_text = (ctx.stack_dir / str(env_file)).read_bytes() if env_file else b""
    keys = {app: app_build_key(ctx, app) for app in ctx.stack.apps}
    return fingerprint(ctx.stack_file.read_bytes(), env_text, keys)


def _target_plan(stack: str, root: str | None, target: str) -> dict[str, Any]:
    ctx = load_stack(stack, root, target=target, persist_generated=False)
    run = new_run(ctx, DeployOptions(), PlainRunner(), dry_run=True)
    stages = [
        {"name": name, "lines": [ctx.redact(line) for line in lines]}
        for name, lines in plan_lines(run)
    ]
    changes = [
        {"config": c.label, "diff": ctx.redact(c.diff)}
        for c in config_changes(ctx, run.apps, with_stack=True)
        if c.diff
    ]
    return {"root": str(ctx.root), "live": run.live, "stages": stages, "changes": changes}


def make_plan(
    stack: str, root: str | None, targets: str | None, settings: dict[str, str | None]
) -> dict[str, Any]:
    """A DRAFT plan for a rollout to `targets` (default all) by the stack's rollout settings
    overridden by `settings` (strategy, batch, max_fail), into `root` (--root) if given."""
    ctx = load_stack(stack, root, persist_generated=False)
    chosen = parse_targets(targets, list(ctx.stack.targets))
    defaults = ctx.stack.rollout
    strategy = settings.get("strategy") or defaults.strategy
    batch = settings.get("batch") or defaults.batch
    now = datetime.now(UTC)
    return {
        "id": f"p-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}",
        "state": "DRAFT",
        "created": now.isoformat(timespec="seconds"),
        "by": getpass.getuser(),
        "stack": str(ctx.stack_file),
        "root": str(Path(root).expanduser().resolve()) if root else None,
        "project": ctx.stack.project,
        "targets": chosen,
        "strategy": strategy,
        "batch": batch,
        "max_fail": settings.get("max_fail") or defaults.max_fail,
        "batches": batches(chosen, strategy, batch),
        "per_target": {t: _target_plan(stack, root, t) for t in chosen},
        "fingerprint": _fingerprint(stack),
    }


def save_plan(plan: dict[str, Any]) -> Path:
    path = plans_dir() / f"{plan['id']}.json"
    atomic_write(path, json.dumps(plan, indent=2), 0o600)
    return path


def read_plan(plan_id: str) -> dict[str, Any]:
    path = plans_dir() / f"{plan_id}.json"
    if "/" in plan_id or not path.is_file():
        raise UsageError(f"no plan {plan_id!r}; make one with `deployflow plan --save`")
    return json.loads(path.read_text())


def approve_plan(plan_id: str) -> dict[str, Any]:
    plan = advance(read_plan(plan_id), "APPROVED")
    plan["approved"] = {"by": getpass.getuser(), "at": datetime.now(UTC).isoformat()}
    save_plan(plan)
    return plan


def start_plan(plan_id: str) -> dict[str, Any]:
    """APPROVED -> EXECUTING, unless what it was made from changed since."""
    plan = read_plan(plan_id)
    for target, detail in plan["per_target"].items():
        if detail["live"] and not Path(detail["root"]).is_dir():
            raise UsageError(
                f"plan {plan_id}: target {target}'s root {detail['root']} no longer exists "
                "(it had a live release when the plan was made); make a new plan"
            )
    if plan["state"] == "APPROVED" and _fingerprint(plan["stack"]) != plan["fingerprint"]:
        raise UsageError(
            f"plan {plan_id} is stale: the stack file, its master config or an app's sources "
            "changed since it was made; make and approve a new plan"
        )
    plan = advance(plan, "EXECUTING")
    save_plan(plan)
    return plan


def finish_plan(plan: dict[str, Any], summary: dict[str, Any] | None, ok: bool) -> dict[str, Any]:
    done = advance(plan, "COMPLETED" if ok else "FAILED")
    done["result"] = summary
    save_plan(done)
    return done
