"""The process backend for real: pidfiles, logs, SIGTERM with a grace period, SIGKILL to the
whole process group (a child that ignores SIGTERM does not survive), pid reuse detection."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from deployflow.backends.services import ServiceSpec, get_backend
from deployflow.backends.services.process import group_members
from deployflow.errors import ServiceError

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print("ready", flush=True)
time.sleep(600)
"""


def _spec(tmp_path: Path, code: str, grace: float = 0.5) -> ServiceSpec:
    return ServiceSpec(
        name="svc",
        unit="svc",
        command=[sys.executable, "-c", code],
        cwd=tmp_path,
        env={"GREETING": "hi"},
        stop_grace=grace,
        log_file=tmp_path / "logs" / "svc.log",
        pid_file=tmp_path / "run" / "svc.pid",
    )


def test_start_status_stop_with_logs(tmp_path: Path) -> None:
    backend = get_backend("process")
    spec = _spec(
        tmp_path, "import os, time; print(os.environ['GREETING'], flush=True); time.sleep(600)"
    )
    status = backend.start(spec)
    assert status.running and status.pid
    assert backend.start(spec).pid == status.pid  # already running: left alone
    time.sleep(0.3)
    assert "hi" in spec.log_file.read_text()
    assert json.loads(spec.pid_file.read_text())["pid"] == status.pid
    assert not backend.stop(spec).running
    assert not backend.status(spec).running and not spec.pid_file.exists()


def test_stop_escalates_to_sigkill_for_the_whole_group(tmp_path: Path) -> None:
    backend = get_backend("process")
    spec = _spec(tmp_path, STUBBORN, grace=0.5)
    pid = backend.start(spec).pid
    for _ in range(100):
        if len(group_members(pid)) == 2:
            break
        time.sleep(0.05)
    assert len(group_members(pid)) == 2
    backend.stop(spec)
    assert group_members(pid) == []


def test_a_service_that_exits_at_once_is_an_error(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "import sys; print('bad config', flush=True); sys.exit(4)")
    with pytest.raises(
        ServiceError, match=r"exited at once with code 4; last log lines: bad config"
    ):
        get_backend("process").start(spec)
    assert not spec.pid_file.exists()


def test_stale_pidfile_with_reused_pid_is_not_running(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "")
    spec.pid_file.parent.mkdir(parents=True)
    # our own pid, but a start time that does not match: a recycled pid, not our service
    spec.pid_file.write_text(json.dumps({"pid": 1, "start_time": "-1"}))
    assert not get_backend("process").status(spec).running
