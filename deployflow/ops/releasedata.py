"""What each release knows about its data: the backup taken before it changed anything and the
schema its migrations left (`.deployflow/schemas/<release>.json`), and the rollback guard and
`--with-database` choice built on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deployflow.backends.engines import engine_for
from deployflow.backends.files import atomic_write
from deployflow.backends.history import load_history
from deployflow.core.context import StackContext
from deployflow.core.history import GOOD
from deployflow.core.schemadiff import backup_for_rollback, schema_changes
from deployflow.errors import ReleaseError

__all__ = ["data_for_rollback", "read_release_data", "record_release_data"]


def _path(ctx: StackContext, release_id: str) -> Path:
    return ctx.layout.state / "schemas" / f"{release_id}.json"


def _fingerprints(ctx: StackContext) -> dict[str, Any]:
    found = {}
    for name in ctx.stack.databases:
        db = ctx.database(name)
        found[name] = engine_for(db).schema_fingerprint(db)
    return found


def record_release_data(ctx: StackContext, release_id: str) -> None:
    """After migrations: the release's schema and the backup that predates it."""
    if not ctx.stack.databases:
        return
    backup = ctx.layout.backup(release_id)
    data = {
        "backup": release_id if (backup / "database").is_dir() else None,
        "schemas": _fingerprints(ctx),
    }
    atomic_write(_path(ctx, release_id), json.dumps(data) + "\n")


def read_release_data(ctx: StackContext, release_id: str) -> dict[str, Any] | None:
    try:
        return json.loads(_path(ctx, release_id).read_text())
    except (OSError, ValueError):
        return None


def data_for_rollback(
    ctx: StackContext, current: str | None, target: str, with_database: bool, force: bool
) -> tuple[str | None, str]:
    """(backup to restore or None, a line saying what happens to the data). Refuses to roll
    code back across a schema change without --with-database (unless --force)."""
    if not ctx.stack.databases:
        return None, "no databases"
    mine = read_release_data(ctx, target)
    if with_database:
        order = [r.id for r in load_history(ctx) if r.status in GOOD or r.id == current]
        backups = {r: (read_release_data(ctx, r) or {}).get("backup") for r in order}
        backup = backup_for_rollback(order, target, current, backups)
        if backup is None or not ctx.layout.backup(backup).is_dir():
            raise ReleaseError(
                f"no database backup taken after release {target} is on disk; roll back "
                "without --with-database, or restore one with `deployflow backup restore`"
            )
        return backup, f"databases restored from backup {backup} (taken before the next release)"
    if mine is None:
        return None, f"data kept as it is (release {target} recorded no schema to compare)"
    live = _fingerprints(ctx)
    changed = schema_changes(mine["schemas"], live)
    if changed and not force:
        raise ReleaseError(
            f"release {target} ran on another schema (tables that differ: {', '.join(changed)}); "
            "roll back with --with-database to restore its data too, or --force to keep it"
        )
    return None, "data kept as it is" + (" (schema differs: --force)" if changed else "")
