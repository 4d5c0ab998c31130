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
