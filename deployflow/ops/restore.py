"""`backup restore`: integrity first, then under the lock a safety backup of the current state,
then each part restored into a temporary place and swapped in (a database through a scratch
database and one RENAME TABLE, shared dirs through a temp dir and renames, configs through temp
files and renames), and the apps whose configs changed restarted and verified."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from deployflow.backends.archive import archived_files, unpack
from deployflow.backends.engines import engine_for
from deployflow.backends.files import atomic_write, fsync_dir
from deployflow.backends.history import current_release
from deployflow.backends.lock import deploy_lock
from deployflow.backends.sealed import is_sealed, opened
from deployflow.backends.treeops import hard_link, move, remove
from deployflow.core.backupdiff import (
    Change,
    changed_only,
    compare,
)
from deployflow.core.checksums import file_sha256, stream_sha256
from deployflow.core.context import StackContext
from deployflow.errors import BackupError
from deployflow.ops.backup_verify import check_integrity, recorded_databases
from deployflow.ops.backups import backup_dir, snapshot_backup
from deployflow.ops.putback import recover
from deployflow.ops.restore_db import drop_scratch, prepare_databases, swap_databases
from deployflow.stages import Log
from deployflow.stages.backup import (
    CERTS,
    FILES,
    MASTER,
    BackupInfo,
    BackupOptions,
    backup_key,
    master_files,
    shared_dirs,
    sqlite_files,
)
from deployflow.stages.parallel import both
from deployflow.stages.services import start_specs, stop_specs
from deployflow.stages.snapshotfile import load_snapshot
from deployflow.stages.verify import verify_checks

__all__ = ["PARTS", "check_request", "plan_lines", "restore_backup", "restore_plan"]

PARTS = ("configs", "database", "files")


def _config_targets(ctx: StackContext, path: Path) -> dict[str, Path]:
    """Each config in the backup -> the live file it restores."""
    current = current_release(ctx)
    master = master_files(ctx) | {"secrets.env": ctx.layout.secrets}
    targets = {}
    for file in sorted((path / "configs").rglob("*")) if (path / "configs").is_dir() else []:
        if not file.is_file():
            continue
        owner, _, rel = file.relative_to(path / "configs").as_posix().partition("/")
        if owner == MASTER:
            if rel in master:
                targets[f"configs/{owner}/{rel}"] = master[rel]
            elif rel.startswith(f"{CERTS}/") and "/" not in rel[len(CERTS) + 1 :]:
                # a certificate removed since
                targets[f"configs/{owner}/{rel}"] = ctx.layout.certs / rel.partition("/")[2]
        elif current and (owner == "_stack" or ctx.layout.app_dir(current, owner).is_dir()):
            app = None if owner == "_stack" else owner
            targets[f"configs/{owner}/{rel}"] = ctx.layout.config_file(current, app, rel)
    return targets


def _live_files(ctx: StackContext) -> dict[str, tuple[int, int]]:
    """The shared dirs' files as an archive names them (SQLite databases are the database
    part's)."""
    found, databases = {}, set(sqlite_files(ctx))
    for name, root in shared_dirs(ctx).items():
        for file in [root, *root.rglob("*")] if root.exists() else []:
            rel = name if file == root else f"{name}/{file.relative_to(root).as_posix()}"
            if file.is_file() and not file.is_symlink() and rel not in databases:
                st = file.stat()
                found[rel] = (st.st_size, int(st.st_mtime))
    return found


def _chosen(meta: dict[str, Any], only: str | None) -> list[str]:
    if only is not None and only not in PARTS:
        raise BackupError(f"--only {only!r}: pick one of {', '.join(PARTS)}")
    present = [p for p in PARTS if p in meta.get("include", [])]
    if only is not None and only not in present:
        raise BackupError(f"backup {meta['id']} holds no {only} (it holds {', '.join(present)})")
    return [only] if only else present


def check_request(ctx: StackContext, backup_id: str, only: str | None) -> list[str]:
    """The parts a restore of `backup_id` would touch (its id and `only` checked)."""
    from deployflow.ops.backup_verify import metadata

    return _chosen(metadata(backup_dir(ctx, backup_id)), only)


def restore_plan(ctx: StackContext, backup_id: str, only: str | None) -> list[Change]:
    """Every config, table and shared file the restore would change (nothing is changed)."""
    path = backup_dir(ctx, backup_id)
    key = backup_key(ctx)
    meta = check_integrity(path, lambda _m: None, key, deep=False)
    changes: list[Change] = []
    for part in _chosen(meta, only):
        if part == "configs":
            targets = _config_targets(ctx, path)
            backup = {}
            for rel, target in targets.items():
                with opened(path / rel, key) as handle:
                    backup[str(target)] = stream_sha256(handle)
            live = {str(t): file_sha256(t) for t in targets.values() if t.is_file()}
            changes += compare("configs", backup, live)
        elif part == "database":
            for name, recorded in recorded_databases(meta).items():
                db = ctx.database(name)
                live_stats = engine_for(db).table_stats(db)
                backup = _named(name, recorded["tables"] or {})
                changes += compare("database", backup, _named(name, live_stats))
        elif (path / FILES).is_file():
            archived = archived_files(path / FILES, key)
            changes += compare("files", dict(archived), dict(_live_files(ctx)))
    return changes


def _named(db: str, tables: dict[str, Any]) -> dict[str, object]:
    return {f"{db}.{t}": v for t, v in tables.items()}


