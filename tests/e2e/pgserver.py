"""A team's shared Prefect server for tests: a throwaway PostgreSQL on a temp dir and a free port,
and `prefect server start` on it (no SQLite lock stalls with several workers)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from tests.conftest import free_port

__all__ = ["ADMIN_PASSWORD", "BIN", "as_admin", "drop_app", "postgres", "prefect_server"]

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
ADMIN_PASSWORD = "pg-admin-Secret-77"  # the superuser's, over TCP (SCRAM); the socket trusts


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def postgres() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL on a temp dir and a free port: (asyncpg URL, port). Over TCP
    every role logs in with its password (SCRAM), as on a real server."""
    # outside pytest's root-only tmp tree: the postgres user must be able to reach it
    data = Path(tempfile.mkdtemp(prefix="deployflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = free_port()
    pwfile = data / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres")
    initdb = [f"{BIN[-1]}/initdb", "-D", str(data / "db"), "-U", "postgres"]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    pwfile.unlink()
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = data / "server.log"  # the server must not hold our pipes open
    subprocess.run(
        _as_postgres(
            [f"{BIN[-1]}/pg_ctl", "-D", str(data / "db"), "-o", opts, "-l", str(log), "-w", "start"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    subprocess.run(
        _as_postgres(
            [f"{BIN[-1]}/createdb", "-h", str(data), "-p", str(port), "-U", "postgres", "prefect"]
        ),
        check=True,
        capture_output=True,
    )
    yield f"postgresql+asyncpg://postgres:{ADMIN_PASSWORD}@127.0.0.1:{port}/prefect", port
    stop = [f"{BIN[-1]}/pg_ctl", "-D", str(data / "db"), "-m", "immediate", "stop"]
    subprocess.run(_as_postgres(stop), capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def prefect_server(postgres: tuple[str, int], home: Path) -> Iterator[tuple[str, int]]:
    """`prefect server start` on that database: (API URL, the database's port)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_API_DATABASE_CONNECTION_URL=postgres[0], PREFECT_HOME=str(home))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    ends = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < ends and server.poll() is None, "the server did not start"
        time.sleep(0.5)
    yield url, postgres[1]
    os.killpg(server.pid, 15)
    server.wait(timeout=30)


def as_admin(port: int, dbname: str = "postgres") -> psycopg.Connection:
    """The session server's superuser, over TCP with its password (autocommit)."""
    return psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=ADMIN_PASSWORD,
        dbname=dbname,
        autocommit=True,
    )


def drop_app(port: int, name: str) -> None:
    """A test's app database (and any scratch copies named after it) and its role, gone."""
    with as_admin(port) as conn:
        found = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",))
        for (db,) in found.fetchall():
            conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')
