"""Health rows graded against thresholds, and the exit code they make."""

from __future__ import annotations

from deployflow.core.healthgrade import (
    grade_check,
    grade_host,
    grade_queue,
    grade_service,
    overall,
    restarts_since,
)

TH = {"cpu": 90.0, "memory_mb": 100.0, "response_ms": 500.0, "disk_gb": 1.0}


def test_services() -> None:
    row = {"running": True, "port": 80, "port_open": True, "cpu": 10.0, "rss_mb": 50.0}
    assert grade_service(row, TH) == ("ok", [])
    assert grade_service({**row, "running": False}, TH) == ("down", ["stopped"])
    assert grade_service({**row, "port_open": False}, TH) == ("down", ["port 80 not open"])
    grade, reasons = grade_service({**row, "cpu": 150.0, "rss_mb": 300.0}, TH)
    assert grade == "degraded" and reasons == ["cpu 150% > 90%", "memory 300 MB > 100 MB"]
    assert grade_service({**row, "rss_mb": 300.0}, {**TH, "memory_mb": None})[0] == "ok"


def test_checks_and_host() -> None:
    assert grade_check({"ok": True, "ms": 20.0}, TH) == ("ok", [])
    assert grade_check({"ok": True, "ms": 900.0}, TH) == ("degraded", ["900 ms > 500 ms"])
    assert grade_check({"ok": False, "ms": 1.0, "detail": "HTTP 500"}, TH) == ("down", ["HTTP 500"])
    host = {"cpu": 10.0, "disk_free_gb": {"deploy root": 50.0, "db data": 0.5}}
    assert grade_host(host, TH) == ("degraded", ["0.5 GB free under db data < 1 GB"])


def test_overall_is_the_worst_row() -> None:
    assert overall([]) == ("ok", 0)
    assert overall(["ok", "degraded"]) == ("degraded", 1)
    assert overall(["degraded", "down", "ok"]) == ("down", 2)


def test_queues() -> None:
    row = {"pending": 3, "failed": 2, "error": None}
    assert grade_queue(row, TH) == ("ok", [])  # no failed_jobs limit: counted, not graded
    assert grade_queue(row, {**TH, "failed_jobs": 1}) == ("degraded", ["2 failed jobs > 1"])
    assert grade_queue(row, {**TH, "failed_jobs": 2}) == ("ok", [])
    broken = {"pending": None, "failed": None, "error": "no table failed_jobs"}
    assert grade_queue(broken, TH) == ("degraded", ["no table failed_jobs"])


def test_restarts_after_going_live() -> None:
    live = "2026-11-26T10:00:00+00:00"
    deploy_start = "2026-11-26T10:00:00.400000+00:00"  # same second as going live: the deploy's
    later = ["2026-11-26T10:05:00.100000+00:00", "2026-11-26T11:00:00.900000+00:00"]
    assert restarts_since(None, live) is None  # the backend cannot say
    assert restarts_since([deploy_start], live) == 0
    assert restarts_since([deploy_start, *later], live) == 2
    assert restarts_since(["2026-11-25T09:00:00+00:00", *later], live) == 2  # infrastructure
    assert restarts_since(later, None) == 1  # nothing live: every start after the first
