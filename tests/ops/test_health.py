"""A health sweep's state change: notify when something goes down or recovers, not every sweep."""

from __future__ import annotations

from pathlib import Path

from deployflow.loading import load_stack
from deployflow.ops.health import health_change
from deployflow.probes import ProbeResult
from tests.conftest import EXAMPLE


def _r(name: str, ok: bool) -> ProbeResult:
    return ProbeResult(name, ok, "", 1.0)


def test_only_changes_are_reported(tmp_path: Path) -> None:
    ctx = load_stack(EXAMPLE / "deployflow.yaml", tmp_path, environ={"WOOSOO_DB_PASSWORD": "x"})
    assert health_change(ctx, [_r("a", True), _r("b", True)]) is None  # first sweep, all well
    assert health_change(ctx, [_r("a", True), _r("b", True)]) is None
    assert health_change(ctx, [_r("a", False), _r("b", True)]) == {"down": ["a"], "recovered": []}
    assert health_change(ctx, [_r("a", False), _r("b", True)]) is None  # still down: quiet
    assert health_change(ctx, [_r("a", True), _r("b", True)]) == {"down": [], "recovered": ["a"]}
