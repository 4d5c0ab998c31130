"""The release phase: an app's `release:` commands (run once per release, in its directory and
environment), its `version:` command (the schema version a release records) and its `down:`
commands (run from the newer release to take the schema back to `{{ target.version }}`).
An app built into an image runs them in a container of the release's image (`app_command`)."""

from __future__ import annotations

from deployflow.backends.executor import run
from deployflow.core.context import StackContext
from deployflow.errors import ReleaseError
from deployflow.stages import Log
from deployflow.stages.appcommand import app_command
from deployflow.stages.appenv import app_environment

__all__ = ["read_version", "release_steps", "run_down", "run_in_release", "run_release"]


def _steps(
    ctx: StackContext, app: str, key: str, release_id: str, extra: dict | None = None
) -> list[list[str]]:
    steps = getattr(ctx.stack.apps[app], key)
    where = f"apps.{app}.{key}"
    return [
        [ctx.render(arg, f"{where}[{i}]", release_id, extra) for arg in step]
        for i, step in enumerate(steps)
    ]


def release_steps(ctx: StackContext, app: str, release_id: str) -> list[list[str]]:
    return _steps(ctx, app, "release", release_id)


def run_in_release(
    ctx: StackContext, app: str, release_id: str, what: str, steps: list[list[str]], log: Log
) -> int:
    """`steps` run in the app's directory of `release_id` with its environment; a failure is
    one line naming the app, `what` and the step."""
    env = app_environment(ctx, app, release_id)
    env.update(RELEASE_ID=release_id, DEPLOYFLOW_APP=app, DEPLOYFLOW_ROOT=str(ctx.root))
    for number, argv in enumerate(steps, start=1):
        log(f"{app}: {what} {number}/{len(steps)}: {' '.join(argv)}")
        command = app_command(ctx, app, release_id, argv, env, ctx.stack.apps[app].timeout)
        try:
            run(command, on_line=lambda line: log(f"{app}| {line}"), error=ReleaseError)
        except ReleaseError as exc:
            raise ReleaseError(f"apps.{app} {what} {number} failed: {exc}") from None
    return len(steps)


def run_release(ctx: StackContext, app: str, release_id: str, log: Log) -> int:
    steps = release_steps(ctx, app, release_id)
    return run_in_release(ctx, app, release_id, "release command", steps, log)


def read_version(ctx: StackContext, app: str, release_id: str) -> str | None:
    """What the app's `version:` command prints (its last line) in release `release_id`, or
    None when it declares none."""
    spec = ctx.stack.apps[app]
    if spec.version is None:
        return None
    argv = [ctx.render(a, f"apps.{app}.version", release_id) for a in spec.version]
    env = app_environment(ctx, app, release_id)
    lines: list[str] = []
    command = app_command(ctx, app, release_id, argv, env, min(spec.timeout, 300))
    try:
        run(command, on_line=lines.append, error=ReleaseError)
    except ReleaseError as exc:
        raise ReleaseError(f"apps.{app}.version failed: {exc}") from None
    found = [line.strip() for line in lines if line.strip()]
    return found[-1] if found else ""


def run_down(ctx: StackContext, app: str, from_release: str, target_version: str, log: Log) -> int:
    """The app's `down:` commands, run in `from_release` (the newer code knows its own
    migrations), to take the schema back to `target_version`."""
    extra = {"target": {"version": target_version}}
    steps = _steps(ctx, app, "down", from_release, extra)
    return run_in_release(ctx, app, from_release, "down command", steps, log)
