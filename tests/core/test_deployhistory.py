"""History rows across targets (filters, superseded, outcomes) and the summary totals."""

from __future__ import annotations

from deployflow.core.deployhistory import TargetState, history_rows, summarize
from deployflow.core.history import ReleaseRecord


def _rec(rid: str, status: str, apps: list[str]) -> ReleaseRecord:
    return ReleaseRecord(rid, status, f"2026-11-25T10:{rid[-2:]}:00", "x", apps=apps)


TARGETS = {
    "web1": TargetState(
        [
            _rec("r01", "live", ["api", "web"]),
            _rec("r03", "failed", ["api"]),
            _rec("r05", "live", ["web"]),
        ],
        "r05",
        {"api": {"release": "r01", "version": "1.0"}, "web": {"release": "r05", "version": ""}},
    ),
    "web2": TargetState(
        [_rec("r02", "live", ["api", "web"]), _rec("r04", "rolled_back", ["api"])], "r02", {}
    ),
}


def test_rows_filters_and_statuses() -> None:
    rows = history_rows(TARGETS)
    assert [(r["target"], r["release"]) for r in rows] == [
        ("web1", "r05"),
        ("web2", "r04"),
        ("web1", "r03"),
        ("web2", "r02"),
        ("web1", "r01"),
    ]
    assert {r["release"]: r["status"] for r in rows}["r01"] == "superseded"
    assert [r["release"] for r in history_rows(TARGETS, target="web2")] == ["r04", "r02"]
    assert [r["release"] for r in history_rows(TARGETS, app="web")] == ["r05", "r02", "r01"]
    assert [r["release"] for r in history_rows(TARGETS, status="failed")] == ["r03"]
    assert [r["release"] for r in history_rows(TARGETS, status="completed")] == [
        "r05",
        "r02",
        "r01",
    ]


def test_summary() -> None:
    data = summarize(TARGETS)
    assert (data["deployments"], data["completed"], data["failed"], data["rolled_back"]) == (
        5,
        3,
        1,
        1,
    )
    assert data["live"] == {"web1": "r05", "web2": "r02"}
    assert data["active"]["web1"]["api"] == {"release": "r01", "version": "1.0"}
