"""A rollout: the stack deployed to several targets, each by its own worker, batch after batch
as the strategy says; a canary is watched before the rest; when more targets failed than
`max_fail` allows (or the canary's watch fails) the rollout stops, the targets not reached are
skipped and those done are rolled back. Runs are started and awaited through a `Dispatcher`
(Prefect deployments in `deployments/dispatch.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from deployflow.core.rollout import batches, too_many_failed
from deployflow.errors import DeployFailed

__all__ = ["Dispatcher", "Outcome", "RolloutSettings", "TargetRun", "rollout"]


@dataclass(frozen=True)
class Outcome:
    state: str  # completed | failed | crashed | cancelled | unreachable
    detail: str = ""
    seconds: float = 0.0


class Dispatcher(Protocol):
    def start(self, kind: str, target: str, parameters: dict[str, Any]) -> str:
        """Start the `kind` deployment (deploy, rollback, health-watch) of `target`; its run id."""
        ...

    def wait(self, runs: dict[str, str], start_timeout: float) -> dict[str, Outcome]:
        """Each target's run to its end; one no worker took in `start_timeout` seconds is
        cancelled and unreachable."""
        ...


@dataclass(frozen=True)
class RolloutSettings:
    targets: list[str]
    strategy: str = "all-at-once"
    batch: str = "1"
    max_fail: str = "0%"
    watch: float = 30.0
    start_timeout: float = 60.0


@dataclass
class TargetRun:
    target: str
    batch: int
    state: str = "pending"  # + completed, failed, unreachable, skipped, rolled back, ...
    run: str | None = None
    seconds: float = 0.0
    detail: str = ""


def _watch(
    target: str, settings: RolloutSettings, dispatcher: Dispatcher, log: Callable[[str], None]
) -> str | None:
    """The canary's watch: its health swept until `watch` seconds pass; the problem, or None."""
    ends = time.monotonic() + settings.watch
    interval = max(1.0, settings.watch / 4)
    while True:
        run = dispatcher.start("health-watch", target, {"fail_when_down": True})
        outcome = dispatcher.wait({target: run}, settings.start_timeout)[target]
        if outcome.state != "completed":
            return f"canary watch: health {outcome.state} ({outcome.detail})"
        left = ends - time.monotonic()
        if left <= 0:
            log(f"canary {target}: healthy for {settings.watch:.0f}s")
            return None
        time.sleep(min(interval, left))


def _roll_back(
    done: list[str], rows: dict[str, TargetRun], settings: RolloutSettings, dispatcher: Dispatcher
) -> None:
    runs = {t: dispatcher.start("rollback", t, {}) for t in done}
    for target, outcome in dispatcher.wait(runs, settings.start_timeout).items():
        row = rows[target]
        row.state = "rolled back" if outcome.state == "completed" else "rollback failed"
        row.detail = "; ".join(x for x in (row.detail, outcome.detail) if x)


def _headline(stopped: str | None, failed: int, rows: dict[str, TargetRun]) -> str:
    """ "rolled back" only when every target done went back; else it names those left on the
    new release."""
    if not stopped:
        return "degraded" if failed else "success"
    left = [t for t, row in rows.items() if row.state == "rollback failed"]
    if left:
        return f"rollback failed: {', '.join(left)} left on the new release"
    return "rolled back"


def rollout(
    settings: RolloutSettings,
    parameters: dict[str, Any],
    dispatcher: Dispatcher,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Deploy to every target as the strategy says; the summary, or DeployFailed carrying it."""
    started = time.monotonic()
    plan = batches(settings.targets, settings.strategy, settings.batch)
    rows = {t: TargetRun(t, i + 1) for i, batch in enumerate(plan) for t in batch}
    done: list[str] = []
    failed = 0
    stopped: str | None = None
    for number, batch in enumerate(plan, start=1):
        log(f"batch {number}/{len(plan)}: {', '.join(batch)}")
        runs = {t: dispatcher.start("deploy", t, parameters) for t in batch}
        for target, run in runs.items():
            rows[target].run = run
        for target, outcome in dispatcher.wait(runs, settings.start_timeout).items():
            row = rows[target]
            row.state, row.detail, row.seconds = outcome.state, outcome.detail, outcome.seconds
            if outcome.state == "completed":
                done.append(target)
            else:
                failed += 1
                log(f"{target}: {outcome.state} {outcome.detail}".rstrip())
        if settings.strategy == "canary" and number == 1 and not failed and settings.watch:
            problem = _watch(batch[0], settings, dispatcher, log)
            if problem:
                rows[batch[0]].state, rows[batch[0]].detail = "failed", problem
                stopped = f"canary {batch[0]} failed its watch"
                break
        if too_many_failed(failed, len(settings.targets), settings.max_fail):
            stopped = (
                f"{failed} of {len(settings.targets)} targets failed (max_fail {settings.max_fail})"
            )
            break
    if stopped:
        log(f"rollout stopped: {stopped}; rolling back {', '.join(done) or 'nothing'}")
        for row in rows.values():
            if row.state == "pending":
                row.state = "skipped"
        _roll_back(done, rows, settings, dispatcher)
    result = _headline(stopped, failed, rows)
    summary = {
        "flow": "rollout",
        "result": result,
        "strategy": settings.strategy,
        "batches": plan,
        "stopped": stopped,
        "targets": [asdict(r) for r in rows.values()],
        "seconds": round(time.monotonic() - started, 3),
    }
    if stopped or failed:
        why = stopped or f"{failed} of {len(settings.targets)} targets failed"
        raise DeployFailed(f"rollout {result}: {why}", summary)
    return summary
