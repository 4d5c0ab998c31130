"""Health rows graded against thresholds, and the exit code they make."""

from __future__ import annotations

from deployflow.core.healthgrade import grade_check, grade_host, grade_service, overall

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
