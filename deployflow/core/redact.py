"""Hide secret values in any text that leaves the process (logs, diffs, reports)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MASK", "Redactor", "is_secret_name"]

MASK = "********"
_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY", "PASS")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


class Redactor:
    """Replaces every known secret value with a mask; longest values first."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._values = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        return text
