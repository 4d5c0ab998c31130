"""One health sweep of the live release (every app's checks from its own snapshot, probed
concurrently, each with its timeout), and the state change since the last sweep."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deployflow.backends.files import atomic_write
from deployflow.backends.history import current_release
from deployflow.core.context import StackContext
from deployflow.probes import ProbeResult, probe_for
from deployflow.stages.assemble import load_snapshot

__all__ = ["health_change", "sweep"]


def sweep(ctx: StackContext) -> list[ProbeResult]:
    live = current_release(ctx)
    if live is None:
        return [ProbeResult("release", False, "nothing is live", 0.0)]
    checks = load_snapshot(ctx, live).checks()
    if not checks:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(checks))) as pool:
        return list(pool.map(lambda c: probe_for(c, ctx.database)(), checks))


def health_change(ctx: StackContext, results: list[ProbeResult]) -> dict[str, Any] | None:
    """Record this sweep's verdict; return what changed since the last one (None: nothing)."""
    path = ctx.layout.state / "health.json"
    now = {r.name: r.ok for r in results}
    try:
        before = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        before = None
    atomic_write(path, json.dumps(now))
    if before is None:
        return None if all(now.values()) else {"down": [n for n, ok in now.items() if not ok]}
    down = [n for n, ok in now.items() if not ok and before.get(n, True)]
    recovered = [n for n, ok in now.items() if ok and before.get(n) is False]
    return {"down": down, "recovered": recovered} if down or recovered else None
