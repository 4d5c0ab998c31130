"""Builds are cached on their inputs (source tree hash + steps + rendered config) per host."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from deployflow.backends.executor import run
from deployflow.core.context import StackContext
from deployflow.core.recipes import rendered_steps
from deployflow.errors import BuildError
from deployflow.stages.build import BuildResult, build_app
from deployflow.tasks.logging import stage_log


def _build_key(_context: Any, parameters: dict[str, Any]) -> str:
    ctx = parameters["ctx"]
    root = hashlib.sha256(str(ctx.root).encode()).hexdigest()[:12]
    return f"deployflow-build-{ctx.stack.project}-{root}-{parameters['app']}-{parameters['key']}"


@task(
    name="build",
    task_run_name="build-{app}",
    cache_key_fn=_build_key,
    persist_result=True,
    cache_expiration=timedelta(days=30),
)
def build(ctx: StackContext, app: str, release_id: str, key: str) -> BuildResult:
    return build_app(ctx, app, release_id, key, stage_log(ctx))


@task(name="test", task_run_name="test-{app}", cache_policy=NO_CACHE)
def test(ctx: StackContext, app: str, release_id: str) -> int:
    """Run an app's `tests:` steps inside its new release directory."""
    log = stage_log(ctx)
    cwd = ctx.layout.app_dir(release_id, app)
    steps = rendered_steps(ctx, app, tests=True)
    for argv in steps:
        log(f"{app}: test {' '.join(argv)}")
        try:
            run(argv, cwd=cwd, on_line=lambda line: log(f"{app}| {line}"), error=BuildError)
        except BuildError as exc:
            raise BuildError(f"apps.{app} tests failed: {exc}") from exc
    return len(steps)
