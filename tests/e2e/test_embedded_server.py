"""The embedded default: with no PREFECT_API_URL, deployflow starts a local Prefect server on
SQLite under its data dir once, authenticated, reuses it, reports it and stops it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.e2e.conftest import Stack, stop_everything, until, write_tiny_stack


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


def test_the_server_killed_mid_deploy(tmp_path: Path) -> None:
    """The embedded server dies while a deploy is between stop and switch, in the CLI process
    and then on the warm worker: each deploy finishes on its own (live, healthy), its report is
    printed with a line saying the API went away, without waiting out Prefect's client retries;
    each run is marked COMPLETED once the server is back."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "DEPLOYFLOW_ROOT")}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    port = write_tiny_stack(tmp_path, "offline", '    steps: [["true"]]')
    s = Stack(tmp_path / "deployflow.yaml", tmp_path / "root", env)
    try:
        first = s.cli("run", "full")  # starts the embedded server, then the warm worker
        assert "started the warm worker of pool offline-local" in first.stderr
        _killed_mid_deploy(s, "v2", port, said="the operation finished on its own", warm=False)
        s.cli("deployments", "apply")
        s.cli("server", "start")
        log = tmp_path / "home" / "workers" / "offline-local.log"
        until(lambda: "is warm" in log.read_text())
        _killed_mid_deploy(s, "v3", port, said="the run goes on on the worker", warm=True)
    finally:
        s.cli("server", "stop", check=False)
        stop_everything(s.root)


def _killed_mid_deploy(s: Stack, version: str, port: int, said: str, warm: bool) -> None:
    home = Path(s.env["DEPLOYFLOW_HOME"])
    server = json.loads((home / "prefect" / "server.json").read_text())
    (s.dir / "app" / "VERSION").write_text(f"{version}\n")
    env = {**s.env, "DEPLOYFLOW_FAILPOINTS": "switch=stop", "DEPLOYFLOW_WARM": str(int(warm))}
    proc = s.popen_env(env, "run", "full")
    stopped = until(lambda: _stopped(proc.pid))  # the CLI, or the run forked on the worker
    os.kill(server["pid"], signal.SIGKILL)
    psutil.Process(server["pid"]).wait(timeout=30)
    started = time.monotonic()
    os.kill(stopped, signal.SIGCONT)
    out, err = proc.communicate(timeout=240)
    print(f"{version}: finished {time.monotonic() - started:.1f} s after the server died")
    assert proc.returncode == 0, err[-2000:]
    assert said in err and "Traceback" not in err and "a deployflow bug" not in err
    assert "- **Result:** success" in out
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text.strip() == version
    marks = list((home / "marks").glob("*.json"))
    assert len(marks) == 1
    run_id = marks[0].stem

    back = s.cli("server", "start")  # the server back: the run gets its outcome
    assert f"run {run_id}: marked" in back.stderr
    assert not list((home / "marks").glob("*.json"))
    url = back.stdout.split()[1]
    user, password = (home / "prefect" / "auth").read_text().strip().split(":", 1)
    run = httpx.get(f"{url}/flow_runs/{run_id}", auth=(user, password), timeout=10).json()
    assert run["state_type"] == "COMPLETED"


def _stopped(pid: int) -> int | None:
    """`pid` or a process under a worker, stopped by the failpoint."""
    candidates = [psutil.Process(pid)]
    for proc in psutil.process_iter(["cmdline"]):
        if "deployflow.warm" in " ".join(proc.info["cmdline"] or []):
            candidates += proc.children(recursive=True)
    for proc in candidates:
        try:
            if proc.status() == psutil.STATUS_STOPPED:
                return proc.pid
        except psutil.NoSuchProcess:
            continue
    return None


def test_the_local_server_on_its_private_postgresql(tmp_path: Path) -> None:
    """`server start --database postgresql`: deployflow initialises and starts a PostgreSQL of
    its own (password auth: a local user without the password is refused), Prefect runs on it,
    the choice is remembered, and `server stop` stops both."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    try:
        started = _cli(env, "server", "start", "--database", "postgresql")
        assert started.startswith("running") and started.splitlines()[0].endswith("postgresql")
        state = json.loads((tmp_path / "home" / "prefect" / "postgres.json").read_text())
        assert (tmp_path / "home" / "prefect" / "postgres.json").stat().st_mode & 0o777 == 0o600
        psql = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1]
        argv = [str(psql), "-h", "127.0.0.1", "-p", str(state["port"]), "-U", "prefect"]
        probe = {**env, "PGPASSWORD": "wrong", "PGCONNECT_TIMEOUT": "5"}
        refused = subprocess.run([*argv, "-c", "select 1"], env=probe, capture_output=True)
        assert refused.returncode != 0 and b"password authentication failed" in refused.stderr
        user, password = (tmp_path / "home" / "prefect" / "auth").read_text().strip().split(":", 1)
        flows = httpx.post(f"{started.split()[1]}/flows/filter", json={}, auth=(user, password))
        assert flows.status_code == 200  # Prefect works on it
        _cli(env, "server", "stop")
        again = _cli(env, "server", "start")  # remembered
        assert again.splitlines()[0].endswith("database postgresql")
    finally:
        _cli(env, "server", "stop")
    assert not _postgres_running(state["port"])


def _postgres_running(port: int) -> bool:
    return any(
        "postgres" in " ".join(p.info["cmdline"] or [])
        and f"-p {port}" in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
    )
