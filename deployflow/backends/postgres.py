"""PostgreSQL over psycopg: provision the app's role and database (over `admin_url`), apply SQL
migrations (each file in one transaction: PostgreSQL's DDL is transactional), count rows, and
dump with `pg_dump -Fc` (the password in the environment, never in argv)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deployflow.backends.database import split_sql
from deployflow.backends.executor import Command, metered, resolve_program, run
from deployflow.backends.pgservice import SUPERUSER
from deployflow.backends.sealed import SealedWriter
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import DatabaseError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "MAINTENANCE_DB",
    "admin_connect",
    "apply_migrations",
    "connect",
    "count_rows",
    "dump",
    "pg_tool",
    "provision",
    "scram_verifier",
]

MAINTENANCE_DB = "postgres"  # where admin work connects: never the database it changes
PROBE_TIMEOUT = 10.0
QUERY_TIMEOUT = 120.0
MIGRATION_TIMEOUT = 3600.0


def _reason(exc: Exception) -> str:
    """psycopg's message, first line: names the host and role, never the password."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(
    db: ResolvedDatabase, dbname: str | None = None, timeout: float = QUERY_TIMEOUT
) -> psycopg.Connection:
    """The app's role on its database (or `dbname`), every statement bounded by `timeout`."""
    import psycopg

    try:
        return psycopg.connect(
            host=db.host,
            port=db.port,
            user=db.user,
            password=db.password.get_secret_value(),
            dbname=dbname or db.database,
            connect_timeout=5,
            autocommit=True,
            options=f"-c statement_timeout={int(timeout * 1000)}",
        )
    except psycopg.Error as exc:
        raise DatabaseError(
            f"database {db.name}: cannot connect to {db.host}:{db.port} as {db.user} "
            f"({_reason(exc)}); is it running, and is the password right?"
        ) from None


