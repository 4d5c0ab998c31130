"""How an app's own commands run (release, version and down commands, tests): in the app's
directory of a release on this host, or, for an app built into an image, once in a throwaway
container of that release's image (`--rm`, the host's network, the shared dirs mounted, the
environment passed by name)."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.dockerd import engine_url
from deployflow.backends.executor import Command
from deployflow.backends.treeops import make_dir
from deployflow.core.containerspec import image_tag, oneoff_argv, shared_binds
from deployflow.core.context import StackContext
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["app_command"]


def app_command(
    ctx: StackContext,
    app: str,
    release_id: str,
    argv: list[str],
    env: dict[str, str],
    timeout: float,
    secrets: tuple[str, ...] = (),
) -> Command:
    """`argv` as a command of the app in release `release_id`: in its release dir, or for an
    app built into an image (`docker:`), in a throwaway container of the release's image."""
    spec = ctx.stack.apps[app]
    if spec.docker is None:
        cwd = ctx.layout.app_dir(release_id, app)
        return Command.of(argv, cwd=cwd, env=env, timeout=timeout, secrets=secrets)
    key = load_snapshot(ctx, release_id).apps[app].key
    image = image_tag(ctx.stack.project, app, key)
    name = f"{ctx.stack.project}-{app}-once-{release_id}"
    binds = shared_binds(ctx, app)
    for host in binds:
        make_dir(Path(host))
    wrapped = oneoff_argv(engine_url(), image, name, argv, list(env), binds)
    return Command.of(wrapped, env=env, timeout=timeout, secrets=secrets)
