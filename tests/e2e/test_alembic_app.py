"""Issue 22 on an app shaped like the FastAPI + SQLAlchemy + Alembic template, on PostgreSQL
(the session's server, password logins): its `.env` rendered from secrets and read by its
service, its release phase (`alembic upgrade head`, online), the revision each release records,
its test suite (which deletes every row) run against a throwaway database, a migration that
commits half its work reported as data changed and NOT restored (exit 3, the old release
serving throughout), and a rollback across revisions taken back by `down:` (alembic downgrade).
Everything is read back from PostgreSQL and from the service itself."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Stack, stop_everything
from tests.e2e.pgserver import ADMIN_PASSWORD, as_admin, drop_app

APP = Path(__file__).parent / "apps" / "alembic_pg" / "app"
PASSWORD = "alembic-App-Pw-51"
STACK = """\
project: alembicapp
secrets: [PG_ADMIN_URL]
vars:
  PORT: "{port}"
  PG_PORT: "{pg_port}"
  DB_PASSWORD: {{secret: ALEMBIC_DB_PASSWORD}}
  PG_ADMIN_URL: {{secret: PG_ADMIN_URL}}
paths: {{root: ./root}}
databases:
  main:
    engine: postgresql
    port: "{{{{ PG_PORT }}}}"
    name: alembicapp
    user: alembicapp
    password: "{{{{ DB_PASSWORD }}}}"
    admin_url: "{{{{ PG_ADMIN_URL }}}}"
backup: {{include: [configs, release, database]}}
apps:
  api:
    source: app
    configs: [{{template: api.env.j2, dest: .env, mode: "0600"}}]
    env_file: .env
    release: [["{{{{ sys.python }}}}", -m, alembic, upgrade, head]]
    migrate: online
    version: ["{{{{ sys.python }}}}", dbversion.py]
    down: [["{{{{ sys.python }}}}", -m, alembic, downgrade, "{{{{ target.version }}}}"]]
    tests: [["{{{{ sys.python }}}}", -m, pytest, -q, -p, no:cacheprovider, tests]]
    test_database: main
    services: [api]
    health:
      - http: "http://127.0.0.1:{{{{ PORT }}}}/health"
        expect: {{json: {{db: ok}}}}
      - postgres: main
services:
  api:
    command: "{{{{ sys.python }}}} -m uvicorn main:app --host 127.0.0.1 --port {{{{ PORT }}}}"
    port: "{{{{ PORT }}}}"
    stop_grace: 3
verify: {{deadline: 15, interval: 0.25}}
"""
ENV = (
    "DATABASE_URL=postgresql+psycopg://alembicapp:{{ DB_PASSWORD }}"
    "@127.0.0.1:{{ PG_PORT }}/alembicapp\n"
)
HALF = '''\
"""an index built concurrently (committed at once), then an update that fails on production's
rows only (the tests' empty database passes)"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("items_by_name", "items", ["name"], postgresql_concurrently=True)
    op.execute("UPDATE items SET name = name || (1 / (id - 3))::text WHERE id = 3")


def downgrade() -> None:
    op.drop_index("items_by_name")
'''
NOTE = '''\
"""a nullable column: backward compatible, safe online"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("items", sa.Column("note", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "note")
'''


@pytest.fixture
def api(tmp_path: Path, prefect_api: str, pg_server: tuple[str, int]) -> Iterator[Stack]:
    shutil.copytree(APP, tmp_path / "app")
    (tmp_path / "api.env.j2").write_text(ENV)
    port = free_port()
    (tmp_path / "deployflow.yaml").write_text(STACK.format(port=port, pg_port=pg_server[1]))
    s = Stack(tmp_path / "deployflow.yaml", tmp_path / "root", {})
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    s.env.update(
        DEPLOYFLOW_HOME=str(tmp_path / "home"),
        ALEMBIC_DB_PASSWORD=PASSWORD,
        PG_ADMIN_URL=f"postgresql://postgres:{ADMIN_PASSWORD}@127.0.0.1:{pg_server[1]}/postgres",
    )
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.port = port  # type: ignore[attr-defined]
    yield s
    stop_everything(s.root)
    drop_app(pg_server[1], "alembicapp")


def _columns(port: int) -> list[str]:
    with as_admin(port, "alembicapp") as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' "
            "ORDER BY ordinal_position"
        ).fetchall()
    return [r[0] for r in rows]


def _indexes(port: int) -> list[str]:
    with as_admin(port, "alembicapp") as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'items'")
        return sorted(r[0] for r in rows.fetchall())


def _leftovers(port: int) -> list[str]:
    with as_admin(port) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'alembicapp\\_\\_%'"
        ).fetchall()
    return [r[0] for r in rows]


def _service_pid(s: Stack) -> int:
    return json.loads((s.root / ".deployflow" / "run" / "api.pid").read_text())["pid"]


def test_an_alembic_app_on_postgresql(api: Stack, pg_server: tuple[str, int]) -> None:
    port, url = pg_server[1], f"http://127.0.0.1:{api.port}"  # type: ignore[attr-defined]
    first = api.cli("run", "full")
    v1 = api.current()
    health = httpx.get(f"{url}/health").json()
    assert health == {"release": v1, "db": "ok", "items": 2}  # its .env reached the service
    assert "tests use the throwaway database alembicapp__test_" in first.stdout + first.stderr
    assert _leftovers(port) == []  # the tests' database is gone, and they wiped only it

    versions = json.loads((api.root / ".deployflow" / "schemas" / f"{v1}.json").read_text())
    assert versions["versions"] == {"api": "0001"}

    # a backward-compatible revision, online: the old release serves while it migrates
    (api.dir / "app" / "migrations" / "versions" / "0002_note.py").write_text(NOTE)
    api.cli("run", "full")
    v2 = api.current()
    assert "note" in _columns(port) and httpx.get(f"{url}/items").json()[0]["name"] == "first"

    # half a migration commits (an index built concurrently), then it fails: the old release
    # served throughout and the report says the data changed and was not restored
    serving = _service_pid(api)
    with as_admin(port, "alembicapp") as conn:  # a row production has and the tests do not
        conn.execute("INSERT INTO items (id, name) VALUES (3, 'a customer''s')")
    (api.dir / "app" / "migrations" / "versions" / "0003_half.py").write_text(HALF)
    proc = api.cli("run", "full", check=False)
    ours = [line for line in proc.stderr.splitlines() if line.startswith("Traceback")]
    assert proc.returncode == 3 and not ours, proc.stderr[-2000:]  # alembic's own is logged
    assert "**Data:** changed and NOT restored" in proc.stdout
    assert "main.items" in proc.stdout + proc.stderr
    assert api.current() == v2 and _service_pid(api) == serving
    assert "items_by_name" in _indexes(port)

    # the operator cleans up; a rollback across revisions runs down: (alembic downgrade)
    with as_admin(port, "alembicapp") as conn:
        conn.execute("DROP INDEX items_by_name")
    (api.dir / "app" / "migrations" / "versions" / "0003_half.py").unlink()
    out = api.cli("rollback").stdout
    assert "schema taken back by down: (api to version 0001)" in out
    assert api.current() == v1 and "note" not in _columns(port)
    assert httpx.get(f"{url}/health").json() == {"release": v1, "db": "ok", "items": 3}
