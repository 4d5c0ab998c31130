"""`deployflow exec`: a one-off command in an app's live release (or another on disk), in its
directory with its full environment (env_file, env, the stack's secrets rendered into them),
like `heroku run` or `kamal app exec`. Output goes straight to the caller's terminal; the exit
code comes back; an audit line records who ran what, where, and how it ended."""

from __future__ import annotations

import getpass
import json
from contextlib import nullcontext
from datetime import UTC, datetime

from deployflow.backends.executor import Command, run_attached
from deployflow.backends.files import append_line
from deployflow.backends.history import current_release
from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.errors import CommandError, ReleaseError, StackError, UsageError
from deployflow.stages.appenv import app_environment

__all__ = ["exec_in_release"]


def exec_in_release(
    ctx: StackContext, app: str, argv: list[str], release: str | None = None, lock: bool = False
) -> int:
    """Run `argv` in `app`'s directory of `release` (default: the live one); its exit code."""
    if app not in ctx.stack.apps:
        raise StackError(f"unknown app {app!r}; the stack has: {', '.join(ctx.stack.apps)}")
    if not argv:
        raise UsageError("give the command after --, e.g. deployflow exec web -- flask shell")
    release = release or current_release(ctx)
    if release is None:
        raise ReleaseError("nothing is live yet; deploy first, or name a release with --release")
    cwd = ctx.layout.app_dir(release, app)
    if not cwd.is_dir():
        raise ReleaseError(f"release {release} has no {app} on disk; see `deployflow releases`")
    env = {**app_environment(ctx, app, release)}
    env.update(RELEASE_ID=release, DEPLOYFLOW_APP=app, DEPLOYFLOW_ROOT=str(ctx.root))
    command = Command.of(argv, cwd=cwd, env=env, timeout=None)
    started = datetime.now(UTC)
    code: int | None = None  # None in the audit: it never ran, or was interrupted
    with deploy_lock(ctx.layout.lock, f"exec {app}") if lock else nullcontext():
        try:
            code = run_attached(command)
        except CommandError as exc:
            raise UsageError(str(exc)) from None
        finally:
            _audit(ctx, app, release, argv, started, code)
    return code


def _audit(
    ctx: StackContext,
    app: str,
    release: str,
    argv: list[str],
    started: datetime,
    code: int | None,
) -> None:
    row = {
        "at": started.isoformat(timespec="seconds"),
        "user": getpass.getuser(),
        "app": app,
        "release": release,
        "argv": [ctx.redact(a) for a in argv],
        "exit": code,
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
    append_line(ctx.layout.state / "exec.jsonl", json.dumps(row, sort_keys=True))
