"""Plain processes: started in their own session, tracked by pidfiles, stopped group-wide."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.executor import resolve_program
from deployflow.backends.files import atomic_write
from deployflow.backends.services.base import ServiceBackend, ServiceSpec, ServiceStatus
from deployflow.errors import ServiceError

__all__ = ["ProcessBackend", "group_members", "proc_start_time"]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name (field 2) may hold spaces; everything after its ')' is space separated
    return raw[raw.rindex(")") + 2 :].split()


def proc_start_time(pid: int) -> str | None:
    """Kernel start time of a live (non-zombie) pid; guards against pid reuse."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and fields[0] not in ("Z", "X") and fields[2] == str(pgid):
            members.append(int(entry.name))
    return members


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


class ProcessBackend(ServiceBackend):
    name = "process"
    tool = ""

    def available(self) -> bool:
        return True

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [spec.command]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["kill", "-TERM", "--", "-<pgid>"]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["cat", str(spec.pid_file)]

    def _pid(self, spec: ServiceSpec) -> int | None:
        assert spec.pid_file is not None
        try:
            info = json.loads(spec.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        pid = int(info.get("pid", 0))
        _reap(pid)
        if pid and proc_start_time(pid) == info.get("start_time"):
            return pid
        return None

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        pid = self._pid(spec)
        if pid is None:
            return ServiceStatus(spec.name, self.name, False, detail="stopped")
        return ServiceStatus(spec.name, self.name, True, pid, detail=f"pid {pid}")

    def start(self, spec: ServiceSpec) -> ServiceStatus:
        assert spec.pid_file is not None and spec.log_file is not None
        current = self.status(spec)
        if current.running:
            return current
        if spec.cwd is not None and not spec.cwd.is_dir():
            raise ServiceError(f"service {spec.name}: working directory {spec.cwd} does not exist")
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with open(spec.log_file, "ab") as log:
            log.write(f"--- deployflow: starting {spec.name} at {stamp}\n".encode())
            log.flush()
            argv = [resolve_program(spec.command[0]) or spec.command[0], *spec.command[1:]]
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=spec.cwd,
                    env={**os.environ, **spec.env},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise ServiceError(
                    f"service {spec.name}: cannot run {spec.command[0]!r} ({exc.strerror})"
                ) from exc
        start_time = None
        for _ in range(50):
            start_time = proc_start_time(proc.pid)
            if start_time:
                break
            time.sleep(0.01)
        info = {"pid": proc.pid, "start_time": start_time, "argv": spec.command, "started": stamp}
        atomic_write(spec.pid_file, json.dumps(info))
        self._settle(proc, spec.port)
        if proc.poll() is not None:
            spec.pid_file.unlink(missing_ok=True)
            raise ServiceError(
                f"service {spec.name} exited at once with code {proc.returncode}; "
                f"see {spec.log_file}: {_last_line(spec.log_file)}"
            )
        return ServiceStatus(spec.name, self.name, True, proc.pid, detail=f"pid {proc.pid}")

    @staticmethod
    def _settle(proc: subprocess.Popen, port: int | None, seconds: float = 0.2) -> None:
        """Give a new process a moment to fail fast; done early once its port accepts."""
        ends = time.monotonic() + seconds
        while time.monotonic() < ends and proc.poll() is None:
            if port and _port_open(port):
                return
            time.sleep(0.01)

    def stop(self, spec: ServiceSpec) -> ServiceStatus:
        assert spec.pid_file is not None
        pid = self._pid(spec)
        if pid is not None:
            self._signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + spec.stop_grace
            while time.monotonic() < deadline and self._alive(pid):
                time.sleep(0.05)
            if self._alive(pid):
                self._signal_group(pid, signal.SIGKILL)
                for _ in range(100):
                    if not self._alive(pid):
                        break
                    time.sleep(0.02)
        spec.pid_file.unlink(missing_ok=True)
        return ServiceStatus(spec.name, self.name, False, detail="stopped")

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    @staticmethod
    def _alive(pgid: int) -> bool:
        _reap(pgid)
        return bool(group_members(pgid))


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.05)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return lines[-1][:200] if lines else "no output"
