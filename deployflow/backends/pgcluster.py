"""A private PostgreSQL for the local Prefect server (its SQLite stalls with three or more
workers): initialised once (initdb, password auth), started and stopped by deployflow (pg_ctl)
on a free port of 127.0.0.1, with a `prefect` database. No set-up by the user. PostgreSQL runs
as the invoking user, or as `postgres` when that is root (it refuses root); then its data lives
under /var/lib/deployflow, which that user can reach (root's home it cannot)."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import secrets
import shutil
import socket
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.files import atomic_write
from deployflow.errors import CommandError, DeployflowError

__all__ = ["cluster_url", "start_cluster", "stop_cluster"]

SYSTEM_BASE = Path("/var/lib/deployflow")


def _bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise DeployflowError(
            "PostgreSQL is not installed (Debian's postgresql: ./scripts/install installs it)"
        )
    return found[-1]


def _runs_as() -> str | None:
    """The user PostgreSQL runs as when it is not this process's (root: `postgres`)."""
    return "postgres" if os.geteuid() == 0 else None


def _data_dir(home: Path) -> Path:
    if _runs_as() is None:
        return home / "postgres"
    key = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
    return SYSTEM_BASE / f"postgres-{key}"


def _pg(tool: str, *args: object, timeout: float = 120) -> Command:
    return Command.of([_bin(tool), *args], timeout=timeout, user=_runs_as(), cwd=Path("/"))


def _state(home: Path) -> dict:
    try:
        return json.loads((home / "postgres.json").read_text())
    except (OSError, ValueError):
        return {}


def cluster_url(home: Path) -> str | None:
    """The asyncpg URL of the running cluster (None when it does not run)."""
    state, data = _state(home), _data_dir(home)
    if not state or not (data / "postmaster.pid").exists():
        return None
    status = run(_pg("pg_ctl", "-D", data, "status"), check=False)
    if status.returncode != 0:
        return None
    return f"postgresql+asyncpg://prefect:{state['password']}@127.0.0.1:{state['port']}/prefect"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _init(home: Path, data: Path) -> str:
    """initdb with password auth (no local user gets in without it): the password, 0600."""
    password = secrets.token_urlsafe(24)
    data.mkdir(parents=True, mode=0o700)
    pwfile = data.parent / f".{data.name}.pw"
    atomic_write(pwfile, password + "\n", 0o600)
    who = _runs_as()
    if who is not None:
        shutil.chown(data, who)
        shutil.chown(pwfile, who)
    try:
        argv = ["-D", data, "-U", "prefect", "--pwfile", pwfile, "-A", "scram-sha-256"]
        run(_pg("initdb", *argv, "-E", "UTF8"), on_line=lambda _l: None)
    finally:
        pwfile.unlink(missing_ok=True)
    return password


def start_cluster(home: Path) -> str:
    """The cluster running (initialised on first use), its `prefect` database made: its URL."""
    url = cluster_url(home)
    if url is not None:
        return url
    data = _data_dir(home)
    state = _state(home)
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)  # a half-made cluster from an interrupted first start
        state = {"password": _init(home, data)}
    if "password" not in state:
        raise DeployflowError(f"{home / 'postgres.json'} is missing; remove {data} to start anew")
    state["port"] = _free_port()
    atomic_write(home / "postgres.json", json.dumps(state), 0o600)
    options = f"-p {state['port']} -c listen_addresses=127.0.0.1 -k {data}"
    log = data / "server.log"
    try:
        run(_pg("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"))
        if "1" not in run(_psql(state, _EXISTS), on_line=lambda _l: None).tail:
            run(_psql(state, "CREATE DATABASE prefect"), on_line=lambda _l: None)
    except CommandError as exc:
        raise DeployflowError(f"the private PostgreSQL did not start ({exc}); see {log}") from None
    return f"postgresql+asyncpg://prefect:{state['password']}@127.0.0.1:{state['port']}/prefect"


_EXISTS = "SELECT 1 FROM pg_database WHERE datname = 'prefect'"


def _psql(state: dict, sql: str) -> Command:
    """One statement as the cluster's `prefect` role, over TCP with its password."""
    argv = [_bin("psql"), "-h", "127.0.0.1", "-p", state["port"], "-U", "prefect"]
    return Command.of(
        [*argv, "-d", "postgres", "-tAc", sql],
        env={"PGPASSWORD": state["password"]},
        secrets=(state["password"],),
        timeout=60,
    )


def stop_cluster(home: Path) -> None:
    data = _data_dir(home)
    if (data / "postmaster.pid").exists():
        run(_pg("pg_ctl", "-D", data, "-m", "fast", "-w", "stop"), check=False)
