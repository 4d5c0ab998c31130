"""Against a real `prefect server start` that deployflow started (UI and services on, basic auth
on): the CLI and workers authenticate, a scheduled flow runs exactly once per slot with two
workers on its pool and goes on when one of them is killed."""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Stack, new_stack, stop_everything

AUTH = "admin:pw-for-tests"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    base = tmp_path_factory.mktemp("real")
    s = new_stack(base, "unused")
    s.env.pop("PREFECT_API_URL")
    port = free_port()
    s.env.update(
        DEPLOYFLOW_HOME=str(base / "home"),
        DEPLOYFLOW_SERVER_PORT=str(port),
        PREFECT_SERVER_API_AUTH_STRING=AUTH,
        PREFECT_API_AUTH_STRING=AUTH,
    )
    s.edit('health_watch: "*/5 * * * *"', 'health_watch: "6s"')
    s.cli("server", "start")
    yield s, f"http://127.0.0.1:{port}/api"
    s.cli("server", "stop")
    stop_everything(s.root)


def test_auth_for_cli_and_workers(real: tuple[Stack, str]) -> None:
    stack, url = real
    assert httpx.get(f"{url}/deployments/filter").status_code in (401, 405)
    no_auth = {k: v for k, v in stack.env.items() if k != "PREFECT_API_AUTH_STRING"}
    no_auth["PREFECT_API_URL"] = url
    proc = subprocess.run(
        [sys.executable, "-m", "deployflow", "deployments", "list", "--stack", str(stack.file)],
        env=no_auth,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "401" in proc.stderr
    row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
    stack.cli("runs", "logs", "-f", row["id"])  # the worker (with the auth string) ran it
    assert stack.health()["release"] == stack.current()


def test_scheduled_flow_runs_once_per_slot_with_two_workers(real: tuple[Stack, str]) -> None:
    stack, url = real
    stack.cli("deployments", "apply")
    second = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deployflow",
            "worker",
            "start",
            "--target",
            "local",
            "--stack",
            str(stack.file),
        ],
        env={**stack.env, "PREFECT_API_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    headers = {"Authorization": "Basic " + base64.b64encode(AUTH.encode()).decode()}

    def watch_runs() -> list[dict]:
        """The runs so far; a SQLite server busy with several workers can stall a request for
        up to its 60 s lock timeout (a known Prefect limit): wait it out."""
        body = {"limit": 200, "flows": {"name": {"any_": ["health-watch"]}}}
        return httpx.post(f"{url}/flow_runs/filter", json=body, headers=headers, timeout=75).json()

    try:
        ends = time.monotonic() + 150
        while len([r for r in watch_runs() if r["state_type"] == "COMPLETED"]) < 3:
            assert time.monotonic() < ends, "the schedule did not run"
            time.sleep(1)
        # one worker dies between runs (a run dying with its worker is marked crashed after
        # ZOMBIE_SECONDS of silent heartbeats; too slow to wait for here); the other goes on
        while any(r["state_type"] in ("RUNNING", "PENDING") for r in watch_runs()):
            time.sleep(0.1)
        os.killpg(second.pid, signal.SIGKILL)
        done = len([r for r in watch_runs() if r["state_type"] == "COMPLETED"])
        ends = time.monotonic() + 120
        while len([r for r in watch_runs() if r["state_type"] == "COMPLETED"]) < done + 2:
            assert time.monotonic() < ends, "runs stopped after a worker was killed"
            time.sleep(1)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
    runs = [r for r in watch_runs() if r["state_type"] == "COMPLETED"]
    slots = [r["expected_start_time"] for r in runs]
    assert len(slots) == len(set(slots))  # exactly once per slot
    ordered = sorted(runs, key=lambda r: r["start_time"])
    overlaps = [(a, b) for a, b in itertools.pairwise(ordered) if a["end_time"] > b["start_time"]]
    # never two at the same time
    assert not overlaps, [_states(url, headers, r) for pair in overlaps for r in pair]
    grades = json.loads(Path(stack.root / ".deployflow" / "health.json").read_text())
    assert "host" in grades and any(k.startswith("service ") for k in grades)
    assert set(grades.values()) <= {"ok", "degraded", "down"}


def _states(url: str, headers: dict[str, str], run: dict) -> tuple[str, list[tuple[str, str]]]:
    """A run's name and its state history, for a failure message."""
    found = httpx.get(f"{url}/flow_run_states/", params={"flow_run_id": run["id"]}, headers=headers)
    return run["name"], [(s["name"], s["timestamp"]) for s in found.json()]


def test_a_crashed_deploy_run_is_recovered_by_an_automation(real: tuple[Stack, str]) -> None:
    """The deploy run's process is killed mid-verify (via a failpoint passed as a job variable);
    the worker reports it crashed, and the automation runs `recover` on the worker."""
    stack, url = real
    stack.cli("server", "start")  # the pool's worker again, if the test before killed it
    stack.cli("deployments", "apply")
    headers = {"Authorization": "Basic " + base64.b64encode(AUTH.encode()).decode()}
    before = stack.current()
    stack.set_version("backend", "crash-test")
    dep = httpx.get(f"{url}/deployments/name/deploy/woosoo-local", headers=headers).json()
    body = {
        "parameters": {**dep["parameters"], "root": str(stack.root)},
        "job_variables": {"env": {"DEPLOYFLOW_FAILPOINTS": "verify=hang"}},
    }
    watch = httpx.get(f"{url}/deployments/name/health-watch/woosoo-local", headers=headers)
    pause = {"paused": True}  # the 6 s schedule of the test before: quiet, for SQLite's sake
    httpx.patch(f"{url}/deployments/{watch.json()['id']}", json=pause, headers=headers)
    for _attempt in range(5):  # a busy SQLite server may answer 5xx ("database is locked")
        created = httpx.post(
            f"{url}/deployments/{dep['id']}/create_flow_run", json=body, headers=headers
        )
        if created.status_code < 500:
            break
        time.sleep(1)
    assert created.status_code == 201, created.text
    run = created.json()
    journal = stack.root / ".deployflow" / "journal.json"
    ends = time.monotonic() + 180
    while not (journal.exists() and '"phase": "verify"' in journal.read_text()):
        if time.monotonic() > ends:
            state = httpx.get(f"{url}/flow_runs/{run['id']}", headers=headers).json()
            log = Path(stack.env["DEPLOYFLOW_HOME"]) / "workers" / "woosoo-local.log"
            tail = log.read_text()[-3000:] if log.is_file() else "no worker log"
            raise AssertionError(f"the deploy never reached verify: {state['state']}\n{tail}")
        time.sleep(0.2)
    assert stack.current() != before  # the unverified release is current...
    info = httpx.get(f"{url}/flow_runs/{run['id']}", headers=headers).json()
    os.kill(int(str(info["infrastructure_pid"]).rsplit(":", 1)[-1]), signal.SIGKILL)
    ends = time.monotonic() + 120
    while stack.current() != before or journal.exists():  # ...until the automation recovers
        assert time.monotonic() < ends, "nothing recovered the crashed deploy"
        time.sleep(0.5)
    assert stack.health()["release"] == before
    state = httpx.get(f"{url}/flow_runs/{run['id']}", headers=headers).json()["state_type"]
    assert state == "CRASHED"
