"""What a backup records about a database and how one comes back: per-table row counts and
`CHECKSUM TABLE` values, a schema fingerprint, a dump loaded into a scratch database, and a swap
of the scratch tables into place in one `RENAME TABLE` (the live database is untouched until
then, and the swap is atomic)."""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deployflow.backends.database import connect
from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.sealed import opened
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import BackupError, DatabaseError

__all__ = [
    "drop_database",
    "load_into_scratch",
    "schema_fingerprint",
    "scratch_name",
    "swap_in",
    "table_stats",
]


def _admin(db: ResolvedDatabase) -> bool:
    """Restores need CREATE/DROP DATABASE: over the admin socket when the stack gives one."""
    return bool(db.admin_socket)


def _tables(cur: Any, schema: str) -> list[str]:
    cur.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (schema,),
    )
    return [row[0] for row in cur.fetchall()]


def table_stats(db: ResolvedDatabase, schema: str | None = None) -> dict[str, dict[str, int]]:
    """{table: {rows, checksum}} of `schema` (default: the app's database)."""
    schema = schema or db.database
    conn = connect(db, admin=_admin(db) and schema != db.database)
    try:
        with conn.cursor() as cur:
            stats = {}
            for table in _tables(cur, schema):
                cur.execute(f"SELECT COUNT(*) FROM `{schema}`.`{table}`")
                rows = int(cur.fetchone()[0])
                cur.execute(f"CHECKSUM TABLE `{schema}`.`{table}`")
                checksum = cur.fetchone()[1]
                stats[table] = {"rows": rows, "checksum": int(checksum or 0)}
            return stats
    finally:
        conn.close()


def schema_fingerprint(db: ResolvedDatabase) -> dict[str, Any]:
    """Tables, columns and indexes from information_schema, with a hash to compare quickly."""
    conn = connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, column_name, column_type, is_nullable "
                "FROM information_schema.columns WHERE table_schema = %s "
                "ORDER BY table_name, ordinal_position",
                (db.database,),
            )
            tables: dict[str, list[str]] = {}
            for table, column, ctype, nullable in cur.fetchall():
                tables.setdefault(table, []).append(f"{column} {ctype} {nullable}")
            cur.execute(
                "SELECT table_name, index_name, column_name FROM information_schema.statistics "
                "WHERE table_schema = %s ORDER BY table_name, index_name, seq_in_index",
                (db.database,),
            )
            for table, index, column in cur.fetchall():
                tables.setdefault(table, []).append(f"index {index} {column}")
    finally:
        conn.close()
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
    return {
        "hash": digest,
        "tables": {
            t: hashlib.sha256("\n".join(c).encode()).hexdigest()[:16] for t, c in tables.items()
        },
    }


def scratch_name(db: ResolvedDatabase, purpose: str) -> str:
    return f"{db.database}__{purpose}_{secrets.token_hex(3)}"[:64]


def drop_database(db: ResolvedDatabase, schema: str) -> None:
    conn = connect(db, admin=_admin(db))
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{schema}`")
    finally:
        conn.close()


def _blocks(dump: Path, key: bytes | None) -> Iterator[bytes]:
    with opened(dump, key) as raw, gzip.open(raw, "rb") as handle:
        yield from iter(lambda: handle.read(1 << 20), b"")


def _client(db: ResolvedDatabase, schema: str) -> Command:
    tool = resolve_program("mariadb") or resolve_program("mysql")
    if tool is None:
        raise BackupError("the mariadb client is not installed; scripts/install installs it")
    if _admin(db):
        argv = [tool, f"--socket={db.admin_socket}", schema]
        return Command.of(argv, timeout=3600)
    password = db.password.get_secret_value()
    argv = [tool, "-h", db.host, "-P", str(db.port), "-u", db.user, schema]
    return Command.of(argv, env={"MYSQL_PWD": password}, timeout=3600, secrets=(password,))


def load_into_scratch(
    db: ResolvedDatabase, dump: Path, schema: str, key: bytes | None = None
) -> None:
    """Create `schema` and load `dump` (gzip SQL) into it; on failure `schema` is dropped."""
    conn = connect(db, admin=_admin(db))
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{schema}`")
    except Exception as exc:
        raise BackupError(
            f"database {db.name}: cannot create a scratch database ({exc}); restores need "
            "admin_socket in the stack file, or a user allowed to CREATE DATABASE"
        ) from None
    finally:
        conn.close()
    try:
        run(_client(db, schema), source=_blocks(dump, key), error=DatabaseError)
    except BaseException as exc:
        drop_database(db, schema)
        if isinstance(exc, DatabaseError):
            raise BackupError(f"database {db.name}: the dump does not load ({exc})") from None
        raise


def swap_in(db: ResolvedDatabase, scratch: str) -> str:
    """Move the live tables aside and the scratch tables into place in one RENAME TABLE;
    returns the schema holding the old tables (drop it once the restore is accepted)."""
    aside = scratch_name(db, "old")
    conn = connect(db, admin=_admin(db))
    try:
        with conn.cursor() as cur:
            live, new = _tables(cur, db.database), _tables(cur, scratch)
            cur.execute(f"CREATE DATABASE `{aside}`")
            pairs = [f"`{db.database}`.`{t}` TO `{aside}`.`{t}`" for t in live]
            pairs += [f"`{scratch}`.`{t}` TO `{db.database}`.`{t}`" for t in new]
            if pairs:
                cur.execute("RENAME TABLE " + ", ".join(pairs))
    except Exception as exc:
        raise BackupError(
            f"database {db.name}: swapping the restored tables failed ({exc})"
        ) from None
    finally:
        conn.close()
    drop_database(db, scratch)
    return aside
