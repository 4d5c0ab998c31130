"""Build: copy an app's source into the new release and run its steps there."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.executor import run
from deployflow.backends.files import copy_tree
from deployflow.core.checksums import IGNORED, build_key, tree_hash
from deployflow.core.configs import render_configs
from deployflow.core.context import StackContext
from deployflow.core.recipes import rendered_steps
from deployflow.errors import BuildError
from deployflow.stages import Log

__all__ = [
    "BuildResult",
    "adopt_build",
    "app_build_key",
    "app_source",
    "build_app",
]


@dataclass(frozen=True)
class BuildResult:
    app: str
    release_id: str
    path: str
    key: str
    seconds: float
    steps: int
    reused_from: str | None = None


def app_source(ctx: StackContext, app: str) -> Path:
    source = (ctx.stack_dir / ctx.stack.apps[app].source).resolve()
    if not source.is_dir():
        raise BuildError(f"apps.{app}.source: {source} is not a directory")
    return source


def app_build_key(ctx: StackContext, app: str) -> str:
    """Source tree hash + resolved steps + this app's rendered configs."""
    configs = {c.dest: c.content for c in render_configs(ctx, [app], with_stack=False)}
    return build_key(tree_hash(app_source(ctx, app)), rendered_steps(ctx, app), configs)


def build_app(ctx: StackContext, app: str, release_id: str, key: str, log: Log) -> BuildResult:
    started = time.monotonic()
    dest = ctx.layout.app_dir(release_id, app)
    shutil.rmtree(dest, ignore_errors=True)
    shared = [entry.rstrip("/") for entry in ctx.stack.apps[app].shared]
    copy_tree(app_source(ctx, app), dest, ignore=[*IGNORED, *shared])
    env = {
        "RELEASE_ID": release_id,
        "DEPLOYFLOW_APP": app,
        "DEPLOYFLOW_ROOT": str(ctx.root),
        "DEPLOYFLOW_CONFIGS": str(ctx.layout.shared / "configs" / app),
    }
    steps = rendered_steps(ctx, app)
    for number, argv in enumerate(steps, start=1):
        log(f"{app}: step {number}/{len(steps)}: {' '.join(argv)}")
        try:
            run(
                argv,
                cwd=dest,
                env=env,
                on_line=lambda line: log(f"{app}| {line}"),
                error=BuildError,
            )
        except BuildError as exc:
            raise BuildError(f"apps.{app} build step {number} failed: {exc}") from exc
    return BuildResult(app, release_id, str(dest), key, time.monotonic() - started, len(steps))


def adopt_build(ctx: StackContext, cached: BuildResult, release_id: str, log: Log) -> BuildResult:
    """Reuse an unchanged app's build: copy it from the release that built it."""
    dest = ctx.layout.app_dir(release_id, cached.app)
    copy_tree(Path(cached.path), dest)
    log(f"{cached.app}: unchanged since release {cached.release_id}; build reused")
    return BuildResult(cached.app, release_id, str(dest), cached.key, 0.0, 0, cached.release_id)
