"""The process backend for real: pidfiles, logs, SIGTERM with a grace period, SIGKILL to the
whole process group (a child that ignores SIGTERM does not survive), pid reuse detection."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from deployflow.backends.services import ServiceSpec, get_backend
from deployflow.backends.services.process_table import group_members
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


REUSE_PORT_SERVER = """
import socket, sys, os, time
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
time.sleep(0.3)  # a slow start: the old process must keep serving meanwhile
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen(64)
while True:
    conn, _ = sock.accept()
    conn.sendall(str(os.getpid()).encode())
    conn.close()
"""


def test_reuse_port_service_is_replaced_without_refused_connections(tmp_path: Path) -> None:
    import socket
    import threading
    from dataclasses import replace

    from tests.conftest import free_port

    port = free_port()
    spec = replace(
        _spec(tmp_path, REUSE_PORT_SERVER),
        command=[sys.executable, "-c", REUSE_PORT_SERVER, str(port)],
        port=port,
        reuse_port=True,
        start_timeout=10,
    )
    backend = get_backend("process")
    old = backend.start(spec).pid
    refused, answered, stop = [], set(), threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                    answered.add(int(conn.recv(16) or 0))
            except ConnectionRefusedError:
                refused.append(1)
            except OSError:
                pass  # a reset from the old socket's backlog is not a refusal

    thread = threading.Thread(target=hammer)
    thread.start()
    time.sleep(0.2)
    new = backend.start(spec, replace=True).pid
    time.sleep(0.2)
    stop.set()
    thread.join()
    try:
        assert new != old and not group_members(old)  # the old one was stopped afterwards
        assert {old, new} <= answered and refused == []
        assert json.loads(spec.pid_file.read_text())["pid"] == new
    finally:
        backend.stop(spec)
