"""SQLite as an engine: the database is one file (in a shared dir). Backups copy it online through
SQLite's backup API (consistent while the app writes, unlike tar), gzip and seal it; verify and
restore check `PRAGMA integrity_check`, row counts and row checksums; a restore swaps the file in
by rename while the app's services are stopped (its `-wal`/`-shm` go aside with the old file)."""

from __future__ import annotations

import gzip
import hashlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from deployflow.backends.database import split_sql
from deployflow.backends.files import fsync_dir
from deployflow.backends.sealed import SealedWriter, opened
from deployflow.core.context import ResolvedDatabase
from deployflow.core.schemadiff import fingerprint
from deployflow.errors import BackupError, DatabaseError

__all__ = [
    "SIDECARS",
    "apply_migrations",
    "count_rows",
    "create_empty",
    "drop_database",
    "dump",
    "load_into_scratch",
    "provision",
    "schema_fingerprint",
    "scratch_name",
    "swap_in",
    "table_stats",
]

SIDECARS = ("-wal", "-shm", "-journal")  # what SQLite keeps beside a database file
BUSY_TIMEOUT = 30.0  # the app may hold a write lock for a moment


@contextmanager
def _open(file: str | Path, mode: str = "ro") -> Iterator[sqlite3.Connection]:
    try:
        conn = sqlite3.connect(
            f"file:{file}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise DatabaseError(f"SQLite database {file}: cannot open ({exc})") from None
    with closing(conn):
        yield conn


def provision(db: ResolvedDatabase) -> None:
    """The file's directory exists (the app creates the file, or the migrations do)."""
    Path(db.database).parent.mkdir(parents=True, exist_ok=True)


def apply_migrations(
    db: ResolvedDatabase, directory: Path, log: Callable[[str], None]
) -> list[str]:
    """Apply `*.sql` files not applied yet, each in one transaction with its record."""
    files = sorted(directory.glob("*.sql")) if directory.is_dir() else []
    applied_now: list[str] = []
    provision(db)
    with _open(db.database, "rwc") as conn:
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS deployflow_migrations (name TEXT PRIMARY KEY, "
                "checksum TEXT NOT NULL, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM deployflow_migrations")}
            for path in files:
                if path.name in done:
                    continue
                text = path.read_text(encoding="utf-8")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in split_sql(text):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO deployflow_migrations (name, checksum) VALUES (?, ?)",
                        (path.name, hashlib.sha256(text.encode()).hexdigest()),
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                log(f"migration {path.name} applied")
                applied_now.append(path.name)
        except sqlite3.Error as exc:
            raise DatabaseError(
                f"database {db.name}: migration failed ({exc}); that file was rolled back"
            ) from None
    return applied_now


def count_rows(db: ResolvedDatabase, tables: list[str]) -> dict[str, int]:
    if not Path(db.database).is_file():
        return dict.fromkeys(tables, 0)
    with _open(db.database) as conn:
        try:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        except sqlite3.Error as exc:
            raise DatabaseError(f"counting rows in {db.name}: {exc}") from None


def _row_hash(row: tuple) -> int:
    digest = hashlib.blake2b(repr(row).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def table_stats(db: ResolvedDatabase, schema: str | None = None) -> dict[str, dict[str, int]]:
    """{table: {rows, checksum}} of the file `schema` (default: the live one), after
    `PRAGMA integrity_check` passes; the checksum does not depend on row order."""
    file = schema or db.database
    if not Path(file).is_file():
        return {}
    with _open(file) as conn:
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise BackupError(
                    f"database {db.name}: {Path(file).name} fails PRAGMA integrity_check "
                    f"({'; '.join(verdict[:3])})"
                )
            names = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            ).fetchall()
            stats = {}
            for (name,) in names:
                rows = checksum = 0
                for row in conn.execute(f'SELECT * FROM "{name}"'):
                    rows += 1
                    checksum = (checksum + _row_hash(row)) % (1 << 63)
                stats[name] = {"rows": rows, "checksum": checksum}
            return stats
        except sqlite3.Error as exc:
            raise BackupError(f"database {db.name}: {Path(file).name} unreadable ({exc})") from None


