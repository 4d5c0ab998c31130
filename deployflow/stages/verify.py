"""Verify: every health check given passes before one shared deadline."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.healthplan import CheckSpec
from deployflow.probes import ProbeResult, probe_for, wait_until_healthy
from deployflow.stages import Log

__all__ = ["verify_checks"]


def verify_checks(
    ctx: StackContext, checks: list[CheckSpec], log: Log, deadline: float | None = None
) -> list[ProbeResult]:
    if not checks:
        log("verify: no health checks to run")
        return []

    def report(result: ProbeResult) -> None:
        mark = "ok" if result.ok else "FAIL"
        log(f"health {mark} {result.name}: {result.detail} ({result.ms:.0f} ms)")

    return wait_until_healthy(
        [probe_for(check, ctx.database) for check in checks],
        deadline=deadline if deadline is not None else ctx.stack.verify.deadline,
        interval=ctx.stack.verify.interval,
        on_result=report,
    )
