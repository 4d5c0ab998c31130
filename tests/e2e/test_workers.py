"""Prefect-native operations for real: deployments applied to the API, a real process worker on
the target's pool (started by `server start` against an external API), a background deploy
followed through its logs, a run cancelled mid-build (its whole process tree dies, the previous
release stays live), and bad input."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.e2e.conftest import Stack, until

SLOW = 'steps: [["{{ sys.python }}", build.py]]'
MARKER = "deployflow-cancel-marker"


@pytest.fixture
def workers(stack: Stack, tmp_path) -> Iterator[Stack]:
    stack.env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    out = stack.cli("server", "start").stdout
    assert "worker   woosoo-local" in out and "running" in out
    pid = int(out.split("worker   woosoo-local")[1].split("pid")[1].split()[0])
    yield stack
    stack.cli("server", "stop")  # SIGTERM: the worker ends, leaving no process behind
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _wait_state(stack: Stack, run: str, states: tuple[str, ...], timeout: float = 120) -> dict:
    def reached() -> dict | None:
        row = json.loads(stack.cli("runs", "status", run, "--json").stdout)
        return row if row["state"] in states else None

    return until(reached, timeout, poll=0.5)


def _slots(api: str, deployment: str) -> int:
    """The deploy deployment's concurrency slots in use."""
    found = httpx.get(f"{api}/deployments/{deployment}").json()
    return found["global_concurrency_limit"]["active_slots"]


def _settle(stack: Stack, timeout: float = 120) -> None:
    """Wait until no run of the stack is pending or running."""

    def settled() -> bool:
        return not any(
            json.loads(stack.cli("runs", "list", "--status", status, "--json").stdout)
            for status in ("pending", "running")
        )

    until(settled, timeout, poll=1)


def _wait_for_marker(marker: str) -> None:
    """Until a process whose command line holds `marker` runs (the build started)."""
    until(
        lambda: any(
            marker in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
        ),
        poll=0.2,
    )


