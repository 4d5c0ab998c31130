"""SQLite as an engine, on real files: an online copy restored faithfully, a corrupted file
refused by its integrity check, a failing migration file leaving nothing behind, and a swap
that keeps the old file (and its journal) aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import SecretStr

from deployflow.backends import sqlite
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import BackupError, DatabaseError


def _db(tmp_path: Path) -> ResolvedDatabase:
    file = str(tmp_path / "instance" / "app.sqlite")
    return ResolvedDatabase("main", "sqlite", "", 0, file, "", SecretStr(""), None)


def _fill(db: ResolvedDatabase, rows: int = 50) -> None:
    sqlite.provision(db)
    with sqlite3.connect(db.database) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, n REAL)")
        conn.executemany(
            "INSERT INTO posts VALUES (?, ?, ?)", [(i, f"t{i}", i / 3) for i in range(rows)]
        )


def test_a_copy_loads_back_with_the_same_rows_and_checksums(tmp_path: Path) -> None:
    db = _db(tmp_path)
    _fill(db)
    recorded = sqlite.table_stats(db)
    dump = tmp_path / "backup" / "main.sqlite.gz"
    sqlite.dump(db, dump)
    with sqlite3.connect(db.database) as conn:
        conn.execute("DELETE FROM posts WHERE id < 10")
    assert sqlite.table_stats(db) != recorded
    scratch = sqlite.scratch_name(db, "restore")
    sqlite.load_into_scratch(db, dump, scratch)
    assert sqlite.table_stats(db, scratch) == recorded
    Path(db.database + "-wal").write_bytes(b"old journal")
    aside = sqlite.swap_in(db, scratch)
    assert sqlite.table_stats(db) == recorded and not Path(db.database + "-wal").exists()
    assert Path(aside + "-wal").read_bytes() == b"old journal"
    sqlite.drop_database(db, aside)
    assert sorted(p.name for p in Path(db.database).parent.iterdir()) == ["app.sqlite"]


def test_a_corrupted_file_fails_its_integrity_check(tmp_path: Path) -> None:
    db = _db(tmp_path)
    _fill(db, rows=2000)
    data = bytearray(Path(db.database).read_bytes())
    data[8192 : 8192 + 64] = b"\xff" * 64  # a table page's header
    Path(db.database).write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"integrity_check|unreadable"):
        sqlite.table_stats(db)


def test_a_failing_migration_file_leaves_nothing_of_itself(tmp_path: Path) -> None:
    db = _db(tmp_path)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001.sql").write_text("CREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);\n")
    (migrations / "002.sql").write_text("CREATE TABLE b (id INT);\nNOT SQL;\n")
    with pytest.raises(DatabaseError, match="migration failed"):
        sqlite.apply_migrations(db, migrations, lambda _line: None)
    assert set(sqlite.table_stats(db)) == {"a", "deployflow_migrations"}
    (migrations / "002.sql").write_text("CREATE TABLE b (id INT);\n")
    assert sqlite.apply_migrations(db, migrations, lambda _line: None) == ["002.sql"]
