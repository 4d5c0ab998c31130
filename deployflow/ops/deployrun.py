"""What one deploy knows as it goes: its options, the release it makes, the live release and
snapshot it may return to, and which apps' services it restarts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployflow.core.configs import RenderedConfig
from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec
from deployflow.core.snapshot import Snapshot
from deployflow.ops.progress import Progress, publish
from deployflow.ops.runner import Runner
from deployflow.probes import ProbeResult

__all__ = ["DeployOptions", "DeployRun"]


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

    def say(self, message: str) -> None:
        self.runner.log(message)
        publish(Progress("line", text=self.ctx.redact(message)))
