"""Which live Prefect runs are orphans on this host: checked against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from deployflow.deployments.orphans import is_run_process, orphan_ids


def test_a_run_is_orphaned_only_when_its_own_process_is_gone() -> None:
    run, other = str(uuid.uuid4()), str(uuid.uuid4())
    env = {**os.environ, "PREFECT__FLOW_RUN_ID": run}
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        assert is_run_process(alive.pid, run)
        assert not is_run_process(alive.pid, other)  # a reused pid is not the run's
        rows = [
            {"id": run, "state": "RUNNING", "pid": alive.pid},
            {"id": other, "state": "RUNNING", "pid": alive.pid},
            {"id": "gone", "state": "CANCELLING", "pid": dead.pid},
            {"id": "submitting", "state": "PENDING", "pid": None},
            {"id": "over", "state": "COMPLETED", "pid": dead.pid},
        ]
        assert orphan_ids(rows) == [other, "gone"]
    finally:
        alive.kill()
        alive.wait()


def test_a_run_forked_by_the_zygote_is_its_own_process() -> None:
    """A fork keeps the zygote's command line and starting environment; it leads a session."""
    run = str(uuid.uuid4())
    sleep = "import os, sys, time; os.setsid() if sys.argv[1] == 'leader' else None; time.sleep(60)"
    argv = [sys.executable, "-c", sleep]
    forked = subprocess.Popen([*argv, "leader", "-m", "deployflow.warm.zygote", "5"])
    zygote = subprocess.Popen([*argv, "member", "-m", "deployflow.warm.zygote", "5"])
    try:
        ends = time.monotonic() + 30
        while os.getsid(forked.pid) != forked.pid and time.monotonic() < ends:
            time.sleep(0.01)  # until it has called setsid
        assert is_run_process(forked.pid, run)
        assert not is_run_process(zygote.pid, run)  # the zygote itself runs no flow
    finally:
        for proc in (forked, zygote):
            proc.kill()
            proc.wait()
