"""--since / --until values: ages, ISO times with and without a zone, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deployflow.core.timespec import parse_when
from deployflow.errors import UsageError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_ages_and_iso_times() -> None:
    assert parse_when("90s", NOW) == NOW - timedelta(seconds=90)
    assert parse_when("1h", NOW) == NOW - timedelta(hours=1)
    assert parse_when("2w", NOW) == NOW - timedelta(weeks=2)
    assert parse_when("2026-11-25T10:00Z", NOW) == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert parse_when("2026-11-25", NOW) == datetime(2026, 11, 25).astimezone()


@pytest.mark.parametrize("bad", ["yesterday", "1y", "-1h", "", "2026-13-01"])
def test_refusals_name_the_option(bad: str) -> None:
    with pytest.raises(UsageError, match="--until"):
        parse_when(bad, NOW, "--until")
