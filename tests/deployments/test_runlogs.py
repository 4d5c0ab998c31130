"""Log lines as the terminal shows them: time, the task's name, one line per event."""

from __future__ import annotations

from deployflow.deployments.runlogs import log_line


def test_log_line() -> None:
    log = {"timestamp": "2026-11-26T05:52:16.123456Z", "message": "health ok"}
    assert log_line(log) == "05:52:16 health ok"
    assert log_line(log, "verify-2bf") == "05:52:16 [verify-2bf] health ok"
    failed = {**log, "message": "boom\nTraceback (most recent call last):\n  File x\nValueError"}
    assert log_line(failed) == "05:52:16 boom (traceback: in the run's page in the Prefect UI)"
