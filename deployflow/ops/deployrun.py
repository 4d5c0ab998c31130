"""What one deploy knows as it goes: its options, the release it makes, the live release and
snapshot it may return to, and which apps' services it restarts.

The fields set at the start (`ctx` to `commits`) are the deploy's inputs. The others are what
stages produce. Each pipeline stage declares which of those it reads and writes; while a stage
runs (`DeployRun.stage`), touching a produced field it did not declare is a `PipelineError`, so
a skip rule cannot come to depend on state no earlier stage declared it makes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployflow.core.configs import RenderedConfig
from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec
from deployflow.core.snapshot import Snapshot
from deployflow.errors import PipelineError
from deployflow.ops.progress import Progress, publish
from deployflow.ops.runner import Runner
from deployflow.probes import ProbeResult

__all__ = ["PRODUCED", "DeployOptions", "DeployRun", "StageIO"]

# what stages produce (the rest of `DeployRun` is given when the deploy starts)
PRODUCED = frozenset(
    {
        "keys",
        "builds",
        "configs",
        "snapshot",
        "changed",
        "verified",
        "retiring",
        "schemas_before",
        "versions_before",
        "online_ran",
    }
)


@dataclass(frozen=True)
class StageIO:
    """The produced fields a stage reads and those it writes (it may read those too)."""

    name: str
    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (self.reads | self.writes) - PRODUCED
        if unknown:
            raise PipelineError(f"stage {self.name}: no such run field {sorted(unknown)}")


@dataclass(frozen=True)
class DeployOptions:
    apps: tuple[str, ...] = ()  # empty: every app
    skip_backup: bool = False
    skip_build: bool = False
    skip_tests: bool = False
    force: bool = False
    sequential: bool = False
    auto_rollback: bool = True
    purpose: str = "deploy"  # deploy | config (a config-only release)
    revision: str | None = None  # the commit a CI webhook deploys (exactly, for git sources)
    ref: str | None = None  # `--ref`: a branch, tag or commit for the git sources


@dataclass
class DeployRun:
    ctx: StackContext
    options: DeployOptions
    apps: list[str]  # the apps this deploy builds (the others are carried over)
    release_id: str
    live: str | None
    live_snapshot: Snapshot | None
    runner: Runner
    dry_run: bool = False
    keys: dict[str, str] = field(default_factory=dict)
    builds: dict[str, Path] = field(default_factory=dict)
    configs: list[RenderedConfig] = field(default_factory=list)
    snapshot: Snapshot | None = None
    changed: list[str] = field(default_factory=list)  # apps whose services restart
    verified: list[ProbeResult] = field(default_factory=list)
    retiring: list[ServiceSpec] = field(default_factory=list)  # blue-green slots traffic left
    schemas_before: dict[str, Any] | None = None  # read when migrations start with no dump
    versions_before: dict[str, str | None] | None = None  # the apps' schema versions, likewise
    online_ran: bool = False  # release commands ran while the old release served
    commits: dict[str, Any] = field(default_factory=dict)  # git apps: the Commit deployed
    _io: StageIO | None = field(default=None, init=False, repr=False, compare=False)

    def __getattribute__(self, name: str) -> Any:
        if name in PRODUCED:
            io = object.__getattribute__(self, "_io")
            if io is not None and name not in io.reads and name not in io.writes:
                raise PipelineError(f"stage {io.name} reads run.{name} but does not declare it")
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in PRODUCED:
            io = self.__dict__.get("_io")
            if io is not None and name not in io.writes:
                raise PipelineError(f"stage {io.name} writes run.{name} but does not declare it")
        object.__setattr__(self, name, value)

    @contextmanager
    def stage(self, io: StageIO) -> Iterator[DeployRun]:
        """While a stage (its skip rule, plan or work) runs: only its declared fields."""
        outer = self.__dict__.get("_io")
        object.__setattr__(self, "_io", io)
        try:
            yield self
        finally:
            object.__setattr__(self, "_io", outer)

    def say(self, message: str) -> None:
        self.runner.log(message)
        publish(Progress("line", text=self.ctx.redact(message)))
