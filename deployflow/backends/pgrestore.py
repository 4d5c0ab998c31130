"""What a backup records about a PostgreSQL database and how one comes back: per-table row
counts and content checksums, a schema fingerprint, a `pg_dump -Fc` loaded by `pg_restore` into
a scratch database, and a swap of the scratch database into the live name in one transaction
(two `ALTER DATABASE … RENAME`): the live database is untouched until then."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from deployflow.backends.executor import Command, run
from deployflow.backends.postgres import admin_connect, client_env, connect, dump, pg_tool
from deployflow.backends.sealed import opened
from deployflow.core.context import ResolvedDatabase
from deployflow.core.schemadiff import fingerprint
from deployflow.errors import BackupError, DatabaseError

__all__ = [
    "create_empty",
    "drop_database",
    "dump_with_stats",
    "load_into_scratch",
    "schema_fingerprint",
    "scratch_name",
    "swap_in",
    "table_stats",
]

_TABLES = (
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') "
    "ORDER BY 1, 2"
)


def _label(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def table_stats(db: ResolvedDatabase, schema: str | None = None) -> dict[str, dict[str, int]]:
    """{table: {rows, checksum}} of database `schema` (default: the app's). The checksum sums a
    64-bit hash of each row: it does not depend on row order, so a restored copy matches."""
    conn = connect(db, schema)
    try:
        return _stats(conn)
    finally:
        conn.close()


_BY_VALUE = "SELECT count(*), coalesce(sum(hash_record_extended(t, 0)), 0) FROM {} t"
_BY_TEXT = "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {} t"


def _stats(conn: Any) -> dict[str, dict[str, int]]:
    """Each row hashed from its values (5x faster than from its text); a table with a column
    type that has no hash function (json, geometric types) hashes its rows' text instead."""
    import psycopg
    from psycopg import sql

    stats = {}
    for table_schema, table in conn.execute(_TABLES).fetchall():
        ident = sql.Identifier(table_schema, table)
        try:
            with conn.transaction():  # a savepoint inside the dump's snapshot
                rows, checksum = conn.execute(sql.SQL(_BY_VALUE).format(ident)).fetchone()
        except psycopg.errors.UndefinedFunction:
            rows, checksum = conn.execute(sql.SQL(_BY_TEXT).format(ident)).fetchone()
        stats[_label(table_schema, table)] = {"rows": int(rows), "checksum": int(checksum)}
    return stats


def dump_with_stats(
    db: ResolvedDatabase,
    dest: Path,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[str, dict[str, dict[str, int]]]:
    """The dump and the table stats of one snapshot, side by side: a repeatable-read
    transaction exports its snapshot, `pg_dump --snapshot` dumps exactly it while the stats are
    counted in it. They match each other even while the app writes. (file SHA-256, stats)"""
    conn = connect(db)
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with ThreadPoolExecutor(1) as pool:
            dumped = pool.submit(dump, db, dest, key, progress, snapshot)
            try:
                stats = _stats(conn)
            finally:
                digest = dumped.result()  # the snapshot lives until the dump is done
        conn.execute("COMMIT")
    finally:
        conn.close()
    return digest, stats


def schema_fingerprint(db: ResolvedDatabase) -> dict[str, Any]:
    """Tables, columns and indexes from the catalog, with a hash to compare quickly."""
    conn = connect(db)
    try:
        tables: dict[str, list[str]] = {}
        for schema, table, column, ctype, nullable in conn.execute(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable "
            "FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall():
            tables.setdefault(_label(schema, table), []).append(f"{column} {ctype} {nullable}")
        for schema, table, index, definition in conn.execute(
            "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3"
        ).fetchall():
            tables.setdefault(_label(schema, table), []).append(f"index {index} {definition}")
    finally:
        conn.close()
    return fingerprint(tables)


def scratch_name(db: ResolvedDatabase, purpose: str) -> str:
    return f"{db.database}__{purpose}_{secrets.token_hex(3)}"[:63]


def create_empty(db: ResolvedDatabase, name: str) -> None:
    """An empty database the app's role owns (a test stage's throwaway one)."""
    from psycopg import sql

    conn = admin_connect(db)
    try:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(db.user)
            )
        )
    finally:
        conn.close()


def drop_database(db: ResolvedDatabase, name: str) -> None:
    from psycopg import sql

    conn = admin_connect(db)
    try:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    finally:
        conn.close()


@contextmanager
def _scratch_loader(db: ResolvedDatabase) -> Iterator[tuple[str, str]]:
    """A throwaway role owning only the scratch database: what a dump runs as it loads cannot
    reach the live data, whatever the dump says."""
    from psycopg import sql

    from deployflow.backends.postgres import scram_verifier

    user, password = f"df_load_{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    conn = admin_connect(db)
    try:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(scram_verifier(password))
            )
        )
    finally:
        conn.close()
    try:
        yield user, password
    finally:
        conn = admin_connect(db)
        try:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(user)))
        finally:
            conn.close()


