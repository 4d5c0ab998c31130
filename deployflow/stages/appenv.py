"""An app's environment in a release: its `env_file` (a KEY=VALUE config the release rendered)
under its `env:` values (rendered from the stack's vars). Hooks, release commands, tests and
`deployflow exec` run with it; services read the same file when they start."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.envfile import parse_env
from deployflow.errors import ConfigError

__all__ = ["app_environment"]


def app_environment(ctx: StackContext, app: str, release_id: str) -> dict[str, str]:
    spec = ctx.stack.apps[app]
    env: dict[str, str] = {}
    if spec.env_file:
        path = ctx.layout.app_dir(release_id, app) / spec.env_file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"apps.{app}.env_file: {spec.env_file} is not in release {release_id} "
                f"({exc.strerror}); render it with a config whose dest is {spec.env_file}"
            ) from None
        env.update(parse_env(text, f"apps.{app}.env_file {spec.env_file}"))
    for key, value in spec.env.items():
        env[key] = ctx.render(value, f"apps.{app}.env.{key}", release_id)
    return env
