"""One health sweep of the live release (every app's checks from its own snapshot, probed
concurrently, each with its timeout), and the state change since the last sweep."""

from __future__ import annotations

import json
from typing import Any

from deployflow.backends.files import atomic_write
from deployflow.backends.history import current_release
from deployflow.core.context import StackContext
from deployflow.core.healthgrade import grade_changes
from deployflow.probes import ProbeResult
from deployflow.probes.sweep import sweep_checks
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["health_change", "sweep"]


def sweep(ctx: StackContext) -> list[ProbeResult]:
    live = current_release(ctx)
    if live is None:
        return [ProbeResult("release", False, "nothing is live", 0.0)]
    return sweep_checks(load_snapshot(ctx, live).checks(), ctx.database)


def health_change(ctx: StackContext, grades: dict[str, str]) -> dict[str, Any] | None:
    """Record this sweep's grade per row (ok | degraded | down); return what crossed since the
    last sweep (None: nothing)."""
    path = ctx.layout.state / "health.json"
    try:
        saved = json.loads(path.read_text())
        # older sweeps saved ok as true/false
        before = {
            k: (v if isinstance(v, str) else ("ok" if v else "down")) for k, v in saved.items()
        }
    except (FileNotFoundError, ValueError, AttributeError):
        before = None
    atomic_write(path, json.dumps(grades))
    return grade_changes(before, grades)
