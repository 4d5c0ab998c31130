"""Faults at the edges of a deploy: a kill just after the release was recorded live (it is
done, not rolled back), and a rollback that fails (the journal stays, the report says so and
`recover` finishes the job)."""

from __future__ import annotations

import json

from tests.e2e.conftest import Stack, kill_at


def test_a_kill_after_the_release_is_recorded_live_keeps_it(stack: Stack) -> None:
    stack.cli("run", "full")
    stack.set_version("backend", "2.0.0")
    env = {**stack.env, "DEPLOYFLOW_FAILPOINTS": "recorded-live=hang"}
    kill_at(stack, "recorded live", env)
    new = stack.current()
    recovered = stack.cli("recover")
    assert "had finished (recorded live); kept" in recovered.stdout + recovered.stderr
    assert stack.current() == new and stack.health()["version"] == "2.0.0"
    status = {r["id"]: r["status"] for r in stack.releases()}
    assert status[new] == "live"  # not "interrupted", not rolled back
    assert not (stack.root / ".deployflow" / "journal.json").exists()


def test_a_failed_rollback_keeps_the_journal_and_recover_finishes_it(stack: Stack) -> None:
    stack.cli("run", "full")
    good = stack.current()
    stack.set_version("backend", "3.0.0")
    env = {**stack.env, "DEPLOYFLOW_FAILPOINTS": "verify=exit,rollback=exit"}
    proc = stack.cli_env(env, "run", "full", "--json", check=False)
    assert proc.returncode == 1
    summary = json.loads(proc.stdout)
    assert summary["result"] != "rolled back" and "rollback failed" in summary["result"]
    journal = json.loads((stack.root / ".deployflow" / "journal.json").read_text())
    assert journal["phase"] == "rollback failed" and journal["previous"] == good
    recovered = stack.cli("recover")
    assert good in recovered.stdout + recovered.stderr
    assert stack.current() == good and stack.health()["release"] == good
    assert not (stack.root / ".deployflow" / "journal.json").exists()


def _service_groups(root) -> set[int]:
    """Process groups of deployflow services running from under `root` (by their marker)."""
    import os
    from pathlib import Path

    groups = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"DEPLOYFLOW_SERVICE=" in environ and cwd.startswith(str(root)):
            groups.add(os.getpgid(int(entry.name)))
    return groups


def test_a_kill_between_spawn_and_pidfile_leaves_no_orphan(stack: Stack) -> None:
    stack.cli("run", "full")
    good = stack.current()
    stack.set_version("backend", "4.0.0")
    env = {**stack.env, "DEPLOYFLOW_FAILPOINTS": "service-spawned=hang"}
    kill_at(stack, "start", env)
    stack.cli("recover")
    assert stack.current() == good and stack.health()["release"] == good
    pids = {
        json.loads(p.read_text())["pid"] for p in (stack.root / ".deployflow" / "run").glob("*.pid")
    }
    assert _service_groups(stack.root) == pids  # every running service is one we know of
    again = stack.cli("run", "full", "--plain")  # no port held by a process nothing knows of
    assert "Traceback" not in again.stderr and stack.health()["version"] == "4.0.0"
