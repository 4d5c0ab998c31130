"""Deployment history across targets, as data: one row per release per target (filtered by
target, app and status) and the totals `deployflow summary` shows. Pure functions over each
target's folded release records."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from deployflow.core.history import ReleaseRecord

__all__ = ["OUTCOME", "TargetState", "history_rows", "summarize"]

# a release's status as a deployment outcome
OUTCOME = {
    "live": "completed",
    "superseded": "completed",
    "rolled_back": "rolled back",
    "failed": "failed",
    "cancelled": "failed",
    "interrupted": "failed",
    "created": "running",
    "building": "running",
    "deploying": "running",
}


@dataclass(frozen=True)
class TargetState:
    records: list[ReleaseRecord]
    current: str | None
    active: dict[str, dict[str, str]]  # app -> {release it runs from, version}


def history_rows(
    targets: dict[str, TargetState],
    target: str | None = None,
    app: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first; `status` matches a release status or an outcome (completed, failed...)."""
    rows = []
    for name, state in targets.items():
        if target and name != target:
            continue
        for rec in state.records:
            shown = "superseded" if rec.status == "live" and rec.id != state.current else rec.status
            outcome = OUTCOME.get(shown, shown)
            if app and app not in rec.apps:
                continue
            if status and status not in (shown, outcome):
                continue
            rows.append(
                {
                    "target": name,
                    "release": rec.id,
                    "status": shown,
                    "outcome": outcome,
                    "current": rec.id == state.current,
                    "apps": rec.apps,
                    "started": rec.started,
                    "updated": rec.updated,
                    "note": rec.note,
                    "commits": rec.commits,
                    "lifecycle": [list(s) for s in rec.states],
                }
            )
    return sorted(rows, key=lambda r: (r["started"], r["target"]), reverse=True)


def summarize(targets: dict[str, TargetState]) -> dict[str, Any]:
    rows = history_rows(targets)
    outcomes = Counter(r["outcome"] for r in rows)
    return {
        "deployments": len(rows),
        "completed": outcomes["completed"],
        "failed": outcomes["failed"],
        "rolled_back": outcomes["rolled back"],
        "running": outcomes["running"],
        "live": {name: state.current for name, state in targets.items()},
        "active": {name: state.active for name, state in targets.items()},
    }
