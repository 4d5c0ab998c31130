"""Poll probes until all pass or a deadline passes (Kamal's poller, with growing back-off);
the probes of a round run concurrently (a release's every check costs about its slowest)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from deployflow.errors import HealthCheckError
from deployflow.probes.base import ProbeResult

__all__ = ["wait_until_healthy"]

MAX_CONCURRENT = 8


def _round(probes: list[Callable[[], ProbeResult]]) -> list[ProbeResult]:
    if len(probes) == 1:
        return [probes[0]()]
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT, len(probes))) as pool:
        return list(pool.map(lambda probe: probe(), probes))


def wait_until_healthy(
    probes: Sequence[Callable[[], ProbeResult]],
    deadline: float,
    interval: float = 0.5,
    max_interval: float = 5.0,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Re-run the failing probes with back-off; raise `HealthCheckError` at the deadline."""
    ends = time.monotonic() + deadline
    pending = list(range(len(probes)))
    results: dict[int, ProbeResult] = {}
    delay = interval
    while True:
        for i, result in zip(pending, _round([probes[i] for i in pending]), strict=True):
            results[i] = result
        for i in list(pending):
            result = results[i]
            if result.ok:
                pending.remove(i)
                if on_result:
                    on_result(result)
        if not pending:
            return [results[i] for i in range(len(probes))]
        if time.monotonic() + delay > ends:
            failed = results[pending[0]]
            if on_result:
                on_result(failed)
            raise HealthCheckError(
                f"{failed.name} still failing after {deadline:.0f}s: {failed.detail}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, max_interval)
