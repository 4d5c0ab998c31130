"""A sliding-window limit per client address (login attempts), pure: `allow(who, now)` says
whether one more attempt fits, and when not, in how many seconds one will."""

from __future__ import annotations

from collections import deque

__all__ = ["RateLimit"]


class RateLimit:
    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._seen: dict[str, deque[float]] = {}

    def allow(self, who: str, now: float) -> tuple[bool, float]:
        """(allowed, seconds until the next attempt would be)."""
        seen = self._seen.setdefault(who, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.attempts:
            return False, seen[0] + self.window - now
        seen.append(now)
        return True, 0.0
