"""Rollout batches per strategy, failure limits, target selection."""

from __future__ import annotations

import pytest

from deployflow.core.rollout import batch_size, batches, parse_targets, too_many_failed
from deployflow.errors import UsageError

HOSTS = ["h1", "h2", "h3", "h4", "h5"]


def test_batches() -> None:
    assert batches(HOSTS, "all-at-once", "1") == [HOSTS]
    assert batches(HOSTS, "rolling", "2") == [["h1", "h2"], ["h3", "h4"], ["h5"]]
    assert batches(HOSTS, "rolling", "40%") == [["h1", "h2"], ["h3", "h4"], ["h5"]]
    assert batches(HOSTS, "canary", "2") == [["h1"], ["h2", "h3"], ["h4", "h5"]]
    assert batches(["h1"], "canary", "1") == [["h1"]]
    assert batches([], "rolling", "1") == []
    assert batch_size(3, "1%") == 1 and batch_size(3, "100%") == 3
    with pytest.raises(UsageError, match="blue"):
        batches(HOSTS, "blue", "1")


def test_failure_limits() -> None:
    assert too_many_failed(1, 3, "0%")
    assert not too_many_failed(1, 3, "34%") and too_many_failed(2, 3, "34%")
    assert not too_many_failed(0, 3, "0%")


def test_parse_targets() -> None:
    assert parse_targets(None, HOSTS) == HOSTS and parse_targets("all", HOSTS) == HOSTS
    assert parse_targets("h3, h1", HOSTS) == ["h1", "h3"]  # the stack's order
    with pytest.raises(UsageError, match="unknown h9"):
        parse_targets("h1,h9", HOSTS)
    with pytest.raises(UsageError, match="empty"):
        parse_targets(",", HOSTS)
