"""How often a worker polls: every second, but every 5 s on deployflow's own SQLite server
(each poll writes; three workers at 1 s stalled it for 60 s); the environment overrides both."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deployflow.backends.services.process_table import proc_start_time
from deployflow.backends.workers import worker_command

URL = "http://127.0.0.1:4321/api"


def _poll(url: str) -> str:
    return dict(worker_command("pool-a", url).env)["PREFECT_WORKER_QUERY_SECONDS"]


def _local_server(home: Path, database: str) -> None:
    """The state file of a local server at URL, recorded as this (live) process."""
    state = {"pid": os.getpid(), "start_time": proc_start_time(os.getpid()), "url": URL}
    folder = home / "prefect"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.json").write_text(json.dumps({**state, "database": database}))


def test_the_poll_follows_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_WORKER_QUERY_SECONDS", raising=False)
    assert _poll(URL) == "1"  # no local server: someone else's
    _local_server(tmp_path, "sqlite")
    assert _poll(URL) == "5" and _poll("http://elsewhere/api") == "1"
    _local_server(tmp_path, "postgresql")
    assert _poll(URL) == "1"
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "3")
    assert _poll(URL) == "3"
