"""The PostgreSQL half of bench/backup.py: a one-app stack on a private PostgreSQL (deployflow's
own, initialised under a temp home), a generated table, then `deployflow backup create` /
`backup restore --only database --force` against `pg_dump -Fc` / `createdb` + `pg_restore` by
hand, in the same run. Ours does more on restore (a safety dump first, a load into a scratch
database checked table by table, the swap); the ratio says what that costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

STACK = """\
project: benchpg
secrets: [ADMIN_URL]
vars: {{DB_PASSWORD: {{secret: BENCH_DB_PASSWORD}}, ADMIN_URL: {{secret: BENCH_ADMIN_URL}}}}
paths: {{root: ./root}}
databases:
  main:
    engine: postgresql
    port: {port}
    name: benchpg
    user: benchpg
    password: "{{{{ DB_PASSWORD }}}}"
    admin_url: "{{{{ ADMIN_URL }}}}"
backup: {{include: [configs, release, database]}}
apps:
  web: {{source: app}}
"""


def run_postgresql(
    work: Path, megabytes: int, timed: Callable[[Callable[[], object]], float]
) -> None:
    from deployflow.backends.pgcluster import start_cluster, stop_cluster
    from deployflow.backends.postgres import pg_tool

    home = work / "home"
    home.mkdir()
    url = start_cluster(home)  # postgresql+asyncpg://prefect:PW@127.0.0.1:PORT/prefect
    login, _, where = url.removeprefix("postgresql+asyncpg://").partition("@")
    password = login.split(":", 1)[1]
    port = int(where.split("/")[0].split(":")[1])
    admin = f"postgresql://prefect:{password}@127.0.0.1:{port}/postgres"
    (work / "app").mkdir()
    (work / "app" / "README").write_text("bench\n")
    stack = work / "deployflow.yaml"
    stack.write_text(STACK.format(port=port))
    env = {
        **os.environ,
        "DEPLOYFLOW_HOME": str(home),
        "BENCH_DB_PASSWORD": "bench-pw-1",
        "BENCH_ADMIN_URL": admin,
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("DEPLOYFLOW_ROOT", None)

    def cli(*args: str) -> str:
        argv = [sys.executable, "-m", "deployflow", *args, "--stack", str(stack)]
        return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout

    try:
        cli("run", "full")  # preflight creates the role and the database
        rows = max(1, megabytes) * 1000  # rows of ~1 KB
        sql = (
            "CREATE TABLE orders (id serial PRIMARY KEY, note text, total int);"
            f"INSERT INTO orders (note, total) SELECT repeat(md5(g::text), 30), g % 1000 "
            f"FROM generate_series(1, {rows}) g;"
        )
        pg = {**env, "PGPASSWORD": "bench-pw-1"}
        psql = [pg_tool("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "benchpg"]
        subprocess.run([*psql, "-d", "benchpg", "-qc", sql], env=pg, check=True)
        print(f"generated ~{megabytes} MB in benchpg.orders")
        dump = work / "hand.pgdump"
        conn = ["-h", "127.0.0.1", "-p", str(port), "-U", "benchpg"]

        def hand_backup() -> None:
            argv = [pg_tool("pg_dump"), "-Fc", "-Z", "1", *conn, "-f", str(dump), "benchpg"]
            subprocess.run(argv, env=pg, check=True)

        def hand_restore() -> None:
            admin_env = {**env, "PGPASSWORD": password}
            as_admin = ["-h", "127.0.0.1", "-p", str(port), "-U", "prefect"]
            createdb = [pg_tool("createdb"), *as_admin, "-O", "benchpg", "bench_scratch"]
            subprocess.run(createdb, env=admin_env, check=True)
            restore = [pg_tool("pg_restore"), *conn, "--no-owner", "-d", "bench_scratch", str(dump)]
            subprocess.run(restore, env=pg, check=True)
            subprocess.run(
                [pg_tool("dropdb"), *as_admin, "bench_scratch"], env=admin_env, check=True
            )

        hand = timed(hand_backup), timed(hand_restore)
        made: dict = {}
        ours_backup = timed(lambda: made.update(json.loads(cli("backup", "create", "--json"))))
        restore = ("backup", "restore", made["id"], "--only", "database", "--force")
        ours_restore = timed(lambda: cli(*restore))
        print(
            f"pg backup  deployflow {ours_backup:6.1f} s  by hand {hand[0]:6.1f} s  "
            f"ratio {ours_backup / hand[0]:.2f}  ({made['size'] / (1 << 20):.0f} MB written)"
        )
        print(
            f"pg restore deployflow {ours_restore:6.1f} s  by hand {hand[1]:6.1f} s  "
            f"ratio {ours_restore / hand[1]:.2f}  (includes a safety dump, a table-by-table "
            "check and the swap)"
        )
    finally:
        stop_cluster(home)
