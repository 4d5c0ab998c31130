"""What a restore would change, as data: configs by checksum, database tables by row count and
checksum, shared files by size and mtime. No content is ever shown (configs hold secrets)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Change", "changed_only", "compare", "parse_checksums", "table_problems"]


@dataclass(frozen=True)
class Change:
    part: str  # configs | database | files
    name: str
    change: str  # changed | added (comes back) | removed (goes away) | same
    detail: str = ""

    def line(self) -> str:
        text = f"{self.part:8} {self.change:8} {self.name}"
        return f"{text}  ({self.detail})" if self.detail else text


def parse_checksums(text: str) -> dict[str, str]:
    """`sha256  path` lines (sha256sum's format) -> {path: sha256}."""
    sums = {}
    for line in text.splitlines():
        digest, _, path = line.partition("  ")
        if len(digest) == 64 and path:
            sums[path] = digest
    return sums


def compare(part: str, backup: dict[str, object], live: dict[str, object]) -> list[Change]:
    """One Change per name: what the live side becomes when `backup` is put back."""
    changes = []
    for name in sorted(set(backup) | set(live)):
        if name not in live:
            changes.append(Change(part, name, "added"))
        elif name not in backup:
            changes.append(Change(part, name, "removed"))
        elif backup[name] != live[name]:
            changes.append(Change(part, name, "changed", _detail(backup[name], live[name])))
        else:
            changes.append(Change(part, name, "same"))
    return changes


def _detail(backup: object, live: object) -> str:
    if isinstance(backup, dict) and isinstance(live, dict) and "rows" in backup:
        return f"rows {live.get('rows')} -> {backup['rows']}"
    if isinstance(backup, tuple) and isinstance(live, tuple):
        return f"{live[0]} -> {backup[0]} bytes"
    return ""


def changed_only(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.change != "same"]


def table_problems(recorded: dict[str, dict], restored: dict[str, dict]) -> list[str]:
    """Tables whose row count or checksum after a restore differ from those recorded at backup
    time (empty: the restore is faithful)."""
    problems = []
    for table in sorted(set(recorded) | set(restored)):
        want, got = recorded.get(table), restored.get(table)
        if want is None or got is None:
            problems.append(f"{table}: {'missing' if got is None else 'unexpected'}")
        elif want["rows"] != got["rows"]:
            problems.append(f"{table}: {got['rows']} rows, {want['rows']} recorded")
        elif want["checksum"] != got["checksum"]:
            problems.append(f"{table}: checksum differs")
    return problems
