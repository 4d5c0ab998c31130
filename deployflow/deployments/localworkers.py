"""The workers of a stack's targets on this host, each as its target's declared user: resolved,
prepared (root, home, key) and checked (can it read the stack file?) before it starts."""

from __future__ import annotations

import sys
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.identity import Identity, prepare_worker_home, worker_identity
from deployflow.backends.workers import (
    WorkerInfo,
    start_worker,
    worker_api,
    worker_command,
    worker_status,
)
from deployflow.core.context import StackContext
from deployflow.deployments.specs import pool_of
from deployflow.errors import CommandError, DeployflowError

__all__ = ["foreground_worker", "start_local_worker"]


def _as(ctx: StackContext, target: str, pool: str) -> tuple[str | None, dict[str, str]]:
    """The user to switch to (None: this process's own) and the home env it needs."""
    who = worker_identity(ctx.stack.targets[target].user, target)
    if not who.switch:
        return None, {}
    home = prepare_worker_home(who, ctx.roots[target], pool, target)
    _check_reach(who, ctx)
    return who.name, home


def _check_reach(who: Identity, ctx: StackContext) -> None:
    """The worker's user can run deployflow's Python and read the stack file, or one line."""
    python = Path(sys.executable)
    for argv, what in (
        ([python, "-c", ""], f"run deployflow's Python {python} (-> {python.resolve()})"),
        (["test", "-r", ctx.stack_file], f"read the stack file {ctx.stack_file}"),
    ):
        try:
            run(Command.of(argv, user=who.name, timeout=30), on_line=lambda _line: None)
        except CommandError:
            raise DeployflowError(
                f"{who.name} cannot {what}: the worker runs as that user; install or move it "
                "where the user can reach it (no directory above it closed to the user)"
            ) from None


def start_local_worker(ctx: StackContext, target: str, api_url: str) -> WorkerInfo:
    """Start the target's worker unless it runs on this API, as the target's user."""
    pool = pool_of(ctx, target)
    if worker_status(pool).running and worker_api(pool) == api_url:
        return worker_status(pool)
    user, home = _as(ctx, target, pool)
    return start_worker(pool, api_url, user, home)


def foreground_worker(ctx: StackContext, target: str, api_url: str) -> Command:
    """The target's worker to run in this terminal (`deployflow worker start`)."""
    pool = pool_of(ctx, target)
    user, home = _as(ctx, target, pool)
    return worker_command(pool, api_url, user, home)