def _swap_files(ctx: StackContext, staging: Path, log: Log) -> None:
    """Each shared dir unpacked in `staging` renamed into place (the old one removed)."""
    old = staging.with_name(staging.name.replace(".restore-", ".replaced-"))
    try:
        for name, live in shared_dirs(ctx).items():
            restored = staging / name
            if not restored.exists():
                continue
            _keep_databases(ctx, name, restored)
            if live.exists() or live.is_symlink():
                move(live, old / name)
            move(restored, live)
            fsync_dir(live.parent)
            log(f"files: {name} restored")
    finally:
        remove(old)


def _keep_databases(ctx: StackContext, name: str, restored: Path) -> None:
    """The live SQLite files of shared dir `name` carried into its restored copy: files are
    not the database (restored, or kept, by the database part)."""
    for rel in sqlite_files(ctx):
        live = ctx.layout.shared / rel
        if rel.startswith(f"{name}/") and live.is_file():
            # replacing an older backup's copy, taken by tar
            hard_link(live, restored / rel.removeprefix(f"{name}/"))


def _restore_configs(ctx: StackContext, path: Path, log: Log) -> list[str]:
    """Write back each config that differs; returns the apps whose configs changed."""
    changed_apps = set()
    key = backup_key(ctx)
    for rel, target in _config_targets(ctx, path).items():
        source = path / rel
        with opened(source, key) as handle:
            data = handle.read()
        if target.is_file() and file_sha256(target) == hashlib.sha256(data).hexdigest():
            continue
        mode = source.stat().st_mode & 0o777 if not is_sealed(source) else _mode_of(target)
        atomic_write(target, data, mode=mode)
        owner = rel.split("/")[1]
        log(f"configs: {target} restored")
        if owner not in (MASTER, "_stack"):
            changed_apps.add(owner)
    return sorted(changed_apps)


def _mode_of(target: Path) -> int:
    """A sealed config's file is 0600 whatever it held: keep the live file's mode."""
    return target.stat().st_mode & 0o777 if target.is_file() else 0o600


def _restart(ctx: StackContext, apps: list[str], log: Log) -> list[Any]:
    current = current_release(ctx)
    if not apps or not current:
        return []
    snap = load_snapshot(ctx, current)
    specs = snap.services(apps)
    stop_specs(specs, log)
    start_specs(specs, log)
    return verify_checks(ctx, snap.checks(apps), log)


def _hold_apps(ctx: StackContext, prepared: dict[str, str], log: Log) -> list[str]:
    """A database swapped as a file (SQLite) is swapped with no service using it: the live
    release's apps are stopped first (and started again, verified, after). Their names."""
    offline = [n for n in prepared if engine_for(ctx.database(n)).swap_offline]
    current = current_release(ctx)
    if not offline or not current:
        return []
    apps = list(ctx.stack.apps)
    stop_specs(load_snapshot(ctx, current).services(apps), log)
    log(f"database {', '.join(offline)}: apps stopped while its file is swapped")
    return apps


def restore_backup(ctx: StackContext, backup_id: str, only: str | None, log: Log) -> dict[str, Any]:
    """Restore `backup_id` (all it holds, or `only` one part); a safety backup comes first."""
    path = backup_dir(ctx, backup_id)
    meta = check_integrity(path, log, backup_key(ctx), deep=False)
    parts = _chosen(meta, only)
    with deploy_lock(ctx.layout.lock, "restore"):
        recover(ctx, log)
        restarted: list[str] = []
        staging = ctx.layout.shared / f".restore-{secrets.token_hex(3)}"
        prepared: dict[str, str] = {}

        def safety_backup() -> BackupInfo:
            options = BackupOptions(
                description=f"safety copy before restoring {backup_id}",
                kind="safety",
                files="files" in parts or None,
            )
            return snapshot_backup(ctx, log, options)

        def stage() -> None:
            """Everything that can fail on the backup's side, aside from what is live."""
            if "files" in parts:
                unpack(path / FILES, staging, backup_key(ctx))
            if "database" in parts:
                prepared.update(prepare_databases(ctx, path, log))

        try:
            safety, _ = both(safety_backup, stage)  # neither touches what is live
        except BaseException:
            remove(staging)
            drop_scratch(ctx, prepared)
            raise
        log(f"safety backup {safety.id} taken; `deployflow backup restore {safety.id}` undoes this")
        held: list[str] = []
        try:
            held = _hold_apps(ctx, prepared, log)
            swap_databases(ctx, prepared, log)
            prepared = {}
            if "files" in parts:
                _swap_files(ctx, staging, log)
            if "configs" in parts:
                restarted = _restore_configs(ctx, path, log)
            restarted = sorted(set(restarted) | set(held))
            health = _restart(ctx, restarted, log)
        except BaseException as exc:
            if held:  # the apps stopped for the swap run again, whatever failed
                start_specs(load_snapshot(ctx, str(current_release(ctx))).services(held), log)
            if not isinstance(exc, BackupError):
                raise
            raise BackupError(
                f"{exc}; the state before the restore is in backup {safety.id}"
            ) from None
        finally:
            remove(staging)
            drop_scratch(ctx, prepared)
    return {
        "id": backup_id,
        "parts": parts,
        "safety_backup": safety.id,
        "restarted": restarted,
        "health": [str(h) for h in health],
    }


def plan_lines(changes: list[Change]) -> list[str]:
    real = changed_only(changes)
    return [c.line() for c in real] or ["nothing would change"]