def _blocks(dump: Path, key: bytes | None) -> Iterator[bytes]:
    with opened(dump, key) as raw:
        yield from iter(lambda: raw.read(1 << 20), b"")


def load_into_scratch(
    db: ResolvedDatabase,
    dump: Path,
    schema: str,
    key: bytes | None = None,
    contained: bool = False,
) -> None:
    """Create database `schema` and `pg_restore` the dump into it (stopping at the first
    error); with `contained` (a restore test) as a throwaway role that owns only it, when an
    admin_url can make one. The copy ends up owned by the app's role. On failure it is
    dropped."""
    from psycopg import sql

    contained = contained and bool(db.admin_url or db.admin_socket)
    with _scratch_loader(db) if contained else nullcontext(None) as login:
        owner = login[0] if login else db.user
        conn = admin_connect(db)
        try:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(schema), sql.Identifier(owner)
                )
            )
        except Exception as exc:
            raise BackupError(
                f"database {db.name}: cannot create a scratch database ({exc}); restores need "
                "an admin_url in the stack file, or a role allowed to CREATE DATABASE"
            ) from None
        finally:
            conn.close()
        try:
            user, password = login or (db.user, db.password.get_secret_value())
            argv = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
            command = Command.of(
                [*argv, "-d", schema],
                env=client_env(db, user, password),
                timeout=3600,
                secrets=(password,),
            )
            run(command, source=_blocks(dump, key), error=DatabaseError)
            if login:
                _give_to(db, schema, login[0])
        except BaseException as exc:
            drop_database(db, schema)
            if isinstance(exc, DatabaseError):
                raise BackupError(f"database {db.name}: the dump does not load ({exc})") from None
            raise


def _give_to(db: ResolvedDatabase, schema: str, loader: str) -> None:
    """The scratch copy, and all in it, to the app's role: the loader role can then go."""
    from psycopg import sql

    conn = admin_connect(db, schema)
    try:
        conn.execute(
            sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                sql.Identifier(loader), sql.Identifier(db.user)
            )
        )
    finally:
        conn.close()
    conn = admin_connect(db)
    try:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(schema), sql.Identifier(db.user)
            )
        )
    finally:
        conn.close()


def swap_in(db: ResolvedDatabase, scratch: str, attempts: int = 50) -> str:
    """The live database renamed aside and the scratch one into its name, in one transaction
    (connections to the live one are closed first and new ones refused until the swap);
    returns the name holding the old data (drop it once the restore is accepted)."""
    import psycopg
    from psycopg import sql

    aside = scratch_name(db, "old")
    live, new, old = (sql.Identifier(n) for n in (db.database, scratch, aside))
    conn = admin_connect(db)
    try:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(live))
        for attempt in range(attempts):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (db.database,),
            )
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(live, old))
                    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(new, live))
                break
            except psycopg.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.1)  # a terminated backend is still on its way out
    except Exception as exc:
        with suppress(Exception):  # best effort: the swap's own error is what is reported
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(live))
        conn.close()
        raise BackupError(
            f"database {db.name}: swapping the restored database in failed ({exc}); the live "
            "database was not changed"
        ) from None
    conn.close()
    return aside
