"""Verify: every health check of the given apps passes before one shared deadline."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.healthplan import health_probes
from deployflow.probes import ProbeResult, wait_until_healthy
from deployflow.stages import Log

__all__ = ["verify_apps"]


def verify_apps(
    ctx: StackContext,
    apps: list[str],
    release_id: str | None,
    log: Log,
    deadline: float | None = None,
) -> list[ProbeResult]:
    probes = [p for app in apps for p in health_probes(ctx, app, release_id)]
    if not probes:
        log("verify: no health checks declared")
        return []

    def report(result: ProbeResult) -> None:
        mark = "ok" if result.ok else "FAIL"
        log(f"health {mark} {result.name}: {result.detail} ({result.ms:.0f} ms)")

    return wait_until_healthy(
        probes,
        deadline=deadline if deadline is not None else ctx.stack.verify.deadline,
        interval=ctx.stack.verify.interval,
        on_result=report,
    )
