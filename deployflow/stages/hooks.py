"""An app's own release commands (`flask db upgrade`, `php artisan migrate --force`), run in
its new release directory with the release's environment."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.core.context import StackContext
from deployflow.errors import ReleaseError
from deployflow.stages import Log

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
    cwd: Path = ctx.layout.app_dir(release_id, app)
    env = {"RELEASE_ID": release_id, "DEPLOYFLOW_APP": app, "DEPLOYFLOW_ROOT": str(ctx.root)}
    for number, argv in enumerate(steps, start=1):
        log(f"{app}: {when} {number}/{len(steps)}: {' '.join(argv)}")
        command = Command.of(argv, cwd=cwd, env=env, timeout=ctx.stack.apps[app].timeout)
        try:
            run(command, on_line=lambda line: log(f"{app}| {line}"), error=ReleaseError)
        except ReleaseError as exc:
            raise ReleaseError(f"apps.{app} {when} hook {number} failed: {exc}") from None
    return len(steps)
