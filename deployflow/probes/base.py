"""What every probe returns."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProbeResult"]


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    detail: str
    ms: float
