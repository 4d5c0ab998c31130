"""The short summary a terminal shows after the live view."""

from __future__ import annotations

from deployflow.core.report import lifecycle_line, render_short


def test_short_summary_of_a_success_and_of_a_rollback() -> None:
    ok = {
        "result": "success",
        "release": "r2",
        "live": "r2",
        "seconds": 3.25,
        "urls": {"web": "http://127.0.0.1:8000/"},
        "report": "/root/.deployflow/reports/r2.md",
    }
    assert render_short(ok) == [
        "success: release r2, live now r2 (3.2 s)",
        "  web        http://127.0.0.1:8000/",
        "report: /root/.deployflow/reports/r2.md",
    ]
    failed = {
        "result": "rolled back",
        "release": "r3",
        "live": "r2",
        "error": "verify failed",
        "data": "restored from backup b1 (main)",
        "urls": {"web": "http://x/"},
    }
    lines = render_short(failed)
    assert lines[0] == "rolled back: release r3, live now r2"
    assert "error: verify failed" in lines and "data: restored from backup b1 (main)" in lines
    assert not any("http://x/" in line for line in lines)  # not running: no URL offered


def test_the_lifecycle_line_marks_the_error_state() -> None:
    states = [["created", "2026-11-30T05:50:01+00:00"], ["failed", "2026-11-30T05:50:04+00:00"]]
    assert lifecycle_line(states) == "created 05:50:01 -> failed (error) 05:50:04"