def schema_fingerprint(db: ResolvedDatabase) -> dict[str, Any]:
    """Each table's CREATE statements (table and indexes) from sqlite_master, hashed."""
    tables: dict[str, list[str]] = {}
    if Path(db.database).is_file():
        with _open(db.database) as conn:
            for kind, name, table, sql in conn.execute(
                "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY tbl_name, type, name"
            ):
                tables.setdefault(table, []).append(f"{kind} {name} {sql}")
    return fingerprint(tables)


def scratch_name(db: ResolvedDatabase, purpose: str) -> str:
    """A file beside the live one (the same filesystem: a swap is a rename)."""
    return f"{db.database}.{purpose}-{secrets.token_hex(3)}"


def create_empty(db: ResolvedDatabase, name: str) -> None:
    """Nothing to create: the app makes the file (its directory exists)."""
    provision(db)


def drop_database(db: ResolvedDatabase, name: str) -> None:
    for suffix in ("", *SIDECARS):
        Path(name + suffix).unlink(missing_ok=True)


def dump(
    db: ResolvedDatabase,
    dest: Path,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """An online copy through the backup API (pages copied in steps, the app writing on),
    gzipped into `dest` (0600, sealed when a key is given); returns the stored file's SHA-256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    copy = dest.with_name(f".{dest.name}.copy")
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        with closing(sqlite3.connect(copy)) as target:
            if Path(db.database).is_file():
                with _open(db.database) as source:
                    source.backup(target, pages=4096)
        os.chmod(copy, 0o600)
        writer = SealedWriter(tmp, key)
        try:
            gz = gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=1)  # type: ignore[arg-type]
            with gz as out, open(copy, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    out.write(block)
                    if progress:
                        progress(handle.tell())
        finally:
            digest = writer.close()
        os.replace(tmp, dest)
    except sqlite3.Error as exc:
        raise DatabaseError(f"database {db.name}: copy failed ({exc})") from None
    finally:
        copy.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return digest


def load_into_scratch(
    db: ResolvedDatabase,
    dump: Path,
    schema: str,
    key: bytes | None = None,
    contained: bool = False,
) -> None:
    """The dump unpacked into the file `schema` (with the live file's owner and mode) and
    checked by `PRAGMA integrity_check`; on failure it is removed. `contained` changes
    nothing: loading a file runs no statement."""
    scratch = Path(schema)
    try:
        with opened(dump, key) as raw, gzip.open(raw, "rb") as handle, open(scratch, "xb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        _like_live(db, scratch)
        table_stats(db, schema)  # integrity first
    except BaseException as exc:
        drop_database(db, schema)
        if isinstance(exc, (OSError, EOFError)):
            raise BackupError(f"database {db.name}: the copy does not load ({exc})") from None
        raise


def _like_live(db: ResolvedDatabase, scratch: Path) -> None:
    live = Path(db.database)
    if not live.is_file():
        os.chmod(scratch, 0o640)
        return
    st = live.stat()
    os.chmod(scratch, st.st_mode & 0o7777)
    if os.geteuid() == 0:
        os.chown(scratch, st.st_uid, st.st_gid)


def swap_in(db: ResolvedDatabase, scratch: str) -> str:
    """The restored file renamed over the live one (its services are stopped); the old file
    and its -wal/-shm are kept aside under the returned name until dropped."""
    live, aside = Path(db.database), scratch_name(db, "old")
    moved: list[str] = []
    try:
        if live.is_file():
            os.link(live, aside)
        for suffix in SIDECARS:  # never let the old file's journal meet the restored one
            if Path(f"{live}{suffix}").exists():
                os.replace(f"{live}{suffix}", aside + suffix)
                moved.append(suffix)
        os.replace(scratch, live)
        fsync_dir(live.parent)
    except OSError as exc:
        for suffix in moved:  # the live file keeps its own journal
            os.replace(aside + suffix, f"{live}{suffix}")
        raise BackupError(
            f"database {db.name}: swapping the restored file in failed ({exc})"
        ) from None
    return aside
