"""Issue 22, SQLite: an app shaped like the Flask tutorial keeps its database in a shared
`instance/` dir. Its backups copy it online (SQLite's backup API, not tar: the files archive
leaves it out), `verify --restore-test` runs `PRAGMA integrity_check` and compares rows, a
restore swaps the file in with the app stopped and starts it again, a failed migration leaves
the data as it was, and the rollback guard and `--with-database` hold: read back from the file."""

from __future__ import annotations

import json
import os
import sqlite3
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zstandard

from tests.e2e.conftest import Stack, stop_everything, write_tiny_stack

APP = """\
    shared: [instance/]
    migrations: {database: main, dir: migrations}"""
DATABASES = """\
databases:
  main: {engine: sqlite, path: web/instance/app.sqlite}
backup: {include: [configs, release, database, files]}
"""


@pytest.fixture
def litestack(tmp_path: Path, prefect_api: str) -> Iterator[Stack]:
    port = write_tiny_stack(tmp_path, "liteapp", APP)
    migrations = tmp_path / "app" / "migrations"
    migrations.mkdir()
    (migrations / "001_posts.sql").write_text(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB);\n"
        "INSERT INTO posts VALUES (1, 'hello', x'00ff'), (2, 'world', NULL);\n"
    )
    s = Stack(tmp_path / "deployflow.yaml", tmp_path / "root", {})
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    s.env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.edit("paths:", DATABASES + "paths:")
    s.port = port  # type: ignore[attr-defined]
    yield s
    stop_everything(s.root)


def _file(s: Stack) -> Path:
    return s.root / "shared" / "web" / "instance" / "app.sqlite"


def _data(s: Stack) -> dict[str, list[tuple]]:
    with sqlite3.connect(f"file:{_file(s)}?mode=ro", uri=True) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT IN ('deployflow_migrations') ORDER BY 1"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}


def _sql(s: Stack, query: str) -> None:
    conn = sqlite3.connect(_file(s))
    with conn:
        conn.executescript(query)
    conn.close()


def _error(proc) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    return lines[0]


def _archived(path: Path) -> set[str]:
    with open(path, "rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            return {m.name for m in tar}


def test_sqlite_backup_restore_and_rollback(litestack: Stack) -> None:
    s = litestack
    s.cli("run", "full")
    v1 = s.current()
    before = _data(s)
    assert before == {"posts": [(1, "hello", b"\x00\xff"), (2, "world", None)]}
    (_file(s).parent / "upload.txt").write_text("kept\n")

    # a consistent copy of the file; the files archive holds the rest of instance/
    made = json.loads(s.cli("backup", "create", "--json").stdout)
    backup = Path(made["path"])
    meta = json.loads((backup / "metadata.json").read_text())
    assert meta["databases"]["main"]["engine"] == "sqlite"
    assert meta["databases"]["main"]["tables"]["posts"]["rows"] == 2
    assert (backup / "database" / "main.sqlite.gz").is_file()
    archived = _archived(backup / "files.tar.zst")
    assert "web/instance/upload.txt" in archived and "web/instance/app.sqlite" not in archived
    out = s.cli("backup", "verify", made["id"], "--restore-test").stdout
    assert "restore test of main: same tables, rows and checksums" in out

    # everything changes; a full restore puts data and files back, the app running again
    _sql(s, "UPDATE posts SET title = 'changed' WHERE id = 1; DELETE FROM posts WHERE id = 2;")
    (_file(s).parent / "upload.txt").write_text("overwritten\n")
    s.cli("backup", "restore", made["id"], "--force")
    assert _data(s) == before
    assert (_file(s).parent / "upload.txt").read_text() == "kept\n"
    assert sorted(p.name for p in _file(s).parent.iterdir()) == ["app.sqlite", "upload.txt"]
    assert httpx.get(f"http://127.0.0.1:{s.port}/").status_code == 200  # type: ignore[attr-defined]

    # a deploy whose second migration fails: code and data as they were
    migrations = s.dir / "app" / "migrations"
    (migrations / "002_tags.sql").write_text(
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n"
        "INSERT INTO tags VALUES (1, 't');\n"
    )
    (migrations / "003_broken.sql").write_text(
        "UPDATE posts SET title = 'migrating';\nTHIS IS NOT SQL;\n"
    )
    (s.dir / "app" / "VERSION").write_text("v2\n")
    assert "migration failed" in _error(s.cli("run", "full", check=False))
    assert s.current() == v1 and _data(s) == before

    # a schema change; new rows; the guard; back with the data
    (migrations / "003_broken.sql").unlink()
    s.cli("run", "full")
    v2 = s.current()
    _sql(s, "INSERT INTO tags VALUES (2, 'new');")
    line = _error(s.cli("rollback", check=False))
    assert "tags" in line and "--with-database" in line and s.current() == v2
    out = s.cli("rollback", "--with-database").stdout
    assert f"restored from backup {v2}" in out
    assert s.current() == v1 and _data(s) == before
