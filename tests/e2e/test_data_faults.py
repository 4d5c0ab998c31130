"""The fault suite on the other engines: a stack with a SQLite database (app `web`, in its shared
`instance/`) and a PostgreSQL one (app `jobs`, on the session's server), each migrated by the
deploy. For every stage that runs, a failure (exit) and a kill -9 of the deploy: afterwards the
previous release is live and answering, and both databases hold exactly what they held before
(SQLite's dump and PostgreSQL's rows and columns, read back)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from deployflow.ops.pipeline import STAGES
from tests.e2e.conftest import Stack, kill_at, stop_everything, write_tiny_stack
from tests.e2e.pgserver import ADMIN_PASSWORD, as_admin, drop_app

# drain: blue-green only; release: online release commands only (tests/ops/test_release_phase.py)
FAULTS = [
    (s.name, kind)
    for s in STAGES
    if s.name not in ("drain", "release")
    for kind in ("exit", "kill")
]
APP = """\
    shared: [instance/]
    tests: [["true"]]
    migrations: {database: lite, dir: migrations}"""
MORE = """\
  jobs:
    source: jobs
    migrations: {database: pg, dir: migrations}
databases:
  lite: {engine: sqlite, path: web/instance/app.sqlite}
  pg:
    engine: postgresql
    port: "{{ PG_PORT }}"
    name: faultsdb
    user: faultsdb
    password: "{{ DB_PASSWORD }}"
    admin_url: "{{ PG_ADMIN_URL }}"
backup: {include: [configs, release, database]}
"""


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, prefect_api: str, pg_server: tuple[str, int]
) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("datafaults")
    write_tiny_stack(base, "datafaults", APP)
    for app, db in (("app", "lite"), ("jobs", "pg")):
        (base / app / "migrations").mkdir(parents=True)
        (base / app / "migrations" / "001.sql").write_text(
            f"CREATE TABLE {db}_rows (id INT PRIMARY KEY, v TEXT);\n"
            f"INSERT INTO {db}_rows VALUES (1, 'one'), (2, 'two');\n"
        )
    s = Stack(base / "deployflow.yaml", base / "root", {})
    text = s.file.read_text().replace("services:\n  web:", MORE + "services:\n  web:", 1)
    s.file.write_text(text)
    s.edit(
        'vars: {PORT: "',
        f'vars: {{PG_PORT: "{pg_server[1]}", DB_PASSWORD: {{secret: FAULTS_PW}}, '
        'PG_ADMIN_URL: {secret: FAULTS_ADMIN}, PORT: "',
    )
    s.edit("paths:", "secrets: [PG_ADMIN_URL]\npaths:")
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    s.env.update(
        DEPLOYFLOW_HOME=str(base / "home"),
        FAULTS_PW="faults-Pw-8",
        FAULTS_ADMIN=f"postgresql://postgres:{ADMIN_PASSWORD}@127.0.0.1:{pg_server[1]}/postgres",
    )
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.cli("run", "full")
    yield s
    stop_everything(s.root)
    drop_app(pg_server[1], "faultsdb")


def _data(s: Stack, port: int) -> tuple[list[str], list[tuple]]:
    """SQLite's whole dump, and PostgreSQL's tables, columns and rows."""
    with sqlite3.connect(s.root / "shared" / "web" / "instance" / "app.sqlite") as conn:
        lite = [line for line in conn.iterdump() if "deployflow_migrations" not in line]
    with as_admin(port, "faultsdb") as conn:
        cols = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'deployflow_migrations' "
            "ORDER BY 1, 2"
        ).fetchall()
        rows = conn.execute("SELECT * FROM pg_rows ORDER BY id").fetchall()
    return lite, cols + rows


@pytest.mark.parametrize(("stage", "kind"), FAULTS)
def test_a_fault_leaves_release_and_data_as_they_were(
    live: Stack, pg_server: tuple[str, int], stage: str, kind: str
) -> None:
    port = pg_server[1]
    before, data = live.current(), _data(live, port)
    (live.dir / "app" / "VERSION").write_text(f"{stage}-{kind}\n")
    for app, db in (("app", "lite"), ("jobs", "pg")):  # each deploy migrates both databases
        (live.dir / app / "migrations" / "002.sql").write_text(
            f"ALTER TABLE {db}_rows ADD COLUMN extra INT;\nUPDATE {db}_rows SET v = 'changed';\n"
        )
    env = {**live.env, "DEPLOYFLOW_FAILPOINTS": f"{stage}={'exit' if kind == 'exit' else 'hang'}"}
    if kind == "exit":
        proc = live.cli_env(env, "run", "full", check=False)
        assert proc.returncode == 1 and f"failpoint {stage}: injected failure" in proc.stderr
    else:
        kill_at(live, stage, env)
        live.cli("recover")
    assert live.current() == before and _data(live, port) == data
    port_line = next(line for line in live.file.read_text().splitlines() if "PORT:" in line)
    web = port_line.split('PORT: "')[-1].split('"')[0]
    assert httpx.get(f"http://127.0.0.1:{web}/").text == "v1"
    assert not (live.root / ".deployflow" / "journal.json").exists()
