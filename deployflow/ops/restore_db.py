"""A backup's databases put back: each dump loaded into a scratch database, checked against the
row counts and checksums recorded at backup time, then swapped in with one RENAME TABLE. Used
by `backup restore` and by the rollback of a deploy whose migrations ran."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.dbrestore import (
    drop_database,
    load_into_scratch,
    scratch_name,
    swap_in,
    table_stats,
)
from deployflow.core.backupdiff import table_problems
from deployflow.core.context import StackContext
from deployflow.errors import BackupError
from deployflow.ops.backup_verify import check_integrity, metadata, recorded_databases
from deployflow.stages import Log
from deployflow.stages.backup import backup_key

__all__ = ["databases_differ", "restore_databases"]


def databases_differ(ctx: StackContext, path: Path) -> list[str]:
    """The backup's databases whose live tables no longer match what it recorded."""
    return [
        name
        for name, recorded in recorded_databases(metadata(path)).items()
        if recorded["tables"] is None
        or table_problems(recorded["tables"], table_stats(ctx.database(name)))
    ]


def prepare_databases(
    ctx: StackContext, path: Path, log: Log, only_changed: bool = False
) -> dict[str, str]:
    """Load each database of the backup at `path` (with `only_changed`, only those that differ
    from it) into a scratch database and check it against the recorded row counts and
    checksums; returns {database: scratch}. Nothing live is touched; on failure every scratch
    database made so far is dropped."""
    recorded_all = recorded_databases(metadata(path))
    names = databases_differ(ctx, path) if only_changed else list(recorded_all)
    prepared: dict[str, str] = {}
    try:
        for name in names:
            db = ctx.database(name)
            scratch = scratch_name(db, "restore")
            load_into_scratch(db, path / "database" / f"{name}.sql.gz", scratch, backup_key(ctx))
            prepared[name] = scratch
            tables = recorded_all[name]["tables"]
            problems = [] if tables is None else table_problems(tables, table_stats(db, scratch))
            if problems:
                raise BackupError(
                    f"database {name}: the restored copy differs from the backup "
                    f"({'; '.join(problems[:3])}); the live database was not touched"
                )
            log(f"database {name}: backup {path.name} loaded into {scratch} and checked")
    except BaseException:
        drop_scratch(ctx, prepared)
        raise
    return prepared


def drop_scratch(ctx: StackContext, prepared: dict[str, str]) -> None:
    for name, scratch in prepared.items():
        drop_database(ctx.database(name), scratch)


def swap_databases(ctx: StackContext, prepared: dict[str, str], log: Log) -> list[str]:
    """Swap each checked scratch copy in (one RENAME TABLE each); the old tables are dropped."""
    for name, scratch in prepared.items():
        db = ctx.database(name)
        drop_database(db, swap_in(db, scratch))
        log(f"database {name}: restored (swapped in)")
    return list(prepared)


def restore_databases(
    ctx: StackContext, path: Path, log: Log, only_changed: bool = False
) -> list[str]:
    """Prepare, then swap in: the names restored (only from a backup we signed, whose
    checksums hold)."""
    check_integrity(path, lambda _m: None, backup_key(ctx), deep=False)
    return swap_databases(ctx, prepare_databases(ctx, path, log, only_changed), log)
