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
from deployflow.backends.files import atomic_write, fsync_dir, read_link
from deployflow.core.checksums import file_sha256
from deployflow.core.context import StackContext
from deployflow.core.layout import Layout
from deployflow.core.retention import backups_to_prune
from deployflow.stages import Log

__all__ = ["BackupInfo", "create_backup", "prune_backups", "restore_configs"]


@dataclass(frozen=True)
class BackupInfo:
    id: str
    path: str
    previous_release: str | None
    files: int
    databases: int = 0


def _copy_configs(src: Path, dest: Path) -> list[Path]:
    copied = []
    if not src.is_dir():
        return copied
    for path in sorted(src.rglob("*")):
        if path.is_file() and not path.is_symlink():
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied.append(target)
    return copied


def create_backup(ctx: StackContext, backup_id: str, log: Log) -> BackupInfo:
    """Write backups/<id>/ (metadata.json, configs/, checksums.sha256) via a temp dir + rename."""
    lay = ctx.layout
    final = lay.backup(backup_id)
    tmp = lay.backups / f".{backup_id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    previous = read_link(lay.current)
    copied = _copy_configs(lay.shared / "configs", tmp / "configs")
    dumps = []
    if "database" in ctx.stack.backup.include:
        for name in ctx.stack.databases:
            path = tmp / "database" / f"{name}.sql.gz"
            size = dump(ctx.database(name), path)
            log(f"backup {backup_id}: database {name} dumped ({size} bytes compressed)")
            dumps.append(path)
    copied += dumps
    sums = "".join(f"{file_sha256(p)}  {p.relative_to(tmp).as_posix()}\n" for p in copied)
    atomic_write(tmp / "checksums.sha256", sums)
    metadata = {
        "id": backup_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": ctx.stack.project,
        "environment": ctx.stack.environment,
        "previous_release": previous,
        "include": list(ctx.stack.backup.include),
        "databases": [p.name.removesuffix(".sql.gz") for p in dumps],
        "files": len(copied),
    }
    atomic_write(tmp / "metadata.json", json.dumps(metadata, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    fsync_dir(lay.backups)
    log(f"backup {backup_id}: {len(copied)} files, live release {previous or 'none'}")
    return BackupInfo(backup_id, str(final), previous, len(copied) - len(dumps), len(dumps))


def restore_configs(snapshot: Path, lay: Layout, log: Log) -> int:
    """Make shared/configs exactly the snapshot's files (atomic per file, modes kept)."""
    live = lay.shared / "configs"
    wanted = (
        {p.relative_to(snapshot) for p in snapshot.rglob("*") if p.is_file()}
        if snapshot.is_dir()
        else set()
    )
    for rel in sorted(wanted):
        src = snapshot / rel
        atomic_write(live / rel, src.read_bytes(), src.stat().st_mode & 0o777)
    if live.is_dir():
        for path in live.rglob("*"):
            if path.is_file() and path.relative_to(live) not in wanted:
                path.unlink()
    log(f"restored {len(wanted)} config files from {snapshot}")
    return len(wanted)


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
