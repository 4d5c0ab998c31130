"""The backup operations a user runs: create (under the root's lock), list, cleanup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.history import current_release
from deployflow.backends.lock import deploy_lock
from deployflow.core.context import StackContext
from deployflow.core.layout import new_release_id
from deployflow.errors import BackupError
from deployflow.stages import Log
from deployflow.stages.backup import BackupInfo, BackupOptions, create_backup, prune_backups
from deployflow.stages.snapshotfile import load_snapshot

__all__ = [
    "VERIFIED",
    "backup_dir",
    "cleanup_backups",
    "list_backups",
    "new_backup",
    "now_iso",
    "read_backup",
    "snapshot_backup",
]

VERIFIED = "verified.json"  # written by verify beside a backup (not part of its checksums)


MAX_ID = 128  # ids are timestamps and short names; a longer one names no backup


def backup_dir(ctx: StackContext, backup_id: str) -> Path:
    path = ctx.layout.backup(backup_id)
    plausible = 0 < len(backup_id) <= MAX_ID and "/" not in backup_id and backup_id[0] != "."
    if not plausible or not path.is_dir():
        shown = backup_id if len(backup_id) <= 40 else backup_id[:40] + "..."
        raise BackupError(f"no backup {shown!r}; see `deployflow backup list`")
    return path


def snapshot_backup(ctx: StackContext, log: Log, options: BackupOptions) -> BackupInfo:
    """Back up the live state (call with the lock held)."""
    existing = (
        {p.name for p in ctx.layout.backups.iterdir()} if ctx.layout.backups.is_dir() else set()
    )
    backup_id = new_release_id(existing=frozenset(existing))
    live = current_release(ctx)
    snapshot = load_snapshot(ctx, live) if live and ctx.layout.snapshot(live).is_file() else None
    return create_backup(ctx, backup_id, snapshot, log, options)


def new_backup(ctx: StackContext, log: Log, options: BackupOptions) -> dict[str, Any]:
    with deploy_lock(ctx.layout.lock, "backup"):
        info = snapshot_backup(ctx, log, options)
    return read_backup(ctx, info.id)


def _verified(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / VERIFIED).read_text())
    except (OSError, ValueError):
        return {}


def read_backup(ctx: StackContext, backup_id: str) -> dict[str, Any]:
    path = backup_dir(ctx, backup_id)
    try:
        meta = json.loads((path / "metadata.json").read_text())
    except (OSError, ValueError):
        return {"id": backup_id, "status": "unreadable", "path": str(path)}
    verified = _verified(path)
    return {
        "id": backup_id,
        "status": "complete",
        "created": meta.get("created"),
        "kind": meta.get("kind", "deploy"),
        "description": meta.get("description", ""),
        "environment": meta.get("environment"),
        "release": meta.get("previous_release"),
        "size": meta.get("size", 0),
        "include": meta.get("include", []),
        "databases": sorted(meta.get("databases") or []),
        "warnings": meta.get("warnings") or [],
        "verified": verified.get("at"),
        "verified_ok": verified.get("ok"),
        "path": str(path),
    }


def _failed(ctx: StackContext) -> list[dict[str, Any]]:
    journal = ctx.layout.state / "backups.jsonl"
    rows = []
    for line in journal.read_text().splitlines() if journal.is_file() else []:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("status") == "failed" and not ctx.layout.backup(row.get("id", "")).is_dir():
            rows.append({**row, "size": 0, "include": [], "release": None, "verified": None})
    return rows


def list_backups(ctx: StackContext, limit: int = 20) -> list[dict[str, Any]]:
    """Newest first: every backup on disk, and the ones that failed (never listed as good)."""
    root = ctx.layout.backups
    rows = [
        read_backup(ctx, p.name)
        for p in (root.iterdir() if root.is_dir() else [])
        if p.is_dir() and not p.name.startswith(".")
    ]
    rows += _failed(ctx)
    rows.sort(key=lambda r: (r.get("created") or "", r["id"]), reverse=True)
    return rows[:limit]


def cleanup_backups(
    ctx: StackContext, log: Log, older_than: str | None, keep_minimum: int | None, dry_run: bool
) -> list[str]:
    if dry_run:
        return prune_backups(ctx, log, keep_minimum, older_than, dry_run=True)
    with deploy_lock(ctx.layout.lock, "backup cleanup"):
        return prune_backups(ctx, log, keep_minimum, older_than)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
