"""Jinja2 rendering for stack strings and config templates; undefined names are errors."""

from __future__ import annotations

from typing import Any

import jinja2

from deployflow.errors import ConfigError

__all__ = ["render_string"]

_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
)


def render_string(text: str, context: dict[str, Any], where: str) -> str:
    """Render `text` with `context`; `where` names the field or file in the error."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        return _ENV.from_string(text).render(context)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{where}: {exc.message}; define it under vars: in the stack") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
