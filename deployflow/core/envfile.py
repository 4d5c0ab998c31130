"""Parse and write `KEY=VALUE` env files (the master config `deployment.config.env`)."""

from __future__ import annotations

import re

from deployflow.errors import StackError

__all__ = ["ENV_FILE_KEY", "format_env", "parse_env"]

ENV_FILE_KEY = "env_file"  # the var that names the master config

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def parse_env(text: str, source: str = "env file") -> dict[str, str]:
    """Return the variables of an env file; blank lines and `#` comments are skipped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise StackError(f"{source}:{number}: expected KEY=VALUE, got {line[:40]!r}")
        key, value = match.groups()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def format_env(values: dict[str, str]) -> str:
    """Render variables as an env file, quoting values that need it."""
    lines = []
    for key, value in values.items():
        needs_quotes = any(c in value for c in " #'\"$`\\") or value == ""
        lines.append(f'{key}="{value}"' if needs_quotes else f"{key}={value}")
    return "\n".join(lines) + "\n"
