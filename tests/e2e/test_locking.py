"""One deploy per root: a concurrent deploy is refused; a deploy killed with SIGKILL mid-way
leaves the previous release live and the next run recovers the stale lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from deployflow.backends.lock import lock_holder
from tests.e2e.conftest import Stack, until

SLOW_STEP = 'steps: [["{{ sys.python }}", build.py]]'


def slow_steps(seconds: int) -> str:
    """The pwa's build steps plus a sleep, to catch a deploy in the middle of its build."""
    sleep = f'["{{{{ sys.python }}}}", -c, "import time; time.sleep({seconds})"]'
    return f'steps: [["{{{{ sys.python }}}}", build.py], {sleep}]'


SLOW = slow_steps(6)


def _building(stack: Stack) -> bool:
    history = stack.root / ".deployflow" / "releases.jsonl"
    return history.exists() and '"building"' in history.read_text().splitlines()[-1]


def test_second_deploy_is_refused_while_one_runs(stack: Stack) -> None:
    stack.edit(SLOW_STEP, slow_steps(15))  # long enough for a second CLI to start on a slow host
    first = stack.popen("run", "full")
    try:
        until(lambda: lock_holder(stack.root / ".deployflow" / "lock") is not None)
        second = stack.cli("run", "full", check=False)
        assert second.returncode == 1
        assert "Traceback" not in second.stderr
        assert "another operation (deploy all apps, pid" in second.stderr
        assert "wait for it to finish" in second.stderr
    finally:
        _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert [r["status"] for r in stack.releases()] == ["live"]


def _deploy_v1_then_start_slow_v2(stack: Stack) -> tuple[str, subprocess.Popen]:
    stack.cli("run", "full")
    v1 = stack.current()
    stack.edit(SLOW_STEP, SLOW)
    stack.set_version("pwa", "2.0.0")
    proc = stack.popen("run", "full")
    until(lambda: _building(stack))
    return v1, proc


def test_sigkill_mid_deploy_keeps_previous_live_and_next_run_recovers(stack: Stack) -> None:
    v1, victim = _deploy_v1_then_start_slow_v2(stack)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert lock_holder(stack.root / ".deployflow" / "lock") is None  # the kernel released it
    assert stack.current() == v1 and stack.health()["release"] == v1

    stack.edit(SLOW, SLOW_STEP)
    proc = stack.cli("run", "full", "--json")
    summary = json.loads(proc.stdout)
    assert summary["result"] == "success" and stack.current() == summary["release"]
    assemble = next(s for s in summary["stages"] if s["name"] == "assemble")
    assert assemble["detail"].startswith("changed: pwa;")  # the backend was not restarted
    assert stack.health()["release"] == v1
    statuses = {r["id"]: r["status"] for r in stack.releases()}
    killed = [rid for rid, status in statuses.items() if status == "interrupted"]
    assert len(killed) == 1 and killed[0] not in (v1, summary["release"])
    assert not (stack.root / ".deployflow" / "journal.json").exists()
    refused = stack.cli("rollback", "--to", killed[0], check=False)
    assert refused.returncode == 1 and "marked interrupted" in refused.stderr


def test_ctrl_c_mid_deploy_puts_the_previous_release_back(stack: Stack) -> None:
    v1, proc = _deploy_v1_then_start_slow_v2(stack)
    time.sleep(1.5)  # inside the slow build step
    os.kill(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert stack.current() == v1 and stack.health()["release"] == v1
    statuses = [r["status"] for r in stack.releases()]
    assert statuses == ["cancelled", "live"]  # newest first
    assert lock_holder(stack.root / ".deployflow" / "lock") is None
