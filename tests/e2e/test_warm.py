"""The warm runner for real: deployflow's worker (started by `server start` against a real
Prefect API) forks each run from its zygote. A foreground `run full` goes through it over the
REST API (the CLI never imports Prefect) and prints the run's lines and report; a failing
deploy exits 1, rolled back; Ctrl-C cancels the run and the previous release stays live; a
zygote killed between runs is replaced; a zygote with a thread in it falls back to normal
starts, and those runs log the same stages and publish the same artifacts. A small
one-service app, not the bundled example."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.conftest import Stack, stop_everything, until, write_tiny_stack

SLEEP = "import os, time; time.sleep(float(open('SLEEP').read()) if os.path.exists('SLEEP') else 0)"


class Warm(Stack):
    def version(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/", timeout=3).text

    def release(self, version: str) -> None:
        (self.dir / "app" / "VERSION").write_text(version + "\n")

    def worker_file(self, suffix: str) -> Path:
        return Path(self.env["DEPLOYFLOW_HOME"]) / "workers" / f"{self.project}-local.{suffix}"

    def worker_log(self) -> str:
        return self.worker_file("log").read_text()

    def zygote(self) -> psutil.Process | None:
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if "deployflow.warm.zygote" in cmdline and str(self.worker_pid) in _parents(proc):
                return proc
        return None

    def start_workers(self, **env: str) -> None:
        """`server start` (workers only: the API is external); back once the zygote is warm."""
        before = len(self.worker_log()) if self.worker_file("log").is_file() else 0
        self.cli_env({**self.env, **env}, "server", "start")
        self.worker_pid = json.loads(self.worker_file("json").read_text())["pid"]
        until(lambda: "is warm" in self.worker_log()[before:])


def _parents(proc: psutil.Process) -> str:
    return " ".join(str(p.pid) for p in proc.parents())


@pytest.fixture
def warm(tmp_path: Path, prefect_api: str) -> Iterator[Warm]:
    base = tmp_path / "warm"
    project = re.sub(r"[^a-z0-9]", "", f"warm{tmp_path.name[-8:].lower()}")
    port = write_tiny_stack(
        base, project, '    steps: [["{{ sys.python }}", "-c", "' + SLEEP + '"]]'
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    env.pop("DEPLOYFLOW_ROOT", None)
    s = Warm(base / "deployflow.yaml", base / "root", env)
    s.port, s.project = port, project  # type: ignore[attr-defined]
    s.release("v1")
    s.cli("deployments", "apply")
    yield s
    s.cli("server", "stop", check=False)
    stop_everything(s.root)


def test_foreground_runs_fork_from_the_zygote(warm: Warm) -> None:
    warm.start_workers()
    zygote = warm.zygote()
    assert zygote is not None
    done = warm.cli_env({**warm.env, "PYTHONPROFILEIMPORTTIME": "1"}, "run", "full")
    assert "on the warm worker" in done.stderr and "[verify-" in done.stderr
    imported = [ln.split("|")[-1].strip() for ln in done.stderr.splitlines() if "|" in ln]
    assert "typer" in imported and not [m for m in imported if m.startswith("prefect")]
    assert "- **Result:** success" in done.stdout and warm.version() == "v1"
    assert "the normal way" not in warm.worker_log()

    # a deploy whose health fails: exit 1, rolled back, the report says so
    warm.release("broken")
    failed = warm.cli("run", "full", check=False)
    assert failed.returncode == 1 and "rolled back" in failed.stdout
    assert failed.stderr.strip().splitlines()[-1].startswith("error: run ")
    assert warm.version() == "v1"

    # the zygote is killed between runs: a new one replaces it and the next run forks from it
    zygote.kill()
    until(lambda: (z := warm.zygote()) is not None and z.pid != zygote.pid)
    until(lambda: warm.worker_log().count("is warm") >= 2)
    warm.release("v2")
    assert "on the warm worker" in warm.cli("run", "full").stderr and warm.version() == "v2"
    assert "the normal way" not in warm.worker_log()

    # Ctrl-C cancels the run mid-build: its process tree dies, v2 stays live
    warm.release("v3")
    (warm.dir / "app" / "SLEEP").write_text("300")
    proc = warm.popen("run", "full")
    until(lambda: _sleepers(warm))
    run_pid = warm.zygote().children()[0].pid  # the forked run
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "cancelling the run" in err, err[-2000:]
    assert "ended CANCELLED" in err and "Traceback" not in err
    until(lambda: not _sleepers(warm) and not psutil.pid_exists(run_pid), timeout=30)
    assert warm.version() == "v2"


def test_a_run_created_elsewhere_wakes_the_worker(warm: Warm, prefect_api: str) -> None:
    """A run created over the API (as the UI does: no signal to the worker) starts long before
    the worker's next poll: the worker follows the events stream for runs scheduled on its
    pool. A burst of wake-ups (SIGUSR1) makes one look at a time and loses no run."""
    warm.start_workers(PREFECT_WORKER_QUERY_SECONDS="300")  # polls at start, then in 5 min
    dep = httpx.get(f"{prefect_api}/deployments/name/deploy/{warm.project}-local").json()
    body = {"parameters": {**dep["parameters"], "root": str(warm.root)}}

    def run(version: str, signals: int) -> dict:
        warm.release(version)
        url = f"{prefect_api}/deployments/{dep['id']}/create_flow_run"
        for _attempt in range(5):  # a busy SQLite server may answer 5xx ("database is locked")
            created = httpx.post(url, json=body, timeout=75)
            if created.status_code < 500:
                break
            time.sleep(1)
        created.raise_for_status()
        for _ in range(signals):
            os.kill(warm.worker_pid, signal.SIGUSR1)
        state: dict = {}

        def ended() -> bool:
            state.update(httpx.get(f"{prefect_api}/flow_runs/{created.json()['id']}").json())
            return state["state_type"] in ("COMPLETED", "FAILED", "CRASHED")

        until(ended, timeout=240)  # the next poll would come at 300 s
        return state

    assert run("v1", signals=0)["state_type"] == "COMPLETED" and warm.version() == "v1"
    assert run("v2", signals=20)["state_type"] == "COMPLETED" and warm.version() == "v2"


def _sleepers(warm: Warm) -> list[psutil.Process]:
    """The build step sleeping in this stack's build dir."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        if "open('SLEEP')" in " ".join(proc.info["cmdline"] or []) and str(warm.root) in (
            proc.info["cwd"] or ""
        ):
            found.append(proc)
    return found


