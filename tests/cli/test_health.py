"""The health table at 80 columns: the least needed columns go, no cell but the detail wraps,
and no name is cut."""

from __future__ import annotations

from rich.console import Console

from deployflow.cli.health import render

NAMES = ("backend-api-service", "queue-worker-default", "relay-websocket")


def _report() -> dict:
    service = {
        "port": 18080,
        "port_open": True,
        "running": True,
        "pid": 123456,
        "cpu": 2.0,
        "rss_mb": 140.0,
        "uptime_s": 7200,
        "restarts": 0,
        "reasons": [],
        "grade": "ok",
    }
    return {
        "verdict": "ok",
        "release": {"live": "20261129190000", "age_s": 60, "last_deploy": None},
        "services": [{**service, "name": name} for name in NAMES],
        "checks": [
            {
                "name": "http http://127.0.0.1:18080/api/health",
                "ok": True,
                "ms": 12,
                "reasons": [],
                "detail": "HTTP 200 with the expected body",
                "grade": "ok",
            }
        ],
        "queues": [],
        "host": {
            "load": [0.5],
            "cpu": 12,
            "ram_used_mb": 900,
            "ram_total_mb": 4000,
            "disk_free_gb": {"/": 70.0},
            "reasons": [],
            "grade": "ok",
        },
    }


def _lines(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(render(_report(), width))
    return console.export_text().splitlines()


def test_80_columns_fit_without_wrapping_names() -> None:
    lines = _lines(80)
    assert all(len(line) <= 80 for line in lines)
    for name in (*NAMES, "cpu/ram/load"):
        assert any(name in line for line in lines), name  # whole, on one line
    header = next(line for line in lines if "name" in line and "state" in line)
    assert "restarts" not in header and "pid" not in header


def test_wide_shows_every_column() -> None:
    header = next(line for line in _lines(200) if "name" in line and "state" in line)
    for column in ("kind", "pid", "cpu %", "memory MB", "up", "restarts", "port", "detail"):
        assert column in header
