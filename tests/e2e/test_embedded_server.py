"""The embedded default: with no PREFECT_API_URL, deployflow starts a local Prefect server on
SQLite under its data dir once, reuses it, reports it and stops it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "deployflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    want = 1 if args == ("server", "status") and proc.stdout.startswith("stopped") else 0
    assert proc.returncode == want, proc.stderr  # status of a stopped server exits 1
    return proc.stdout


def test_server_start_reuse_status_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    from tests.conftest import free_port

    port = free_port()
    env["DEPLOYFLOW_SERVER_PORT"] = str(port)  # the port is settable
    assert _cli(env, "server", "status").startswith("stopped")
    first = _cli(env, "server", "start").split()
    assert first[0] == "running"
    url, pid = first[1], first[3]
    assert url == f"http://127.0.0.1:{port}/api"
    try:
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        assert (tmp_path / "home" / "prefect" / "prefect.db").exists()  # SQLite under the data dir
        again = _cli(env, "server", "start").split()
        assert again[1] == url and again[3] == pid  # reused, not a second server
    finally:
        assert _cli(env, "server", "stop").startswith("stopped")
    assert _cli(env, "server", "status").startswith("stopped")
