"""`--since` / `--until` values: an age (`90s`, `15m`, `1h`, `2d`, `1w`: that long before now) or
an ISO date or time (`2026-11-25`, `2026-11-25T10:00`, with or without a zone; naive is local)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from deployflow.errors import UsageError

__all__ = ["parse_when"]

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime, option: str = "--since") -> datetime:
    """An aware datetime; UsageError (exit 2) naming the option on anything else."""
    value = text.strip()
    if m := re.fullmatch(r"(\d+)([smhdw])", value):
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: give an age such as 30m, 1h, 2d or an ISO time such as "
            "2026-11-25T10:00"
        ) from None
    return when if when.tzinfo else when.astimezone()
