"""Runtime versions an app asks for, against the one installed."""

from __future__ import annotations

from deployflow.core.detect.runtime import runtime_mismatch


def test_floors_and_pins() -> None:
    assert runtime_mismatch("node", ">=18", "20.11.1") is None
    assert runtime_mismatch("node", "^20.1", "20.11.1") is None
    assert runtime_mismatch("node", "18.x", "20.11.1") is not None
    assert runtime_mismatch("python", "3.11", "3.11.7") is None
    warning = runtime_mismatch("python", "3.12", "3.11.7")
    assert warning and "asks for 3.12, this host has 3.11.7" in warning
    assert runtime_mismatch("node", ">=22", "20.11.1") is not None
    assert runtime_mismatch("node", "lts", "20.11.1") is None  # nothing to compare
