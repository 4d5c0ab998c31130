"""One database engine's operations, picked by the stack's `engine:`: the backup, restore,
migration and health code call these and never ask which engine it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deployflow.core.context import ResolvedDatabase
from deployflow.errors import BackupError

__all__ = [
    "Engine",
    "database_url",
    "dump_and_stats",
    "dump_file",
    "engine_for",
    "engine_named",
]


@dataclass(frozen=True)
class Engine:
    name: str
    dump_suffix: str  # a backup's database/<name><suffix>
    provision: Callable[[ResolvedDatabase], None]
    apply_migrations: Callable[[ResolvedDatabase, Path, Callable[[str], None]], list[str]]
    count_rows: Callable[[ResolvedDatabase, list[str]], dict[str, int]]
    dump: Callable[..., str]
    table_stats: Callable[..., dict[str, dict[str, int]]]
    schema_fingerprint: Callable[[ResolvedDatabase], dict[str, Any]]
    scratch_name: Callable[[ResolvedDatabase, str], str]
    drop_database: Callable[[ResolvedDatabase, str], None]
    create_empty: Callable[[ResolvedDatabase, str], None]
    load_into_scratch: Callable[..., None]
    swap_in: Callable[[ResolvedDatabase, str], str]
    swap_offline: bool = False  # the swap needs the apps' services stopped (SQLite's file)
    # the dump and its table stats from one snapshot, side by side (PostgreSQL)
    dump_with_stats: Callable[..., tuple[str, dict[str, dict[str, int]]]] | None = None


def _mariadb() -> Engine:
    from deployflow.backends import database, dbrestore

    return Engine(
        name="mariadb",
        dump_suffix=".sql.gz",
        provision=database.provision,
        apply_migrations=database.apply_migrations,
        count_rows=database.count_rows,
        dump=database.dump,
        table_stats=dbrestore.table_stats,
        schema_fingerprint=dbrestore.schema_fingerprint,
        scratch_name=dbrestore.scratch_name,
        drop_database=dbrestore.drop_database,
        create_empty=dbrestore.create_empty,
        load_into_scratch=dbrestore.load_into_scratch,
        swap_in=dbrestore.swap_in,
    )


def _postgresql() -> Engine:
    from deployflow.backends import pgrestore, postgres

    return Engine(
        name="postgresql",
        dump_suffix=".pgdump",
        provision=postgres.provision,
        apply_migrations=postgres.apply_migrations,
        count_rows=postgres.count_rows,
        dump=postgres.dump,
        table_stats=pgrestore.table_stats,
        schema_fingerprint=pgrestore.schema_fingerprint,
        scratch_name=pgrestore.scratch_name,
        drop_database=pgrestore.drop_database,
        create_empty=pgrestore.create_empty,
        load_into_scratch=pgrestore.load_into_scratch,
        swap_in=pgrestore.swap_in,
        dump_with_stats=pgrestore.dump_with_stats,
    )


def _sqlite() -> Engine:
    from deployflow.backends import sqlite

    return Engine(
        name="sqlite",
        dump_suffix=".sqlite.gz",
        provision=sqlite.provision,
        apply_migrations=sqlite.apply_migrations,
        count_rows=sqlite.count_rows,
        dump=sqlite.dump,
        table_stats=sqlite.table_stats,
        schema_fingerprint=sqlite.schema_fingerprint,
        scratch_name=sqlite.scratch_name,
        drop_database=sqlite.drop_database,
        create_empty=sqlite.create_empty,
        load_into_scratch=sqlite.load_into_scratch,
        swap_in=sqlite.swap_in,
        swap_offline=True,
    )


_FAMILY = {"mariadb": "mariadb", "mysql": "mariadb", "postgresql": "postgresql", "sqlite": "sqlite"}
_MAKERS = {"mariadb": _mariadb, "postgresql": _postgresql, "sqlite": _sqlite}


def engine_named(engine: str) -> Engine:
    return _MAKERS[_FAMILY[engine]]()


def engine_for(db: ResolvedDatabase) -> Engine:
    return engine_named(db.engine)


def dump_file(backup: Path, name: str, recorded: dict[str, Any], db: ResolvedDatabase) -> Path:
    """The dump of database `name` in a backup, checked to be of the engine the stack now
    declares (a backup made before `engine:` was recorded is MariaDB's)."""
    made_by = _FAMILY[recorded.get("engine", "mariadb")]
    if made_by != _FAMILY[db.engine]:
        raise BackupError(
            f"backup {backup.name}: database {name} was dumped from {made_by}, but the stack "
            f"now declares {db.engine}; restore it into a {made_by} database"
        )
    return backup / "database" / f"{name}{engine_named(made_by).dump_suffix}"


def database_url(db: ResolvedDatabase, name: str) -> str:
    """The URL an app's libraries take for database `name` on `db`'s server (SQLite: a file)."""
    if db.engine == "sqlite":
        return f"sqlite:///{name}"
    scheme = "postgresql" if db.engine == "postgresql" else "mysql"
    login = f"{quote(db.user, safe='')}:{quote(db.password.get_secret_value(), safe='')}"
    return f"{scheme}://{login}@{db.host}:{db.port}/{name}"


def dump_and_stats(
    engine: Engine, db: ResolvedDatabase, dest: Path, key: bytes | None, progress: Callable
) -> tuple[str, dict[str, dict[str, int]]]:
    """(the dump's SHA-256, its tables' stats): of one snapshot where the engine can, else the
    stats first (a deploy's backup runs under the lock) and then the dump."""
    if engine.dump_with_stats is not None:
        return engine.dump_with_stats(db, dest, key, progress)
    stats = engine.table_stats(db)
    return engine.dump(db, dest, key, progress), stats
