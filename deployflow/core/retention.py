"""Backup retention: keep the newest `keep_minimum`; delete the rest once past `older_than`."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["backups_to_prune", "parse_age"]

_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `15m` -> a timedelta (the stack model has already checked the shape)."""
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def backups_to_prune(
    created: dict[str, datetime], keep_minimum: int, older_than: str, now: datetime
) -> list[str]:
    """Ids to delete, oldest last; never one of the newest `keep_minimum`, never a young one."""
    newest_first = sorted(created, key=lambda bid: created[bid], reverse=True)
    limit = parse_age(older_than)
    return [bid for bid in newest_first[keep_minimum:] if now - created[bid] > limit]
