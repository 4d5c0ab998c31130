"""A health sweep's state change: alert when a row crosses (down, degraded) or recovers, not on
every sweep; sweeps saved by older versions (ok as true/false) still compare."""

from __future__ import annotations

from pathlib import Path

from deployflow.loading import load_stack
from deployflow.ops.health import health_change
from tests.conftest import EXAMPLE


def test_only_crossings_are_reported(tmp_path: Path) -> None:
    ctx = load_stack(
        EXAMPLE / "deployflow.yaml", tmp_path, environ={"WOOSOO_DB_PASSWORD": "x-for-tests"}
    )
    assert health_change(ctx, {"a": "ok", "b": "ok"}) is None  # first sweep, all well
    assert health_change(ctx, {"a": "ok", "b": "ok"}) is None
    down = health_change(ctx, {"a": "down", "b": "ok"})
    assert down == {"down": ["a"], "degraded": [], "recovered": []}
    assert health_change(ctx, {"a": "down", "b": "ok"}) is None  # still down: quiet
    slow = health_change(ctx, {"a": "ok", "b": "degraded"})
    assert slow == {"down": [], "degraded": ["b"], "recovered": ["a"]}
    assert health_change(ctx, {"a": "ok", "b": "ok"}) == {
        "down": [],
        "degraded": [],
        "recovered": ["b"],
    }


def test_a_first_sweep_with_trouble_and_old_files(tmp_path: Path) -> None:
    ctx = load_stack(
        EXAMPLE / "deployflow.yaml", tmp_path, environ={"WOOSOO_DB_PASSWORD": "x-for-tests"}
    )
    assert health_change(ctx, {"a": "down"}) == {"down": ["a"], "degraded": [], "recovered": []}
    (ctx.layout.state / "health.json").write_text('{"a": false, "b": true}')
    assert health_change(ctx, {"a": "ok", "b": "ok"}) == {
        "down": [],
        "degraded": [],
        "recovered": ["a"],
    }