def admin_connect(
    db: ResolvedDatabase, dbname: str = MAINTENANCE_DB, timeout: float = QUERY_TIMEOUT
) -> psycopg.Connection:
    """The admin role of `admin_url`, or the superuser over the trusted socket in
    `admin_socket` (a `postgres:` service's), or else the app's role, on `dbname`."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if db.admin_socket is not None:
        return _socket_connect(db, dbname, timeout)
    if db.admin_url is None:
        return connect(db, dbname, timeout)
    try:
        params = conninfo_to_dict(db.admin_url.get_secret_value())
    except psycopg.Error:
        raise DatabaseError(
            f"databases.{db.name}.admin_url: not a PostgreSQL URL "
            "(postgresql://ROLE:PASSWORD@HOST:PORT/postgres)"
        ) from None
    params.update(dbname=dbname, connect_timeout=5)
    params["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=True)
    except psycopg.Error as exc:
        where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
        raise DatabaseError(
            f"database {db.name}: the admin_url role cannot connect to {where} "
            f"({_reason(exc)}); check databases.{db.name}.admin_url"
        ) from None


STARTING = ("the database system is starting up", "not yet accepting connections")
STARTING_WAIT = 30.0  # s: a server just started (or recovering) opens its socket before this


def _socket_connect(db: ResolvedDatabase, dbname: str, timeout: float) -> psycopg.Connection:
    """A superuser connection over the service's socket; a server still starting up (its socket
    open, connections refused for now) is waited for, up to STARTING_WAIT."""
    import psycopg

    ends = time.monotonic() + STARTING_WAIT
    while True:
        try:
            return psycopg.connect(
                host=db.admin_socket,
                port=db.port,
                user=SUPERUSER,
                dbname=dbname,
                connect_timeout=5,
                autocommit=True,
                options=f"-c statement_timeout={int(timeout * 1000)}",
            )
        except psycopg.Error as exc:
            if any(s in str(exc) for s in STARTING) and time.monotonic() < ends:
                time.sleep(0.2)
                continue
            raise DatabaseError(
                f"database {db.name}: cannot connect over the socket in {db.admin_socket} "
                f"({_reason(exc)}); is its postgres: service running?"
            ) from None


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677): the role's password is
    set from it, so the clear password never reaches the server (nor its statement log)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


def provision(db: ResolvedDatabase) -> None:
    """Create the role and database (idempotent) when the stack gives an admin_url; the role's
    password is (re)set from a SCRAM verifier."""
    if db.admin_url is None and db.admin_socket is None:
        return
    import psycopg
    from psycopg import sql

    conn = admin_connect(db, timeout=PROBE_TIMEOUT)
    try:
        role, name = sql.Identifier(db.user), sql.Identifier(db.database)
        verifier = sql.Literal(scram_verifier(db.password.get_secret_value()))
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (db.user,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, verifier))
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.database,))
        if found.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, role))
    except psycopg.Error as exc:
        raise DatabaseError(
            f"database {db.name}: provisioning failed ({_reason(exc)}); the admin_url role "
            "needs CREATEROLE and CREATEDB"
        ) from None
    finally:
        conn.close()


def count_rows(db: ResolvedDatabase, tables: list[str]) -> dict[str, int]:
    """Rows in each table (names validated as SQL identifiers by the stack)."""
    import psycopg
    from psycopg import sql

    conn = connect(db)
    try:
        return {
            table: int(
                conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
            )
            for table in tables
        }
    except psycopg.Error as exc:
        raise DatabaseError(f"counting rows in {db.name}: {_reason(exc)}") from None
    finally:
        conn.close()


def apply_migrations(
    db: ResolvedDatabase, directory: Path, log: Callable[[str], None]
) -> list[str]:
    """Apply `*.sql` files not applied yet, in name order, each in one transaction with its
    record: a file that fails leaves nothing of itself behind."""
    import psycopg

    files = sorted(directory.glob("*.sql")) if directory.is_dir() else []
    conn = connect(db, timeout=MIGRATION_TIMEOUT)
    applied_now: list[str] = []
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS deployflow_migrations (name VARCHAR(255) PRIMARY KEY, "
            "checksum CHAR(64) NOT NULL, applied_at TIMESTAMPTZ DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM deployflow_migrations")}
        for path in files:
            if path.name in done:
                continue
            text = path.read_text(encoding="utf-8")
            with conn.transaction():
                for statement in split_sql(text):
                    conn.execute(statement)  # type: ignore[arg-type]
                conn.execute(
                    "INSERT INTO deployflow_migrations (name, checksum) VALUES (%s, %s)",
                    (path.name, hashlib.sha256(text.encode()).hexdigest()),
                )
            log(f"migration {path.name} applied")
            applied_now.append(path.name)
    except psycopg.Error as exc:
        raise DatabaseError(
            f"database {db.name}: migration failed ({_reason(exc)}); that file was rolled back"
        ) from None
    finally:
        conn.close()
    return applied_now


def pg_tool(name: str) -> str:
    tool = resolve_program(name)
    if tool is None:
        raise DatabaseError(f"{name} not found; install postgresql-client (scripts/install does)")
    return tool


def client_env(db: ResolvedDatabase, user: str | None = None, password: str | None = None) -> dict:
    """libpq's environment for pg_dump/pg_restore: the password never in argv."""
    return {
        "PGHOST": db.host,
        "PGPORT": str(db.port),
        "PGUSER": user or db.user,
        "PGPASSWORD": password or db.password.get_secret_value(),
        "PGCONNECT_TIMEOUT": "5",
    }


def dump(
    db: ResolvedDatabase,
    dest: Path,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    snapshot: str | None = None,
) -> str:
    """`pg_dump -Fc` of the database (of an exported `snapshot` when given) into `dest` (0600,
    sealed when a key is given) through a temp file renamed when complete; returns the stored
    file's SHA-256."""
    password = db.password.get_secret_value()
    at = [f"--snapshot={snapshot}"] if snapshot else []
    command = Command.of(
        [pg_tool("pg_dump"), "-Fc", "-Z", "1", "--no-owner", "--no-privileges", *at, db.database],
        env=client_env(db),
        timeout=3600,
        secrets=(password,),
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    writer = SealedWriter(tmp, key)
    try:
        try:
            run(command, sink=metered(writer.write, progress), error=DatabaseError)
        except DatabaseError as exc:
            raise DatabaseError(f"database {db.name}: dump failed ({exc})") from None
        finally:
            digest = writer.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return digest