def test_deployments_background_runs_logs_and_cancel(workers: Stack, prefect_api: str) -> None:
    stack = workers
    applied = json.loads(stack.cli("deployments", "apply", "--json").stdout)
    names = {d["name"]: d for d in applied}
    assert set(names) == {
        "deploy/woosoo-local",
        "deploy/woosoo-local-app",
        "rollback/woosoo-local",
        "health-watch/woosoo-local",
        "cleanup/woosoo-local",
        "recover/woosoo-local",
        "backup/woosoo-local",
        "restore/woosoo-local",
        "cert/woosoo-local",
    }
    assert names["health-watch/woosoo-local"]["schedule"] == "*/5 * * * *"
    assert names["cert/woosoo-local"]["schedule"] == "15 3 * * *"
    listed = json.loads(stack.cli("deployments", "list", "--json").stdout)
    assert {d["name"] for d in listed} == set(names)
    deployment = httpx.get(f"{prefect_api}/deployments/{names['deploy/woosoo-local']['id']}").json()
    assert deployment["concurrency_limit"] == 1 or deployment["global_concurrency_limit"]
    assert deployment["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    form = deployment["parameter_openapi_schema"]["properties"]
    choices = next(a for a in form["apps"]["anyOf"] if a["type"] == "array")["items"]["enum"]
    assert choices == ["backend", "pwa", "relay"]  # the UI's app choice
    assert {"dry_run", "skip_backup", "skip_build", "skip_tests"} <= set(form)

    # a background deploy: returns at once; the worker runs it; its logs can be followed
    row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
    assert row["ui"].endswith(f"/runs/flow-run/{row['id']}")
    first = row["id"]
    logs = stack.cli("runs", "logs", "-f", row["id"]).stdout
    assert "health ok" in logs and "Finished in state Completed()" in logs
    v1 = stack.current()
    assert stack.health()["release"] == v1
    status = json.loads(stack.cli("runs", "status", row["id"], "--json").stdout)
    assert status["state"] == "COMPLETED" and any(
        s["name"].startswith("build-") for s in status["stages"]
    )
    assert row["id"] in stack.cli("runs", "list").stdout
    done = json.loads(stack.cli("runs", "list", "--status", "completed", "--json").stdout)
    assert row["id"] in {r["id"] for r in done}
    assert stack.cli("runs", "list", "--status", "bogus", check=False).returncode == 2

    # cancel mid-build: the build's whole process tree dies, the previous release stays live
    marker = f"{MARKER}-{stack.root.parent.name}"  # this test's own, never a leftover's
    child = f"import time; time.sleep(120)  # {marker}"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', '{child}'])"
    sleeper = '["{{ sys.python }}", -c, "' + code + '"]'
    stack.edit(SLOW, f'steps: [["{{{{ sys.python }}}}", build.py], {sleeper}]')
    stack.set_version("pwa", "2.0.0")
    row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
    _wait_for_marker(marker)
    stack.cli("runs", "cancel", row["id"])
    _wait_state(stack, row["id"], ("CANCELLED",))
    until(
        lambda: (
            not any(
                marker in " ".join(p.info["cmdline"] or [])
                for p in psutil.process_iter(["cmdline"])
            )
        ),
        timeout=30,
        poll=0.2,
        what="the build's process tree ending with the cancel",
    )
    assert stack.current() == v1 and stack.health()["release"] == v1
    statuses = {r["id"]: r["status"] for r in stack.releases()}
    history = (stack.root / ".deployflow" / "releases.jsonl").read_text()
    assert sorted(statuses.values()) in (["cancelled", "live"], ["interrupted", "live"]), history

    # the worker is stopped (SIGTERM) in the middle of a deploy: the run ends, nothing is
    # left running, and the previous release is live (put back by the run or by recover)
    stack.set_version("pwa", "3.0.0")
    row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
    _wait_for_marker(marker)
    stack.cli("server", "stop")
    until(
        lambda: (
            not any(
                marker in " ".join(p.info["cmdline"] or [])
                or row["id"] in " ".join(p.info["cmdline"] or [])
                for p in psutil.process_iter(["cmdline"])
            )
        ),
        timeout=60,
        poll=0.2,
        what="the run's processes ending with the worker",
    )
    stack.cli("recover")
    assert stack.current() == v1 and stack.health()["release"] == v1
    out = stack.cli("server", "start").stdout

    # the host "crashes" mid-deploy (worker and run SIGKILLed): the run stays RUNNING in Prefect
    # and holds the deploy slot until a worker starts here again and marks it crashed
    worker = int(out.split("worker   woosoo-local")[1].split("pid")[1].split()[0])
    stack.set_version("pwa", "4.0.0")
    row = json.loads(stack.cli("run", "full", "--background", "--json").stdout)
    _wait_for_marker(marker)
    tree = [psutil.Process(worker), *psutil.Process(worker).children(recursive=True)]
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):  # a short-lived child already ended
            proc.kill()
    psutil.wait_procs(tree, timeout=10)
    assert _wait_state(stack, row["id"], ("RUNNING",))["state"] == "RUNNING"
    assert _slots(prefect_api, names["deploy/woosoo-local"]["id"]) == 1  # held by the dead run
    out = stack.cli("server", "start").stdout
    assert f"run {row['id']} marked crashed" in out
    assert _wait_state(stack, row["id"], ("CRASHED",))["state"] == "CRASHED"
    assert _slots(prefect_api, names["deploy/woosoo-local"]["id"]) == 0  # free for the next
    _settle(stack)  # the recover-on-crash automation's run, when it fired, holds the lock
    stack.cli("recover")
    assert stack.current() == v1 and stack.health()["release"] == v1

    # finished runs are cleaned up by age
    would = stack.cli("runs", "cleanup", "--older-than", "0m", "--dry-run").stdout
    assert int(would.split()[2]) >= 2
    stack.cli("runs", "cleanup", "--older-than", "0m")
    assert first not in stack.cli("runs", "list").stdout  # finished: deleted
    assert stack.cli("runs", "cleanup", "--older-than", "soon", check=False).returncode == 2

    # bad input: one clear line, non-zero exit, nothing started
    unreachable = {**stack.env, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    proc = stack.cli_env(unreachable, "runs", "list", check=False)
    assert proc.returncode == 1 and "does not answer" in proc.stderr
    for args in (
        ("runs", "status", "bogus"),
        ("runs", "logs", "8b3c3d5e-1f6f-4a43-9a53-6a2f6d2b1c11"),
        ("run", "full", "--background", "--target", "bogus"),  # no such deployment
    ):
        proc = stack.cli(*args, check=False)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
        assert len([x for x in proc.stderr.splitlines() if x.startswith("error:")]) == 1
