"""The master config (`deployment.config.env`) as a document: its lines kept as they are
(comments, blank lines, key order), each key's value and the comment above it as its help, new
values written back into their own lines, and a diff with secrets masked. Pure functions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from deployflow.core.envfile import parse_env
from deployflow.core.redact import MASK

__all__ = ["MASK", "ConfigDoc", "masked_diff", "parse_doc", "render_doc"]

_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_SAFE = re.compile(r"^[^\s#'\"$`\\]+$")


@dataclass(frozen=True)
class ConfigDoc:
    lines: tuple[str, ...]  # the file's lines, without their newlines
    values: dict[str, str]  # key -> value, in file order
    helps: dict[str, str]  # key -> the comment lines right above it, joined
    where: dict[str, int]  # key -> its line's index
    newline_at_end: bool = True


def parse_doc(text: str, source: str = "master config") -> ConfigDoc:
    """Raises StackError naming the line that is not KEY=VALUE (the file stays untouched)."""
    values = parse_env(text, source)
    lines = tuple(text.splitlines())
    helps: dict[str, str] = {}
    where: dict[str, int] = {}
    comment: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
            continue
        match = _KEY.match(line)
        if match:
            where[match.group(1)] = index
            if comment:
                helps[match.group(1)] = " ".join(comment)
        comment = []
    return ConfigDoc(lines, values, helps, where, text.endswith("\n") or not text)


def _quoted(value: str) -> str:
    """As parse_env reads it back: bare, or in the quotes the value does not hold."""
    if _SAFE.match(value):
        return value
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise ValueError("a value cannot hold both kinds of quote")


def render_doc(doc: ConfigDoc, values: dict[str, str]) -> str:
    """The file with each changed key's line rewritten (`KEY=value`, quoted when needed) and
    everything else, comments and order included, byte for byte as it was."""
    lines = list(doc.lines)
    for key, value in values.items():
        if key in doc.where and doc.values.get(key) != value:
            lines[doc.where[key]] = f"{key}={_quoted(value)}"
    text = "\n".join(lines)
    return text + "\n" if doc.newline_at_end and lines else text


def _mask(line: str, secrets: set[str]) -> str:
    match = _KEY.match(line)
    if match and match.group(1) in secrets:
        return f"{match.group(1)}={MASK}"
    return line


def masked_diff(old: str, new: str, secrets: set[str], name: str = "config") -> str:
    """A unified diff of the two texts; the values of `secrets` keys never appear."""
    before = [_mask(line, secrets) for line in old.splitlines()]
    after = [_mask(line, secrets) for line in new.splitlines()]
    changed_secret = [
        k for k in secrets if parse_env(old).get(k) != parse_env(new).get(k) and k in parse_env(new)
    ]
    diff = "\n".join(
        difflib.unified_diff(before, after, f"{name} (on disk)", f"{name} (edited)", lineterm="")
    )
    notes = "".join(f"\n# {k}: changed (value hidden)" for k in sorted(changed_secret))
    return (diff + notes).strip("\n")
