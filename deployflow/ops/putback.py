"""Put a good release back from its own snapshot, and recover after an interrupted run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deployflow.backends.failpoints import failpoint
from deployflow.backends.files import fsync_dir
from deployflow.backends.history import current_release, load_history, record, went_live_after
from deployflow.backends.lock import deploy_lock
from deployflow.backends.treeops import remove
from deployflow.core.context import StackContext
from deployflow.core.history import IN_PROGRESS
from deployflow.core.servicespec import ServiceSpec
from deployflow.ops.journal import Journal, clean_leftovers, read_journal
from deployflow.ops.restore_db import restore_databases
from deployflow.probes import ProbeResult
from deployflow.stages import Log
from deployflow.stages.assemble import install_shared_configs
from deployflow.stages.release import switch_current
from deployflow.stages.services import start_specs, stop_specs
from deployflow.stages.slots import ensure_proxy
from deployflow.stages.snapshotfile import load_snapshot
from deployflow.stages.verify import verify_checks

__all__ = ["PUT_BACK", "Recovery", "put_back", "recover", "recover_root"]


def _specs_of(ctx: StackContext, release: str | None, apps: list[str]) -> list[ServiceSpec]:
    if not release or not ctx.layout.snapshot(release).is_file():
        return []
    return load_snapshot(ctx, release).services(apps)


@dataclass
class _PutBack:
    """What the steps of one put-back share."""

    ctx: StackContext
    failed: str | None
    target: str | None
    apps: list[str]
    log: Log
    data: Path | None
    restored: list[str] | None
    kept: list[str] = field(default_factory=list)
    specs: dict[str, ServiceSpec] = field(default_factory=dict)
    health: list[ProbeResult] = field(default_factory=list)

    @property
    def moved(self) -> list[str]:
        return [a for a in self.apps if a not in self.kept]


def _stop(pb: _PutBack) -> None:
    pb.kept = [] if pb.data is not None else _same_in_both(pb.ctx, pb.failed, pb.target, pb.apps)
    if pb.kept:
        pb.log(f"{', '.join(pb.kept)}: the same in both releases; its services keep running")
    pb.specs = {s.name: s for s in _specs_of(pb.ctx, pb.failed, pb.moved)}
    pb.specs.update({s.name: s for s in _specs_of(pb.ctx, pb.target, pb.moved)})
    # blue-green services switch slots without stopping, unless data is restored under them
    downtime = pb.data is not None or pb.target is None
    stop_specs([s for s in pb.specs.values() if downtime or not s.slots], pb.log)


def _data(pb: _PutBack) -> None:
    if pb.data is not None:
        names = restore_databases(pb.ctx, pb.data, pb.log, only_changed=True)
        if pb.restored is not None:
            pb.restored.extend(names)


def _switch(pb: _PutBack) -> None:
    if pb.target is None:
        remove(pb.ctx.layout.current)
        fsync_dir(pb.ctx.root)
        pb.log("no earlier release to return to; app services left stopped")
    elif current_release(pb.ctx) != pb.target:
        switch_current(pb.ctx, pb.target, pb.log)
        install_shared_configs(pb.ctx, pb.target, pb.log)  # its own configs in shared dirs


def _start(pb: _PutBack) -> None:
    if pb.target is None:
        return
    ensure_proxy(pb.ctx, pb.log)
    snap = load_snapshot(pb.ctx, pb.target)
    # a kept service is started only if it is not running (a slot pair stays as it is)
    kept = [s for s in snap.services(pb.kept) if not s.slots]
    start_specs(snap.services(pb.moved) + kept, pb.log)


def _verify(pb: _PutBack) -> None:
    if pb.target is not None:
        pb.health = verify_checks(pb.ctx, load_snapshot(pb.ctx, pb.target).checks(pb.apps), pb.log)


# the put-back as data, like the deploy's STAGES: each step is a journal phase and a
# failpoint (`put-back-<name>`), so a kill or fault at any of them is recovered and tested
PUT_BACK: list[tuple[str, Callable[[_PutBack], None]]] = [
    ("stop", _stop),
    ("data", _data),
    ("switch", _switch),
    ("start", _start),
    ("verify", _verify),
]


def put_back(
    ctx: StackContext,
    failed: str | None,
    target: str | None,
    apps: list[str],
    log: Log,
    data: Path | None = None,
    restored: list[str] | None = None,
    journal: Journal | None = None,
) -> list[ProbeResult]:
    """Stop `apps`' services (as `failed` and `target` define them), point `current` at
    `target` and start and verify its services, all from `target`'s snapshot. With `data` (the
    backup taken before `failed` changed data), each database that no longer matches it is
    restored while the services are stopped; their names are added to `restored`. With no
    target (a first deploy failed) the apps' services stay stopped and `current` goes away.
    Each step is entered in `journal` (when given) before it runs."""
    failpoint("rollback")
    pb = _PutBack(ctx, failed, target, apps, log, data, restored)
    for name, step in PUT_BACK:
        if journal is not None:
            journal.enter(ctx.layout, f"put back: {name}", True)
        failpoint(f"put-back-{name}")
        step(pb)
    return pb.health


def _same_in_both(
    ctx: StackContext, failed: str | None, target: str | None, apps: list[str]
) -> list[str]:
    """The apps that run from the same directory with the same build, configs and services in
    both releases: what `failed` did not change, so putting `target` back leaves them be."""
    if not failed or not target:
        return []
    lay = ctx.layout
    if not lay.snapshot(failed).is_file() or not lay.snapshot(target).is_file():
        return []
    before, after = load_snapshot(ctx, failed).apps, load_snapshot(ctx, target).apps
    return [a for a in apps if a in before and a in after and before[a] == after[a]]


@dataclass
class Recovery:
    interrupted: str | None = None
    restored: str | None = None
    health: list[ProbeResult] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)  # restored from the pre-deploy backup


def recover(ctx: StackContext, log: Log) -> Recovery:
    """Call with the lock held. After a killed run: put its previous release back (when it
    had touched what is live), mark its release interrupted, remove its temp files."""
    lay = ctx.layout
    result = Recovery(cleaned=clean_leftovers(lay))
    journal = read_journal(lay)
    if journal is not None and went_live_after(ctx, journal.release, journal.history_at):
        log(f"the interrupted {journal.op} of {journal.release} had finished (recorded live); kept")
    elif journal is not None and journal.touched_live:
        log(
            f"an interrupted {journal.op} of {journal.release} was found (phase {journal.phase}); "
            f"putting {journal.previous or 'nothing'} back"
        )
        data = ctx.layout.backup(journal.data_backup) if journal.data_backup else None
        result.health = put_back(
            ctx,
            journal.release,
            journal.previous,
            journal.apps,
            log,
            data,
            result.databases,
            journal,
        )
        result.restored = journal.previous
    # a deploy that died leaves its release in progress (a rollback's target stays good)
    for record_ in load_history(ctx):
        if record_.status in IN_PROGRESS:
            record(ctx, record_.id, "interrupted", "the run deploying it died; recovered")
            result.interrupted = record_.id
    Journal.clear(lay)
    return result


def recover_root(ctx: StackContext, log: Log) -> Recovery:
    """`deployflow recover` and the recover flow: take the lock, then recover."""
    with deploy_lock(ctx.layout.lock, "recover"):
        return recover(ctx, log)
