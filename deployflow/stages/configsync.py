"""Config sync: render, diff (secrets masked), write atomically; secret-bearing files get 0600."""

from __future__ import annotations

from dataclasses import dataclass

from deployflow.backends.files import atomic_write
from deployflow.core.configs import RenderedConfig, config_diff, render_configs
from deployflow.core.context import StackContext
from deployflow.stages import Log

__all__ = ["ConfigChange", "sync_configs"]


@dataclass(frozen=True)
class ConfigChange:
    label: str
    path: str
    status: str  # created | changed | unchanged
    diff: str
    mode: str


def _mode(ctx: StackContext, config: RenderedConfig) -> int:
    holds_secret = any(
        s.get_secret_value() and s.get_secret_value() in config.content
        for s in ctx.secrets.values()
    )
    return 0o600 if holds_secret else config.mode


def sync_configs(
    ctx: StackContext, apps: list[str], log: Log, dry_run: bool = False, with_stack: bool = True
) -> list[ConfigChange]:
    """Render every target first (all or nothing), then write only what changed."""
    rendered = render_configs(ctx, apps, with_stack)
    changes = []
    for config in rendered:
        try:
            old = config.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = None
        mode = _mode(ctx, config)
        status = "created" if old is None else ("unchanged" if old == config.content else "changed")
        if config.path.exists() and (config.path.stat().st_mode & 0o777) != mode:
            status = "changed" if status == "unchanged" else status
        diff = config_diff(old, config.content, config.label, ctx.redact)
        if status != "unchanged" and not dry_run:
            atomic_write(config.path, config.content, mode)
        changes.append(ConfigChange(config.label, str(config.path), status, diff, f"{mode:04o}"))
        suffix = " (dry run)" if dry_run and status != "unchanged" else ""
        log(f"config {config.label}: {status}{suffix}")
    return changes
