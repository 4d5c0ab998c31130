"""Prefect process workers deployflow runs in the background, one per local target's work pool
(pidfile and log under DEPLOYFLOW_HOME/workers/), or in the foreground for another host."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.daemons import read_state, start_daemon, stop_daemon
from deployflow.backends.executor import Command
from deployflow.backends.prefect_server import API_AUTH, QUIET, data_dir, local_database

__all__ = [
    "POLL_SECONDS",
    "SQLITE_POLL_SECONDS",
    "WorkerInfo",
    "known_pools",
    "start_worker",
    "stop_worker",
    "wake_worker",
    "worker_api",
    "worker_command",
    "worker_status",
]

# how often a worker asks for runs (Prefect's default is 10 s; +-30% jitter): the fallback (a
# run is picked up as it is created, over the events stream or SIGUSR1) and a scheduled run's
# due time. Every poll writes to the server's database: at 1 s, three workers on the embedded
# SQLite server stalled it for 60 s (`mark_work_queues_ready` on SQLite's lock; bench/api.py),
# so on that server the workers poll every 5 s.
POLL_SECONDS = "1"
SQLITE_POLL_SECONDS = "5"
HEARTBEAT_SECONDS = "30"  # its flow runs' heartbeats (a silent run is a dead one: see apply.py)


@dataclass(frozen=True)
class WorkerInfo:
    pool: str
    pid: int | None
    log: str

    @property
    def running(self) -> bool:
        return self.pid is not None


def _paths(pool: str) -> tuple[Path, Path]:
    folder = data_dir() / "workers"
    return folder / f"{pool}.json", folder / f"{pool}.log"


def worker_command(
    pool: str, api_url: str, user: str | None = None, home: dict[str, str] | None = None
) -> Command:
    """The worker as data: deployflow's warm process worker polling `pool` every POLL_SECONDS
    (SQLITE_POLL_SECONDS on deployflow's own SQLite server; PREFECT_WORKER_QUERY_SECONDS
    overrides both), and at once when a run is scheduled
    on the pool (the events stream) or on SIGUSR1 (which `run` and webhooks send). As `user`
    (root starting it for the target's declared user), with `home`'s HOME and PREFECT_HOME."""
    name = f"deployflow-{pool}-{os.uname().nodename}-{uuid.uuid4().hex[:6]}"  # one per process
    argv = [sys.executable, "-m", "deployflow.warm.worker", "--pool", pool, "--name", name]
    env = {
        "PREFECT_API_URL": api_url,
        "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS")
        or (SQLITE_POLL_SECONDS if local_database(api_url) == "sqlite" else POLL_SECONDS),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": HEARTBEAT_SECONDS,
        "DEPLOYFLOW_HOME": str(data_dir()),  # the same home, whoever it runs as
        **QUIET,
        **(home or {}),
    }
    if os.environ.get(API_AUTH):  # never inherited (executor.PRIVATE_ENV): given on purpose
        env[API_AUTH] = os.environ[API_AUTH]
    return Command.of(argv, env=env, timeout=None, user=user)


def worker_status(pool: str) -> WorkerInfo:
    state_file, log = _paths(pool)
    _state, pid = read_state(state_file)
    return WorkerInfo(pool, pid, str(log))


def start_worker(
    pool: str, api_url: str, user: str | None = None, home: dict[str, str] | None = None
) -> WorkerInfo:
    """Start the pool's worker in the background unless it runs (on this API: one left polling
    a server that was restarted on another port is replaced); a stale pidfile is replaced."""
    state_file, log = _paths(pool)
    state, pid = read_state(state_file)
    if pid is not None and state.get("url") == api_url:
        return WorkerInfo(pool, pid, str(log))
    stop_daemon(state_file, grace=30)
    command = worker_command(pool, api_url, user, home)
    pid = start_daemon(command, state_file, log, pool=pool, url=api_url, user=user)
    return WorkerInfo(pool, pid, str(log))


def worker_api(pool: str) -> str | None:
    """The API URL the pool's running worker polls (None: none runs)."""
    state, pid = read_state(_paths(pool)[0])
    return state.get("url") if pid is not None else None


def wake_worker(pool: str) -> None:
    """Tell the pool's local worker (if one runs here) to look for runs now (SIGUSR1)."""
    pid = worker_status(pool).pid
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGUSR1)


def stop_worker(pool: str) -> WorkerInfo:
    """SIGTERM (the worker cancels or finishes its run cleanly), then SIGKILL after a grace."""
    state_file, _log = _paths(pool)
    stop_daemon(state_file, grace=30)
    return worker_status(pool)


def known_pools() -> list[str]:
    folder = data_dir() / "workers"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
