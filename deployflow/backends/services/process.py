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

from deployflow.backends.executor import Command, kill_group, spawn
from deployflow.backends.files import atomic_write
from deployflow.backends.services.base import ServiceBackend, ServiceStatus
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import CommandError, ServiceError

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
        """Start and wait until its port accepts (or it stays up briefly when it has none);
        a process that exits fails at once, with the last lines of its log."""
        assert spec.pid_file is not None and spec.log_file is not None
        current = self.status(spec)
        if current.running:
            return current
        if spec.cwd is not None and not spec.cwd.is_dir():
            raise ServiceError(f"service {spec.name}: working directory {spec.cwd} does not exist")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(spec.log_file, "ab") as log:
            log.write(f"--- deployflow: starting {spec.name} at {stamp}\n".encode())
        offset = spec.log_file.stat().st_size
        command = Command.of(spec.command, cwd=spec.cwd, env=spec.env, timeout=None)
        try:
            proc = spawn(command, spec.log_file)
        except CommandError as exc:
            raise ServiceError(f"service {spec.name}: {exc}") from None
        start_time = None
        for _ in range(50):
            start_time = proc_start_time(proc.pid)
            if start_time or proc.poll() is not None:
                break
            time.sleep(0.01)
        info = {
            "pid": proc.pid,
            "start_time": start_time,
            "argv": spec.command,
            "cwd": str(spec.cwd) if spec.cwd else None,
            "started": stamp,
        }
        atomic_write(spec.pid_file, json.dumps(info))
        problem = self._settle(proc, spec)
        if problem:
            spec.pid_file.unlink(missing_ok=True)
            kill_group(proc.pid)
            tail = " | ".join(_log_tail(spec.log_file, offset)) or "no output"
            raise ServiceError(f"service {spec.name} {problem}; last log lines: {tail}")
        return ServiceStatus(spec.name, self.name, True, proc.pid, detail=f"pid {proc.pid}")

    @staticmethod
    def _settle(proc: subprocess.Popen, spec: ServiceSpec) -> str | None:
        """Wait for the port (or a short settle without one); the problem, or None."""
        ends = time.monotonic() + (spec.start_timeout if spec.port else 0.3)
        while time.monotonic() < ends:
            if proc.poll() is not None:
                return f"exited at once with code {proc.returncode}"
            if spec.port and _port_open(spec.host, spec.port):
                return None
            time.sleep(0.02)
        if spec.port:
            return f"did not open port {spec.port} on {spec.host} in {spec.start_timeout:.0f}s"
        return None

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
                for _ in range(250):
                    if not self._alive(pid):
                        break
                    time.sleep(0.02)
            if self._alive(pid):
                raise ServiceError(
                    f"service {spec.name}: process group {pid} survived SIGKILL; check it by hand"
                )
        spec.pid_file.unlink(missing_ok=True)
        return ServiceStatus(spec.name, self.name, False, detail="stopped")

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        kill_group(pgid, sig)

    @staticmethod
    def _alive(pgid: int) -> bool:
        _reap(pgid)
        return bool(group_members(pgid))


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.05)
        return sock.connect_ex((host, port)) == 0


def _log_tail(path: Path, offset: int, lines: int = 5) -> list[str]:
    """The last lines this start wrote to the service's log."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return [line[:200] for line in text.strip().splitlines()[-lines:]]