def test_fallback_runs_log_and_publish_like_warm_ones(warm: Warm, prefect_api: str) -> None:
    warm.start_workers()
    warm.cli("run", "full")
    warm.release("v2")  # a redeploy, to compare with the cold one below
    assert "on the warm worker" in warm.cli("run", "full").stderr
    warm_run = _last_run(prefect_api, warm.project)
    assert "the normal way" not in warm.worker_log()
    warm.cli("server", "stop")  # at once: the run's process may still be exiting
    assert warm.version() == "v2"  # the services it started are not stopped with the worker
    warm.start_workers(DEPLOYFLOW_FAILPOINTS="zygote=thread")
    warm.release("v3")
    assert "on the warm worker" in warm.cli("run", "full").stderr and warm.version() == "v3"
    log = warm.worker_log()
    assert "a thread runs in the zygote" in log and "starting the run the normal way" in log
    cold_run = _last_run(prefect_api, warm.project)
    assert cold_run != warm_run
    warm_shape, cold_shape = _shape(prefect_api, warm_run), _shape(prefect_api, cold_run)
    assert "\n".join(warm_shape) == "\n".join(cold_shape)  # a diff on failure
    # the worker beat for the forked run (and its engine did not: one beat, at the fork); the
    # cold run beat itself: the same event, about the same resources
    warm_beats, cold_beats = _heartbeats(prefect_api, warm_run), _heartbeats(prefect_api, cold_run)
    assert len(warm_beats) == 1 and len(cold_beats) == 1
    assert _related(warm_beats[0]) == _related(cold_beats[0])


def _heartbeats(api: str, run: str) -> list[dict]:
    body = {
        "filter": {
            "event": {"name": ["prefect.flow-run.heartbeat"]},
            "resource": {"id": [f"prefect.flow-run.{run}"]},
        },
        "limit": 50,
    }
    found: list[dict] = []

    def stored() -> bool:  # the server persists events in batches
        found[:] = httpx.post(f"{api}/events/filter", json=body).json()["events"]
        return bool(found)

    until(stored, timeout=30)
    time.sleep(1)  # a second beat, if one was sent, is stored by now too
    stored()
    return found


def _related(event: dict) -> list[dict]:
    return sorted(event["related"], key=lambda r: r["prefect.resource.id"])


def _last_run(api: str, project: str) -> str:
    body = {"flow_runs": {"tags": {"all_": [project]}}, "sort": "START_TIME_DESC", "limit": 1}
    return httpx.post(f"{api}/flow_runs/filter", json=body).json()[0]["id"]


def _shape(api: str, run: str) -> list[str]:
    """The run's log lines with the varying parts (ids, times) blanked, and the keys of its
    artifacts."""
    body = {"logs": {"flow_run_id": {"any_": [run]}}, "sort": "TIMESTAMP_ASC", "limit": 200}
    logs = httpx.post(f"{api}/logs/filter", json=body).json()
    blank = re.compile(
        r"(Worker|Flow run|Task run) '[^']+'|\d{14}|\d+(\.\d+)? ?(ms|s|GiB)|pid \d+|[0-9a-f-]{36}"
    )
    lines = [blank.sub("_", log["message"]) for log in logs if "View at" not in log["message"]]
    body = {"artifacts": {"flow_run_id": {"any_": [run]}}}
    keys = sorted(a["key"] or "" for a in httpx.post(f"{api}/artifacts/filter", json=body).json())
    return lines + keys
