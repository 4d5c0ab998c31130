"""An app's own release commands (`flask db upgrade`, `php artisan migrate --force`), run in
its new release directory with the release's environment."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.stages import Log
from deployflow.stages.releasephase import run_in_release

__all__ = ["hook_steps", "run_hooks"]


def hook_steps(ctx: StackContext, app: str, when: str, release_id: str) -> list[list[str]]:
    steps = getattr(ctx.stack.apps[app].hooks, when)
    where = f"apps.{app}.hooks.{when}"
    return [
        [ctx.render(arg, f"{where}[{i}]", release_id) for arg in step]
        for i, step in enumerate(steps)
    ]


def run_hooks(ctx: StackContext, app: str, when: str, release_id: str, log: Log) -> int:
    steps = hook_steps(ctx, app, when, release_id)
    return run_in_release(ctx, app, release_id, f"{when} hook", steps, log)
