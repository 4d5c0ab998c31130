"""MariaDB/MySQL over PyMySQL: provision the app's database and user, apply SQL migrations."""

from __future__ import annotations

import getpass
import gzip
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deployflow.backends.executor import Command, metered, resolve_program, run
from deployflow.backends.sealed import SealedWriter
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import DatabaseError

if TYPE_CHECKING:
    import pymysql

__all__ = [
    "apply_migrations",
    "connect",
    "count_rows",
    "dump",
    "dump_command",
    "provision",
    "split_sql",
]

PROBE_TIMEOUT = 10.0  # preflight's provisioning: a hung server fails it in seconds
QUERY_TIMEOUT = 120.0  # counts and checksums of big tables, renames, drops
MIGRATION_TIMEOUT = 3600.0  # one migration statement may rebuild a big table


def connect(
    db: ResolvedDatabase, admin: bool = False, timeout: float = QUERY_TIMEOUT
) -> pymysql.connections.Connection:
    """A connection whose every read and write is bounded by `timeout`: a hung server (a
    stopped process still accepts connections) fails the caller instead of holding it."""
    import pymysql

    bounded = {"connect_timeout": 5, "read_timeout": timeout, "write_timeout": timeout}
    try:
        if admin:
            return pymysql.connect(
                unix_socket=db.admin_socket, user=getpass.getuser(), autocommit=True, **bounded
            )
        return pymysql.connect(
            host=db.host,
            port=db.port,
            user=db.user,
            password=db.password.get_secret_value(),
            database=db.database,
            autocommit=True,
            **bounded,
        )
    except pymysql.MySQLError as exc:
        where = db.admin_socket if admin else f"{db.host}:{db.port}"
        raise DatabaseError(
            f"database {db.name}: cannot connect to {where} ({exc.args[-1]}); is it running?"
        ) from exc


def count_rows(db: ResolvedDatabase, tables: list[str]) -> dict[str, int]:
    """Rows in each table (names validated as SQL identifiers by the stack), as the app's user."""
    import pymysql

    conn = connect(db)
    try:
        with conn.cursor() as cur:
            counts = {}
            for table in tables:
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
                counts[table] = int(cur.fetchone()[0])
            return counts
    except pymysql.MySQLError as exc:
        raise DatabaseError(f"counting rows in {db.name}: {exc.args[-1]}") from None
    finally:
        conn.close()


def provision(db: ResolvedDatabase) -> None:
    """Create the database and user (idempotent) over the admin socket, password as a parameter."""
    import pymysql

    if not db.admin_socket:
        return
    conn = connect(db, admin=True, timeout=PROBE_TIMEOUT)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db.database}`")
            for host in ("%", "localhost"):
                cur.execute(
                    "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                    (db.user, host, db.password.get_secret_value()),
                )
                cur.execute(
                    "ALTER USER %s@%s IDENTIFIED BY %s",
                    (db.user, host, db.password.get_secret_value()),
                )
                cur.execute(f"GRANT ALL ON `{db.database}`.* TO %s@%s", (db.user, host))
    except pymysql.MySQLError as exc:
        raise DatabaseError(f"database {db.name}: provisioning failed ({exc.args[-1]})") from exc
    finally:
        conn.close()


def split_sql(text: str) -> list[str]:
    """Statements of a migration file: split on `;` at line ends, `--` comment lines dropped."""
    statements, current = [], []
    for line in text.splitlines():
        if line.strip().startswith("--") and not current:
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def apply_migrations(
    db: ResolvedDatabase, directory: Path, log: Callable[[str], None]
) -> list[str]:
    """Apply `*.sql` files not applied yet, in name order; each is recorded once applied."""
    import pymysql

    files = sorted(directory.glob("*.sql")) if directory.is_dir() else []
    conn = connect(db, timeout=MIGRATION_TIMEOUT)
    applied_now: list[str] = []
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS deployflow_migrations ("
                "name VARCHAR(255) PRIMARY KEY, checksum CHAR(64) NOT NULL, "
                "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)"
            )
            cur.execute("SELECT name FROM deployflow_migrations")
            done = {row[0] for row in cur.fetchall()}
            for path in files:
                if path.name in done:
                    continue
                text = path.read_text(encoding="utf-8")
                for statement in split_sql(text):
                    cur.execute(statement)
                checksum = hashlib.sha256(text.encode()).hexdigest()
                cur.execute(
                    "INSERT INTO deployflow_migrations (name, checksum) VALUES (%s, %s)",
                    (path.name, checksum),
                )
                log(f"migration {path.name} applied")
                applied_now.append(path.name)
    except pymysql.MySQLError as exc:
        raise DatabaseError(f"database {db.name}: migration failed ({exc.args[-1]})") from exc
    finally:
        conn.close()
    return applied_now


def dump_command(db: ResolvedDatabase, tool: str) -> Command:
    """The dump as data: the password travels in the environment, never in argv."""
    argv = [
        tool,
        "-h",
        db.host,
        "-P",
        str(db.port),
        "-u",
        db.user,
        "--single-transaction",
        "--no-tablespaces",
        "--routines",
        "--triggers",
        "--events",
        db.database,
    ]
    password = db.password.get_secret_value()
    return Command.of(argv, env={"MYSQL_PWD": password}, timeout=3600, secrets=(password,))


def dump(
    db: ResolvedDatabase,
    dest: Path,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Dump the database into `dest` (gzip, 0600, sealed when a key is given) through a temp
    file renamed when complete, in one pass; `progress` hears the dumped bytes now and then.
    Returns the stored file's SHA-256."""
    tool = resolve_program("mariadb-dump") or resolve_program("mysqldump")
    if tool is None:
        raise DatabaseError("mysqldump not found; install mariadb-client (scripts/install does)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    writer = SealedWriter(tmp, key)  # 0600: dumps hold data
    try:
        try:
            with gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=1) as out:  # type: ignore[arg-type]
                sink = metered(out.write, progress)
                run(dump_command(db, tool), sink=sink, error=DatabaseError)
        except DatabaseError as exc:
            raise DatabaseError(f"database {db.name}: dump failed ({exc})") from None
        finally:
            digest = writer.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return digest
