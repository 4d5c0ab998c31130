"""The per-address sliding window that limits login attempts."""

from __future__ import annotations

from deployflow.api.ratelimit import RateLimit


def test_attempts_over_the_limit_wait_until_the_oldest_leaves_the_window() -> None:
    limit = RateLimit(attempts=3, window=60)
    assert [limit.allow("a", t)[0] for t in (0, 1, 2)] == [True, True, True]
    assert limit.allow("a", 10) == (False, 50)
    assert limit.allow("b", 10) == (True, 0.0)  # per address
    assert limit.allow("a", 60.5)[0]  # the first attempt left the window
