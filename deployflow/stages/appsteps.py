"""An app's build (or `tests:`) steps as they run: its recipe's steps for what its source holds,
then its own, templates rendered."""

from __future__ import annotations

from deployflow.backends.treeops import top_names
from deployflow.core.context import StackContext
from deployflow.core.recipes import build_steps

__all__ = ["rendered_steps"]


def rendered_steps(ctx: StackContext, app: str, tests: bool = False) -> list[list[str]]:
    """An app's build steps (or its `tests:` steps) with templates rendered."""
    spec = ctx.stack.apps[app]
    source = ctx.sources.get(app) or ctx.stack_dir / str(spec.source)
    steps = spec.tests if tests else build_steps(spec, top_names(source))
    key = "tests" if tests else "steps"
    return [
        [ctx.render(arg, f"apps.{app}.{key}[{i}]") for arg in step] for i, step in enumerate(steps)
    ]
