"""A PostgreSQL server as a stack service (`postgres: {data, port}`), with no initdb or setpriv
written by hand: the first deploy initialises and starts it (as the `postgres` user when run as
root), creates the app's role and database over its socket, migrates, verifies a `postgres:`
check and a job queue counted there, and a backup's restore test loads into a scratch database
on it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from deployflow.loading import load_stack
from deployflow.ops.backup_verify import verify_backup
from deployflow.ops.backups import snapshot_backup
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.healthview import health_report
from deployflow.ops.runner import PlainRunner
from deployflow.stages.backup import BackupOptions
from tests.conftest import free_port
from tests.e2e.conftest import stop_everything
from tests.e2e.pgserver import BIN
from tests.tinystack import write_tiny_stack

APP = """\
    migrations: {database: main, dir: migrations}
    queue: {database: main, pending: jobs, failed: failed_jobs}"""
MORE = """\
databases:
  main:
    engine: postgresql
    port: "{{ PG_PORT }}"
    name: svcapp
    user: svcapp
    password: "{{ DB_PASSWORD }}"
    admin_socket: "{{ paths.shared }}/pg"
backup: {include: [configs, release, database]}
"""


@pytest.fixture
def base() -> Iterator[Path]:
    # outside pytest's root-only tree: under root the server runs as `postgres` and must reach it
    where = Path(tempfile.mkdtemp(prefix="deployflow-pgsvc-", dir="/var/tmp"))
    os.chmod(where, 0o755)
    yield where
    stop_everything(where / "root")
    shutil.rmtree(where, ignore_errors=True)


@pytest.mark.skipif(not BIN, reason="PostgreSQL is not installed")
def test_a_postgres_service_runs_and_serves_the_apps_database(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_stack(base, "svcapp", APP)
    (base / "app" / "migrations").mkdir()
    (base / "app" / "migrations" / "001.sql").write_text(
        "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES (1, 'a');\n"
        "CREATE TABLE jobs (id INT);\nINSERT INTO jobs VALUES (1), (2);\n"
        "CREATE TABLE failed_jobs (id INT);\n"
    )
    pg_port = free_port()
    text = (base / "deployflow.yaml").read_text()
    text = text.replace(
        'vars: {PORT: "', f'vars: {{PG_PORT: "{pg_port}", DB_PASSWORD: {{secret: SVC_PW}}, PORT: "'
    )
    text = text.replace("paths:", MORE + "paths:")
    text = text.replace(
        "services:\n  web:",
        'services:\n  pg:\n    postgres: {data: "{{ paths.shared }}/pg", port: "{{ PG_PORT }}"}\n'
        "  web:",
    )
    text = text.replace("    health:\n", "    health:\n      - postgres: main\n")
    (base / "deployflow.yaml").write_text(text)
    monkeypatch.setenv("SVC_PW", "svc-Pw-42")
    lines: list[str] = []
    ctx = load_stack(base / "deployflow.yaml", base / "root")
    summary = deploy(ctx, DeployOptions(), PlainRunner(lines.append))
    assert summary["result"] == "success"
    assert any(h["name"].startswith("postgres svcapp@") and h["ok"] for h in summary["health"])

    data = base / "root" / "shared" / "pg"
    assert (data / "PG_VERSION").is_file() and (data.stat().st_mode & 0o077) == 0
    if os.geteuid() == 0:
        assert data.owner() == "postgres"  # never root
    with psycopg.connect(
        host="127.0.0.1", port=pg_port, user="svcapp", password="svc-Pw-42", dbname="svcapp"
    ) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("a",)]

    queues = health_report(ctx)["queues"]  # `queue:` counted on PostgreSQL
    assert [(q["pending"], q["failed"], q["error"]) for q in queues] == [(2, 0, None)]

    info = snapshot_backup(ctx, lines.append, BackupOptions(kind="manual"))
    result = verify_backup(ctx, info.id, True, lines.append)
    assert result["ok"] and result["restore_tested"] == ["main"]
