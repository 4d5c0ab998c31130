"""Tried as a hostile user would: a report that cannot be written, a relative --root, a source
outside the stack, a secret behind a filter, temp files a killed run left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.e2e.conftest import Stack


def test_hostile_inputs(stack: Stack, tmp_path) -> None:
    stack.cli("run", "full")
    live = stack.current()

    # report (and notify) failures are warnings: the deploy's outcome is decided by its stages
    reports = stack.root / ".deployflow" / "reports"
    shutil.rmtree(reports)
    reports.write_text("not a directory")
    stack.set_version("backend", "9.9.9")
    summary = json.loads(stack.cli("run", "full", "--json").stdout)
    assert summary["result"] == "success" and stack.health()["version"] == "9.9.9"
    assert any(w.startswith("report not written") for w in summary["warnings"])
    reports.unlink()
    live = stack.current()

    # a relative --root is relative to where the user stands; stop really stops
    env = {k: v for k, v in stack.env.items() if k != "DEPLOYFLOW_ROOT"}
    rel = os.path.relpath(stack.root, tmp_path)
    argv = [sys.executable, "-m", "deployflow", "services", "stop", "all", "--root", rel]
    subprocess.run(
        [*argv, "--stack", str(stack.file)], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    status = json.loads(stack.cli("services", "status", "--json").stdout)
    assert not any(s["running"] for s in status)
    stack.cli("services", "start", "all")
    assert stack.health()["release"] == live

    # a secret behind a filter is masked by where it flows, and its file is 0600
    password = (stack.root / ".deployflow" / "secrets.env").read_text().split("=", 1)[1].strip()
    template = stack.dir / "templates" / "relay.env.j2"
    template.write_text(template.read_text() + "DSN=mysql://u:{{ DB_PASSWORD|urlencode }}@h/db\n")
    plan = stack.cli("run", "full", "--dry-run")
    assert (
        password not in plan.stdout + plan.stderr and "DSN=mysql://u:********@h/db" in plan.stdout
    )
    stack.cli("config", "sync", "--apps", "relay")
    relay_env = stack.root / "current" / "relay" / ".env"
    assert oct(relay_env.stat().st_mode & 0o777) == "0o600"

    # an app source outside the stack's directory is refused unless asked for
    stack.edit("source: apps/relay", "source: /etc")
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 2 and "outside the stack's directory" in proc.stderr
    assert "Traceback" not in proc.stderr
    stack.edit("source: /etc", "source: apps/relay")

    # a killed run's temp files (a backup in progress holds secrets) are cleaned by the next run
    leftover = stack.root / "backups" / ".20200101000000.tmp"
    (leftover / "configs").mkdir(parents=True)
    (leftover / "configs" / ".env").write_text(f"DB_PASSWORD={password}\n")
    stack.cli("services", "restart", "relay-ws")
    assert not leftover.exists()
