"""The API as a real process for tests: `deployflow api migrate`, then `api serve` on a free
port, with requests carrying a key; stopped, or killed (-9), and started again on the same
database and home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import free_port
from tests.e2e.conftest import until
from tests.e2e.pgserver import ADMIN_PASSWORD, as_admin

__all__ = ["PASSWORD", "Api", "cli", "migrated", "pg_database"]

PASSWORD = "correct-Horse-88"


def cli(env: dict[str, str], *args: str, **kw) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "deployflow", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, **kw)


@dataclass
class Api:
    url: str  # its database
    env: dict[str, str]
    pg: tuple[int, str] | None = None  # (port, database) on PostgreSQL
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deployflow", "api", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

        def up() -> bool:
            try:
                return httpx.get(self.base + "/docs", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert self.proc and self.proc.poll() is None, self.proc.stderr.read()
                return False

        until(up, timeout=60)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=90)

    def kill(self) -> None:
        """SIGKILL the server alone: what it started keeps running, as after a crash."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def post(self, path: str, key: str | None = None, **kw) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        kw.setdefault("timeout", 30)
        return httpx.post(self.base + path, headers=headers, **kw)

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        return httpx.get(self.base + path, headers=headers, timeout=30)

    def register(self, email: str) -> str:
        answer = self.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 201, answer.text
        return answer.json()["api_key"]

    def rows(self, table: str) -> list[str]:
        sync = self.url.replace("postgresql://", "postgresql+psycopg://")
        engine = sa.create_engine(sync)
        try:
            with engine.connect() as conn:
                return [str(tuple(r)) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]
        finally:
            engine.dispose()

    def final(self, deployment: int, key: str, timeout: float = 300) -> dict:
        """The deployment once it is `live` or `error`."""

        def done() -> dict | None:
            row = self.get(f"/deployments/{deployment}", key).json()
            return row if row["state"] in ("live", "error") else None

        return until(done, timeout=timeout)


def migrated(url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of an API on database `url` under `home`, its schema upgraded."""
    env = {k: v for k, v in os.environ.items() if k != "DEPLOYFLOW_ROOT"}
    env |= {"DEPLOYFLOW_HOME": str(home), "DEPLOYFLOW_API_DATABASE_URL": url, **extra}
    done = cli(env, "api", "migrate")
    assert done.returncode == 0 and "revision 0002" in done.stdout, done.stderr
    return env


@contextmanager
def pg_database(port: int) -> Iterator[tuple[str, tuple[int, str]]]:
    """A fresh database on the session's PostgreSQL: (its URL, (port, name)); dropped after."""
    name = f"api_{os.getpid()}_{free_port()}"
    with as_admin(port) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres:{ADMIN_PASSWORD}@127.0.0.1:{port}/{name}", (port, name)
    finally:
        with as_admin(port) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
