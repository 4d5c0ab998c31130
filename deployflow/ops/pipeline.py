"""The deploy pipeline as data: one ordered list of stages drives the deploy, `plan` and
`--dry-run`, the report and the Prefect run graph. A stage says whether it touches what is
live (nothing live is touched before `stop`), when it is skipped, what it would do, and does it.
Adding a stage is one function pair and one line in `STAGES`.

Each stage names the run fields it reads and writes beyond the deploy's inputs (see
`DeployRun`); the deploy, `plan` and `--dry-run` hold it to that, and every field a stage
reads is written by itself or a stage before it (a unit test checks the order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from deployflow.backends.services import get_backend
from deployflow.core.servicespec import service_spec
from deployflow.ops.deployrun import DeployRun, StageIO
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

__all__ = ["STAGES", "Stage", "plan_lines", "skip_reason"]


@dataclass(frozen=True)
class Stage:
    name: str
    execute: Callable[[DeployRun], str]
    plan: Callable[[DeployRun], list[str]]
    live: bool = False  # touches what is live: after a failure, the previous release goes back
    skip: Callable[[DeployRun], str | None] = lambda _run: None
    task: bool = True  # False: the stage makes its own tasks (one build per app)
    data: bool = False  # changes data: after a failure, the pre-deploy dump goes back too
    enters: str | None = None  # the release's lifecycle state from this stage on
    reads: str = ""  # the produced run fields its skip rule, plan and work read
    writes: str = ""  # and those they write
    io: StageIO = field(init=False)

    def __post_init__(self) -> None:
        io = StageIO(self.name, frozenset(self.reads.split()), frozenset(self.writes.split()))
        object.__setattr__(self, "io", io)


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


_SNAPSHOT = "configs snapshot changed"


def _plan_stop(run: DeployRun) -> list[str]:
    return _service_lines(run, "stop")


def _plan_start(run: DeployRun) -> list[str]:
    return _service_lines(run, "start")


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


_RELEASE_DATA = "versions_before schemas_before online_ran"

STAGES: list[Stage] = [
    Stage("preflight", preflight, plan_preflight),
    Stage("backup", backup, plan_backup, skip=_no_backup),
    Stage("build", build, plan_build, task=False, enters="building", writes="keys builds"),
    Stage("assemble", assemble, plan_assemble, reads="keys builds", writes=_SNAPSHOT),
    Stage("test", test, plan_tests, skip=_no_tests, reads="changed"),
    Stage(
        "release",
        release_online,
        plan_release_online,
        skip=no_online_release,
        reads="changed",
        writes=_RELEASE_DATA,
    ),
    Stage("stop", stop, _plan_stop, live=True, enters="deploying", reads="snapshot changed"),
    Stage("migrate", migrate, plan_migrate, live=True, data=True, reads="changed"),
    Stage("switch", switch, lambda run: [f"current -> releases/{run.release_id}"], live=True),
    Stage("start", start, _plan_start, live=True, reads="snapshot changed", writes="retiring"),
    Stage("verify", verify, plan_verify, live=True, reads="snapshot changed", writes="verified"),
    Stage(
        "after-start",
        after_start,
        lambda run: plan_hooks(run, "after_start"),
        live=True,
        reads="changed",
    ),
    Stage("drain", drain, plan_drain, live=True, skip=_no_slots, reads="snapshot changed retiring"),
]


def skip_reason(stage: Stage, run: DeployRun) -> str | None:
    with run.stage(stage.io):
        return stage.skip(run)


def plan_lines(run: DeployRun) -> list[tuple[str, list[str]]]:
    """Every stage with what it would do (nothing runs, nothing is written)."""
    out = []
    for stage in STAGES:
        reason = skip_reason(stage, run)
        if reason:
            out.append((stage.name, [f"skipped ({reason})"]))
            continue
        with run.stage(stage.io):
            out.append((stage.name, stage.plan(run)))
    return out
