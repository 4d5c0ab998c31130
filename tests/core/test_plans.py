"""Plan states and staleness fingerprints."""

from __future__ import annotations

import pytest

from deployflow.core.plans import advance, fingerprint
from deployflow.errors import UsageError


def test_states_move_forward_only() -> None:
    plan = {"id": "p1", "state": "DRAFT"}
    approved = advance(plan, "APPROVED")
    assert approved["state"] == "APPROVED" and plan["state"] == "DRAFT"
    running = advance(approved, "EXECUTING")
    assert advance(running, "COMPLETED")["state"] == "COMPLETED"
    assert advance(running, "FAILED")["state"] == "FAILED"
    with pytest.raises(UsageError, match="approve it first"):
        advance(plan, "EXECUTING")
    with pytest.raises(UsageError, match="only a DRAFT"):
        advance(approved, "APPROVED")
    with pytest.raises(UsageError, match="COMPLETED, it cannot become EXECUTING"):
        advance(advance(running, "COMPLETED"), "EXECUTING")


def test_fingerprint_changes_with_any_input() -> None:
    base = fingerprint(b"stack", b"env", {"web": "k1", "api": "k2"})
    assert base == fingerprint(b"stack", b"env", {"api": "k2", "web": "k1"})
    assert base != fingerprint(b"stack2", b"env", {"web": "k1", "api": "k2"})
    assert base != fingerprint(b"stack", b"env2", {"web": "k1", "api": "k2"})
    assert base != fingerprint(b"stack", b"env", {"web": "k9", "api": "k2"})
