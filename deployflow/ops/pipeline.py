"""The deploy pipeline as data: one ordered list of stages drives the deploy, `plan` and
`--dry-run`, the report and the Prefect run graph. A stage says whether it touches what is
live (nothing live is touched before `stop`), when it is skipped, what it would do, and does it.
Adding a stage is one function pair and one line in `STAGES`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deployflow.backends.services import get_backend
from deployflow.core.servicespec import service_spec
from deployflow.ops.deployrun import DeployRun
from deployflow.ops.releasework import no_online_release, plan_release_online, release_online
from deployflow.ops.stagework import (
    after_start,
    assemble,
    backup,
    build,
    drain,
    migrate,
    plan_assemble,
    plan_backup,
    plan_build,
    plan_drain,
    plan_hooks,
    plan_migrate,
    plan_preflight,
    plan_tests,
    plan_verify,
    preflight,
    start,
    stop,
    switch,
    test,
    verify,
)

__all__ = ["STAGES", "Stage", "plan_lines"]


@dataclass(frozen=True)
class Stage:
    name: str
    execute: Callable[[DeployRun], str]
    plan: Callable[[DeployRun], list[str]]
    live: bool = False  # touches what is live: after a failure, the previous release goes back
    skip: Callable[[DeployRun], str | None] = lambda _run: None
    task: bool = True  # False: the stage makes its own tasks (one build per app)
    data: bool = False  # changes data: after a failure, the pre-deploy dump goes back too


def _no_backup(run: DeployRun) -> str | None:
    return "--skip-backup" if run.options.skip_backup else None


def _no_tests(run: DeployRun) -> str | None:
    if run.options.skip_tests:
        return "--skip-tests"
    if not any(run.ctx.stack.apps[a].tests for a in run.changed):
        return "no changed app declares tests"
    return None


def _no_slots(run: DeployRun) -> str | None:
    """Skipped unless a blue-green slot lost its traffic (when planning: could lose it)."""
    if run.retiring or (run.dry_run and plan_drain(run)):
        return None
    return "no blue-green slot to drain"


def _service_lines(run: DeployRun, verb: str) -> list[str]:
    lines = []
    for app in run.changed or run.apps:
        for name in run.ctx.stack.apps[app].services:
            spec = service_spec(run.ctx, name, run.release_id)
            backend = get_backend(spec.backend)
            if spec.reuse_port and verb == "stop":
                lines.append(f"{name}: keeps running until its successor listens (reuse_port)")
                continue
            if spec.slots:
                lines.append(
                    f"{name}: keeps serving on its live slot"
                    if verb == "stop"
                    else f"{name}: start on the idle slot, probe {spec.check}, switch the proxy"
                )
                continue
            argvs = backend.stop_argv(spec) if verb == "stop" else backend.start_argv(spec)
            lines += [f"{name}: {' '.join(a)}" for a in argvs]
    return lines


STAGES: list[Stage] = [
    Stage("preflight", preflight, plan_preflight),
    Stage("backup", backup, plan_backup, skip=_no_backup),
    Stage("build", build, plan_build, task=False),
    Stage("assemble", assemble, plan_assemble),
    Stage("test", test, plan_tests, skip=_no_tests),
    Stage("release", release_online, plan_release_online, skip=no_online_release),
    Stage("stop", stop, lambda run: _service_lines(run, "stop"), live=True),
    Stage("migrate", migrate, plan_migrate, live=True, data=True),
    Stage("switch", switch, lambda run: [f"current -> releases/{run.release_id}"], live=True),
    Stage("start", start, lambda run: _service_lines(run, "start"), live=True),
    Stage("verify", verify, plan_verify, live=True),
    Stage("after-start", after_start, lambda run: plan_hooks(run, "after_start"), live=True),
    Stage("drain", drain, plan_drain, live=True, skip=_no_slots),
]


def plan_lines(run: DeployRun) -> list[tuple[str, list[str]]]:
    """Every stage with what it would do (nothing runs, nothing is written)."""
    out = []
    for stage in STAGES:
        reason = stage.skip(run)
        out.append((stage.name, [f"skipped ({reason})"] if reason else stage.plan(run)))
    return out
