"""deployflow against a team's shared Prefect server on PostgreSQL (a throwaway PostgreSQL this
test starts on a temp dir and a free port, and `prefect server start` on it): workers started
by `deployflow server start`, deployments applied, a background deploy run to completion."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, new_stack, stop_everything
from tests.e2e.pgserver import ADMIN_PASSWORD, BIN, postgres, prefect_server


@pytest.fixture
def shared_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with postgres() as db, prefect_server(db, tmp_path / "ph") as server:
        yield server


@pytest.mark.skipif(not BIN, reason="PostgreSQL is not installed")
def test_workers_and_runs_against_a_server_on_postgresql(
    shared_server: tuple[str, int], tmp_path: Path
) -> None:
    url, port = shared_server
    stack: Stack = new_stack(tmp_path, url)
    stack.env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    try:
        out = stack.cli("server", "start").stdout
        assert f"using PREFECT_API_URL={url} (up)" in out and "worker" in out
        row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
        stack.cli("runs", "logs", "-f", row["id"])
        assert stack.health()["release"] == stack.current()
        count = subprocess.run(
            [
                f"{BIN[-1]}/psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-tAc",
                "select count(*) from flow_run",
                "prefect",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PGPASSWORD": ADMIN_PASSWORD},
        ).stdout
        assert int(count) >= 1  # the runs live in PostgreSQL
    finally:
        stack.cli("server", "stop")
        stop_everything(stack.root)
