"""A backup's databases put back: each dump loaded into a scratch database, checked against the
row counts and checksums recorded at backup time, then swapped in at once (MariaDB: one RENAME
TABLE; PostgreSQL: two database renames in one transaction). Used by `backup restore` and by
the rollback of a deploy whose migrations ran."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.engines import dump_file, engine_for
from deployflow.core.backupdiff import table_problems
from deployflow.core.context import StackContext
from deployflow.errors import BackupError
from deployflow.ops.backup_verify import check_integrity, metadata, recorded_databases
from deployflow.stages import Log
from deployflow.stages.backup import backup_key

__all__ = ["databases_differ", "restore_databases"]


def databases_differ(ctx: StackContext, path: Path) -> list[str]:
    """The backup's databases whose live tables no longer match what it recorded."""
    differ = []
    for name, recorded in recorded_databases(metadata(path)).items():
        db = ctx.database(name)
        live = engine_for(db).table_stats(db)
        if recorded["tables"] is None or table_problems(recorded["tables"], live):
            differ.append(name)
    return differ


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
            engine = engine_for(db)
            scratch = engine.scratch_name(db, "restore")
            dump = dump_file(path, name, recorded_all[name], db)
            engine.load_into_scratch(db, dump, scratch, backup_key(ctx))
            prepared[name] = scratch
            tables = recorded_all[name]["tables"]
            stats = None if tables is None else engine.table_stats(db, scratch)
            problems = [] if stats is None else table_problems(tables, stats)
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
        db = ctx.database(name)
        engine_for(db).drop_database(db, scratch)


def swap_databases(ctx: StackContext, prepared: dict[str, str], log: Log) -> list[str]:
    """Swap each checked scratch copy in; the old data is dropped."""
    for name, scratch in prepared.items():
        db = ctx.database(name)
        engine = engine_for(db)
        engine.drop_database(db, engine.swap_in(db, scratch))
        log(f"database {name}: restored (swapped in)")
    return list(prepared)


def restore_databases(
    ctx: StackContext, path: Path, log: Log, only_changed: bool = False
) -> list[str]:
    """Prepare, then swap in: the names restored (only from a backup we signed, whose
    checksums hold)."""
    check_integrity(path, lambda _m: None, backup_key(ctx), deep=False)
    return swap_databases(ctx, prepare_databases(ctx, path, log, only_changed), log)
