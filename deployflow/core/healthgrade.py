"""A health report graded against the stack's thresholds: each row ok, degraded (a threshold
crossed: yellow) or down (a check failing, a service stopped: red), and the exit code
(0 healthy, 1 degraded, 2 down). Pure functions over the report's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "EXIT",
    "grade_changes",
    "grade_check",
    "grade_host",
    "grade_queue",
    "grade_service",
    "overall",
    "restarts_since",
]

OK, DEGRADED, DOWN = "ok", "degraded", "down"
EXIT = {OK: 0, DEGRADED: 1, DOWN: 2}


def _worst(grades: list[str]) -> str:
    return max(grades, key=lambda g: EXIT[g], default=OK)


def grade_service(row: dict[str, Any], th: dict[str, float | None]) -> tuple[str, list[str]]:
    """(grade, reasons) of one service row (running, port_open, cpu, rss_mb)."""
    if not row["running"]:
        return DOWN, ["OOM-killed" if row.get("oom_killed") else "stopped"]
    if row.get("port_open") is False:
        return DOWN, [f"port {row.get('port')} not open"]
    reasons = ["OOM-killed since it started"] if row.get("oom_killed") else []
    if th.get("cpu") is not None and (row.get("cpu") or 0) > th["cpu"]:
        reasons.append(f"cpu {row['cpu']:.0f}% > {th['cpu']:.0f}%")
    if th.get("memory_mb") is not None and (row.get("rss_mb") or 0) > th["memory_mb"]:
        reasons.append(f"memory {row['rss_mb']:.0f} MB > {th['memory_mb']:.0f} MB")
    return (DEGRADED if reasons else OK), reasons


def grade_check(row: dict[str, Any], th: dict[str, float | None]) -> tuple[str, list[str]]:
    if not row["ok"]:
        return DOWN, [row.get("detail") or "failing"]
    limit = th.get("response_ms")
    if limit is not None and row["ms"] > limit:
        return DEGRADED, [f"{row['ms']:.0f} ms > {limit:.0f} ms"]
    return OK, []


def grade_queue(row: dict[str, Any], th: dict[str, float | None]) -> tuple[str, list[str]]:
    """A queue row (pending, failed, error): degraded when it cannot be counted or when more
    jobs failed than `failed_jobs` allows."""
    if row.get("error"):
        return DEGRADED, [row["error"]]
    limit = th.get("failed_jobs")
    if limit is not None and row["failed"] > limit:
        return DEGRADED, [f"{row['failed']} failed jobs > {limit:.0f}"]
    return OK, []


def restarts_since(starts: list[str] | None, since: str | None) -> int | None:
    """How many of a service's starts (ISO times) came after `since` (when the live release
    went live: the deploy's own starts come before it); None when the backend cannot say."""
    if starts is None:
        return None
    if since is None:
        return max(len(starts) - 1, 0)
    after = datetime.fromisoformat(since)  # whole seconds: compare starts at that grain
    return sum(datetime.fromisoformat(s).replace(microsecond=0) > after for s in starts)


def grade_host(row: dict[str, Any], th: dict[str, float | None]) -> tuple[str, list[str]]:
    reasons = ["OOM-killed since it started"] if row.get("oom_killed") else []
    if th.get("cpu") is not None and row["cpu"] > th["cpu"]:
        reasons.append(f"host cpu {row['cpu']:.0f}% > {th['cpu']:.0f}%")
    limit = th.get("disk_gb")
    for where, free in row["disk_free_gb"].items():
        if limit is not None and free < limit:
            reasons.append(f"{free:.1f} GB free under {where} < {limit:.0f} GB")
    return (DEGRADED if reasons else OK), reasons


def overall(grades: list[str]) -> tuple[str, int]:
    worst = _worst(grades)
    return worst, EXIT[worst]


def grade_changes(
    before: dict[str, str] | None, now: dict[str, str]
) -> dict[str, list[str]] | None:
    """What crossed since the last sweep: rows gone down, gone degraded, or back to ok. None
    when nothing changed (and on a first sweep where all is well): alert on crossings only."""
    if before is None:
        before = {name: OK for name in now}
    changes = {
        "down": [n for n, g in now.items() if g == DOWN and before.get(n, OK) != DOWN],
        "degraded": [n for n, g in now.items() if g == DEGRADED and before.get(n, OK) != DEGRADED],
        "recovered": [n for n, g in now.items() if g == OK and before.get(n, OK) != OK],
    }
    return changes if any(changes.values()) else None
