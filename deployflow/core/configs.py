"""Render config templates from the master config and diff them against what is live."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from deployflow.core.context import StackContext
from deployflow.core.envfile import parse_env
from deployflow.core.render import render_string
from deployflow.core.stack import ConfigTarget
from deployflow.errors import ConfigError, StackError

__all__ = ["RenderedConfig", "config_diff", "render_configs", "validate_rendered"]


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


def _targets(
    ctx: StackContext, apps: list[str], with_stack: bool
) -> Iterator[tuple[str | None, str, ConfigTarget]]:
    if with_stack:
        for i, target in enumerate(ctx.stack.configs):
            yield None, f"configs[{i}]", target
    for app in apps:
        for i, target in enumerate(ctx.stack.apps[app].configs):
            yield app, f"apps.{app}.configs[{i}]", target


def _render_one(
    ctx: StackContext, app: str | None, where: str, target: ConfigTarget
) -> RenderedConfig:
    template = ctx.stack_dir / target.template
    try:
        text = template.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}.template: {template} not found") from None
    variables = ctx.variables(app=app)
    content = render_string(text, variables, f"{target.template}")
    problem = validate_rendered(target.dest, content)
    if problem:
        raise ConfigError(f"{where}: rendered {target.dest} is not valid: {problem}")
    return RenderedConfig(
        app, target.dest, ctx.layout.config_file(app, target.dest), content, int(target.mode, 8)
    )


def validate_rendered(dest: str, content: str) -> str | None:
    """Check a rendered file by its kind (.json, .yaml/.yml, .env); the problem, or None."""
    name = dest.rsplit("/", 1)[-1]
    try:
        if name.endswith(".json"):
            json.loads(content)
        elif name.endswith((".yaml", ".yml")):
            yaml.safe_load(content)
        elif name == ".env" or name.endswith(".env"):
            parse_env(content, dest)
    except json.JSONDecodeError as exc:
        return f"JSON line {exc.lineno}: {exc.msg}"
    except yaml.YAMLError as exc:
        return f"YAML: {getattr(exc, 'problem', None) or exc}"
    except StackError as exc:
        return str(exc)
    return None


def render_configs(
    ctx: StackContext, apps: list[str], with_stack: bool = True
) -> list[RenderedConfig]:
    """Render every config of `apps` (and the stack-level ones); all templates or an error."""
    return [_render_one(ctx, app, where, t) for app, where, t in _targets(ctx, apps, with_stack)]


def config_diff(old: str | None, new: str, label: str, redact: Callable[[str], str]) -> str:
    """A unified diff with secrets masked; empty when nothing changes."""
    if old == new:
        return ""
    before = redact(old or "").splitlines(keepends=True)
    after = redact(new).splitlines(keepends=True)
    header_old = f"live/{label}" if old is not None else "/dev/null"
    if before == after:
        return f"--- {header_old}\n+++ new/{label}\n@@ a masked value changed @@\n"
    return "".join(difflib.unified_diff(before, after, header_old, f"new/{label}"))
