"""Faults and hostile trees at the edges of a deploy, on one stack deployed once for the module
(each test starts from what the one before left live): a kill just after the release was
recorded live (done, not rolled back); a rollback that fails (the journal stays, the report says
so, `recover` finishes it); a kill between a service's spawn and its pidfile (no orphan); a
hung database (SIGSTOP: preflight fails on read timeouts, not never); a disk that fills during a
build (no partial build; needs mount rights, else skipped); links out of the root in a source, a
shared path or a config dest (refused, nothing outside touched; last: it leaves the stack
edited)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, kill_at, new_stack, stop_everything


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Stack]:
    s = new_stack(tmp_path_factory.mktemp("edges"), prefect_api)
    yield s
    stop_everything(s.root)


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
    stack.set_version("backend", "2.5.0")  # the good release restarts what it runs
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


def _pids(stack: Stack) -> dict[str, int]:
    rows = json.loads(stack.cli("services", "status", "--json").stdout)
    return {r["name"]: r["pid"] for r in rows}


def test_a_rollback_leaves_the_apps_it_does_not_change_running(stack: Stack) -> None:
    """Issue 28 defect 7: only the app the rolled-back release changed restarts."""
    stack.set_version("backend", "3.2.0")
    stack.cli("run", "full")  # the backend changes; pwa and relay run on from where they ran
    before = _pids(stack)
    done = stack.cli("rollback")
    after = _pids(stack)
    assert after["backend-api"] != before["backend-api"]
    assert after["pwa-web"] == before["pwa-web"] and after["relay-ws"] == before["relay-ws"]
    assert "the same in both releases; its services keep running" in done.stderr + done.stdout
    assert stack.health()["version"] == "2.5.0"


def test_a_kill_between_spawn_and_pidfile_leaves_no_orphan(stack: Stack) -> None:
    stack.set_version("backend", "3.5.0")
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


def test_a_hung_database_fails_preflight_in_seconds(stack: Stack) -> None:
    """mariadbd stopped with SIGSTOP still accepts connections and never answers: preflight
    used to wait on it for 1,006 s holding the lock; reads now time out."""
    stack.cli("run", "full")
    live = stack.current()
    pid = json.loads((stack.root / ".deployflow" / "run" / "db.pid").read_text())["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        stack.set_version("backend", "hung-db")
        proc = stack.cli("run", "full", "--plain", check=False)  # hung, it would time out here
    finally:
        os.kill(pid, signal.SIGCONT)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1 and "database main" in errors[0], errors
    assert stack.current() == live


def test_a_full_disk_during_build_leaves_no_partial_build(stack: Stack) -> None:
    stack.cli("run", "full")
    live, serving = stack.current(), stack.health()["version"]
    builds = stack.root / "builds"
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(builds)], capture_output=True
    )
    if mount.returncode != 0:
        pytest.skip(f"no mount rights here: {mount.stderr.decode().strip()}")
    try:
        (stack.dir / "apps" / "backend" / "blob.bin").write_bytes(os.urandom(3 << 20))
        stack.set_version("backend", "2.0.0")
        proc = stack.cli("run", "full", "--plain", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"no space left on the disk of {builds}" in errors[0]
        assert not [p for p in (builds / "backend").glob("*") if p.is_dir()]  # nothing partial
        assert stack.current() == live and stack.health()["version"] == serving
    finally:
        subprocess.run(["umount", str(builds)], check=True)


def _refused(stack: Stack, says: str) -> None:
    proc = stack.cli("run", "full", "--plain", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], proc.stderr


def test_links_out_of_the_root_are_refused_and_nothing_outside_is_touched(
    stack: Stack, tmp_path: Path
) -> None:
    stack.cli("run", "full")
    live, serving = stack.current(), stack.health()["version"]
    outside = tmp_path / "elsewhere"
    (outside / "storage").mkdir(parents=True)
    (outside / "storage" / "precious.txt").write_text("keep me")

    # a dir of the source that links out, named by shared: (the case that deleted data)
    link = stack.dir / "apps" / "backend" / "data"
    link.symlink_to(outside)
    stack.edit("shared: [storage/]", "shared: [storage/, data/storage/]")
    stack.set_version("backend", "2.0.0")
    _refused(stack, "apps.backend.source: data is a symlink to")
    link.unlink()

    # a shared dir someone pointed elsewhere by hand: a config is not written through it
    stack.edit("shared: [storage/, data/storage/]", "shared: [storage/, cfg/]")
    stack.edit("dest: .env, mode:", "dest: cfg/app.env, mode:")
    shared_cfg = stack.root / "shared" / "backend" / "cfg"
    shared_cfg.parent.mkdir(parents=True, exist_ok=True)
    shared_cfg.symlink_to(outside / "storage")
    _refused(stack, "a symlink out of")

    assert stack.current() == live and stack.health()["version"] == serving
    assert sorted(p.name for p in (outside / "storage").iterdir()) == ["precious.txt"]
    assert (outside / "storage" / "precious.txt").read_text() == "keep me"
    assert [p.name for p in outside.iterdir()] == ["storage"]
