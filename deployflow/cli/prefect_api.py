"""What commands that talk to Prefect share: an API to talk to (the local server by default)
and the deployment, target and pool a stack's command means."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from deployflow.errors import StackError

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["api", "pick_target"]


def api() -> str:
    """Point this process at the Prefect API (starting the local server if it is the default)."""
    from deployflow.backends.prefect_server import ensure_api

    return ensure_api(say=lambda message: typer.echo(message, err=True))


def pick_target(ctx: StackContext, target: str | None) -> str:
    if target is None:
        if len(ctx.stack.targets) == 1:
            return next(iter(ctx.stack.targets))
        raise StackError(f"several targets ({', '.join(ctx.stack.targets)}); pass --target NAME")
    if target not in ctx.stack.targets:
        raise StackError(
            f"unknown target {target!r}; the stack has: {', '.join(ctx.stack.targets)}"
        )
    return target
