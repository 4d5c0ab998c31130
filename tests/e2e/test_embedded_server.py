"""The embedded default: with no PREFECT_API_URL, deployflow starts a local Prefect server on
SQLite under its data dir once, authenticated, reuses it, reports it and stops it."""

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
        _refuses_callers_without_its_credential(env, url, tmp_path / "home")
    finally:
        assert _cli(env, "server", "stop").startswith("stopped")
    assert _cli(env, "server", "status").startswith("stopped")


def _refuses_callers_without_its_credential(env: dict[str, str], url: str, home: Path) -> None:
    """As another local user (`nobody`, via runuser when the tests run as root): no run can be
    started and no Secret block read without the credential, which only the owner can read."""
    import shutil
    import stat

    auth = home / "prefect" / "auth"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "prefect").stat().st_mode) == 0o700  # prefect.db with it
    user, password = auth.read_text().strip().split(":", 1)
    status = _cli(env, "server", "status")
    assert f"log in with the contents of {auth}" in status and password not in status
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200  # probes stay open
    calls = [
        ("POST", f"{url}/deployments/{'0' * 8}-0000-0000-0000-{'0' * 12}/create_flow_run"),
        ("POST", f"{url}/block_documents/filter"),
        ("POST", f"{url}/flow_runs/filter"),
    ]
    probe = (
        "import sys, urllib.request, urllib.error\n"
        "r = urllib.request.Request(sys.argv[2], b'{\"include_secrets\": true}', "
        "{'Content-Type': 'application/json'}, method=sys.argv[1])\n"
        "try:\n    urllib.request.urlopen(r, timeout=10); print(200)\n"
        "except urllib.error.HTTPError as e:\n    print(e.code)\n"
    )
    as_other = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
    if as_other and shutil.which("runuser"):
        denied = subprocess.run(
            [*as_other, "cat", str(auth)], capture_output=True, text=True, timeout=30
        )
        assert denied.returncode != 0  # the credential is the owner's alone
    python = "/usr/bin/python3" if as_other else sys.executable
    for method, target in calls:
        out = subprocess.run(
            [*as_other, python, "-c", probe, method, target],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.stdout.strip() == "401", (target, out.stdout, out.stderr)
    answer = httpx.post(f"{url}/flow_runs/filter", json={}, auth=(user, password), timeout=10)
    assert answer.status_code == 200  # the credential opens it
