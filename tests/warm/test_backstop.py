"""Which crash the worker's backstop answers with a recover run (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deployflow.warm.backstop import GRACE, RunRow, needs_recover

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_a_crash_with_no_recover_after_it_needs_one() -> None:
    rows = [RunRow("deploy", "CRASHED", _ago(60)), RunRow("recover", "COMPLETED", _ago(600))]
    assert needs_recover(rows, NOW)


def test_a_recover_after_the_newest_crash_covers_it() -> None:
    rows = [
        RunRow("deploy", "CRASHED", _ago(600)),
        RunRow("rollback", "CRASHED", _ago(60)),
        RunRow("recover", "SCHEDULED", _ago(55)),
    ]
    assert not needs_recover(rows, NOW)


def test_fresh_crashes_are_left_to_the_automation_and_others_are_ignored() -> None:
    fresh = GRACE.total_seconds() / 2
    assert not needs_recover([RunRow("deploy", "CRASHED", _ago(fresh))], NOW)
    assert not needs_recover([RunRow("health-watch", "CRASHED", _ago(600))], NOW)
    assert not needs_recover([RunRow("deploy", "FAILED", _ago(600))], NOW)
    assert not needs_recover([], NOW)
