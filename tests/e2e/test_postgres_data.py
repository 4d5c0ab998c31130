"""Issue 22, PostgreSQL: a stack whose database is PostgreSQL (the session's throwaway server,
password logins over TCP) gets what MariaDB has, read back from the database itself: the role
and database created over `admin_url`, a `pg_dump -Fc` in every backup with per-table row counts
and checksums, a restore test into a scratch database, a restore swapped in, a failed migration
rolled back with the data as it was, the rollback guard across a schema change and
`rollback --with-database`, a `postgres:` health check, and no password anywhere it is shown."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Stack, stop_everything, write_tiny_stack
from tests.e2e.pgserver import ADMIN_PASSWORD, as_admin, drop_app

APP_PASSWORD = "app-Pw-3f9c1e"
APP = """\
    migrations: {database: main, dir: migrations}"""
DATABASES = """\
secrets: [PG_ADMIN_URL]
databases:
  main:
    engine: postgresql
    port: "{{ PG_PORT }}"
    name: pgapp
    user: pgapp
    password: "{{ DB_PASSWORD }}"
    admin_url: "{{ PG_ADMIN_URL }}"
backup: {include: [configs, release, database]}
"""


@pytest.fixture
def pgstack(tmp_path: Path, prefect_api: str, pg_server: tuple[str, int]) -> Iterator[Stack]:
    port = pg_server[1]
    write_tiny_stack(tmp_path, "pgapp", APP)
    migrations = tmp_path / "app" / "migrations"
    migrations.mkdir()
    (migrations / "001_items.sql").write_text(
        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL);\n"
        "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');\n"
    )
    s = Stack(tmp_path / "deployflow.yaml", tmp_path / "root", {})
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    s.env.update(
        DEPLOYFLOW_HOME=str(tmp_path / "home"),
        PGAPP_PASSWORD=APP_PASSWORD,
        PG_ADMIN_URL=f"postgresql://postgres:{ADMIN_PASSWORD}@127.0.0.1:{port}/postgres",
    )
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.edit(
        'vars: {PORT: "',
        f'vars: {{PG_PORT: "{port}", DB_PASSWORD: {{secret: PGAPP_PASSWORD}}, '
        'PG_ADMIN_URL: {secret: PG_ADMIN_URL}, PORT: "',
    )
    s.edit("paths:", DATABASES + "paths:")
    s.edit("    health:\n", "    health:\n      - postgres: main\n")
    yield s
    stop_everything(s.root)
    drop_app(pg_server[1], "pgapp")


def _data(port: int) -> dict[str, list[tuple]]:
    """Every table of the app's database, row by row (read as the superuser)."""
    with as_admin(port, "pgapp") as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name <> 'deployflow_migrations' "
                "ORDER BY 1"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}


def _sql(port: int, query: str) -> None:
    with as_admin(port, "pgapp") as conn:
        conn.execute(query)


def _leftovers(port: int) -> list[str]:
    """Scratch databases and loader roles a restore or restore test left behind."""
    with as_admin(port) as conn:
        dbs = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'pgapp\\_\\_%'")
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'df\\_load\\_%'")
        return [r[0] for r in dbs.fetchall()] + [r[0] for r in roles.fetchall()]


def _error(proc) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    return lines[0]


def test_postgresql_backup_restore_and_rollback(
    pgstack: Stack, pg_server: tuple[str, int], prefect_api: str
) -> None:
    port = pg_server[1]
    shown = pgstack.cli("run", "full").stdout
    v1 = pgstack.current()
    before = _data(port)
    assert before == {"items": [(1, "one"), (2, "two"), (3, "three")]}
    health = json.loads(pgstack.cli("health", "--json", check=False).stdout)  # host CPU may grade
    checks = health["checks"]
    assert any(c["name"].startswith("postgres pgapp@") and c["ok"] for c in checks), checks

    # a backup: a pg_dump -Fc (0600) with what each table held
    made = json.loads(pgstack.cli("backup", "create", "--json").stdout)
    backup = Path(made["path"])
    dump = backup / "database" / "main.pgdump"
    assert dump.read_bytes()[:5] == b"PGDMP" and stat.S_IMODE(dump.stat().st_mode) == 0o600
    meta = json.loads((backup / "metadata.json").read_text())
    recorded = meta["databases"]["main"]
    assert recorded["engine"] == "postgresql" and recorded["tables"]["items"]["rows"] == 3

    # the restore test loads it into a scratch database, compares, and leaves nothing behind
    out = pgstack.cli("backup", "verify", made["id"], "--restore-test").stdout
    assert "restore test of main: same tables, rows and checksums" in out
    assert _leftovers(port) == []

    # the data changes; a restore of the database puts it back exactly
    _sql(port, "UPDATE items SET name = 'changed' WHERE id = 2; DELETE FROM items WHERE id = 3")
    pgstack.cli("backup", "restore", made["id"], "--only", "database", "--force")
    assert _data(port) == before and _leftovers(port) == []

    # a deploy whose second migration fails: code and data are back as they were
    migrations = pgstack.dir / "app" / "migrations"
    (migrations / "002_orders.sql").write_text(
        "CREATE TABLE orders (id INT PRIMARY KEY, total INT);\nINSERT INTO orders VALUES (1, 10);\n"
    )
    (migrations / "003_broken.sql").write_text(
        "UPDATE items SET name = 'migrating';\nTHIS IS NOT SQL;\n"
    )
    (pgstack.dir / "app" / "VERSION").write_text("v2\n")
    proc = pgstack.cli("run", "full", check=False)
    assert "migration failed" in _error(proc)
    assert pgstack.current() == v1 and _data(port) == before

    # a schema change that works; new rows after it; the guard; then back with the data
    (migrations / "003_broken.sql").unlink()
    pgstack.cli("run", "full")
    v2 = pgstack.current()
    _sql(port, "INSERT INTO orders VALUES (2, 20)")
    line = _error(pgstack.cli("rollback", check=False))
    assert "orders" in line and "--with-database" in line and pgstack.current() == v2
    out = pgstack.cli("rollback", "--with-database").stdout
    assert f"restored from backup {v2}" in out
    assert pgstack.current() == v1 and _data(port) == before and _leftovers(port) == []

    # an admin_url with a wrong password: one line naming it, and the live release stays
    env = {**pgstack.env, "PG_ADMIN_URL": pgstack.env["PG_ADMIN_URL"].replace("Secret", "Wrong")}
    (pgstack.dir / "app" / "VERSION").write_text("v3\n")
    bad = pgstack.cli_env(env, "run", "full", check=False)
    assert "admin_url" in bad.stdout + bad.stderr and "Traceback" not in bad.stderr
    assert bad.returncode != 0 and pgstack.current() == v1 and _data(port) == before

    # no password in what was shown, written beside the backups, or stored by Prefect
    logs = httpx.post(f"{prefect_api}/logs/filter", json={"limit": 200, "sort": "TIMESTAMP_DESC"})
    reports = "".join(p.read_text() for p in (pgstack.root / "reports").rglob("*.json"))
    seen = shown + out + json.dumps(meta) + reports + logs.text + proc.stdout + proc.stderr
    seen += bad.stdout + bad.stderr
    assert APP_PASSWORD not in seen and ADMIN_PASSWORD not in seen and "pg-admin-Wrong" not in seen
