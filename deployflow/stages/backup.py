"""Back up before anything changes: live configs, the live release id and, when the stack asks
for it, a dump of each database (taken before migrations run)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.database import dump
from deployflow.backends.files import atomic_write, fsync_dir
from deployflow.core.checksums import file_sha256
from deployflow.core.context import StackContext
from deployflow.core.retention import backups_to_prune
from deployflow.core.snapshot import Snapshot
from deployflow.stages import Log

__all__ = ["BackupInfo", "create_backup", "prune_backups"]


@dataclass(frozen=True)
class BackupInfo:
    id: str
    path: str
    previous_release: str | None
    files: int
    databases: int = 0


def _copy_configs(ctx: StackContext, live: Snapshot, dest: Path) -> list[Path]:
    """The live release's rendered configs, by the snapshot's list (modes kept)."""
    lay = ctx.layout
    wanted = [(None, d) for d in live.stack_configs]
    wanted += [(app, d) for app, state in live.apps.items() for d in state.configs]
    copied = []
    for app, rel in wanted:
        src = lay.config_file(live.release, app, rel)
        if src.is_file():
            target = dest / (app or "_stack") / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            copied.append(target)
    return copied


def create_backup(ctx: StackContext, backup_id: str, live: Snapshot | None, log: Log) -> BackupInfo:
    """Write backups/<id>/ (metadata.json, configs/, database/, checksums.sha256) in a temp
    dir renamed when complete; `backup.include` decides what goes in."""
    lay = ctx.layout
    include = ctx.stack.backup.include
    final = lay.backup(backup_id)
    tmp = lay.backups / f".{backup_id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, mode=0o700)
    try:
        copied = _copy_configs(ctx, live, tmp / "configs") if live and "configs" in include else []
        dumps = []
        if "database" in include:
            for name in ctx.stack.databases:
                path = tmp / "database" / f"{name}.sql.gz"
                size = dump(ctx.database(name), path)
                log(f"backup {backup_id}: database {name} dumped ({size} bytes compressed)")
                dumps.append(path)
        files = copied + dumps
        sums = "".join(f"{file_sha256(p)}  {p.relative_to(tmp).as_posix()}\n" for p in files)
        atomic_write(tmp / "checksums.sha256", sums)
        metadata = {
            "id": backup_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "project": ctx.stack.project,
            "environment": ctx.stack.environment,
            "include": list(include),
            "previous_release": live.release if live and "release" in include else None,
            "versions": {a: s.version for a, s in live.apps.items()}
            if live and "release" in include
            else {},
            "databases": [p.name.removesuffix(".sql.gz") for p in dumps],
            "files": len(files),
        }
        atomic_write(tmp / "metadata.json", json.dumps(metadata, indent=2) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(lay.backups)
    previous = live.release if live else None
    log(f"backup {backup_id}: {len(files)} files, live release {previous or 'none'}")
    return BackupInfo(backup_id, str(final), previous, len(copied), len(dumps))


def prune_backups(ctx: StackContext, log: Log) -> list[str]:
    """Apply `backup.keep_minimum` / `backup.older_than` to backups/ (unreadable ones are kept)."""
    created: dict[str, datetime] = {}
    root = ctx.layout.backups
    for meta in root.glob("*/metadata.json") if root.is_dir() else []:
        try:
            created[meta.parent.name] = datetime.fromisoformat(
                json.loads(meta.read_text())["created"]
            )
        except (ValueError, KeyError):
            continue
    policy = ctx.stack.backup
    doomed = backups_to_prune(created, policy.keep_minimum, policy.older_than, datetime.now(UTC))
    for bid in doomed:
        shutil.rmtree(root / bid, ignore_errors=True)
    if doomed:
        log(f"removed {len(doomed)} backups older than {policy.older_than}: {', '.join(doomed)}")
    return doomed
