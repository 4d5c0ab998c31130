"""Which live Prefect runs are orphans on this host: checked against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from deployflow.deployments.orphans import is_run_process, orphan_ids, workers_since


def test_a_run_is_orphaned_only_when_its_own_process_is_gone() -> None:
    run, other = str(uuid.uuid4()), str(uuid.uuid4())
    env = {**os.environ, "PREFECT__FLOW_RUN_ID": run}
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        assert is_run_process(alive.pid, run)
        assert not is_run_process(alive.pid, other)  # a reused pid is not the run's
        row = {"pool": "p", "since": 1000.0}
        rows = [
            {**row, "id": run, "state": "RUNNING", "pid": alive.pid},
            {**row, "id": other, "state": "RUNNING", "pid": alive.pid},
            {**row, "id": "gone", "state": "CANCELLING", "pid": dead.pid},
            {**row, "id": "submitting", "state": "PENDING", "pid": None},
            {**row, "id": "over", "state": "COMPLETED", "pid": dead.pid},
        ]
        assert orphan_ids(rows, {"p": 999.5}) == [other, "gone"]
    finally:
        alive.kill()
        alive.wait()


def test_a_pending_run_is_orphaned_when_the_worker_that_took_it_is_gone() -> None:
    """No pid yet: the worker that made it pending is dead when every live worker of its pool
    started after that (a live one submits only what it took itself)."""
    rows = [
        {"id": "old", "state": "PENDING", "pid": None, "pool": "p", "since": 100.0},
        {"id": "new", "state": "PENDING", "pid": None, "pool": "p", "since": 200.0},
        {"id": "skew", "state": "PENDING", "pid": None, "pool": "p", "since": 149.5},
        {"id": "elsewhere", "state": "PENDING", "pid": None, "pool": "q", "since": 100.0},
        {"id": "late", "state": "SCHEDULED", "pid": None, "pool": "p", "since": 100.0},
    ]
    assert orphan_ids(rows, {"p": 150.0, "q": 50.0}) == ["old"]
    assert orphan_ids(rows, {"p": None, "q": 50.0}) == ["old", "new", "skew"]  # none runs


def test_the_oldest_live_worker_of_a_pool_on_this_host() -> None:
    """Real processes with a worker's command line; the pool's oldest start counts."""
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "deployflow.warm.worker"]
    pool = f"pool-{uuid.uuid4().hex[:6]}"
    first = subprocess.Popen([*argv, "--pool", pool])
    time.sleep(0.05)  # a later start, so the oldest is the first
    second = subprocess.Popen([*argv, "--pool", pool])
    try:
        since = workers_since([pool, "idle"])
        assert since["idle"] is None
        assert since[pool] == pytest.approx(psutil.Process(first.pid).create_time())
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


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
