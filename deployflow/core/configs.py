"""Render config templates from the master config and diff them against what is live."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from deployflow.core.context import StackContext
from deployflow.core.render import render_string
from deployflow.core.stack import ConfigTarget
from deployflow.errors import ConfigError

__all__ = ["RenderedConfig", "config_diff", "render_configs"]


@dataclass(frozen=True)
class RenderedConfig:
    app: str | None
    dest: str
    path: Path
    content: str
    mode: int

    @property
    def label(self) -> str:
        return f"{self.app or 'stack'}:{self.dest}"


def _targets(ctx: StackContext, apps: list[str], with_stack: bool):
    if with_stack:
        for i, target in enumerate(ctx.stack.configs):
            yield None, f"configs[{i}]", target
    for app in apps:
        for i, target in enumerate(ctx.stack.apps[app].configs):
            yield app, f"apps.{app}.configs[{i}]", target


def _render_one(ctx: StackContext, app: str | None, where: str, target: ConfigTarget):
    template = ctx.stack_dir / target.template
    try:
        text = template.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}.template: {template} not found") from None
    variables = ctx.variables(app=app)
    content = render_string(text, variables, f"{target.template}")
    return RenderedConfig(
        app, target.dest, ctx.layout.config_file(app, target.dest), content, int(target.mode, 8)
    )


def render_configs(
    ctx: StackContext, apps: list[str], with_stack: bool = True
) -> list[RenderedConfig]:
    """Render every config of `apps` (and the stack-level ones); all templates or an error."""
    return [_render_one(ctx, app, where, t) for app, where, t in _targets(ctx, apps, with_stack)]


def config_diff(old: str | None, new: str, label: str, redact) -> str:
    """A unified diff with secrets masked; empty when nothing changes."""
    if old == new:
        return ""
    before = redact(old or "").splitlines(keepends=True)
    after = redact(new).splitlines(keepends=True)
    header_old = f"live/{label}" if old is not None else "/dev/null"
    if before == after:
        return f"--- {header_old}\n+++ new/{label}\n@@ a masked value changed @@\n"
    return "".join(difflib.unified_diff(before, after, header_old, f"new/{label}"))
