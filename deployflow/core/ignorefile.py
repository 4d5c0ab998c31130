"""Which paths `deployflow deploy` leaves out of the upload: .gitignore and .dockerignore rules
(anchored, directory-only, `*`, `?`, `**` and `!` negation; the last matching rule wins), and
always `.git`, `.venv` and `node_modules`. Pure: rule text and relative paths in."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ALWAYS", "Rule", "ignored", "parse_rules"]

ALWAYS = frozenset({".git", ".venv", "node_modules"})


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    negated: bool
    dirs_only: bool


def _regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        dirs_only = line.endswith("/")
        line = line.strip("/") if dirs_only else line
        anchored = "/" in line.rstrip("/")  # a slash at the start or middle anchors it
        body = _regex(line.lstrip("/"))
        pattern = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
        rules.append(Rule(re.compile(pattern), negated, dirs_only))
    return rules


def ignored(rel: str, is_dir: bool, rules: list[Rule]) -> bool:
    """Whether the path `rel` (posix, relative to the dir being packed) stays out."""
    if rel.split("/")[-1] in ALWAYS:
        return True
    verdict = False
    for rule in rules:
        if rule.dirs_only and not is_dir:
            continue
        if rule.pattern.match(rel):
            verdict = not rule.negated
    return verdict
