"""Put a good release back from its own snapshot, and recover after an interrupted run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deployflow.backends.failpoints import failpoint
from deployflow.backends.files import fsync_dir
from deployflow.backends.history import current_release, load_history, record, went_live_after
from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec
from deployflow.ops.journal import Journal, clean_leftovers, read_journal
from deployflow.ops.restore_db import restore_databases
from deployflow.probes import ProbeResult
from deployflow.stages import Log
from deployflow.stages.assemble import install_shared_configs, load_snapshot
from deployflow.stages.release import switch_current
from deployflow.stages.services import start_specs, stop_specs
from deployflow.stages.slots import ensure_proxy
from deployflow.stages.verify import verify_checks

__all__ = ["Recovery", "put_back", "recover", "recover_root"]


def _specs_of(ctx: StackContext, release: str | None, apps: list[str]) -> list[ServiceSpec]:
    if not release or not ctx.layout.snapshot(release).is_file():
        return []
    return load_snapshot(ctx, release).services(apps)


def put_back(
    ctx: StackContext,
    failed: str | None,
    target: str | None,
    apps: list[str],
    log: Log,
    data: Path | None = None,
    restored: list[str] | None = None,
) -> list[ProbeResult]:
    """Stop `apps`' services (as `failed` and `target` define them), point `current` at
    `target` and start and verify its services, all from `target`'s snapshot. With `data` (the
    backup taken before `failed` changed data), each database that no longer matches it is
    restored while the services are stopped; their names are added to `restored`. With no
    target (a first deploy failed) the apps' services stay stopped and `current` goes away."""
    failpoint("rollback")
    kept = [] if data is not None else _same_in_both(ctx, failed, target, apps)
    if kept:
        log(f"{', '.join(kept)}: the same in both releases; its services keep running")
    moved = [a for a in apps if a not in kept]
    specs = {s.name: s for s in _specs_of(ctx, failed, moved)}
    specs.update({s.name: s for s in _specs_of(ctx, target, moved)})
    # blue-green services switch slots without stopping, unless data is restored under them
    downtime = data is not None or target is None
    stop_specs([s for s in specs.values() if downtime or not s.slots], log)
    if data is not None:
        names = restore_databases(ctx, data, log, only_changed=True)
        if restored is not None:
            restored.extend(names)
    if target is None:
        ctx.layout.current.unlink(missing_ok=True)
        fsync_dir(ctx.root)
        log("no earlier release to return to; app services left stopped")
        return []
    if current_release(ctx) != target:
        switch_current(ctx, target, log)
        install_shared_configs(ctx, target, log)  # its own configs in shared dirs, back
    ensure_proxy(ctx, log)
    snap = load_snapshot(ctx, target)
    # a kept service is started only if it is not running (a slot pair stays as it is)
    start_specs(snap.services(moved) + [s for s in snap.services(kept) if not s.slots], log)
    return verify_checks(ctx, snap.checks(apps), log)


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
            ctx, journal.release, journal.previous, journal.apps, log, data, result.databases
        )
        result.restored = journal.previous
    # a deploy that died leaves its release "building" (a rollback's target stays good)
    for record_ in load_history(ctx):
        if record_.status == "building":
            record(ctx, record_.id, "interrupted", "the run deploying it died; recovered")
            result.interrupted = record_.id
    Journal.clear(lay)
    return result


def recover_root(ctx: StackContext, log: Log) -> Recovery:
    """`deployflow recover` and the recover flow: take the lock, then recover."""
    with deploy_lock(ctx.layout.lock, "recover"):
        return recover(ctx, log)
