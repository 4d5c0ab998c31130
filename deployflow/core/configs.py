"""Render config templates from the master config and diff them against what is live."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from deployflow.core.context import StackContext
from deployflow.core.envfile import parse_env
from deployflow.core.redact import MASK
from deployflow.core.render import render_string
from deployflow.core.stack import ConfigTarget
from deployflow.errors import ConfigError, StackError

__all__ = [
    "RenderedConfig",
    "config_diff",
    "mask_by_markers",
    "render_configs",
    "validate_rendered",
]


@dataclass(frozen=True)
class RenderedConfig:
    """One rendered config: its content, a preview safe to show (every value derived from a
    secret masked) and whether any secret flowed into it (then it is written 0600)."""

    app: str | None
    dest: str
    content: str
    masked: str
    mode: int
    secret: bool

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


def _marker(index: int) -> str:
    return f"DFSECRETMARKER{index}X"


_MARKER = re.compile(r"dfsecretmarker\d+x", re.IGNORECASE)


def mask_by_markers(real: str, marked: str) -> str:
    """The preview: lines equal in both renders are safe; a line that differs came from a
    secret, so its markers become the mask, or the whole line when a filter changed them."""
    real_lines, marked_lines = real.splitlines(keepends=True), marked.splitlines(keepends=True)
    if len(real_lines) != len(marked_lines):
        return _MARKER.sub(MASK, marked)
    out = []
    for plain, masked in zip(real_lines, marked_lines, strict=True):
        if plain == masked:
            out.append(plain)
        elif _MARKER.search(masked):
            out.append(_MARKER.sub(MASK, masked))
        else:
            end = "\n" if masked.endswith("\n") else ""
            out.append(f"{MASK} (a line derived from a secret){end}")
    return "".join(out)


MAX_TEMPLATE_BYTES = 1 << 20


def _render_one(
    ctx: StackContext, app: str | None, where: str, target: ConfigTarget, release_id: str
) -> RenderedConfig:
    template = ctx.stack_dir / target.template
    try:
        if not template.is_file():  # a device (/dev/zero) or a fifo would be read forever
            exists = template.exists()
            raise ConfigError(
                f"{where}.template: {template} "
                + ("is not a regular file" if exists else "not found")
            )
        if template.stat().st_size > MAX_TEMPLATE_BYTES:
            raise ConfigError(f"{where}.template: {template} is over 1 MB; not a config template")
        text = template.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}.template: {template} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{where}.template: cannot read {template} ({exc.strerror})") from None
    variables = ctx.variables(release_id=release_id, app=app)
    content = render_string(text, variables, target.template)
    markers = {name: _marker(i) for i, name in enumerate(sorted(ctx.secrets))}
    marked = render_string(text, {**variables, **markers}, target.template)
    problem = validate_rendered(target.dest, content)
    if problem:
        raise ConfigError(f"{where}: rendered {target.dest} is not valid: {problem}")
    secret = marked != content
    masked = ctx.redact(mask_by_markers(content, marked)) if secret else ctx.redact(content)
    mode = 0o600 if secret else int(target.mode, 8)
    return RenderedConfig(app, target.dest, content, masked, mode, secret)


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
    ctx: StackContext, apps: list[str], release_id: str, with_stack: bool = True
) -> list[RenderedConfig]:
    """Render every config of `apps` (and the stack-level ones) for a release; all or an error."""
    return [
        _render_one(ctx, app, where, t, release_id)
        for app, where, t in _targets(ctx, apps, with_stack)
    ]


def config_diff(
    old: str | None, new: str, label: str, old_masked: str | None, new_masked: str
) -> str:
    """A unified diff of the masked previews; empty when nothing changes."""
    if old == new:
        return ""
    before = (old_masked or "").splitlines(keepends=True)
    after = new_masked.splitlines(keepends=True)
    header_old = f"live/{label}" if old is not None else "/dev/null"
    if before == after:
        return f"--- {header_old}\n+++ new/{label}\n@@ a masked value changed @@\n"
    return "".join(difflib.unified_diff(before, after, header_old, f"new/{label}"))
