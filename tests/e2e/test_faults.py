"""Fault injection: a failure or a kill after the stop stage leaves the previous release live
with its own service commands, health checks and byte-identical configs; secrets never reach
Prefect's logs or states."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import time

import httpx

from tests.e2e.conftest import Stack, until

RELAY_CMD = 'command: "{{ sys.python }} relay.py"'


def _config_sums(stack: Stack) -> dict[str, str]:
    live = stack.root / "releases" / stack.current()
    return {
        str(p.relative_to(stack.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(live.resolve().rglob("*"))
        if p.is_file() and p.name in (".env", "config.json", "woosoo.conf")
    }


def test_rollback_uses_the_old_release_own_service_command_and_checks(stack: Stack) -> None:
    stack.cli("run", "full")
    v1, sums = stack.current(), _config_sums(stack)
    # v2: the relay's new command exits at once and a new check never passes
    stack.edit(RELAY_CMD, 'command: "{{ sys.python }} -c \\"raise SystemExit(5)\\""')
    stack.set_version("relay", "2.0.0")
    started = time.monotonic()
    proc = stack.cli("run", "full", "--json", check=False)
    elapsed = time.monotonic() - started
    summary = json.loads(proc.stdout)
    assert proc.returncode == 1 and summary["result"] == "rolled back"
    start = next(s for s in summary["stages"] if s["name"] == "start")
    assert "exited at once with code 5" in start["detail"]  # at once, not after the deadline
    assert elapsed < 60
    assert stack.current() == v1 and _config_sums(stack) == sums
    status = {
        s["name"]: s["running"]
        for s in json.loads(stack.cli("services", "status", "--json").stdout)
    }
    assert all(status.values()), status  # the relay runs again with v1's own command


def test_kill_during_verify_is_recovered_with_the_previous_release(stack: Stack) -> None:
    stack.cli("run", "full")
    v1, sums = stack.current(), _config_sums(stack)
    app_py = stack.dir / "apps" / "backend" / "app.py"
    app_py.write_text(
        app_py.read_text().replace(
            'ROUTES = {"/api/health": health', 'ROUTES = {"/api/health": lambda: (500, {})'
        )
    )
    stack.edit("verify: {deadline: 8, interval: 0.25}", "verify: {deadline: 120, interval: 0.25}")
    victim = stack.popen("run", "full")
    journal = stack.root / ".deployflow" / "journal.json"
    until(
        lambda: journal.exists() and '"phase": "verify"' in journal.read_text(),
        what="the deploy reaching verify",
    )
    import os

    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert stack.current() != v1  # the kill left the unverified release current...
    assert "was interrupted" in stack.cli("services", "status").stderr
    out = stack.cli("recover").stdout  # ...until recover puts the last good one back
    assert f"live: {v1}" in out
    assert stack.current() == v1 and stack.health()["release"] == v1
    assert _config_sums(stack) == sums
    statuses = {r["id"]: r["status"] for r in stack.releases()}
    assert sorted(statuses.values()) == ["interrupted", "live"]
    assert "nothing to recover" in stack.cli("recover").stdout


def test_a_failing_step_that_prints_a_secret_leaks_nothing_to_prefect(
    stack: Stack, prefect_api: str
) -> None:
    stack.cli("run", "full")
    password = (stack.root / ".deployflow" / "secrets.env").read_text().split("=", 1)[1].strip()
    step = f'["{{{{ sys.python }}}}", -c, "print(\'token={password}\'); raise SystemExit(2)"]'
    stack.edit('steps: [["{{ sys.python }}", build.py]]', f"steps: [{step}]")
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 1 and password not in proc.stdout + proc.stderr
    logs = httpx.post(f"{prefect_api}/logs/filter", json={"limit": 200, "sort": "TIMESTAMP_DESC"})
    runs = httpx.post(f"{prefect_api}/task_runs/filter", json={"limit": 200})
    flows = httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 50})
    text = logs.text + runs.text + flows.text
    assert "token=********" in logs.text  # the step's output did reach Prefect, masked
    assert password not in text

    # secrets by value, whatever their name: one named without the old trigger words (and
    # holding template syntax, which stays data), one only the stack's `secrets:` names, and
    # the base64 form of one; none reach the CLI or Prefect's logs, states or task runs
    stripe, hook = "sk_live_Q7w{{ 7*7 }}Zq", "https://hooks.example/t0ps3cr3tpath"
    stack.edit("vars:\n", f'vars:\n  STRIPE_KEY: "{stripe}"\n  HOOK_URL: "{hook}"\n')
    stack.edit("paths:", "secrets: [HOOK_URL]\npaths:")
    code = (
        "import base64; k='{{ STRIPE_KEY }}'; "
        "print('k=' + k, 'b=' + base64.b64encode(k.encode()).decode(), 'h={{ HOOK_URL }}'); "
        "raise SystemExit(2)"
    )
    stack.edit(f"steps: [{step}]", f'steps: [["{{{{ sys.python }}}}", -c, "{code}"]]')
    proc = stack.cli("run", "full", "--plain", check=False)
    logs = httpx.post(f"{prefect_api}/logs/filter", json={"limit": 200, "sort": "TIMESTAMP_DESC"})
    runs = httpx.post(f"{prefect_api}/task_runs/filter", json={"limit": 200})
    flows = httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 50})
    text = proc.stdout + proc.stderr + logs.text + runs.text + flows.text
    coded = base64.b64encode(stripe.encode()).decode()
    assert proc.returncode == 1 and "k=******** b=******** h=********" in logs.text
    assert "Q7w" not in text and coded not in text and "t0ps3cr3tpath" not in text
    stack.edit(f'steps: [["{{{{ sys.python }}}}", -c, "{code}"]]', f"steps: [{step}]")

    # the same run on the warm worker: the CLI streams the run's lines, the worker logs the
    # forked run's output, Prefect stores its logs and states; the secret is in none of them
    env = {**stack.env, "DEPLOYFLOW_HOME": str(stack.root.parent / "home")}
    worker_log = stack.root.parent / "home" / "workers" / "woosoo-local.log"
    stack.cli_env(env, "deployments", "apply")
    stack.cli_env(env, "server", "start")
    try:
        while "is warm" not in (worker_log.read_text() if worker_log.is_file() else ""):
            time.sleep(0.2)
        warm = stack.cli_env(env, "run", "full", check=False)
        assert warm.returncode == 1 and "on the warm worker" in warm.stderr
        assert "token=********" in warm.stderr
        newest = {"limit": 200, "sort": "TIMESTAMP_DESC"}
        logs = httpx.post(f"{prefect_api}/logs/filter", json=newest)
        flows = httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 50})
        text = warm.stdout + warm.stderr + worker_log.read_text() + logs.text + flows.text
        assert password not in text
    finally:
        stack.cli_env(env, "server", "stop", check=False)
