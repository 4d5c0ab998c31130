"""What each release knows about its data: the backup taken before it changed anything and the
schema its migrations left (`.deployflow/schemas/<release>.json`), and the rollback guard and
`--with-database` choice built on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployflow.backends.engines import engine_for
from deployflow.backends.files import atomic_write
from deployflow.backends.history import load_history
from deployflow.core.context import StackContext
from deployflow.core.history import GOOD
from deployflow.core.schemadiff import backup_for_rollback, schema_changes
from deployflow.errors import DeployflowError, ReleaseError
from deployflow.stages.releasephase import read_version, run_down

__all__ = [
    "data_after_failure",
    "data_for_rollback",
    "live_fingerprints",
    "read_release_data",
    "record_release_data",
    "take_versions_back",
    "versions_to_undo",
]


def _path(ctx: StackContext, release_id: str) -> Path:
    return ctx.layout.state / "schemas" / f"{release_id}.json"


def live_fingerprints(ctx: StackContext) -> dict[str, Any]:
    """Each database's schema fingerprint as it is now."""
    found = {}
    for name in ctx.stack.databases:
        db = ctx.database(name)
        found[name] = engine_for(db).schema_fingerprint(db)
    return found


def record_release_data(ctx: StackContext, release_id: str) -> None:
    """After migrations: the release's schema, its apps' schema versions (`version:`) and the
    backup that predates it."""
    versioned = [a for a, spec in ctx.stack.apps.items() if spec.version is not None]
    if not ctx.stack.databases and not versioned:
        return
    backup = ctx.layout.backup(release_id)
    data = {
        "backup": release_id if (backup / "database").is_dir() else None,
        "schemas": live_fingerprints(ctx),
        "versions": {app: read_version(ctx, app, release_id) for app in versioned},
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
    downs = versions_to_undo(ctx, current, target) if not with_database else {}
    if downs:
        moves = ", ".join(f"{app} to version {v}" for app, v in downs.items())
        return None, f"schema taken back by down: ({moves}), data kept"
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
    live = live_fingerprints(ctx)
    changed = schema_changes(mine["schemas"], live)
    if changed and not force:
        raise ReleaseError(
            f"release {target} ran on another schema (tables that differ: {', '.join(changed)}); "
            "roll back with --with-database to restore its data too, or --force to keep it"
        )
    return None, "data kept as it is" + (" (schema differs: --force)" if changed else "")


def data_after_failure(
    ctx: StackContext, backup: str | None, restored: list[str], before: dict[str, Any] | None
) -> tuple[str, bool]:
    """The report's Data line once a failed deploy was put back, and whether its data changed
    and was NOT restored. `backup`: the pre-deploy dump, when its migrations started with one;
    `before`: the schemas read when they started without one (neither: they never started)."""
    if restored:
        return f"restored from backup {backup} ({', '.join(restored)})", False
    if backup is not None:
        return f"unchanged (row counts and checksums match backup {backup})", False
    if before is None:
        return "unchanged (the deploy stopped before its migrations)", False
    try:
        changed = schema_changes(before, live_fingerprints(ctx))
    except DeployflowError as exc:
        return f"changed and NOT restored: unknown, the schema could not be read ({exc})", True
    if not changed:
        return "unchanged (checked by schema fingerprint)", False
    return (
        "changed and NOT restored: no database dump was taken before the migrations "
        f"(backup.include without database, or --skip-backup); tables that differ: "
        f"{', '.join(changed)}; `deployflow backup restore ID --only database` puts an "
        "earlier backup back",
        True,
    )


def versions_to_undo(ctx: StackContext, current: str | None, target: str) -> dict[str, str]:
    """{app: the version `target` recorded} for each app with `down:` whose recorded schema
    version differs between `current` and `target`."""
    mine = (read_release_data(ctx, target) or {}).get("versions") or {}
    now = (read_release_data(ctx, current) or {}).get("versions") or {} if current else {}
    return {
        app: str(mine[app])
        for app, spec in ctx.stack.apps.items()
        if spec.down and mine.get(app) is not None and now.get(app) != mine[app]
    }


def take_versions_back(
    ctx: StackContext, current: str, target: str, log: Callable[[str], None]
) -> list[str]:
    """Run each `down:` from `current` to `target`'s recorded version, then check the schema
    is the one `target` recorded; the apps taken back."""
    downs = versions_to_undo(ctx, current, target)
    for app, version in downs.items():
        run_down(ctx, app, current, version, log)
    mine = read_release_data(ctx, target)
    if downs and mine and ctx.stack.databases:
        changed = schema_changes(mine["schemas"], live_fingerprints(ctx))
        if changed:
            raise ReleaseError(
                f"down: ran, but tables still differ from release {target}'s schema "
                f"({', '.join(changed)}); check the app's migrations, or roll back "
                "--with-database"
            )
    return list(downs)
