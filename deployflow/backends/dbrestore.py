"""What a backup records about a database and how one comes back: per-table row counts and
`CHECKSUM TABLE` values, a schema fingerprint, a dump loaded into a scratch database, and a swap
of the scratch tables into place in one `RENAME TABLE` (the live database is untouched until
then, and the swap is atomic)."""

from __future__ import annotations

import functools
import gzip
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from deployflow.backends.database import connect
from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.sealed import opened
from deployflow.core.context import ResolvedDatabase
from deployflow.core.schemadiff import fingerprint
from deployflow.errors import BackupError, DatabaseError

__all__ = [
    "create_empty",
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
    return fingerprint(tables)


def scratch_name(db: ResolvedDatabase, purpose: str) -> str:
    return f"{db.database}__{purpose}_{secrets.token_hex(3)}"[:64]


def create_empty(db: ResolvedDatabase, schema: str) -> None:
    """An empty database the app's user may use fully (a test stage's throwaway one)."""
    conn = connect(db, admin=_admin(db))
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{schema}`")
            if _admin(db):
                for host in ("%", "localhost"):
                    cur.execute(f"GRANT ALL ON `{schema}`.* TO %s@%s", (db.user, host))
    finally:
        conn.close()


def drop_database(db: ResolvedDatabase, schema: str) -> None:
    conn = connect(db, admin=_admin(db))
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{schema}`")
    finally:
        conn.close()


def _blocks(dump: Path, key: bytes | None, contained: bool) -> Iterator[bytes]:
    with opened(dump, key) as raw, gzip.open(raw, "rb") as handle:
        if not contained:
            yield from iter(lambda: handle.read(1 << 20), b"")
            return
        for line in handle:  # objects a scratch-only loader may create: defined by itself
            yield _DEFINER.sub(b"DEFINER=CURRENT_USER", line) if b"DEFINER=" in line else line


_DEFINER = re.compile(rb"DEFINER=`(?:[^`]|``)*`@`(?:[^`]|``)*`")


@functools.cache
def _sandbox_flag(tool: str) -> str:
    """`--sandbox` (MariaDB 10.5.25+): the client refuses `\\!`, `system`, `source` and the
    like in what it reads, so a dump can only be SQL."""
    lines: list[str] = []
    run(Command.of([tool, "--help"], timeout=30), on_line=lines.append, check=False)
    if not any("--sandbox" in line for line in lines):
        raise BackupError(
            f"{tool} cannot refuse client commands in a dump (no --sandbox); install "
            "MariaDB's client 10.5.25 or newer (scripts/install does)"
        )
    return "--sandbox"


def _client(db: ResolvedDatabase, schema: str, login: tuple[str, str] | None = None) -> Command:
    tool = resolve_program("mariadb") or resolve_program("mysql")
    if tool is None:
        raise BackupError("the mariadb client is not installed; scripts/install installs it")
    flags = [_sandbox_flag(tool), "--batch"]
    if login is not None:  # the scratch-only loader, over the admin socket
        user, password = login
        argv = [tool, *flags, f"--socket={db.admin_socket}", "-u", user, schema]
        return Command.of(argv, env={"MYSQL_PWD": password}, timeout=3600, secrets=(password,))
    if _admin(db):
        argv = [tool, *flags, f"--socket={db.admin_socket}", schema]
        return Command.of(argv, timeout=3600)
    password = db.password.get_secret_value()
    argv = [tool, *flags, "-h", db.host, "-P", str(db.port), "-u", db.user, schema]
    return Command.of(argv, env={"MYSQL_PWD": password}, timeout=3600, secrets=(password,))


@contextmanager
def _scratch_loader(db: ResolvedDatabase, schema: str) -> Iterator[tuple[str, str]]:
    """A throwaway user whose only rights are on `schema`: what it loads cannot reach the live
    database, whatever the dump says."""
    user, password = f"df_load_{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    conn = connect(db, admin=True)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE USER %s@'localhost' IDENTIFIED BY %s", (user, password))
            cur.execute(f"GRANT ALL ON `{schema}`.* TO %s@'localhost'", (user,))
    finally:
        conn.close()
    try:
        yield user, password
    finally:
        conn = connect(db, admin=True)
        try:
            with conn.cursor() as cur:
                cur.execute("DROP USER IF EXISTS %s@'localhost'", (user,))
        finally:
            conn.close()


def load_into_scratch(
    db: ResolvedDatabase,
    dump: Path,
    schema: str,
    key: bytes | None = None,
    contained: bool = False,
) -> None:
    """Create `schema` and load `dump` (gzip SQL) into it, client commands refused; with
    `contained` (a restore test: the copy is thrown away) as a user allowed only `schema`,
    when the admin socket can make one. On failure `schema` is dropped."""
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
    contained = contained and _admin(db)
    try:
        with _scratch_loader(db, schema) if contained else nullcontext(None) as login:
            command = _client(db, schema, login)
            run(command, source=_blocks(dump, key, contained), error=DatabaseError)
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
