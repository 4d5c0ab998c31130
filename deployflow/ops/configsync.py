"""Config sync: the diff of what would change (secrets masked), and on a live stack a
config-only release (atomic, verified, rollback-able) instead of editing files in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deployflow.core.configs import config_diff, render_configs
from deployflow.core.context import StackContext
from deployflow.ops.deploy import deploy, last_good_live
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.runner import Runner
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["ConfigChange", "config_changes", "config_release"]


@dataclass(frozen=True)
class ConfigChange:
    label: str
    path: str
    status: str  # created | changed | unchanged
    diff: str
    mode: str


def config_changes(ctx: StackContext, apps: list[str], with_stack: bool) -> list[ConfigChange]:
    """Every config of `apps` rendered for a new release, against the live release's."""
    live = last_good_live(ctx)
    snap = load_snapshot(ctx, live) if live else None
    changes = []
    for config in render_configs(ctx, apps, "<new>", with_stack):
        old_entry: dict | None = None
        old_text: str | None = None
        if snap is not None:
            entries = snap.stack_configs if config.app is None else snap.apps[config.app].configs
            old_entry = entries.get(config.dest)
            runs_from = live if config.app is None else snap.apps[config.app].runs_from
            path = ctx.layout.config_file(runs_from or "", config.app, config.dest)
            old_text = path.read_text(encoding="utf-8") if path.is_file() else None
        old_masked = old_entry["masked"] if old_entry else None
        status = "created" if old_text is None else "changed"
        if old_text == config.content and old_entry and old_entry["mode"] == f"{config.mode:04o}":
            status = "unchanged"
        target = ctx.layout.config_file("<new>", config.app, config.dest)
        diff = config_diff(old_text, config.content, config.label, old_masked, config.masked)
        changes.append(ConfigChange(config.label, str(target), status, diff, f"{config.mode:04o}"))
    return changes


def config_release(ctx: StackContext, apps: list[str], runner: Runner) -> dict[str, Any]:
    """Make the rendered configs live as a new release that reuses every build."""
    options = DeployOptions(apps=tuple(apps), skip_tests=True, purpose="config")
    return deploy(ctx, options, runner)
