"""Stopping a daemon (a worker) stops everything it started, except services a run of it
started: a run still exiting when its worker stops has them as children. Real processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from deployflow.backends.daemons import start_daemon, stop_daemon
from deployflow.backends.executor import Command
from deployflow.backends.services.process_table import SERVICE_MARK, group_members

DAEMON = f"""
import os, subprocess, sys, time
sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
marked = {{**os.environ, "{SERVICE_MARK}": "web"}}
service = subprocess.Popen(sleep, start_new_session=True, env=marked)
step = subprocess.Popen(sleep, start_new_session=True)
open(sys.argv[1] + ".tmp", "w").write(f"{{service.pid}} {{step.pid}}")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
"""


def test_stopping_a_daemon_spares_the_services_its_runs_started(tmp_path: Path) -> None:
    script, pids, state = tmp_path / "daemon.py", tmp_path / "pids", tmp_path / "daemon.json"
    script.write_text(DAEMON)
    command = Command.of([sys.executable, script, pids], timeout=None)
    daemon = start_daemon(command, state, tmp_path / "daemon.log")
    ends = time.monotonic() + 60
    while not pids.exists():
        assert time.monotonic() < ends, "the daemon did not start its children"
        time.sleep(0.05)
    service, step = (int(p) for p in pids.read_text().split())
    try:
        stop_daemon(state, grace=5)
        assert not group_members(daemon) and not group_members(step)
        assert group_members(service) == [service]
    finally:
        os.killpg(service, signal.SIGKILL)
