"""Columns that fit a terminal width: all when wide, the least needed dropped when narrow."""

from __future__ import annotations

from deployflow.core.tablefit import fit_columns

COLUMNS = ["kind", "name", "state", "pid", "cpu %", "memory MB", "up", "port", "detail"]
ROWS = [
    {
        "kind": "service",
        "name": "backend-api-with-a-long-name",
        "state": "running",
        "pid": "123456",
        "cpu %": "3",
        "memory MB": "120",
        "up": "2h",
        "port": "18080 open",
        "detail": "a long detail that may wrap",
    }
]
DROP = ["pid", "cpu %", "up", "memory MB", "kind"]


def test_wide_keeps_every_column() -> None:
    assert fit_columns(COLUMNS, ROWS, 200, DROP) == COLUMNS


def test_80_columns_drop_the_least_needed_first() -> None:
    kept = fit_columns(COLUMNS, ROWS, 80, DROP)
    assert "name" in kept and "state" in kept and kept[-1] == "detail"
    assert "pid" not in kept and "cpu %" not in kept
    assert [c for c in COLUMNS if c in kept] == kept  # order kept


def test_very_narrow_keeps_name_and_free_text() -> None:
    kept = fit_columns(COLUMNS, ROWS, 30, DROP)
    assert kept == ["name", "state", "port", "detail"]
