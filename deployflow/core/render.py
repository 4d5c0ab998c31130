"""Jinja2 rendering for stack strings and config templates, in Jinja's immutable sandbox.

Undefined or empty values are errors naming the template and line, never a silent "";
unsafe attribute access and runtime errors in a template are bad input, reported the same way."""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from deployflow.errors import ConfigError

__all__ = ["referenced_names", "render_string"]

_NAME = "<deployflow>"


class _EmptyValue(ValueError):
    pass


def _finalize(value: Any) -> Any:
    if value is None:
        raise _EmptyValue("a value in the template is None")
    return value


_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
    finalize=_finalize,
)


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def referenced_names(text: str, where: str) -> list[str]:
    """The variables a template reads (none for plain text)."""
    if "{{" not in text and "{%" not in text:
        return []
    try:
        return sorted(meta.find_undeclared_variables(_ENV.parse(text)))
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None


def render_string(text: str, context: dict[str, Any], where: str) -> str:
    """Render `text` with `context`; `where` names the field or file in the error."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        tree = _ENV.parse(text)
        code = _ENV.compile(tree, filename=_NAME)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None
    for name in sorted(meta.find_undeclared_variables(tree)):
        if context.get(name) == "":
            line = next(
                (n for n, ln in enumerate(text.splitlines(), 1) if re.search(rf"\b{name}\b", ln)),
                None,
            )
            at = f"{where}:{line}" if line else where
            raise ConfigError(f"{at}: {name} is empty; give it a value under vars: in the stack")
    template = _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None))
    try:
        return template.render(context)
    except Exception as exc:
        line = _template_line(exc.__traceback__)
        at = f"{where}:{line}" if line else where
        if isinstance(exc, jinja2.UndefinedError):
            problem = f"{exc.message}; define it under vars: in the stack"
        elif isinstance(exc, SecurityError):
            problem = f"unsafe template code refused ({exc})"
        elif isinstance(exc, _EmptyValue):
            problem = "renders None; give the value a default"
        else:
            problem = f"template error: {type(exc).__name__}: {exc}"
        raise ConfigError(f"{at}: {problem}") from None
